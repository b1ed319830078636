"""The domain: topics, papers, summaries, figures, digests, tags and pipeline runs.

Names follow the product contract (DESIGN.md). Data rules live here and in the querysets.
"""

import hashlib
import re
import secrets
import unicodedata
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.conf import settings
from django.contrib.postgres.search import SearchVectorField
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords
from taggit.managers import TaggableManager
from taggit.models import TagBase, TaggedItemBase

from papers import vocabulary
from papers.arxiv_ids import split_arxiv_id  # noqa: F401 - other modules import it from here
from papers.exclusions import Rule, parse_rules
from papers.storage import private_storage
from papers.text import safe_url


class Language(models.TextChoices):
    ENGLISH = "en", _("English")
    CHINESE = "zh", _("Chinese")


class Status(models.TextChoices):
    """Editorial state of papers and digests; only PUBLISHED reaches pages and feeds."""

    DRAFT = "draft", _("Machine draft")
    REVIEW = "review", _("In review")
    PUBLISHED = "published", _("Published")
    HIDDEN = "hidden", _("Hidden")


class Topic(models.Model):
    name = models.CharField(max_length=200, unique=True)
    slug = models.SlugField(max_length=200, unique=True, allow_unicode=True)
    description = models.TextField(blank=True)
    query = models.TextField(
        help_text=_('arXiv search syntax, e.g. abs:"talking head" OR abs:"talking face"')
    )
    categories = models.CharField(
        max_length=500,
        blank=True,
        help_text=_("Space-separated arXiv categories the query is limited to, e.g. cs.CV cs.GR"),
    )
    exclude_terms = models.TextField(
        blank=True,
        help_text=_(
            'One per line: a word or a "quoted phrase" (whole words, any case) found in the title '
            "or abstract, or cat:cs.SD for a category"
        ),
    )
    exclude_categories = models.CharField(
        max_length=500, blank=True, help_text=_("Space-separated arXiv categories to leave out")
    )
    language = models.CharField(max_length=8, choices=Language.choices, default=Language.ENGLISH)
    summarizer = models.CharField(
        max_length=20,
        blank=True,
        choices=[(name, name) for name in settings.SUMMARIZERS],
        help_text=_("Leave empty to use the site's SUMMARIZER setting"),
    )
    auto_publish = models.BooleanField(
        default=False, help_text=_("Publish new papers and digests at once, without review")
    )
    active = models.BooleanField(default=True)
    query_checked = models.BooleanField(
        default=True,
        help_text=_(
            "An editor has seen a dry run of the current query; until then it stays paused"
        ),
    )
    max_results = models.PositiveIntegerField(default=100, help_text=_("Cap on papers per run"))
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs) -> None:
        if not self.slug:
            self.slug = self.unique_slug(self.name)
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        return reverse("papers:topic_detail", args=[self.slug])

    @classmethod
    def unique_slug(cls, name: str) -> str:
        """The slug for a new topic named `name`: unicode kept, a hash when nothing is left,
        `-2`, `-3`... when taken."""
        base = (
            slugify(name, allow_unicode=True)[:180] or hashlib.sha1(name.encode()).hexdigest()[:10]
        )
        slug, n = base, 1
        while cls.objects.filter(slug=slug).exists():
            n += 1
            slug = f"{base}-{n}"
        return slug

    @property
    def category_list(self) -> list[str]:
        return self.categories.split()

    @property
    def exclude_term_list(self) -> list[str]:
        return [t.strip() for t in self.exclude_terms.splitlines() if t.strip()]

    @property
    def exclude_category_list(self) -> list[str]:
        return self.exclude_categories.split()

    @property
    def exclusion_rules(self) -> list[Rule]:
        return parse_rules(self.exclude_term_list, self.exclude_category_list)

    def last_successful_run(self) -> "PipelineRun | None":
        return self.runs.filter(status=PipelineRun.State.SUCCEEDED).order_by("-started_at").first()


