"""Storing a parsed Markdown digest: topic, papers, summaries, figures, tags and the digest.

Reading the post is papers.markdown.parse; this module writes what it read, one post in one
transaction, and never overwrites an editor's locked summary.
"""

import bisect
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from django.db import transaction

from papers import indexing, tagging
from papers.markdown.mojibake import RepairReport, repair_text
from papers.markdown.parse import Post, PostFormatError, PostPaper, decode_post, parse_post
from papers.models import (
    SUMMARY_LIST_FIELDS,
    SUMMARY_TEXT_FIELDS,
    Digest,
    Figure,
    Paper,
    Status,
    Summary,
    Tag,
    Topic,
    TopicPaper,
)
from papers.text import safe_url


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


def _tag_paper(report: ImportReport, paper: Paper, tags: Iterable[Tag]) -> None:
    have = set(paper.tags.values_list("pk", flat=True))
    tags = list(dict.fromkeys(tags))
    new = [tag for tag in tags if tag.pk not in have]
    added = paper.add_tags(new)
    report.unchanged["tag"] += len(tags) - len(new)
    report.created["tag"] += len(added)
    report.skipped["tag"] += len(new) - len(added)


def _store_topic(report: ImportReport, post: Post) -> Topic:
    topic = Topic.objects.filter(name__iexact=post.topic_name).first()
    if topic is None:
        # The query is a guess: the topic waits, unscheduled, for an editor's dry run.
        topic = Topic.objects.create(
            name=post.topic_name,
            query=f'abs:"{post.topic_name}"',
            language=post.language,
            active=False,
            query_checked=False,
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
        # Published with the post's digest (Digest.publish), like any other paper.
        paper = Paper(
            arxiv_id=item.arxiv_id,
            version=version,
            versions_seen=[version],
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
    if changed:
        paper.save()
    _count(report, "paper", False, changed)
    return paper


def _store_summary(
    report: ImportReport, post: Post, item: PostPaper, paper: Paper, name: str, warnings: list[str]
) -> None:
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
        "warnings": warnings,
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
        url = safe_url(url)
        if not url:
            continue
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
        digest = Digest(topic=topic, date=post.date.date())
        changed = _apply(digest, values)
    else:
        changed = _apply(digest, values, fill_only=True)
    if post.cover and digest.cover_id is None:
        cover = Figure.objects.filter(paper__in=papers, source_url=post.cover).first()
        if cover is not None:
            digest.cover = cover
            changed = True
    if created or changed:
        digest.save()
    _count(report, "digest", created, changed)
    # The post's order first; papers an editor added to the digest follow.
    arrangement = digest.arrange([paper.pk for paper in papers])
    for paper in papers:
        made = paper.pk in arrangement.added
        _count(report, "entry", made, not made and paper.pk in arrangement.moved)
    # A post is a published digest; one an editor sent back to review or hid stays so.
    if digest.status == Status.DRAFT:
        digest.publish()
    return digest


def _repair_warnings(post: Post, repair: RepairReport | None) -> dict[str, list[str]]:
    """The uncertain spots of the encoding repair, by the arXiv id of the paper they are in, as
    warnings an editor sees on that paper's summary (spots above the first paper are only
    counted in the import report)."""
    if repair is None or not repair.uncertain:
        return {}
    starts = [item.line for item in post.papers]
    found: dict[str, list[str]] = {}
    for spot in repair.uncertain:
        number = bisect.bisect_right(starts, spot.line) - 1
        if number >= 0:
            item = post.papers[number]
            found.setdefault(item.arxiv_id, []).append(f"Uncertain repair of the text, {spot}")
    return found


def _store_post(report: ImportReport, post: Post, name: str, where: list[int]) -> None:
    """Write one parsed post; `where[0]` follows the line being written, for error reports."""
    topic = _store_topic(report, post)
    topic_tags = tagging.tags_for([topic.name], Tag.Kind.TOPIC)
    warnings = _repair_warnings(post, report.repair)
    extra = [t for t in dict.fromkeys(post.tags + post.keywords) if t.lower() != topic.name.lower()]
    papers = []
    for item in post.papers:
        where[0] = item.line
        paper = _store_paper(report, post, item)
        _, joined = TopicPaper.objects.get_or_create(topic=topic, paper=paper)
        _count(report, "topic paper", joined, False)
        _store_summary(report, post, item, paper, name, warnings.get(item.arxiv_id, []))
        _store_figures(report, item, paper)
        keywords = tagging.keyword_names(item.summary.get("keywords", []))
        tags = topic_tags + tagging.tags_for(extra + keywords, Tag.Kind.KEYWORD)
        _tag_paper(report, paper, tags)
        papers.append(paper)
    indexing.refresh_indexes(paper.pk for paper in papers)
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
