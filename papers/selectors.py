"""The queries behind the public pages: only published rows, related rows fetched up front.

Every function returns a queryset (or rows) whose query count does not grow with the number of
papers, tags or figures on the page.
"""

import datetime as dt
import math
from collections.abc import Sequence

from django.core.exceptions import EmptyResultSet
from django.core.paginator import Paginator
from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.http import Http404
from django.shortcuts import get_object_or_404

from papers import search, vocabulary
from papers.content import kept
from papers.inputs import CONTROL_CHARACTERS
from papers.models import (
    Digest,
    DigestEntry,
    Figure,
    Paper,
    RelatedPaper,
    Status,
    Summary,
    Tag,
    Topic,
    split_arxiv_id,
    summary_fallback_note,
)

MAX_QUERY_CHARS = 200
MAX_QUERY_WORDS = 10
MAX_TAG_FILTERS = 5


# Paper columns no public list shows; some are large (the PDF's text).
HEAVY_PAPER_FIELDS = (
    "full_text",
    "first_page_text",
    "search_vector",
    "head_vector",
    "title_raw",
)


def visible_figures(lookup: str = "figures") -> Prefetch:
    """The figures a page may show (`Paper.figure_list`)."""
    figures = Figure.objects.filter(hidden=False).order_by("order", "id")
    return Prefetch(lookup, queryset=figures, to_attr="prefetched_figures")


# What list items, feed items and search snippets read of a summary; the rest stays behind.
LISTING_SUMMARY_FIELDS = ("id", "paper_id", "language", "tldr", "key_takeaways", "method")


def short_summaries(lookup: str = "summaries") -> Prefetch:
    """The summary fields list items, feed items and search snippets read (`Paper.summary_list`)."""
    summaries = Summary.objects.only(*LISTING_SUMMARY_FIELDS)
    return Prefetch(lookup, queryset=summaries, to_attr="prefetched_summaries")


def papers_for_listing() -> QuerySet:
    """Published papers, newest first, with what a list item shows."""
    return (
        Paper.objects.published()
        .newest_first()
        .defer(*HEAVY_PAPER_FIELDS)
        .prefetch_related(Prefetch("tags", to_attr="prefetched_tags"), short_summaries())
    )


def clean_query(text: str) -> str:
    """A search text cut to a sane size; anything longer is noise or abuse."""
    words = CONTROL_CHARACTERS.sub(" ", text or "")[:MAX_QUERY_CHARS].split()
    return " ".join(words[:MAX_QUERY_WORDS])


def clean_tag_slugs(values: list[str]) -> list[str]:
    """Distinct, non-empty tag slugs from the query string, in order, at most MAX_TAG_FILTERS."""
    slugs: list[str] = []
    for value in values:
        value = value.strip()[:100]
        if value and value not in slugs:
            slugs.append(value)
    return slugs[:MAX_TAG_FILTERS]


def search_papers(queryset: QuerySet, text: str) -> QuerySet:
    """Papers matching `text` (an arXiv id, or words), best match first (see papers.search)."""
    text = clean_query(text)
    if not text:
        return queryset
    try:
        arxiv_id, _version = split_arxiv_id(text)
    except ValueError:
        arxiv_id = None
    if arxiv_id:
        return queryset.filter(arxiv_id=arxiv_id)
    return search.search(queryset, text)


def filter_papers(tags: list[Tag], text: str) -> QuerySet:
    """The `/papers/` list: published papers with all these tags, matching the search text."""
    queryset = papers_for_listing()
    for tag_id in dict.fromkeys(tag.pk for tag in tags):
        queryset = queryset.filter(
            Exists(Paper.tags.through.objects.filter(content_object=OuterRef("pk"), tag_id=tag_id))
        )
    return search_papers(queryset, text)


class IdPaginator(Paginator):
    """Pages of a queryset found by id first: deep pages skip rows in an index-only scan of ids,
    then only the page's rows are read. Give `count` when it is already known."""

    def __init__(self, object_list, per_page: int, count: int | None = None) -> None:
        super().__init__(object_list, per_page)
        if count is None and isinstance(object_list, QuerySet):
            # A COUNT reads every matching row (57 ms for two popular tags at 100k papers):
            # it is kept until the next content change, under the list's own SQL.
            try:
                sql, params = object_list.query.sql_with_params()
                count = kept(f"count:{sql}:{params!r}", object_list.count)
            except EmptyResultSet:  # a filter that can match nothing
                count = 0
        if count is not None:
            self.__dict__["count"] = count

    def page(self, number):
        page = super().page(number)
        if isinstance(page.object_list, QuerySet):
            page.object_list = self.object_list.filter(pk__in=self._ids(page))
        return page

    def _ids(self, page) -> list[int]:
        """The page's ids (their order is the queryset's again once filtered by them). A page
        past the middle is found from the other end, in the reverse order (when the order ends
        in the id, so that it mirrors exactly): the last page of 100,000 papers then skips 0
        rows, not 99,980."""
        queryset = self.object_list.prefetch_related(None)
        ordering = queryset.query.order_by
        bottom = (page.number - 1) * self.per_page
        top = min(bottom + self.per_page, self.count)
        if bottom > self.count // 2 and ordering and ordering[-1] in ("id", "-id", "pk", "-pk"):
            reverse = queryset.reverse().values_list("pk", flat=True)
            return list(reverse[self.count - top : self.count - bottom])
        return list(queryset.values_list("pk", flat=True)[bottom:top])