class Tag(TagBase):
    """A taggit tag whose slug is never empty (`+++` or emoji names get a hash slug).

    `key` is shared by every spelling of one tag (papers/vocabulary.py). A tag an editor merged
    into another keeps its name and slug as an alias (`merged_into`), so its old address
    redirects and the pipeline files that name under the other tag; a blocked tag is never
    given to a paper.
    """

    class Kind(models.TextChoices):
        TOPIC = "topic", _("Topic")
        CATEGORY = "category", _("arXiv category")
        KEYWORD = "keyword", _("Keyword")

    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.KEYWORD)
    key = models.CharField(max_length=100, db_index=True, editable=False, default="")
    blocked = models.BooleanField(
        _("blocked"),
        default=False,
        help_text=_("Never given to a paper, not even by the pipeline."),
    )
    merged_into = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="aliases",
        verbose_name=_("merged into"),
    )

    class Meta:
        verbose_name = _("tag")
        verbose_name_plural = _("tags")
        ordering = ["name"]

    def save(self, *args, **kwargs) -> None:
        self.key = vocabulary.fold(self.name)
        super().save(*args, **kwargs)

    def slugify(self, tag: str, i: int | None = None) -> str:
        # An arXiv category keeps the slug of its code ("cscv"), whatever its long name.
        tag = vocabulary.category_code(tag) or tag
        slug = super().slugify(tag, i=None)
        if not slug:
            slug = "tag-" + hashlib.sha1(tag.encode()).hexdigest()[:8]
        if i is not None:
            slug += f"_{i}"
        return slug

    def get_absolute_url(self) -> str:
        return reverse("papers:tag_detail", args=[self.slug])


class TaggedPaper(TaggedItemBase):
    tag = models.ForeignKey(Tag, on_delete=models.CASCADE, related_name="tagged_papers")
    content_object = models.ForeignKey("Paper", on_delete=models.CASCADE)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["content_object", "tag"], name="unique_paper_tag")
        ]
        # A tag's papers from the index alone (tag filters and counts).
        indexes = [models.Index(fields=["tag", "content_object"], name="tag_paper")]


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
    # PostgreSQL full-text search over title, authors, abstract and summaries (GIN-indexed there;
    # unused on SQLite). Kept current by papers.indexing.refresh_indexes().
    search_vector = SearchVectorField(null=True, editable=False)
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
        excluded_fields=["full_text", "first_page_text", "authors_text", "search_vector"]
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

    def summary_for(self, language: str | None = None) -> "Summary | None":
        """The summary in `language`, else any; uses prefetched summaries when present."""
        summaries = list(self.summaries.all())
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
        """Add tags made by the pipeline or an import, except those an editor removed."""
        removed = set(self.removed_tags)
        kept = [tag for tag in tags if tag.name.casefold() not in removed]
        self.tags.add(*kept)
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


def author_key(name: str) -> str:
    """One key for the spellings of one person's name: family name and first initial, plain ASCII.

    "José Ramírez", "J. Ramírez" and "Ramírez, José" all give "ramirez-j". Names written in CJK
    script keep their characters.
    """
    name = " ".join((name or "").split())
    if "," in name:
        family, _, given = name.partition(",")
        name = f"{given} {family}"
    plain = unicodedata.normalize("NFKD", name)
    plain = "".join(c for c in plain if not unicodedata.combining(c)).lower()
    words = re.findall(r"[^\W_]+(?:['-][^\W_]+)*", plain)
    if not words:
        return ""
    family = words[-1].replace("'", "")
    if len(words) == 1:
        return family[:100]
    return f"{family}-{words[0][0]}"[:100]


class PaperAuthor(models.Model):
    """One author of a paper, by position, with the key that joins spellings of one person."""

    paper = models.ForeignKey("Paper", on_delete=models.CASCADE, related_name="author_rows")
    position = models.PositiveSmallIntegerField()
    name = models.CharField(max_length=300)
    key = models.CharField(max_length=100)

    class Meta:
        ordering = ["position"]
        constraints = [
            models.UniqueConstraint(fields=["paper", "position"], name="unique_author_position")
        ]
        indexes = [models.Index(fields=["key", "paper"], name="author_key_paper")]

    def __str__(self) -> str:
        return self.name


