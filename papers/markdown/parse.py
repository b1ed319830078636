"""Reading Markdown digests in the legacy blog's layout into plain dataclasses (no database).

A post is YAML-like front matter (title, date, tags, categories, cover, description, keywords)
followed by one `## <title>` section per paper: authors, abstract, `[PDF](<abs link>)` plus the
arXiv comment, `**Summary**`, `**Key Takeaways**`, a numbered structured analysis and a
`<details>` block of figure images. The analysis was written by a language model and its shape
varies (English or Chinese labels, bold labels, HTML lists), so the parser is lenient there and
strict about what identifies a paper (the arXiv link).
"""

import datetime as dt
import html
import re
from dataclasses import dataclass, field

from papers.arxiv_ids import split_arxiv_id
from papers.markdown.mojibake import RepairReport, repair_text
from papers.text import clean_text, safe_url

# The values of papers.models.Language; this module stays free of models.
ENGLISH = "en"
CHINESE = "zh"


class PostFormatError(ValueError):
    """A post that cannot be read; `line` is 1-based in the file."""

    def __init__(self, line: int, message: str):
        super().__init__(f"line {line}: {message}")
        self.line = line
        self.message = message


@dataclass
class PostPaper:
    line: int
    title: str
    arxiv_id: str
    version: int | None
    authors: list[str] = field(default_factory=list)
    abstract: str = ""
    comment: str = ""
    figures: list[tuple[str, str]] = field(default_factory=list)  # (url, caption)
    summary: dict = field(default_factory=dict)  # Summary field name -> value


@dataclass
class Post:
    title: str
    date: dt.datetime
    topic_name: str
    tags: list[str] = field(default_factory=list)
    categories: list[str] = field(default_factory=list)
    cover: str = ""
    description: str = ""
    keywords: list[str] = field(default_factory=list)
    language: str = ENGLISH
    papers: list[PostPaper] = field(default_factory=list)


def decode_post(data: bytes, name: str = "") -> tuple[str, RepairReport]:
    """Bytes of a post -> text, mojibake repaired. Raises PostFormatError for non-UTF-8 bytes."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise PostFormatError(line, "not UTF-8 text") from exc
    if "\x00" in text:
        raise PostFormatError(text[: text.index("\x00")].count("\n") + 1, "binary data")
    text, report = repair_text(text)
    return clean_text(text), report


def _parse_front_matter(lines: list[str]) -> tuple[dict, int]:
    """Returns the front matter and the index of the first body line."""
    start = 0
    while start < len(lines) and not lines[start].strip():
        start += 1
    if start >= len(lines) or lines[start].strip() != "---":
        raise PostFormatError(start + 1, "no front matter (expected a line '---')")
    values: dict = {}
    key = None
    for index in range(start + 1, len(lines)):
        line = lines[index]
        if line.strip() == "---":
            return values, index + 1
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        item = re.match(r"^\s+-\s*(.*)$", line)
        if item and key is not None:
            if not isinstance(values.get(key), list):
                values[key] = []
            values[key].append(_unquote(item.group(1)))
            continue
        pair = re.match(r"^([A-Za-z_][\w-]*)\s*:\s?(.*)$", line)
        if not pair:
            raise PostFormatError(index + 1, f"front matter line not understood: {line.strip()!r}")
        key = pair.group(1)
        values[key] = _unquote(pair.group(2))
    raise PostFormatError(start + 1, "front matter is not closed by a line '---'")


def _unquote(value: str) -> str:
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        value = value[1:-1]
    return value


def _as_list(value) -> list[str]:
    if isinstance(value, list):
        return [v for v in value if v]
    value = (value or "").strip()
    if value.startswith("[") and value.endswith("]"):
        return [_unquote(v) for v in value[1:-1].split(",") if v.strip()]
    return [value] if value else []


def _parse_date(value: str, line: int) -> dt.datetime:
    value = (value or "").strip()
    for pattern in ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d"):
        try:
            moment = dt.datetime.strptime(value, pattern)
        except ValueError:
            continue
        return moment.replace(tzinfo=dt.UTC)
    raise PostFormatError(line, f"front matter date {value!r} is not YYYY-MM-DD [HH:MM:SS]")


def topic_name_from_title(title: str) -> str:
    """'Talking Head Generation 2024-10-12' -> 'Talking Head Generation'."""
    name = re.sub(r"\d{4}-\d{2}-\d{2}", " ", title)
    return " ".join(name.split()).strip(" -|:·")


CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")


def detect_language(text: str) -> str:
    letters = sum(1 for c in text if c.isalpha())
    if letters and len(CJK.findall(text)) >= 0.2 * letters:
        return CHINESE
    return ENGLISH


def parse_post(text: str) -> Post:
    """Parse a post's text (already repaired). Raises PostFormatError with the line."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    front, body_start = _parse_front_matter(lines)
    title = one_line(str(front.get("title") or ""))
    if not title:
        raise PostFormatError(1, "front matter has no title")
    date_line = next((i + 1 for i, ln in enumerate(lines) if ln.startswith("date:")), 1)
    post = Post(
        title=title,
        date=_parse_date(str(front.get("date") or ""), date_line),
        topic_name=topic_name_from_title(title),
        tags=_as_list(front.get("tags")),
        categories=_as_list(front.get("categories")),
        cover=str(front.get("cover") or "").strip(),
        description=one_line(str(front.get("description") or "")),
        keywords=_as_list(front.get("keywords")),
    )
    if not post.topic_name:
        named = [t for t in post.tags + post.keywords if t]
        if not named:
            raise PostFormatError(1, "cannot tell the topic: no title, tags or keywords")
        post.topic_name = named[0]

    starts = [i for i in range(body_start, len(lines)) if re.match(r"^## (?!#)\S", lines[i])]
    for number, start in enumerate(starts):
        end = starts[number + 1] if number + 1 < len(starts) else len(lines)
        post.papers.append(_parse_paper(lines, start, end))
    if not post.papers:
        raise PostFormatError(body_start + 1, "no papers (no '## <title>' sections)")
    seen: dict[str, int] = {}
    for paper in post.papers:
        if paper.arxiv_id in seen:
            raise PostFormatError(
                paper.line,
                f"paper {paper.arxiv_id} is listed twice (see line {seen[paper.arxiv_id]})",
            )
        seen[paper.arxiv_id] = paper.line
    summary_text = " ".join(
        " ".join([p.summary.get("tldr", "")] + p.summary.get("key_takeaways", []))
        for p in post.papers
    )
    post.language = detect_language(summary_text)
    return post


