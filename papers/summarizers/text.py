"""Reading a paper's text: sentences, sections, URLs, affiliations, language."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

# Words whose trailing period does not end a sentence.
ABBREVIATIONS = {
    "e.g",
    "i.e",
    "al",
    "etc",
    "fig",
    "figs",
    "eq",
    "eqs",
    "sec",
    "secs",
    "tab",
    "tabs",
    "vs",
    "cf",
    "approx",
    "resp",
    "no",
    "nos",
    "dr",
    "mr",
    "ms",
    "prof",
    "ref",
    "refs",
    "ch",
    "vol",
    "pp",
    "ca",
    "viz",
    "w.r.t",
    "a.k.a",
    "incl",
    "est",
}

_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_LATIN_LETTER = re.compile(r"[A-Za-z]")
_URL = re.compile(r"https?://[^\s<>\"'\]\[{}|\\^`]+", re.IGNORECASE)
_EMAIL = re.compile(r"\S+@\S+\.\w+")


def cjk_count(text: str) -> int:
    return len(_CJK.findall(text))


def latin_count(text: str) -> int:
    return len(_LATIN_LETTER.findall(text))


def detect_language(text: str) -> str:
    """Return "zh" when Chinese characters carry the text, else "en"."""
    cjk, latin = cjk_count(text), latin_count(text)
    # One Chinese character holds about as much as a short Latin word.
    return "zh" if cjk and cjk * 3 >= latin else "en"


def estimate_tokens(text: str) -> int:
    """About one token per Chinese character and per four other characters."""
    cjk = cjk_count(text)
    return cjk + (len(text) - cjk + 3) // 4


def normalize(text: str) -> str:
    """Join words hyphenated across PDF lines, then collapse whitespace."""
    text = text.replace("\u00ad", "")
    text = re.sub(r"([a-z])-\s*\n\s*([a-z])", r"\1\2", text)
    return " ".join(text.split())


def split_sentences(text: str) -> list[str]:
    """Split prose into sentences, keeping "e.g.", "et al.", "Fig. 3", "3.5" and initials whole."""
    text = normalize(text)
    if not text:
        return []
    sentences = []
    start = 0
    for match in re.finditer(r"([.!?])[\"'”’)\]]*\s+|[。！？][\"'”’)\]]*\s*", text):
        end = match.end()
        mark = match.group(1)
        following = text[end : end + 1]
        if mark:
            if following and not (
                following.isupper()
                or following.isdigit()
                or following in "\"'“"
                or _CJK.match(following)
            ):
                continue
            if mark == ".":
                word = re.search(r"(\S+)$", text[start : match.start()])
                token = word.group(1).lower().lstrip("([\"'") if word else ""
                if token in ABBREVIATIONS or (len(token) == 1 and token.isalpha()):
                    continue
                if re.fullmatch(r"(?:[a-z]\.)+[a-z]", token):
                    continue
        sentence = text[start:end].strip()
        if sentence:
            sentences.append(sentence)
        start = end
    rest = text[start:].strip()
    if rest:
        sentences.append(rest)
    return sentences


# ---------------------------------------------------------------- sections

SECTION_KINDS = (
    ("references", r"references|bibliography|literature cited"),
    ("appendix", r"appendix|appendices|supplementary|acknowledge?ments?|acknowledgments?"),
    ("abstract", r"abstract"),
    ("intro", r"introduction|motivation"),
    (
        "related",
        r"related work|related works|prior work|previous work|literature review|background",
    ),
    ("conclusion", r"conclusions?|concluding remarks|discussion|limitations|summary|future work"),
    (
        "experiments",
        r"experiments?|experimental|evaluation|results|ablation|benchmark|implementation|analysis",
    ),
    (
        "method",
        r"method|methods|methodology|approach|proposed|framework|model|architecture|overview|"
        r"preliminar|our |pipeline|system|design|formulation|dataset|data",
    ),
)

_NUMBERED_HEADING = re.compile(
    r"^(?P<number>(?:\d{1,2}(?:\.\d{1,2}){0,2}|[IVX]{1,5}|[A-H])\.?)\s+"
    r"(?P<title>[A-Z][^\n]{1,70})$"
)
_PLAIN_HEADING = re.compile(
    r"^(?P<title>abstract|references|bibliography|acknowledge?ments?|appendix|"
    r"introduction|related work|conclusions?|methods?|experiments|results)\s*[:.]?$",
    re.IGNORECASE,
)


def section_kind(title: str) -> str:
    lowered = title.lower()
    for kind, pattern in SECTION_KINDS:
        if re.search(rf"\b(?:{pattern})", lowered):
            return kind
    return "other"


@dataclass
class Section:
    title: str
    kind: str
    text: str
    number: str = ""


@dataclass
class Document:
    """A paper split into its header (title page), abstract and sections."""

    header: str = ""
    abstract: str = ""
    sections: list[Section] = field(default_factory=list)

    def text_of(self, *kinds: str) -> str:
        return "\n".join(s.text for s in self.sections if s.kind in kinds)


def _heading(line: str) -> tuple[str, str] | None:
    line = line.strip()
    if not line or len(line) > 80:
        return None
    plain = _PLAIN_HEADING.match(line)
    if plain:
        return "", plain.group("title")
    numbered = _NUMBERED_HEADING.match(line)
    if not numbered:
        return None
    title = numbered.group("title").strip()
    number = numbered.group("number").rstrip(".")
    # A heading is short, has no sentence punctuation inside, and does not end like a sentence.
    if title.endswith((".", ",", ";", ":")) or len(title.split()) > 9:
        return None
    if re.search(r"[=<>%@]|\d{3,}", title):
        return None
    if number.isalpha() and len(number) == 1 and number not in "ABCDEFGH":
        return None
    return number, title


def split_document(full_text: str) -> Document:
    """Cut PDF text into header, abstract and numbered sections by their heading lines."""
    doc = Document()
    lines = full_text.replace("\r\n", "\n").split("\n")
    current: Section | None = None
    parent_kind = "other"
    header_lines: list[str] = []
    body: list[str] = []

    def close() -> None:
        if current is None:
            return
        current.text = "\n".join(body).strip()
        if current.kind == "abstract":
            doc.abstract = current.text
        else:
            doc.sections.append(current)

    for line in lines:
        heading = _heading(line)
        if heading is None:
            (body if current is not None else header_lines).append(line)
            continue
        number, title = heading
        kind = section_kind(title)
        is_subsection = "." in number
        if is_subsection and kind not in ("references", "appendix"):
            # "3.1 Overview" belongs to its section, whatever its own words say.
            kind = parent_kind
        elif not is_subsection:
            parent_kind = kind
        close()
        body = []
        current = Section(title=title, kind=kind, text="", number=number)
    close()
    doc.header = "\n".join(header_lines).strip()
    # Text that had no heading at all is one anonymous section.
    if not doc.sections and not doc.abstract and doc.header:
        doc.sections.append(Section(title="", kind="other", text=doc.header))
        doc.header = ""
    return doc


# ---------------------------------------------------------------- URLs

CODE_HOSTS = (
    "github.com",
    "gitlab.com",
    "huggingface.co",
    "bitbucket.org",
    "codeberg.org",
    "gitee.com",
)
PAGE_HOST_SUFFIXES = (".github.io", ".gitlab.io", ".pages.dev", ".netlify.app", ".vercel.app")
SKIPPED_HOSTS = ("arxiv.org", "doi.org", "dx.doi.org", "creativecommons.org")


def clean_url(url: str) -> str:
    url = url.rstrip(".,;:!?'\"”’>")
    # Drop a closing bracket that belongs to the surrounding prose.
    while (
        url
        and url[-1] in ")]}"
        and url.count(url[-1]) > url.count({")": "(", "]": "[", "}": "{"}[url[-1]])
    ):
        url = url[:-1].rstrip(".,;:")
    return url


def url_host(url: str) -> str:
    match = re.match(r"https?://([^/:?#]+)", url, re.IGNORECASE)
    return match.group(1).lower() if match else ""


def url_key(url: str) -> str:
    """Two spellings of one address share a key."""
    host = url_host(url).removeprefix("www.")
    rest = re.sub(r"^https?://[^/]+", "", url, flags=re.IGNORECASE).rstrip("/")
    return f"{host}{rest}"


def link_label(url: str, context: str = "") -> str:
    host = url_host(url)
    if host.endswith(PAGE_HOST_SUFFIXES):
        return "Project page"
    if any(host == h or host.endswith("." + h) for h in CODE_HOSTS):
        return "Code"
    before = context.lower()
    if re.search(r"project\s*page|homepage|website|web\s*page|project site", before):
        return "Project page"
    if "demo" in before:
        return "Demo"
    if re.search(r"data\s*set|dataset|benchmark|data", before):
        return "Dataset"
    if "code" in before:
        return "Code"
    return "Link"


def find_urls(text: str) -> list[tuple[str, str]]:
    """(url, the 60 characters before it) for each URL in the text, in order."""
    found = []
    for match in _URL.finditer(text):
        url = clean_url(match.group(0))
        if len(url) > len("https://x.y") and url_host(url) not in SKIPPED_HOSTS:
            found.append((url, text[max(0, match.start() - 60) : match.start()]))
    return found


def is_code_or_page(url: str) -> bool:
    host = url_host(url)
    return host.endswith(PAGE_HOST_SUFFIXES) or any(
        host == h or host.endswith("." + h) for h in CODE_HOSTS
    )


# ---------------------------------------------------------------- affiliations

_INSTITUTION = re.compile(
    r"\b(universit\w*|institut\w*|laborator\w*|lab|labs|college|school|academy|"
    r"acad[ée]mie|centre|center|hospital|inc|ltd|corporation|corp|gmbh|research|"
    r"polytechnic|eth|epfl|kaist|mit|google|deepmind|microsoft|meta|nvidia|adobe|"
    r"tencent|alibaba|bytedance|baidu|huawei|sensetime|amazon|apple|samsung|sony|"
    r"department|dept|faculty)\b|大学|研究院|研究所|实验室|学院",
    re.IGNORECASE,
)


def clean_affiliation(line: str) -> str:
    line = _EMAIL.sub("", line)
    line = re.sub(r"^[\s\d*†‡§¶#,∗⋆♠♣♥♦\u00b9\u00b2\u00b3\u2070-\u2079]+", "", line)
    line = re.sub(r"[\s\d*†‡§¶#∗⋆,;]+$", "", line)
    return " ".join(line.split())


def find_affiliations(header: str, authors: list[str] = ()) -> list[str]:
    """Institution lines of a paper's title page, without footnote marks and e-mails."""
    names = {a.lower() for a in authors}
    found: list[str] = []
    for raw in header.split("\n"):
        for part in re.split(r";|\s{3,}", raw):
            line = clean_affiliation(part)
            if len(line) < 4 or len(line) > 150 or not _INSTITUTION.search(line):
                continue
            if line.lower() in names or "@" in part and not _INSTITUTION.search(line):
                continue
            if line.lower().startswith(("abstract", "corresponding", "equal contribution")):
                continue
            if line not in found:
                found.append(line)
    return found[:10]


def squash(text: str) -> str:
    """Lower-case letters and digits only: for checking that a phrase occurs in a text."""
    return re.sub(r"[\W_]+", "", text.casefold())