class PaperLink(models.Model):
    """A link to a paper's code, project page, model or data, with what its last check found."""

    class Kind(models.TextChoices):
        CODE = "code", _("code")
        PROJECT = "project", _("project page")
        MODEL = "model", _("model")
        DATA = "data", _("data")

    class State(models.TextChoices):
        UNCHECKED = "unchecked", _("not checked yet")
        LIVE = "live", _("live")
        DEAD = "dead", _("link dead")
        COMING_SOON = "soon", _("coming soon")
        UNREACHABLE = "unreachable", _("did not answer")

    paper = models.ForeignKey("Paper", on_delete=models.CASCADE, related_name="links")
    url = models.URLField(max_length=500)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    state = models.CharField(max_length=12, choices=State.choices, default=State.UNCHECKED)
    http_status = models.PositiveSmallIntegerField(null=True, blank=True)
    first_seen = models.DateTimeField(auto_now_add=True)
    checked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["kind", "id"]
        constraints = [models.UniqueConstraint(fields=["paper", "url"], name="unique_paper_link")]
        indexes = [models.Index(fields=["kind", "state"], name="link_kind_state")]

    def __str__(self) -> str:
        return self.url


class RelatedPaper(models.Model):
    """One of a paper's most similar papers by their text, kept by `papers.related`."""

    paper = models.ForeignKey("Paper", on_delete=models.CASCADE, related_name="related_links")
    other = models.ForeignKey("Paper", on_delete=models.CASCADE, related_name="+")
    position = models.PositiveSmallIntegerField()
    score = models.FloatField(default=0)

    class Meta:
        ordering = ["position"]
        constraints = [
            models.UniqueConstraint(fields=["paper", "other"], name="unique_related_pair")
        ]

    def __str__(self) -> str:
        return f"{self.paper_id} ~ {self.other_id}"


class AuthorAlias(models.Model):
    """An editor's word that two keys are one person: papers under `key` show under `canonical`."""

    key = models.CharField(max_length=100, unique=True)
    canonical = models.CharField(max_length=100)
    note = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "author aliases"

    def __str__(self) -> str:
        return f"{self.key} → {self.canonical}"

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        if self.key == self.canonical:
            raise ValidationError(_("An author cannot be an alias of itself."))
        if AuthorAlias.objects.filter(key=self.canonical).exists():
            raise ValidationError(_("The canonical key is itself an alias; merge into its target."))


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


SUMMARY_TEXT_FIELDS = (
    "tldr",
    "title_translation",
    "background",
    "prior_work",
    "method",
    "results",
    "significance",
    "assessment",
)
SUMMARY_LIST_FIELDS = ("key_takeaways", "affiliations", "keywords", "method_steps")
# Every field an editor or a summarizer writes; `links` is a list of {"label", "url"}.
SUMMARY_FIELDS = SUMMARY_TEXT_FIELDS + SUMMARY_LIST_FIELDS + ("links",)


class Summary(models.Model):
    paper = models.ForeignKey(Paper, on_delete=models.CASCADE, related_name="summaries")
    language = models.CharField(max_length=8, choices=Language.choices)

    tldr = models.TextField(blank=True)
    key_takeaways = models.JSONField(default=list, blank=True)
    title_translation = models.TextField(blank=True)
    affiliations = models.JSONField(default=list, blank=True)
    keywords = models.JSONField(default=list, blank=True)
    links = models.JSONField(default=list, blank=True)
    background = models.TextField(blank=True)
    prior_work = models.TextField(blank=True)
    method = models.TextField(blank=True)
    results = models.TextField(blank=True)
    method_steps = models.JSONField(default=list, blank=True)
    significance = models.TextField(blank=True)
    assessment = models.TextField(blank=True)

    # Provenance.
    backend = models.CharField(max_length=40, blank=True)
    model = models.CharField(max_length=200, blank=True)
    prompt_version = models.CharField(max_length=40, blank=True)
    generated_at = models.DateTimeField(null=True, blank=True)
    input_digest = models.CharField(max_length=64, blank=True)
    tokens = models.PositiveIntegerField(null=True, blank=True)
    duration_ms = models.PositiveIntegerField(null=True, blank=True)
    source = models.CharField(max_length=300, blank=True, help_text=_("E.g. the imported file"))
    warnings = models.JSONField(
        default=list, blank=True, help_text=_("Checks the editor should see")
    )
    request = models.JSONField(
        default=dict,
        blank=True,
        help_text=_(
            "What the summarizer was given: for an LLM the exact messages sent, for the offline "
            "summarizer its input"
        ),
    )
    paper_version = models.PositiveIntegerField(
        null=True, blank=True, help_text=_("The paper's version this text was written for")
    )

    # Editorial.
    stale = models.BooleanField(
        default=False, help_text=_("The paper changed since this was written")
    )
    locked = models.BooleanField(
        default=False, help_text=_("Edited by an editor: never regenerated")
    )
    locked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    locked_at = models.DateTimeField(null=True, blank=True)

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name_plural = "summaries"
        constraints = [
            models.UniqueConstraint(fields=["paper", "language"], name="unique_paper_language")
        ]

    def __str__(self) -> str:
        return f"{self.paper.arxiv_id} [{self.language}]"

    def lock(self, user=None) -> None:
        self.locked = True
        self.locked_by = user if user and user.is_authenticated else None
        self.locked_at = timezone.now()

    def field_values(self) -> dict:
        return {name: getattr(self, name) for name in SUMMARY_FIELDS}

    def mark_current(self) -> None:
        """Written (or reviewed by an editor) for the paper's present version."""
        self.paper_version = self.paper.version
        self.stale = False

    def settle_staleness(self) -> None:
        """Text written for an older version of the paper is stale, whatever a revert restored."""
        if self.paper_version is not None and self.paper_version < self.paper.version:
            self.stale = True


