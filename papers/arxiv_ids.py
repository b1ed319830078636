"""arXiv identifiers, without Django: usable by parsers that must not import models."""

import re

# New style `2410.07757` (4 or 5 digits after the dot) or old style `hep-th/9901001`, version optional.
ARXIV_ID_RE = re.compile(
    r"^(?P<id>(?:\d{4}\.\d{4,5})|(?:[a-z][a-z.\-]*(?:\.[A-Z]{2})?/\d{7}))(?:v(?P<version>\d+))?$"
)


def split_arxiv_id(value: str) -> tuple[str, int | None]:
    """`2410.07757v2` -> (`2410.07757`, 2); raises ValueError for anything that is not an arXiv id."""
    value = value.strip()
    for prefix in ("https://arxiv.org/abs/", "http://arxiv.org/abs/", "arXiv:", "arxiv:"):
        if value.startswith(prefix):
            value = value[len(prefix) :]
    match = ARXIV_ID_RE.match(value)
    if not match:
        raise ValueError(f"not an arXiv id: {value!r}")
    version = match.group("version")
    return match.group("id"), int(version) if version else None