def tags_by_slugs(values: list[str]) -> list[Tag]:
    """The tags named in `?tag=`, by slug or, as people type them, by name (`cs.CV`, `NeRFs`).

    An alias an editor made by merging or renaming stands for its tag.
    """
    keys = {value: vocabulary.fold(value) for value in values}
    tags = list(
        Tag.objects.filter(
            Q(slug__in=values) | Q(name__in=values) | Q(key__in=keys.values())
        ).select_related("merged_into")
    )
    by_slug = {tag.slug: tag for tag in tags}
    by_name = {tag.name: tag for tag in tags}
    # Of the spellings of one tag, the oldest that is no alias is written last and wins.
    by_key = {tag.key: tag for tag in sorted(tags, key=lambda t: (t.merged_into_id is None, -t.pk))}
    found = [by_slug.get(v) or by_name.get(v) or by_key.get(keys[v]) for v in values]
    return [tag.merged_into if tag.merged_into_id else tag for tag in found if tag is not None]


def published_paper(arxiv_id: str) -> Paper:
    """One published paper with its tags, summaries, visible figures and published digests."""
    digests = Prefetch(
        "digests",
        queryset=Digest.objects.published().select_related("topic").order_by("-date"),
    )
    see_also = Prefetch(
        "related_links",
        queryset=RelatedPaper.objects.filter(other__status=Status.PUBLISHED).select_related(
            "other"
        ),
    )
    queryset = (
        Paper.objects.published()
        .defer(*HEAVY_PAPER_FIELDS)
        .prefetch_related("tags", "summaries", "links", visible_figures(), digests, see_also)
    )
    return get_object_or_404(queryset, arxiv_id=arxiv_id)


def _count_tags() -> list[tuple[int, str, str, str, int]]:
    rows = (
        Tag.objects.annotate(
            paper_count=Count(
                "tagged_papers",
                filter=Q(tagged_papers__content_object__status=Status.PUBLISHED),
            )
        )
        .filter(paper_count__gt=0, blocked=False, merged_into__isnull=True)
        .order_by("name")
        .values_list("pk", "name", "slug", "kind", "paper_count")
    )
    return list(rows)


def tag_count_rows() -> list[tuple[int, str, str, str, int]]:
    """(id, name, slug, kind, published paper count) of every tag with published papers, by name.

    Counting means reading every tag link, so it is done once per content version.
    """
    return kept("tag-counts", _count_tags)


class CountedTags(Sequence):
    """Tags with their `paper_count`, made into Tag objects only for the slice a page shows."""

    def __init__(self, rows: list[tuple[int, str, str, str, int]]) -> None:
        self.rows = rows

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, index):
        if isinstance(index, slice):
            return [self._tag(row) for row in self.rows[index]]
        return self._tag(self.rows[index])

    @staticmethod
    def _tag(row: tuple[int, str, str, str, int]) -> Tag:
        pk, name, slug, kind, paper_count = row
        tag = Tag(pk=pk, name=name, slug=slug, kind=kind)
        tag.paper_count = paper_count
        return tag


def tags_with_counts() -> CountedTags:
    """Tags that have published papers, with `paper_count`, by name."""
    return CountedTags(tag_count_rows())


def tag_paper_count(tag: Tag) -> int:
    """How many published papers have this tag (one tag's links only, not every tag's)."""
    links = Paper.tags.through.objects.filter(tag=tag, content_object__status=Status.PUBLISHED)
    return kept(f"tag-count:{tag.pk}", links.count)


def cloud_weights(tags: list[Tag], steps: int = 5) -> list[tuple[Tag, int]]:
    """Each tag with a size step 1..steps, on a log scale of its paper count."""
    if not tags:
        return []
    counts = [math.log(tag.paper_count + 1) for tag in tags]
    low, high = min(counts), max(counts)
    spread = high - low or 1.0
    return [
        (tag, 1 + round((c - low) / spread * (steps - 1)))
        for tag, c in zip(tags, counts, strict=True)
    ]


def published_paper_count() -> Coalesce:
    """A digest's count of published papers, as a subquery: PostgreSQL runs it only for the
    digests a page shows (after ORDER BY and LIMIT), not for the whole archive."""
    entries = (
        DigestEntry.objects.filter(digest=OuterRef("pk"), paper__status=Status.PUBLISHED)
        .order_by()
        .values("digest")
        .annotate(count=Count("pk"))
        .values("count")
    )
    return Coalesce(Subquery(entries), 0)


def digests_for_listing() -> QuerySet:
    """Published digests, newest first, with topic, cover and the count of published papers."""
    return (
        Digest.objects.published()
        .newest_first()
        .select_related("topic", "cover", "cover__paper")
        .annotate(paper_count=published_paper_count())
    )