PDF_LINE = re.compile(r"^\[PDF\]\((?P<url>[^)\s]+)\)\s*(?P<comment>.*)$")
AUTHORS_LINE = re.compile(r"^\*\*Authors?:\s*(?P<names>.*?)\*\*\s*$")
IMG = re.compile(r"<img\b[^>]*>", re.IGNORECASE)
ATTR = re.compile(r'(\w+)\s*=\s*"([^"]*)"')
LIST_ITEM = re.compile(r"^\s*(?:\d+[.)、]|[-*+])\s+(.*)$")


def _parse_paper(lines: list[str], start: int, end: int) -> PostPaper:
    heading = lines[start][3:].strip()
    title = " ".join(heading.split())
    pdf_index = next((i for i in range(start + 1, end) if PDF_LINE.match(lines[i].strip())), None)
    if pdf_index is None:
        raise PostFormatError(start + 1, f"paper {title[:60]!r} has no [PDF](...) link")
    match = PDF_LINE.match(lines[pdf_index].strip())
    try:
        arxiv_id, version = split_arxiv_id(match.group("url"))
    except ValueError as exc:
        raise PostFormatError(pdf_index + 1, f"the PDF link has no arXiv id: {exc}") from exc
    paper = PostPaper(
        line=start + 1,
        title=title,
        arxiv_id=arxiv_id,
        version=version,
        comment=" ".join(match.group("comment").split()),
    )
    abstract_from = start + 1
    for i in range(start + 1, pdf_index):
        authors = AUTHORS_LINE.match(lines[i].strip())
        if authors:
            paper.authors = [n.strip() for n in authors.group("names").split(",") if n.strip()]
            abstract_from = i + 1
            break
    paper.abstract = join_lines(lines[abstract_from:pdf_index])

    rest = lines[pdf_index + 1 : end]
    offset = pdf_index + 1
    details = next((i for i, ln in enumerate(rest) if ln.strip().startswith("<details")), len(rest))
    for ln in rest[details:]:
        for tag in IMG.findall(ln):
            attrs = {k.lower(): html.unescape(v) for k, v in ATTR.findall(tag)}
            if attrs.get("src"):
                paper.figures.append((attrs["src"], attrs.get("alt", "")))
    paper.summary = _parse_summary(rest[:details], offset)
    return paper


def join_lines(lines: list[str]) -> str:
    """Strip each line, keep single blank lines between paragraphs."""
    out: list[str] = []
    for line in lines:
        line = line.strip()
        if line or (out and out[-1]):
            out.append(line)
    return "\n".join(out).strip()


TLDR_LABELS = ("**Summary**", "**摘要**", "**总结**")
TAKEAWAY_LABELS = ("**Key Takeaways**", "**要点**", "**关键要点**")


