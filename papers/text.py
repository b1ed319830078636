"""The one rule for text and links that enter the database from outside.

Every writer of outside text (arXiv metadata, PDF text, summarizer output, Markdown imports, forms)
passes it through `clean_text` (or `clean_data` for JSON values), and every stored link through
`safe_url`. What is removed:

- NUL and other control characters: PostgreSQL refuses NUL, XML feeds refuse the rest;
- lone surrogates and non-characters, which cannot be encoded or break XML;
- bidi embeddings, overrides and isolates (U+202A-U+202E, U+2066-U+2069), which can reverse the
  text around them on a page ("Trojan source"). Ordinary right-to-left text needs none of them.
"""

import re
from typing import Any
from urllib.parse import urlsplit

# Embeddings and overrides (U+202A-U+202E), isolates (U+2066-U+2069).
BIDI_CONTROLS = "\u202a-\u202e\u2066-\u2069"
_UNSAFE = re.compile(
    f"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufdd0-\ufdef\ufffe\uffff{BIDI_CONTROLS}]"
)
# The same bidi controls in UTF-8: E2 80 AA-AE and E2 81 A6-A9.
_BIDI_UTF8 = re.compile(b"\xe2\x80[\xaa-\xae]|\xe2\x81[\xa6-\xa9]")

SAFE_URL_SCHEMES = ("http", "https")


def clean_text(value: str | None) -> str:
    """`value` without control characters, unpaired surrogates and bidi controls.

    Tabs and line breaks are kept.
    """
    if not value:
        return ""
    return _UNSAFE.sub("", str(value))


def clean_data(value: Any) -> Any:
    """`clean_text` applied to every string inside a JSON-like value (lists, dicts)."""
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, list | tuple):
        return [clean_data(item) for item in value]
    if isinstance(value, dict):
        return {clean_text(str(key)): clean_data(item) for key, item in value.items()}
    return value


def strip_bidi_controls(body: bytes) -> bytes:
    """A UTF-8 document without bidi controls, for text stored before this rule existed."""
    return _BIDI_UTF8.sub(b"", body)


def safe_url(value: str | None) -> str:
    """`value` when it is an absolute http(s) URL, else "" (javascript:, data:, relative ...)."""
    url = clean_text(value).strip()
    if not url or any(c.isspace() for c in url):
        return ""
    try:
        parts = urlsplit(url)
    except ValueError:
        return ""
    if parts.scheme.lower() not in SAFE_URL_SCHEMES or not parts.netloc:
        return ""
    return url


def safe_links(links: Any) -> list[dict]:
    """The {label, url} items of a summary's links whose URL is allowed, cleaned."""
    kept = []
    for link in links if isinstance(links, list) else []:
        if not isinstance(link, dict):
            continue
        url = safe_url(link.get("url"))
        if url:
            kept.append({"label": clean_text(str(link.get("label") or "")).strip(), "url": url})
    return kept