def digest_preview() -> Prefetch:
    """A digest's published papers in order, for a list of digests (titles only)."""
    entries = (
        DigestEntry.objects.filter(paper__status=Status.PUBLISHED)
        .select_related("paper")
        .only("digest", "position", "paper__arxiv_id", "paper__title")
        .order_by("position", "id")
    )
    return Prefetch("entries", queryset=entries)


def entries_for_page(entries: QuerySet) -> QuerySet:
    """Digest entries in order, with everything the digest page shows."""
    return (
        entries.select_related("paper")
        .defer(*(f"paper__{name}" for name in HEAVY_PAPER_FIELDS))
        .prefetch_related(
            Prefetch("paper__tags", to_attr="prefetched_tags"),
            Prefetch("paper__summaries", to_attr="prefetched_summaries"),
            "paper__links",
            visible_figures("paper__figures"),
        )
        .order_by("position", "id")
    )


def feed_entries() -> Prefetch:
    """A digest's published papers in order, with what a feed item shows: the short summary
    fields, and the figures a cover is chosen from."""
    entries = (
        DigestEntry.objects.filter(paper__status=Status.PUBLISHED)
        .select_related("paper")
        .defer(*(f"paper__{name}" for name in HEAVY_PAPER_FIELDS))
        .prefetch_related(short_summaries("paper__summaries"), visible_figures("paper__figures"))
        .order_by("position", "id")
    )
    return Prefetch("entries", queryset=entries)


def digest_entries() -> Prefetch:
    """A digest's published papers in order, with everything the digest page shows."""
    published = DigestEntry.objects.filter(paper__status=Status.PUBLISHED)
    return Prefetch("entries", queryset=entries_for_page(published))


def published_digest(topic_slug: str, date_text: str) -> Digest:
    try:
        date = dt.date.fromisoformat(date_text)
    except ValueError:
        raise Http404("No such date") from None
    queryset = (
        Digest.objects.published()
        .select_related("topic", "cover", "cover__paper")
        .prefetch_related(digest_entries())
    )
    return get_object_or_404(queryset, topic__slug=topic_slug, date=date)


def topic_by_slug(slug: str) -> Topic:
    return get_object_or_404(Topic, slug=slug)


def topic_digests(topic: Topic) -> QuerySet:
    return digests_for_listing().filter(topic=topic)


def digest_page(digest: Digest, entries) -> dict:
    """What a digest page shows of these entries: each paper with its summary in the topic's
    language (or a note saying which language is shown), figures, kind and editors' pick; the
    keywords, the picks and the counts of new papers, cross-lists and new versions."""
    language = digest.topic.language
    entries = list(entries)
    rows: list[dict] = []
    keywords: list[str] = [digest.topic.name]
    for number, entry in enumerate(entries, 1):
        paper = entry.paper
        summary = paper.summary_for(language)
        rows.append(
            {
                "paper": paper,
                "summary": summary,
                "summary_note": summary_fallback_note(summary, language),
                "figures": paper.figure_list() if paper.content_allowed else [],
                "kind": entry.get_kind_display() if entry.kind != entry.Kind.NEW else "",
                "pick": entry.pick_reason,
                "number": number,
            }
        )
        for word in summary.keywords if summary else []:
            if isinstance(word, str) and word not in keywords:
                keywords.append(word)
    return {
        "digest": digest,
        "topic": digest.topic,
        "entries": rows,
        "keywords": keywords[:20],
        "picks": [row for row in rows if row["pick"]],
        "kind_counts": digest.kind_counts(entries),
    }


def topic_picks(topic: Topic) -> QuerySet:
    """The editors' picks of a topic's published digests, newest digest first."""
    return (
        DigestEntry.objects.filter(
            digest__topic=topic,
            digest__status=Status.PUBLISHED,
            paper__status=Status.PUBLISHED,
        )
        .exclude(pick_reason="")
        .select_related("paper", "digest__topic")
        .prefetch_related(
            short_summaries("paper__summaries"),
            Prefetch("paper__tags", to_attr="prefetched_tags"),
        )
        .order_by("-digest__date", "digest", "position", "id")
    )


def week_of(key: str) -> tuple[dt.date, dt.date]:
    """The Monday and the next Monday of an ISO week like `2024-W41`; 404 for no such week."""
    try:
        year, week = key.split("-W")
        monday = dt.date.fromisocalendar(int(year), int(week), 1)
    except ValueError:
        raise Http404("No such week") from None
    return monday, monday + dt.timedelta(days=7)


def cover_figure(paper: Paper) -> Figure | None:
    """The first figure the site may show for a paper (uses prefetched figures)."""
    if not paper.content_allowed:
        return None
    for figure in paper.figure_list():
        if figure.image or figure.source_url:
            return figure
    return None


def digest_cover(digest: Digest) -> Figure | None:
    """The digest's cover when showable, else the first showable figure of its papers."""
    cover = digest.cover
    if cover and not cover.hidden and cover.paper.is_published and cover.paper.content_allowed:
        return cover
    for entry in digest.entries.all():
        figure = cover_figure(entry.paper)
        if figure:
            return figure
    return None