def _parse_summary(lines: list[str], offset: int) -> dict:
    """`**Summary**`, `**Key Takeaways**` and the structured analysis -> Summary fields."""
    summary: dict = {}
    marks = {}
    for i, line in enumerate(lines):
        text = line.strip()
        if text.startswith(TLDR_LABELS) and "tldr" not in marks:
            marks["tldr"] = i
        elif text.startswith(TAKEAWAY_LABELS) and "takeaways" not in marks:
            marks["takeaways"] = i
        elif re.match(r"^\*\*\[[^\]]*\]\([^)]*\)\*\*$", text) and "analysis" not in marks:
            marks["analysis"] = i
    if "tldr" in marks:
        tldr_lines = []
        for line in lines[marks["tldr"] + 1 :]:
            if not line.strip():
                if tldr_lines:
                    break
                continue
            if line.strip().startswith("**"):
                break
            tldr_lines.append(line.strip())
        summary["tldr"] = one_line(" ".join(tldr_lines))
    if "takeaways" in marks:
        items: list[str] = []
        stop = marks.get("analysis", len(lines))
        if stop < marks["takeaways"]:
            stop = len(lines)
        for line in lines[marks["takeaways"] + 1 : stop]:
            text = line.strip()
            if not text:
                continue
            if text.startswith("**"):
                break
            item = LIST_ITEM.match(text)
            if item:
                items.append(item.group(1))
            elif items:
                items[-1] += " " + text
        summary["key_takeaways"] = [one_line(i) for i in items if i.strip()]
    if "analysis" in marks:
        summary.update(parse_analysis(lines[marks["analysis"] + 1 :]))
    return summary


# --- the structured analysis -----------------------------------------------------------------

SECTION_KEYWORDS = (
    ("affiliations", ("affiliation", "机构", "单位", "隶属")),
    ("title", ("title", "标题", "题目")),
    ("authors", ("author", "作者")),
    ("keywords", ("keyword", "关键词", "关键字")),
    ("links", ("url", "link", "链接", "代码")),
    ("summary", ("summary", "摘要", "总结", "概要")),
    ("methods", ("method", "方法")),
    ("conclusion", ("conclusion", "结论")),
)
SECTION_BY_NUMBER = {
    1: "title",
    2: "authors",
    3: "affiliations",
    4: "keywords",
    5: "links",
    6: "summary",
    7: "methods",
    8: "conclusion",
}
SECTION_START = re.compile(r"^(\d{1,2})\.\s*(.*)$")
SUB_ITEM = re.compile(
    r"^(?:[-*+]\s*)?(?:\*\*)?\s*[(（]\s*(\d{1,2})\s*[)）](?:\*\*)?\s*[:：]?\s*(.*)$"
)
BULLET = re.compile(r"^[-*+]\s+(.*)$")
MARKDOWN_LINK = re.compile(r"\[([^\]]*)\]\((https?://[^)\s]+)\)")
BARE_URL = re.compile(r"https?://[^\s)）\]，,；;。\"'<>]+")


def _label(text: str) -> tuple[str, str]:
    """'**Title**: X' -> ('title', 'X'); the label is what comes before the first colon."""
    plain = text.replace("**", "").strip()
    match = re.match(r"^([^:：]{1,30})[:：]\s*(.*)$", plain)
    if match:
        return match.group(1).strip(), match.group(2).strip()
    return plain, ""


def _kind(label: str) -> str | None:
    lowered = label.lower()
    for kind, words in SECTION_KEYWORDS:
        if any(word in lowered for word in words):
            return kind
    return None


def _html_to_lines(lines: list[str]) -> list[tuple[bool, str]]:
    """Lines with HTML lists flattened; True marks the start of an <li> item."""
    out: list[tuple[bool, str]] = []
    pending_item = False
    for line in lines:
        stripped = line.strip()
        item_start = False
        if stripped.startswith("<li>"):
            item_start = True
            stripped = stripped[4:]
        stripped = re.sub(r"</?(?:p|ol|ul|li)>", "", stripped)
        if item_start and not stripped.strip():
            pending_item = True
            continue
        if pending_item and stripped.strip():
            item_start, pending_item = True, False
        indent = "    " if line[:1] in (" ", "\t") else ""
        out.append((item_start, (indent + stripped) if stripped.strip() else ""))
    return out