def summary_fallback_note(summary: "Summary | None", language: str) -> str:
    """What a reader is told when the summary shown is not in the language asked for."""
    if summary is None or summary.language == language:
        return ""
    names = dict(Language.choices)
    return gettext("Summary in %(shown)s; %(wanted)s not yet written.") % {
        "shown": names.get(summary.language, summary.language),
        "wanted": names.get(language, language),
    }


def figure_upload_to(instance: "Figure", filename: str) -> str:
    return f"figures/{instance.paper.arxiv_id.replace('/', '_')}/{filename}"


class Figure(models.Model):
    paper = models.ForeignKey(Paper, on_delete=models.CASCADE, related_name="figures")
    image = models.ImageField(
        upload_to=figure_upload_to, storage=private_storage, blank=True, max_length=300
    )
    thumbnail = models.ImageField(
        upload_to=figure_upload_to, storage=private_storage, blank=True, max_length=300
    )
    source_url = models.URLField(blank=True, max_length=500, help_text=_("For figures kept by URL"))
    page = models.PositiveIntegerField(null=True, blank=True)
    order = models.PositiveIntegerField(default=0)
    caption = models.TextField(blank=True)
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)
    hidden = models.BooleanField(default=False)
    caption_edited = models.BooleanField(
        default=False, help_text=_("An editor corrected the caption; new extractions keep it")
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["paper", "order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["paper", "order"], name="unique_paper_figure_order")
        ]

    def __str__(self) -> str:
        return f"{self.paper.arxiv_id} figure {self.order}"

    @property
    def url(self) -> str:
        """Stored crops go out through a view that checks the paper's licence."""
        if self.image:
            return reverse("papers:figure_image", args=[self.pk])
        return safe_url(self.source_url)

    @property
    def thumbnail_url(self) -> str:
        if self.thumbnail:
            return reverse("papers:figure_thumbnail", args=[self.pk])
        return self.url


class DigestQuerySet(models.QuerySet):
    def published(self) -> "DigestQuerySet":
        return self.filter(status=Status.PUBLISHED)

    def newest_first(self) -> "DigestQuerySet":
        return self.order_by("-date", "topic__name")


class DigestHistory(models.Model):
    """What a digest's history record adds to its fields: its papers, in order (arXiv ids)."""

    paper_order = models.JSONField(default=list, blank=True)

    class Meta:
        abstract = True


@dataclass
class Arrangement:
    """What `Digest.arrange` changed: papers added, moved and removed (paper ids)."""

    added: set[int] = field(default_factory=set)
    moved: set[int] = field(default_factory=set)
    removed: set[int] = field(default_factory=set)

    @property
    def changed(self) -> bool:
        return bool(self.added or self.moved or self.removed)


class Digest(models.Model):
    topic = models.ForeignKey(Topic, on_delete=models.CASCADE, related_name="digests")
    date = models.DateField(help_text=_("arXiv's announcement date"))
    title = models.CharField(max_length=300, blank=True)
    intro = models.TextField(blank=True)
    cover = models.ForeignKey(
        Figure, null=True, blank=True, on_delete=models.SET_NULL, related_name="cover_of"
    )
    papers = models.ManyToManyField(Paper, through="DigestEntry", related_name="digests")
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.DRAFT)
    published_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = DigestQuerySet.as_manager()
    # Each record also carries the digest's papers in order (filled by `record_paper_order`).
    history = HistoricalRecords(bases=[DigestHistory])

    class Meta:
        ordering = ["-date", "topic__name"]
        constraints = [models.UniqueConstraint(fields=["topic", "date"], name="unique_topic_date")]
        indexes = [models.Index(fields=["status", "-date"], name="digest_status_date")]

    def __str__(self) -> str:
        return self.display_title

    def save(self, *args, **kwargs) -> None:
        if self.status == Status.PUBLISHED and not self.published_at:
            self.published_at = timezone.now()
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        return reverse("papers:digest_detail", args=[self.topic.slug, self.date.isoformat()])

    @property
    def display_title(self) -> str:
        return self.title or f"{self.topic.name} {self.date.isoformat()}"

    @property
    def is_published(self) -> bool:
        return self.status == Status.PUBLISHED

    # Papers and their order. The one position rule: positions are 0, 1, 2... in reading order.

    def paper_ids_in_order(self) -> list[int]:
        return list(self.entries.order_by("position", "id").values_list("paper_id", flat=True))

    def arrange(
        self,
        paper_ids: list[int],
        *,
        drop_others: bool = False,
        kinds: dict[int, str] | None = None,
    ) -> Arrangement:
        """Put these papers in this order, first; the digest's other papers follow as they were
        (or leave the digest with `drop_others`). A change saves the digest, so that its history
        records the new order."""
        wanted = list(dict.fromkeys(paper_ids))
        entries = {e.paper_id: e for e in self.entries.order_by("position", "id")}
        others = [pk for pk in entries if pk not in set(wanted)]
        result = Arrangement()
        if drop_others and others:
            self.entries.filter(paper_id__in=others).delete()
            result.removed = set(others)
            others = []
        changed = []
        for position, paper_id in enumerate(wanted + others):
            entry = entries.get(paper_id)
            if entry is None:
                DigestEntry.objects.create(
                    digest=self,
                    paper_id=paper_id,
                    position=position,
                    kind=(kinds or {}).get(paper_id, DigestEntry.Kind.NEW),
                )
                result.added.add(paper_id)
            elif entry.position != position:
                entry.position = position
                changed.append(entry)
                result.moved.add(paper_id)
        DigestEntry.objects.bulk_update(changed, ["position"])
        if result.added and self.is_published:  # a published digest shows all its papers
            for paper in Paper.objects.filter(pk__in=result.added).exclude(
                status__in=[Status.PUBLISHED, Status.HIDDEN]
            ):
                paper.set_status(Status.PUBLISHED)
        if result.changed:
            self.save()
        return result

    def add_papers(
        self, papers: Iterable[Paper], kinds: dict[int, str] | None = None
    ) -> list[Paper]:
        """Append these papers at the end, in order, once each; returns those that were new.
        `kinds` maps a paper's pk to how it came into the topic (DigestEntry.Kind, default new)."""
        current = self.paper_ids_in_order()
        papers = list(papers)
        added = self.arrange(current + [p.pk for p in papers], kinds=kinds).added
        return [p for p in papers if p.pk in added]

    def renumber(self) -> None:
        """Positions back to 0, 1, 2... in the present order (after an editor typed positions)."""
        self.arrange(self.paper_ids_in_order())

    # Publication: the one place a digest's status changes, taking its papers along.

    def set_status(self, status: str) -> None:
        was_published = Digest.objects.filter(pk=self.pk, status=Status.PUBLISHED).exists()
        if status == Status.PUBLISHED:
            self.publish()
        elif was_published:
            self.withdraw(status)
        else:
            self.status = status
            self.save()

    def publish(self) -> None:
        """Publish the digest and its papers (hidden papers stay hidden)."""
        self.status = Status.PUBLISHED
        self.save()
        for paper in self.papers.exclude(status__in=[Status.PUBLISHED, Status.HIDDEN]):
            paper.set_status(Status.PUBLISHED)

    def withdraw(self, status: str = Status.REVIEW) -> None:
        """Take the digest off the site, with its papers that no other published digest shows."""
        self.status = status
        self.published_at = None
        self.save()
        shown_elsewhere = DigestEntry.objects.filter(digest__status=Status.PUBLISHED).exclude(
            digest=self
        )
        for paper in self.papers.filter(status=Status.PUBLISHED).exclude(
            pk__in=shown_elsewhere.values("paper_id")
        ):
            paper.set_status(Status.REVIEW)

    def restore(self, record) -> None:
        """Go back to a historical record: fields, cover, papers and order, and status through
        the publication rules (papers follow a digest that is published or withdrawn)."""
        for name in ("title", "intro", "date"):
            setattr(self, name, getattr(record, name))
        self.cover = Figure.objects.filter(pk=record.cover_id).first()
        by_arxiv_id = dict(
            Paper.objects.filter(arxiv_id__in=record.paper_order).values_list("arxiv_id", "pk")
        )
        order = [by_arxiv_id[i] for i in record.paper_order if i in by_arxiv_id]
        if record.status == Status.PUBLISHED:  # its papers published with it
            self.arrange(order, drop_others=True)
            self.set_status(record.status)
        else:  # its present papers withdrawn with it
            self.set_status(record.status)
            self.arrange(order, drop_others=True)

    def kind_counts(self, entries=None) -> dict[str, int]:
        """How many of the entries (default: all, prefetched when present) are new papers,
        cross-lists and new versions."""
        counts = dict.fromkeys(DigestEntry.Kind.values, 0)
        for entry in self.entries.all() if entries is None else entries:
            counts[entry.kind] += 1
        return counts


