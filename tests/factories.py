"""Plain functions that make model rows for tests; every argument has a sensible default."""

import datetime as dt
import itertools
from io import BytesIO

from django.core.files.base import ContentFile
from django.utils import timezone
from PIL import Image

from papers.models import Digest, DigestEntry, Figure, Paper, Status, Summary, Topic, TopicPaper

_numbers = itertools.count(1)


def make_topic(name: str = "", **fields) -> Topic:
    n = next(_numbers)
    fields.setdefault("query", 'abs:"talking head"')
    return Topic.objects.create(name=name or f"Topic {n}", **fields)


def make_paper(
    arxiv_id: str = "",
    *,
    topic: Topic | None = None,
    tags: list[str] | None = None,
    status: str = Status.PUBLISHED,
    **fields,
) -> Paper:
    n = next(_numbers)
    arxiv_id = arxiv_id or f"2410.{n:05d}"
    fields.setdefault("title", f"A study of talking heads number {n}")
    fields.setdefault("abstract", f"We study talking heads, case {n}. It works well.")
    fields.setdefault("authors", [{"name": "Ada Lovelace"}, {"name": "Alan Turing"}])
    fields.setdefault("published", timezone.now() - dt.timedelta(minutes=n))
    fields.setdefault("categories", ["cs.CV"])
    fields.setdefault("primary_category", "cs.CV")
    fields.setdefault("abs_url", f"https://arxiv.org/abs/{arxiv_id}")
    fields.setdefault("pdf_url", f"https://arxiv.org/pdf/{arxiv_id}")
    paper = Paper.objects.create(arxiv_id=arxiv_id, status=status, **fields)
    if topic is not None:
        TopicPaper.objects.create(topic=topic, paper=paper)
    if tags:
        paper.tags.add(*tags)
    return paper


def make_summary(paper: Paper, language: str = "en", **fields) -> Summary:
    fields.setdefault("tldr", f"{paper.title} works.")
    fields.setdefault("key_takeaways", ["First point.", "Second point.", "Third point."])
    fields.setdefault("keywords", ["talking head"])
    fields.setdefault("backend", "extractive")
    fields.setdefault("generated_at", timezone.now())
    return Summary.objects.create(paper=paper, language=language, **fields)


def png_bytes(width: int = 40, height: int = 30, color: str = "navy") -> bytes:
    buffer = BytesIO()
    Image.new("RGB", (width, height), color).save(buffer, format="PNG")
    return buffer.getvalue()


def make_figure(paper: Paper, order: int | None = None, **fields) -> Figure:
    if order is None:
        order = paper.figures.count() + 1
    fields.setdefault("caption", f"Figure {order}: An overview.")
    fields.setdefault("page", 1)
    figure = Figure(paper=paper, order=order, width=40, height=30, **fields)
    if not figure.source_url:
        figure.image.save(f"figure-{order}.png", ContentFile(png_bytes()), save=False)
    figure.save()
    return figure


def make_digest(
    topic: Topic,
    papers: list[Paper] = (),
    *,
    date: dt.date | None = None,
    status: str = Status.PUBLISHED,
    **fields,
) -> Digest:
    digest = Digest.objects.create(
        topic=topic, date=date or dt.date(2024, 10, 12), status=status, **fields
    )
    for position, paper in enumerate(papers):
        DigestEntry.objects.create(digest=digest, paper=paper, position=position)
    return digest
