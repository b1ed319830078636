"""Markdown digests in the legacy blog's layout: parse, import into the models, export.

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
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from papers import tagging
from papers.markdown.mojibake import RepairReport, repair_text
from papers.models import (
    SUMMARY_LIST_FIELDS,
    SUMMARY_TEXT_FIELDS,
    Digest,
    DigestEntry,
    Figure,
    Language,
    Paper,
    Status,
    Summary,
    Tag,
    Topic,
    TopicPaper,
    split_arxiv_id,
)

MAX_TAG_LENGTH = 50
KEYWORD_TAGS = 8


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
    language: str = Language.ENGLISH
    papers: list[PostPaper] = field(default_factory=list)


@dataclass
class ImportReport:
    """What importing one file did, counted per kind of row ("paper", "summary", ...)."""

    name: str
    created: Counter = field(default_factory=Counter)
    updated: Counter = field(default_factory=Counter)
    unchanged: Counter = field(default_factory=Counter)
    skipped: Counter = field(default_factory=Counter)
    skipped_locked: int = 0
    errors: list[str] = field(default_factory=list)
    repair: RepairReport | None = None
    digest_id: int | None = None

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def created_items(self) -> list[tuple[str, int]]:
        return sorted((k, n) for k, n in self.created.items() if n)

    @property
    def updated_items(self) -> list[tuple[str, int]]:
        return sorted((k, n) for k, n in self.updated.items() if n)

    @property
    def unchanged_items(self) -> list[tuple[str, int]]:
        return sorted((k, n) for k, n in self.unchanged.items() if n)

    @property
    def changed(self) -> bool:
        return bool(sum(self.created.values()) or sum(self.updated.values()))

    def line(self) -> str:
        if self.errors:
            return f"{self.name}: FAILED {'; '.join(self.errors)}"

        def counts(counter: Counter) -> str:
            return ", ".join(f"{n} {kind}" for kind, n in sorted(counter.items()) if n) or "none"

        text = (
            f"{self.name}: created {counts(self.created)}; updated {counts(self.updated)}; "
            f"unchanged {counts(self.unchanged)}; locked summaries skipped {self.skipped_locked}"
        )
        if self.repair and self.repair.mojibake:
            text += f"; {self.repair}"
        return text


# ---------------------------------------------------------------------------------------------
# Reading


def decode_post(data: bytes, name: str = "") -> tuple[str, RepairReport]:
    """Bytes of a post -> text, mojibake repaired. Raises PostFormatError for non-UTF-8 bytes."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise PostFormatError(line, "not UTF-8 text") from exc
    if "\x00" in text:
        raise PostFormatError(text[: text.index("\x00")].count("\n") + 1, "binary data")
    return repair_text(text)


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
        return timezone.make_aware(moment, dt.UTC)
    raise PostFormatError(line, f"front matter date {value!r} is not YYYY-MM-DD [HH:MM:SS]")


def topic_name_from_title(title: str) -> str:
    """'Talking Head Generation 2024-10-12' -> 'Talking Head Generation'."""
    name = re.sub(r"\d{4}-\d{2}-\d{2}", " ", title)
    return " ".join(name.split()).strip(" -|:·")


CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")


def detect_language(text: str) -> str:
    letters = sum(1 for c in text if c.isalpha())
    if letters and len(CJK.findall(text)) >= 0.2 * letters:
        return Language.CHINESE
    return Language.ENGLISH