def record_paper_order(sender, instance: Digest, history_instance, **kwargs) -> None:
    """pre_create_historical_record receiver: a digest's record carries its papers in order."""
    history_instance.paper_order = list(
        instance.entries.order_by("position", "id").values_list("paper__arxiv_id", flat=True)
    )


class DigestEntry(models.Model):
    class Kind(models.TextChoices):
        """How the paper came into the topic, as arXiv's listings say it."""

        NEW = "new", _("New")
        CROSS = "cross", _("Cross-listed")
        REPLACEMENT = "replacement", _("New version")

    digest = models.ForeignKey(Digest, on_delete=models.CASCADE, related_name="entries")
    paper = models.ForeignKey(Paper, on_delete=models.CASCADE, related_name="digest_entries")
    position = models.PositiveIntegerField(default=0)
    pick_reason = models.CharField(
        _("editors' pick"),
        max_length=200,
        blank=True,
        help_text=_("A one-line reason makes this paper an editors' pick of the digest"),
    )
    kind = models.CharField(max_length=12, choices=Kind.choices, default=Kind.NEW)

    class Meta:
        ordering = ["digest", "position", "id"]
        verbose_name_plural = "digest entries"
        constraints = [
            models.UniqueConstraint(fields=["digest", "paper"], name="unique_digest_paper")
        ]

    def __str__(self) -> str:
        return f"{self.digest} #{self.position}: {self.paper.arxiv_id}"

    @property
    def is_pick(self) -> bool:
        return bool(self.pick_reason.strip())