def parse_analysis(lines: list[str]) -> dict:
    """The numbered analysis (1. Title ... 8. Conclusion) -> Summary fields."""
    sections: dict[str, list[str]] = {}
    current: str | None = None
    last_number = 0
    html_items = 0
    for item_start, line in _html_to_lines(lines):
        if line.strip().startswith("<details"):
            break
        start = None if line[:1] in (" ", "\t") else SECTION_START.match(line)
        kind = None
        rest = ""
        if item_start:
            html_items += 1
            label, rest = _label(line)
            kind = _kind(label)
            if kind is None:
                kind, rest = SECTION_BY_NUMBER.get(html_items), line.strip()
        elif start and last_number < int(start.group(1)) <= 9:
            # Numbers only go up: a smaller one is a list inside the current section.
            last_number = int(start.group(1))
            label, rest = _label(start.group(2))
            kind = _kind(label)
            if kind is None:
                kind, rest = SECTION_BY_NUMBER.get(last_number), start.group(2).strip()
        if kind is not None:
            current = kind
            sections.setdefault(kind, [])
            if sections[kind]:
                sections[kind].append("")
            sections[kind].append(rest)
        elif current is not None:
            sections[current].append(line)
    return _fields_from_sections(sections)


def _fields_from_sections(sections: dict[str, list[str]]) -> dict:
    fields: dict = {}
    if "title" in sections:
        fields["title_translation"] = one_line(" ".join(sections["title"]))
    if "affiliations" in sections:
        fields["affiliations"] = [one_line(a) for a in _split_items(sections["affiliations"])]
    if "keywords" in sections:
        text = " ".join(line.strip() for line in sections["keywords"])
        parts = [one_line(p).strip(" 。.*") for p in re.split(r"[；;、,，]", text)]
        fields["keywords"] = [p for p in parts if p]
    if "links" in sections:
        fields["links"] = _links(" ".join(sections["links"]))
    if "summary" in sections:
        items = _sub_items(sections["summary"])
        for number, name in enumerate(("background", "prior_work", "method", "results"), 1):
            if number in items:
                fields[name] = items[number]
    if "methods" in sections:
        items = _sub_items(sections["methods"])
        if items:
            fields["method_steps"] = [items[n] for n in sorted(items)]
        else:
            fields["method_steps"] = _split_items(sections["methods"])
    if "conclusion" in sections:
        items = _sub_items(sections["conclusion"], to_end_from=2)
        if items:
            fields["significance"] = items.get(1, "")
            fields["assessment"] = items.get(2, "")
        else:
            fields["significance"] = join_lines(sections["conclusion"])
    return fields


def _split_items(lines: list[str]) -> list[str]:
    texts = []
    for line in lines:
        bullet = BULLET.match(line.strip())
        text = (bullet.group(1) if bullet else line).strip()
        if text:
            texts.append(text)
    if len(texts) == 1:
        return [p.strip(" 。") for p in re.split(r"[；;]", texts[0]) if p.strip(" 。")]
    return texts


def _links(text: str) -> list[dict]:
    links: list[dict] = []
    seen: set[str] = set()
    for label, url in MARKDOWN_LINK.findall(text):
        url = safe_url(url)
        if url and url not in seen:
            seen.add(url)
            links.append({"label": label.strip() or _link_label(url), "url": url})
    for url in BARE_URL.findall(MARKDOWN_LINK.sub(" ", text)):
        url = url.rstrip(".")
        if url not in seen:
            seen.add(url)
            links.append({"label": _link_label(url), "url": url})
    return links


def _link_label(url: str) -> str:
    if "github.com" in url:
        return "Code"
    if "arxiv.org" in url:
        return "arXiv"
    return "Project page"


def _sub_items(lines: list[str], to_end_from: int | None = None) -> dict[int, str]:
    """`(1) ...`, `- (2) ...`, `（3）...` items. An item ends at the next item; a blank line
    followed by plain unindented text ends it too (closing remarks), except for items numbered
    `to_end_from` or higher, which run to the end of the section."""
    items: dict[int, list[str]] = {}
    current: int | None = None
    ended = False
    blank = False
    for line in lines:
        text = line.strip()
        runs_to_end = current is not None and to_end_from is not None and current >= to_end_from
        match = None if runs_to_end else SUB_ITEM.match(text)
        if match and int(match.group(1)) in items:
            ended = True  # the same numbers again: a repeated summary
            continue
        if match:
            current = int(match.group(1))
            items[current] = [match.group(2)]
            ended = blank = False
            continue
        if current is None or ended:
            continue
        if not text:
            blank = True
            continue
        indented = line[:1] in (" ", "\t") or BULLET.match(text)
        if blank and not indented and not runs_to_end:
            ended = True
            continue
        if blank:
            items[current].append("")
        items[current].append(text)
        blank = False
    return {number: join_lines(texts) for number, texts in items.items()}


def one_line(text: str) -> str:
    return " ".join((text or "").split())
