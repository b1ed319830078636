"""Papers, their querysets, their topics, and what their licences allow."""

import re
from collections.abc import Iterable

from django.contrib.postgres.search import SearchVectorField
from django.db import models
from django.db.models.signals import m2m_changed
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords
from taggit.managers import TaggableManager

from papers.models.summaries import Summary
from papers.models.tags import Tag, TaggedPaper
from papers.models.topics import Status, Topic
from papers.storage import private_storage

# Fields both arXiv and editors write. An editor's correction of one stands against later fetches.
CORRECTABLE_FIELDS = ("title", "authors", "abstract", "comment", "journal_ref", "doi")


class PaperQuerySet(models.QuerySet):
    def published(self) -> "PaperQuerySet":
        return self.filter(status=Status.PUBLISHED)

    def newest_first(self) -> "PaperQuerySet":
        return self.order_by("-published", "-id")

    def failed(self) -> "PaperQuerySet":
        return self.filter(state=Paper.State.FAILED)

    def with_arxiv_changes(self) -> "PaperQuerySet":
        """Papers where arXiv changed a field an editor had corrected, awaiting the editor."""
        return self.exclude(arxiv_changes=[])


class Paper(models.Model):
    class State(models.TextChoices):
        """Where the paper is in the pipeline (independent of its editorial status)."""

        FETCHED = "fetched", _("Metadata fetched")
        DOWNLOADED = "downloaded", _("PDF downloaded")
        EXTRACTED = "extracted", _("Text and figures extracted")
        SUMMARIZED = "summarized", _("Summarized")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    arxiv_id = models.CharField(max_length=64, unique=True, help_text=_("Without version"))
    version = models.PositiveIntegerField(default=1)
    versions_seen = models.JSONField(default=list, blank=True)
    title = models.TextField()
    title_raw = models.TextField(blank=True, help_text=_("As arXiv sent it, before repair"))
    authors = models.JSONField(
        default=list, blank=True, help_text=_('Ordered list of {"name": ..., "affiliation": ...}')
    )
    authors_text = models.TextField(blank=True, editable=False)
    # PostgreSQL full-text search (GIN-indexed there; unused on SQLite), kept current by
    # papers.indexing.refresh_indexes(): `search_vector` holds every field, the PDF's body
    # included, for matching; `head_vector` only title, authors, abstract and summaries, small
    # enough to rank many matches fast (see papers.search).
    search_vector = SearchVectorField(null=True, editable=False)
    head_vector = SearchVectorField(null=True, editable=False)
    abstract = models.TextField(blank=True)
    comment = models.TextField(blank=True)
    journal_ref = models.TextField(blank=True)
    journal_ref_seen_at = models.DateTimeField(
        null=True, blank=True, help_text=_("When the journal reference was first seen on arXiv")
    )
    doi = models.CharField(max_length=200, blank=True)
    primary_category = models.CharField(max_length=40, blank=True)
    categories = models.JSONField(default=list, blank=True)
    published = models.DateTimeField(null=True, blank=True, db_index=True)
    updated = models.DateTimeField(null=True, blank=True)
    abs_url = models.URLField(blank=True)
    pdf_url = models.URLField(blank=True)
    license = models.URLField(
        blank=True,
        max_length=300,
        help_text=_("Read from arXiv; an editor may set it when arXiv has not told it yet"),
    )
    license_checked_at = models.DateTimeField(
        null=True, blank=True, help_text=_("When the licence was read from arXiv's OAI-PMH")
    )
    content_permission = models.BooleanField(
        default=False,
        help_text=_(
            "An editor confirmed the site may show this paper's figures whatever the licence"
        ),
    )
    pdf_file = models.FileField(
        upload_to="pdfs/", storage=private_storage, blank=True, max_length=300
    )
    page_count = models.PositiveIntegerField(null=True, blank=True)
    full_text = models.TextField(blank=True)
    first_page_text = models.TextField(blank=True)
    affiliations = models.JSONField(
        default=list, blank=True, help_text=_("Affiliation lines found on the PDF's first page")
    )

    topics = models.ManyToManyField(Topic, through="TopicPaper", related_name="papers", blank=True)
    tags = TaggableManager(through=TaggedPaper, blank=True)

    status = models.CharField(max_length=12, choices=Status.choices, default=Status.DRAFT)
    published_at = models.DateTimeField(null=True, blank=True)
    state = models.CharField(max_length=12, choices=State.choices, default=State.FETCHED)
    last_error = models.TextField(blank=True)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)

    # Editors' corrections (see CORRECTABLE_FIELDS and the methods below).
    edited_fields = models.JSONField(
        default=list, blank=True, help_text=_("Fields an editor corrected; fetches keep them")
    )
    arxiv_values = models.JSONField(
        default=dict, blank=True, help_text=_("arXiv's latest text of each corrected field")
    )
    arxiv_changes = models.JSONField(
        default=list,
        blank=True,
        help_text=_("Corrected fields that arXiv changed since; the editor takes or keeps them"),
    )
    removed_tags = models.JSONField(
        default=list, blank=True, help_text=_("Tags an editor removed; never added back")
    )

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = PaperQuerySet.as_manager()
    history = HistoricalRecords(
        excluded_fields=[
            "full_text",
            "first_page_text",
            "authors_text",
            "search_vector",
            "head_vector",
        ]
    )

    class Meta:
        ordering = ["-published", "-id"]
        indexes = [
            # Ends with the id, so a page of ids comes from the index alone.
            models.Index(fields=["status", "-published", "-id"], name="paper_status_published"),
            models.Index(fields=["state"], name="paper_state"),
        ]

    def __str__(self) -> str:
        return f"{self.arxiv_id}: {self.title[:80]}"

    def save(self, *args, **kwargs) -> None:
        self.authors_text = ", ".join(a.get("name", "") for a in self.authors or [])
        if self.status == Status.PUBLISHED and not self.published_at:
            self.published_at = timezone.now()
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        return reverse("papers:paper_detail", args=[self.arxiv_id])

    @property
    def versioned_id(self) -> str:
        return f"{self.arxiv_id}v{self.version}"

    @property
    def author_names(self) -> list[str]:
        return [a.get("name", "") for a in self.authors or []]

    @property
    def is_published(self) -> bool:
        return self.status == Status.PUBLISHED

    # Page selectors fetch tags, summaries and visible figures up front into these lists
    # (`Prefetch(..., to_attr=...)`): a plain list spares Django a queryset per row and relation.

    def tag_list(self) -> list:
        if "prefetched_tags" in self.__dict__:
            return self.prefetched_tags
        return list(self.tags.all())

    def summary_list(self) -> list["Summary"]:
        if "prefetched_summaries" in self.__dict__:
            return self.prefetched_summaries
        return list(self.summaries.all())

    def figure_list(self) -> list:
        """The figures not hidden by an editor, in order."""
        if "prefetched_figures" in self.__dict__:
            return self.prefetched_figures
        figures = [figure for figure in self.figures.all() if not figure.hidden]
        return sorted(figures, key=lambda figure: (figure.order, figure.pk))

    def summary_for(self, language: str | None = None) -> "Summary | None":
        """The summary in `language`, else any; uses prefetched summaries when present."""
        summaries = self.summary_list()
        for summary in summaries:
            if summary.language == language:
                return summary
        return summaries[0] if summaries else None

    @property
    def license_name(self) -> str:
        return license_name(self.license)

    # Publication

    def set_status(self, status: str) -> None:
        """The one way a paper's status changes; `published_at` follows it."""
        self.status = status
        if status != Status.PUBLISHED:
            self.published_at = None
        self.save()

    # Editors' corrections

    def record_edits(self, before: dict) -> None:
        """An editor changed these fields (name -> value before the change).

        The first time, the value before is arXiv's: it is kept to tell a later change by arXiv.
        """
        for name, value in before.items():
            if name in CORRECTABLE_FIELDS and name not in self.edited_fields:
                self.edited_fields = [*self.edited_fields, name]
                self.arxiv_values = {**self.arxiv_values, name: value}

    def take_arxiv_values(self, values: dict) -> None:
        """Apply what arXiv sent. A corrected field keeps the editor's text; when arXiv's own text
        of it changed, the field waits in `arxiv_changes` for the editor's decision."""
        for name, value in values.items():
            if name not in self.edited_fields:
                setattr(self, name, value)
                continue
            if value == self.arxiv_values.get(name):
                continue
            self.arxiv_values = {**self.arxiv_values, name: value}
            if value != getattr(self, name) and name not in self.arxiv_changes:
                self.arxiv_changes = [*self.arxiv_changes, name]

    def settle_arxiv_change(self, name: str, *, take: bool) -> None:
        """The editor's decision on arXiv's new text of a corrected field: take it (the field
        follows arXiv again) or keep the correction."""
        if take and name in self.arxiv_values:
            setattr(self, name, self.arxiv_values[name])
            self.edited_fields = [n for n in self.edited_fields if n != name]
            self.arxiv_values = {k: v for k, v in self.arxiv_values.items() if k != name}
        self.arxiv_changes = [n for n in self.arxiv_changes if n != name]

    def record_tag_edits(self, before: Iterable[str], after: Iterable[str]) -> None:
        """An editor's tag changes: removed tags are never added back by fetches or imports."""
        before = {name.casefold() for name in before}
        after = {name.casefold() for name in after}
        if before == after:
            return
        removed = (set(self.removed_tags) | (before - after)) - after
        self.removed_tags = sorted(removed)
        if "tags" not in self.edited_fields:
            self.edited_fields = [*self.edited_fields, "tags"]

    def add_tags(self, tags: Iterable["Tag"]) -> list["Tag"]:
        """Add tags made by the pipeline or an import, except those an editor removed.

        The new links are written in one insert, with the signals the tag manager's add() sends.
        """
        removed = set(self.removed_tags)
        kept = [tag for tag in tags if tag.name.casefold() not in removed]
        have = set(TaggedPaper.objects.filter(content_object=self).values_list("tag", flat=True))
        new = {tag.pk: tag for tag in kept if tag.pk not in have}
        if new:
            changed = {"sender": TaggedPaper, "instance": self, "reverse": False, "model": Tag}
            m2m_changed.send(action="pre_add", pk_set=set(new), using=self._state.db, **changed)
            links = [TaggedPaper(content_object=self, tag=tag) for tag in new.values()]
            TaggedPaper.objects.bulk_create(links, ignore_conflicts=True)
            getattr(self, "_prefetched_objects_cache", {}).pop("tags", None)
            m2m_changed.send(action="post_add", pk_set=set(new), using=self._state.db, **changed)
        return kept

    @property
    def license_known(self) -> bool:
        """Whether arXiv (or an editor) told the licence; until then figures wait, unforbidden."""
        return bool(self.license) or self.license_checked_at is not None

    @property
    def content_allowed(self) -> bool:
        """May the site show content taken from the PDF (figures)? See arXiv's terms."""
        return self.content_permission or license_allows_redistribution(self.license)