class Announcement(models.TextChoices):
    """What a run saw of arXiv's announcements since the previous run (blank: not known)."""

    SEEN = "seen", _("Announced")
    NONE = "none", _("No announcement")


class PipelineRun(models.Model):
    class State(models.TextChoices):
        RUNNING = "running", _("Running")
        SUCCEEDED = "succeeded", _("Succeeded")
        FAILED = "failed", _("Failed")

    topic = models.ForeignKey(Topic, on_delete=models.CASCADE, related_name="runs")
    status = models.CharField(max_length=12, choices=State.choices, default=State.RUNNING)
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    since = models.DateTimeField(null=True, blank=True)
    announced_on = models.DateField(null=True, blank=True)
    found = models.PositiveIntegerField(default=0)
    new = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    errors = models.JSONField(default=list, blank=True)
    paper_ids = models.JSONField(
        default=list, blank=True, help_text=_("arXiv ids this run saw, newest first")
    )
    note = models.TextField(blank=True, help_text=_("Why a run found nothing, and other remarks"))
    returned = models.PositiveIntegerField(
        default=0, help_text=_("Results arXiv returned, before exclusions")
    )
    excluded = models.JSONField(
        default=list, blank=True, help_text=_('Results left out: [{"arxiv_id": ..., "rule": ...}]')
    )
    newest_seen = models.DateTimeField(
        null=True,
        blank=True,
        help_text=_("Latest submission time arXiv showed this run; the next run starts there"),
    )
    announcement = models.CharField(
        max_length=8,
        choices=Announcement.choices,
        blank=True,
        help_text=_("Whether arXiv showed papers announced since the previous run"),
    )
    worker = models.CharField(
        max_length=200, blank=True, editable=False, help_text=_("host:process id of the run")
    )

    class Meta:
        ordering = ["-started_at"]
        indexes = [models.Index(fields=["topic", "-started_at"], name="run_topic_started")]

    def __str__(self) -> str:
        return f"{self.topic} run {self.started_at:%Y-%m-%d %H:%M}"

    @property
    def exclusion_counts(self) -> dict[str, int]:
        """Results left out, by the rule that left them out."""
        return dict(Counter(item.get("rule", "") for item in self.excluded or []))