def parse_post(text: str) -> Post:
    """Parse a post's text (already repaired). Raises PostFormatError with the line."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    front, body_start = _parse_front_matter(lines)
    title = _one_line(str(front.get("title") or ""))
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
        description=_one_line(str(front.get("description") or "")),
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
    paper.abstract = _join_lines(lines[abstract_from:pdf_index])

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


def _join_lines(lines: list[str]) -> str:
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
        summary["tldr"] = _one_line(" ".join(tldr_lines))
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
        summary["key_takeaways"] = [_one_line(i) for i in items if i.strip()]
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
        fields["title_translation"] = _one_line(" ".join(sections["title"]))
    if "affiliations" in sections:
        fields["affiliations"] = [_one_line(a) for a in _split_items(sections["affiliations"])]
    if "keywords" in sections:
        text = " ".join(line.strip() for line in sections["keywords"])
        parts = [_one_line(p).strip(" 。.*") for p in re.split(r"[；;、,，]", text)]
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
            fields["significance"] = _join_lines(sections["conclusion"])
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
        if url not in seen:
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
    return {number: _join_lines(texts) for number, texts in items.items()}


# ---------------------------------------------------------------------------------------------
# Importing


def _apply(obj, values: dict, *, fill_only: bool = False) -> bool:
    """Set the differing values on `obj`; with fill_only only empty fields. True if any changed."""
    changed = False
    for name, value in values.items():
        current = getattr(obj, name)
        if fill_only and current not in ("", None, [], {}):
            continue
        if current != value:
            setattr(obj, name, value)
            changed = True
    return changed


def _count(report: ImportReport, kind: str, created: bool, changed: bool) -> None:
    if created:
        report.created[kind] += 1
    elif changed:
        report.updated[kind] += 1
    else:
        report.unchanged[kind] += 1


def _unique_slug(name: str) -> str:
    import hashlib

    base = slugify(name, allow_unicode=True)[:180] or hashlib.sha1(name.encode()).hexdigest()[:10]
    slug, n = base, 1
    while Topic.objects.filter(slug=slug).exists():
        n += 1
        slug = f"{base}-{n}"
    return slug


def _tag(name: str, kind: str) -> Tag | None:
    name = " ".join(name.split())
    if not name or len(name) > MAX_TAG_LENGTH:
        return None
    tags = tagging.tags_for([name], kind)
    return tags[0] if tags else None


def _tag_paper(report: ImportReport, paper: Paper, tags: Iterable[Tag | None]) -> None:
    have = set(paper.tags.values_list("pk", flat=True))
    for tag in tags:
        if tag is None:
            continue
        if tag.pk in have:
            report.unchanged["tag"] += 1
        else:
            paper.tags.add(tag)
            have.add(tag.pk)
            report.created["tag"] += 1


def _store_topic(report: ImportReport, post: Post) -> Topic:
    topic = Topic.objects.filter(name__iexact=post.topic_name).first()
    if topic is None:
        topic = Topic.objects.create(
            name=post.topic_name,
            slug=_unique_slug(post.topic_name),
            query=f'abs:"{post.topic_name}"',
            language=post.language,
        )
        report.created["topic"] += 1
    else:
        report.unchanged["topic"] += 1
    return topic


def _store_paper(report: ImportReport, post: Post, item: PostPaper) -> Paper:
    values = {
        "title": item.title,
        "authors": [{"name": name} for name in item.authors],
        "abstract": item.abstract,
        "comment": item.comment,
        "abs_url": f"https://arxiv.org/abs/{item.arxiv_id}",
        "pdf_url": f"https://arxiv.org/pdf/{item.arxiv_id}",
    }
    paper = Paper.objects.select_for_update().filter(arxiv_id=item.arxiv_id).first()
    if paper is None:
        version = item.version or 1
        paper = Paper(
            arxiv_id=item.arxiv_id,
            version=version,
            versions_seen=[version],
            status=Status.PUBLISHED,
            published=post.date,
        )
        _apply(paper, values)
        paper.save()
        _count(report, "paper", True, False)
        return paper
    # Metadata from the pipeline is richer than the post's: only fill what is empty.
    changed = _apply(paper, values, fill_only=True)
    if paper.published is None:
        paper.published = post.date
        changed = True
    if paper.status == Status.DRAFT:
        paper.status = Status.PUBLISHED
        changed = True
    if changed:
        paper.save()
    _count(report, "paper", False, changed)
    return paper


def _store_summary(report: ImportReport, post: Post, item: PostPaper, paper: Paper, name: str):
    if not item.summary:
        return
    summary = Summary.objects.filter(paper=paper, language=post.language).first()
    if summary is not None and summary.locked:
        report.skipped_locked += 1
        return
    if summary is not None and summary.backend == "imported" and summary.source not in ("", name):
        # The same paper in another post (another topic's digest): the first import stands.
        report.skipped["summary"] += 1
        return
    values = {
        "backend": "imported",
        "source": name,
        "generated_at": post.date,
        "model": "",
        "prompt_version": "",
        "input_digest": "",
        "stale": False,
    }
    for field_name in SUMMARY_TEXT_FIELDS:
        values[field_name] = item.summary.get(field_name, "")
    for field_name in (*SUMMARY_LIST_FIELDS, "links"):
        values[field_name] = item.summary.get(field_name, [])
    created = summary is None
    if created:
        summary = Summary(paper=paper, language=post.language)
    changed = _apply(summary, values)
    if created or changed:
        summary.save()
    _count(report, "summary", created, changed)


def _store_figures(report: ImportReport, item: PostPaper, paper: Paper) -> None:
    if not item.figures:
        return
    existing = list(paper.figures.all())
    if any(f.image for f in existing):
        # Crops extracted from the PDF are better than the post's images.
        report.skipped["figure"] += len(item.figures)
        return
    by_url = {f.source_url: f for f in existing if f.source_url}
    taken = {f.order for f in existing}
    for order, (url, caption) in enumerate(item.figures, 1):
        figure = by_url.get(url)
        if figure is not None:
            changed = bool(caption) and _apply(figure, {"caption": caption}, fill_only=True)
            if changed:
                figure.save()
            _count(report, "figure", False, changed)
            continue
        while order in taken:
            order += 1
        figure = Figure.objects.create(paper=paper, source_url=url, order=order, caption=caption)
        taken.add(order)
        by_url[url] = figure
        _count(report, "figure", True, False)


def _store_digest(report: ImportReport, post: Post, topic: Topic, papers: list[Paper]) -> Digest:
    digest = Digest.objects.filter(topic=topic, date=post.date.date()).first()
    values = {"title": post.title, "intro": post.description}
    created = digest is None
    if created:
        digest = Digest(topic=topic, date=post.date.date(), status=Status.PUBLISHED)
        changed = _apply(digest, values)
    else:
        changed = _apply(digest, values, fill_only=True)
        if digest.status == Status.DRAFT:
            digest.status = Status.PUBLISHED
            changed = True
    if post.cover and digest.cover_id is None:
        cover = Figure.objects.filter(paper__in=papers, source_url=post.cover).first()
        if cover is not None:
            digest.cover = cover
            changed = True
    if created or changed:
        digest.save()
    _count(report, "digest", created, changed)
    for position, paper in enumerate(papers):
        entry, made = DigestEntry.objects.get_or_create(
            digest=digest, paper=paper, defaults={"position": position}
        )
        moved = not made and entry.position != position
        if moved:
            entry.position = position
            entry.save(update_fields=["position"])
        _count(report, "entry", made, moved)
    return digest


def _store_post(report: ImportReport, post: Post, name: str, where: list[int]) -> None:
    """Write one parsed post; `where[0]` follows the line being written, for error reports."""
    topic = _store_topic(report, post)
    topic_tag = _tag(topic.name, Tag.Kind.TOPIC)
    extra = [t for t in dict.fromkeys(post.tags + post.keywords) if t.lower() != topic.name.lower()]
    papers = []
    for item in post.papers:
        where[0] = item.line
        paper = _store_paper(report, post, item)
        _, joined = TopicPaper.objects.get_or_create(topic=topic, paper=paper)
        _count(report, "topic paper", joined, False)
        _store_summary(report, post, item, paper, name)
        _store_figures(report, item, paper)
        keywords = item.summary.get("keywords", [])[:KEYWORD_TAGS]
        tags = [topic_tag] + [_tag(k, Tag.Kind.KEYWORD) for k in extra + keywords]
        _tag_paper(report, paper, tags)
        papers.append(paper)
    where[0] = 1
    report.digest_id = _store_digest(report, post, topic, papers).pk


def import_post(data: bytes | str, name: str) -> ImportReport:
    """Import one post (bytes of a file, or text) in one transaction; errors go in the report."""
    report = ImportReport(name=name)
    try:
        if isinstance(data, bytes):
            text, report.repair = decode_post(data, name)
        else:
            text, report.repair = repair_text(data)
        post = parse_post(text)
    except PostFormatError as exc:
        report.errors.append(f"{name}:{exc.line}: {exc.message}")
        return report
    where = [1]
    try:
        with transaction.atomic():
            _store_post(report, post, name, where)
    except Exception as exc:  # noqa: BLE001 - one bad post must not stop the others
        report.created.clear()
        report.updated.clear()
        report.unchanged.clear()
        report.errors.append(f"{name}:{where[0]}: {type(exc).__name__}: {exc}")
    return report


def markdown_files(paths: Iterable[str | Path]) -> list[Path]:
    """Files named, and the .md files under folders named, in a stable order."""
    found: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found.extend(sorted(p for p in path.rglob("*.md") if p.is_file()))
        else:
            found.append(path)
    return found


def import_files(
    paths: Iterable[str | Path], progress: Callable[[Iterable], Iterable] | None = None
) -> list[ImportReport]:
    """Import files and folders; `progress` wraps the file list (e.g. tqdm)."""
    files = markdown_files(paths)
    reports = []
    for path in progress(files) if progress else files:
        try:
            data = path.read_bytes()
        except OSError as exc:
            report = ImportReport(name=path.name)
            report.errors.append(f"{path}:1: cannot read: {exc.strerror or exc}")
            reports.append(report)
            continue
        reports.append(import_post(data, path.name))
    return reports


# ---------------------------------------------------------------------------------------------
# Exporting

LABELS = {
    Language.ENGLISH: {
        "title": "Title",
        "authors": "Authors",
        "affiliations": "Affiliation",
        "keywords": "Keywords",
        "links": "Urls",
        "summary": "Summary",
        "methods": "Methods",
        "conclusion": "Conclusion",
        "figures": "Figures from the paper",
        "colon": ": ",
        "separator": "; ",
    },
    Language.CHINESE: {
        "title": "标题",
        "authors": "作者",
        "affiliations": "所属机构",
        "keywords": "关键词",
        "links": "链接",
        "summary": "摘要",
        "methods": "方法",
        "conclusion": "结论",
        "figures": "论文图片",
        "colon": "：",
        "separator": "；",
    },
}


def absolute_url(url: str) -> str:
    return settings.SITE_URL + url if url.startswith("/") else url


def _one_line(text: str) -> str:
    return " ".join((text or "").split())


def _indented(text: str, indent: str = "      ") -> str:
    """First line as is, the following lines indented (so they stay inside their item)."""
    lines = (text or "").strip().split("\n")
    return "\n".join([lines[0]] + [(indent + ln) if ln.strip() else "" for ln in lines[1:]])


def export_digest(digest: Digest) -> str:
    """The digest as a Markdown post in the legacy layout (round-trips through import_post)."""
    topic = digest.topic
    entries = digest.entries.select_related("paper").order_by("position", "id")
    papers = [entry.paper for entry in entries]
    language = topic.language if topic.language in LABELS else Language.ENGLISH
    cover = ""
    if digest.cover_id:
        cover = absolute_url(digest.cover.url)
    else:
        first = Figure.objects.filter(paper__in=papers, hidden=False).order_by("order").first()
        cover = absolute_url(first.url) if first else ""
    moment = digest.published_at if digest.published_at else None
    clock = moment.astimezone(dt.UTC).strftime("%H:%M:%S") if moment else "00:00:00"
    out = [
        "---",
        f"title: {_one_line(digest.title or topic.name)}",
        f"date: {digest.date.isoformat()} {clock}",
        f"author: {_one_line(settings.SITE_NAME)}",
        f"cover: {cover}",
        "categories: Paper",
        "tags:",
        f"    - {_one_line(topic.name)}",
        f"description: {_one_line(digest.intro)}",
        f"keywords: {_one_line(topic.name)}",
        "---",
        "",
        f"# {digest.date.isoformat()}",
        "",
    ]
    for paper in papers:
        out += _export_paper(paper, language)
    return "\n".join(out).rstrip("\n") + "\n"


def _export_paper(paper: Paper, language: str) -> list[str]:
    labels = LABELS[language]
    out = [
        "",
        f"## {_one_line(paper.title)}",
        "",
        f"**Authors:{', '.join(_one_line(n) for n in paper.author_names)}**",
        "",
        (paper.abstract or "").strip(),
        "",
        f"[PDF](http://arxiv.org/abs/{paper.arxiv_id}v{paper.version}) {_one_line(paper.comment)}".rstrip(),
        "",
    ]
    summary = paper.summaries.filter(language=language).first() or paper.summaries.first()
    if summary is not None:
        labels = LABELS.get(summary.language, labels)
        colon = labels["colon"]
        out += ["**Summary**", _one_line(summary.tldr), "", "**Key Takeaways**"]
        out += [f"{n}. {_one_line(t)}" for n, t in enumerate(summary.key_takeaways or [], 1)]
        out += ["", f"**[{settings.SITE_NAME}]({settings.SITE_URL})**", ""]
        links = ", ".join(
            f"[{_one_line(link.get('label', ''))}]({link.get('url', '')})"
            for link in summary.links or []
            if link.get("url")
        )
        out += [
            f"1. {labels['title']}{colon}{_one_line(summary.title_translation)}",
            "",
            f"2. {labels['authors']}{colon}{', '.join(paper.author_names)}",
            "",
            f"3. {labels['affiliations']}{colon}",
        ]
        out += [f"    - {_one_line(a)}" for a in summary.affiliations or []]
        out += [
            "",
            f"4. {labels['keywords']}{colon}{labels['separator'].join(summary.keywords or [])}",
            "",
            f"5. {labels['links']}{colon}{links or 'None'}",
            "",
            f"6. {labels['summary']}{colon}",
            "",
        ]
        for number, name in enumerate(("background", "prior_work", "method", "results"), 1):
            value = getattr(summary, name)
            if value:
                out.append(f"    - ({number}) {_indented(value)}")
        out += ["", f"7. {labels['methods']}{colon}", ""]
        for number, step in enumerate(summary.method_steps or [], 1):
            out.append(f"    - ({number}) {_indented(step)}")
        out += ["", f"8. {labels['conclusion']}{colon}", ""]
        if summary.significance:
            out += [f"(1) {_indented(summary.significance, '    ')}", ""]
        if summary.assessment:
            out += [f"(2) {_indented(summary.assessment, '    ')}", ""]
    figures = [f for f in paper.figures.all() if not f.hidden]
    if figures:
        out += ["", "<details>", f"  <summary>{labels['figures']}</summary>"]
        for figure in figures:
            alt = f' alt="{html.escape(_one_line(figure.caption))}"' if figure.caption else ""
            out.append(f'<img src="{html.escape(absolute_url(figure.url))}"{alt} align="middle">')
        out.append("</details>")
    out += ["", ""]
    return out


def digest_filename(digest: Digest) -> str:
    return f"{digest.topic.slug}-{digest.date.isoformat()}.md"