def license_name(license_url: str) -> str:
    """`http://creativecommons.org/licenses/by-nc-sa/4.0/` -> `CC BY-NC-SA 4.0`."""
    match = re.search(
        r"creativecommons\.org/(licenses|publicdomain)/([a-z-]+)/([\d.]+)", license_url
    )
    if match:
        kind, code, version = match.groups()
        if kind == "publicdomain":
            return "CC0 1.0" if code == "zero" else "Public domain"
        return f"CC {code.upper()} {version}"
    if "arxiv.org/licenses/nonexclusive-distrib" in license_url:
        return "arXiv non-exclusive distribution licence"
    return license_url


REDISTRIBUTABLE_LICENSES = ("creativecommons.org/licenses/", "creativecommons.org/publicdomain/")


def license_allows_redistribution(license_url: str) -> bool:
    return any(part in (license_url or "") for part in REDISTRIBUTABLE_LICENSES)


class TopicPaper(models.Model):
    """A paper's membership in a topic, with why it matched."""

    topic = models.ForeignKey(Topic, on_delete=models.CASCADE, related_name="topic_papers")
    paper = models.ForeignKey(Paper, on_delete=models.CASCADE, related_name="topic_papers")
    matched_terms = models.JSONField(default=list, blank=True)
    first_seen = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["topic", "paper"], name="unique_topic_paper")
        ]

    def __str__(self) -> str:
        return f"{self.topic} / {self.paper.arxiv_id}"