class JobQuerySet(models.QuerySet):
    def unfinished(self) -> "JobQuerySet":
        return self.filter(state__in=[Job.State.QUEUED, Job.State.RUNNING])

    def recent(self) -> "JobQuerySet":
        return self.order_by("-created_at", "-id")


class Job(models.Model):
    """Slow work an editor started (a dry run, a fetch, retries, regeneration), done by a worker.

    The admin shows its state, progress and outcome; nothing slow runs inside a request.
    """

    class Kind(models.TextChoices):
        DRY_RUN = "dry_run", _("Dry run of a query")
        FETCH = "fetch", _("Fetch now")
        RETRY = "retry", _("Retry papers")
        REGENERATE = "regenerate", _("Regenerate summaries")

    class State(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    kind = models.CharField(max_length=20, choices=Kind.choices)
    state = models.CharField(max_length=10, choices=State.choices, default=State.QUEUED)
    topic = models.ForeignKey(
        Topic, null=True, blank=True, on_delete=models.CASCADE, related_name="jobs"
    )
    papers = models.ManyToManyField(Paper, blank=True, related_name="jobs")
    params = models.JSONField(default=dict, blank=True)
    done = models.PositiveIntegerField(default=0)
    total = models.PositiveIntegerField(default=0)
    result = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    objects = JobQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["state", "-created_at"], name="job_state_created")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.get_state_display()})"

    @property
    def finished(self) -> bool:
        return self.state in (Job.State.DONE, Job.State.FAILED)


class ErrorReport(models.Model):
    """A reader's report of a mistake in a paper's summary; editors resolve it in the admin."""

    paper = models.ForeignKey(Paper, on_delete=models.CASCADE, related_name="error_reports")
    summary = models.ForeignKey(
        Summary, null=True, blank=True, on_delete=models.SET_NULL, related_name="error_reports"
    )
    message = models.TextField()
    contact = models.CharField(max_length=200, blank=True, help_text=_("Optional, from the reader"))
    client_hash = models.CharField(max_length=64, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    resolved = models.BooleanField(default=False)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["resolved", "-created_at"]
        indexes = [models.Index(fields=["resolved", "-created_at"], name="report_open_newest")]

    def __str__(self) -> str:
        return f"Report on {self.paper.arxiv_id} ({'resolved' if self.resolved else 'open'})"


# E-mail subscriptions


class Frequency(models.TextChoices):
    DAILY = "daily", _("Daily")
    WEEKLY = "weekly", _("Weekly")


def new_subscriber_token() -> str:
    return secrets.token_urlsafe(32)


def mask_email(email: str) -> str:
    """`reader@example.com` -> `r*****@example.com`: enough for an editor, never the address."""
    local, _at, domain = email.partition("@")
    return f"{local[:1]}*****@{domain}" if domain else "*****"


class SubscriberQuerySet(models.QuerySet):
    def active(self) -> "SubscriberQuerySet":
        """Confirmed addresses that have not been disabled by bounces."""
        return self.filter(confirmed_at__isnull=False, disabled_at__isnull=True)


class Subscriber(models.Model):
    """One e-mail address, stored once (lower-case), never shown; its token manages it."""

    email = models.EmailField(max_length=254, unique=True)
    token = models.CharField(
        max_length=64, unique=True, default=new_subscriber_token, editable=False
    )
    confirmed_at = models.DateTimeField(null=True, blank=True)
    failures = models.PositiveIntegerField(
        default=0, help_text=_("Permanent delivery failures in a row")
    )
    disabled_at = models.DateTimeField(
        null=True, blank=True, help_text=_("Set after repeated bounces; nothing is sent")
    )
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = SubscriberQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.masked_email

    @staticmethod
    def normalize_email(value: str) -> str:
        return value.strip().lower()

    @property
    def masked_email(self) -> str:
        return mask_email(self.email)

    @property
    def is_active(self) -> bool:
        return self.confirmed_at is not None and self.disabled_at is None


class SubscriptionQuerySet(models.QuerySet):
    def confirmed(self) -> "SubscriptionQuerySet":
        return self.filter(confirmed_at__isnull=False)


class Subscription(models.Model):
    """A subscriber following one topic or one tag, daily or weekly; inactive until confirmed."""

    subscriber = models.ForeignKey(
        Subscriber, on_delete=models.CASCADE, related_name="subscriptions"
    )
    topic = models.ForeignKey(
        Topic, null=True, blank=True, on_delete=models.CASCADE, related_name="subscriptions"
    )
    tag = models.ForeignKey(
        Tag, null=True, blank=True, on_delete=models.CASCADE, related_name="subscriptions"
    )
    frequency = models.CharField(max_length=10, choices=Frequency.choices, default=Frequency.DAILY)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = SubscriptionQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["subscriber", "topic"],
                condition=Q(topic__isnull=False),
                name="unique_subscriber_topic",
            ),
            models.UniqueConstraint(
                fields=["subscriber", "tag"],
                condition=Q(tag__isnull=False),
                name="unique_subscriber_tag",
            ),
            models.CheckConstraint(
                condition=Q(topic__isnull=False, tag__isnull=True)
                | Q(topic__isnull=True, tag__isnull=False),
                name="subscription_topic_or_tag",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.subscriber} / {self.target_name} ({self.frequency})"

    @property
    def target(self) -> Topic | Tag:
        return self.topic or self.tag

    @property
    def target_name(self) -> str:
        return self.topic.name if self.topic_id else self.tag.name

    @property
    def is_confirmed(self) -> bool:
        return self.confirmed_at is not None


class MailSend(models.Model):
    """One mail to one subscriber for one digest (or one week); (subscriber, key) is sent once."""

    class State(models.TextChoices):
        QUEUED = "queued", _("Queued")
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")
        SKIPPED = "skipped", _("Skipped")

    subscriber = models.ForeignKey(Subscriber, on_delete=models.CASCADE, related_name="mail_sends")
    key = models.CharField(
        max_length=64, help_text=_("`digest:<id>` or `week:<YYYY>-W<NN>`: sent once per subscriber")
    )
    frequency = models.CharField(max_length=10, choices=Frequency.choices)
    digest = models.ForeignKey(
        Digest, null=True, blank=True, on_delete=models.SET_NULL, related_name="mail_sends"
    )
    papers = models.ManyToManyField(Paper, blank=True, related_name="mail_sends")
    state = models.CharField(max_length=10, choices=State.choices, default=State.QUEUED)
    attempts = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["subscriber", "key"], name="unique_subscriber_mail_key")
        ]
        indexes = [models.Index(fields=["state", "next_attempt_at"], name="mailsend_state_due")]

    def __str__(self) -> str:
        return f"{self.key} to {self.subscriber} ({self.state})"


class MailSettings(models.Model):
    """The one row of site-wide mail switches; editors pause digest mails here."""

    paused = models.BooleanField(
        default=False, help_text=_("Hold digest mails; they stay queued and go out when resumed")
    )
    note = models.CharField(max_length=300, blank=True, help_text=_("Why sending is paused"))
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("mail settings")
        verbose_name_plural = _("mail settings")

    def __str__(self) -> str:
        return str(_("Mail sending paused") if self.paused else _("Mail sending on"))

    @classmethod
    def load(cls) -> "MailSettings":
        return cls.objects.get_or_create(pk=1)[0]
