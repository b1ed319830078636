"""The domain: topics, papers, summaries, figures, digests, tags and pipeline runs.

Names follow the product contract (DESIGN.md). Data rules live here and in the querysets.
"""

import hashlib
import re
import secrets

from django.conf import settings
from django.contrib.postgres.search import SearchVector, SearchVectorField
from django.db import connection, models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords
from taggit.managers import TaggableManager
from taggit.models import TagBase, TaggedItemBase

from papers.storage import private_storage

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
        help_text=_("One term per line; papers whose title or abstract has one are left out"),
    )
    exclude_categories = models.CharField(
        max_length=500, blank=True, help_text=_("Space-separated arXiv categories to leave out")
    )
    language = models.CharField(max_length=8, choices=Language.choices, default=Language.ENGLISH)
    summarizer = models.CharField(
        max_length=20,
        blank=True,
        choices=[("extractive", "extractive"), ("openai", "openai")],
        help_text=_("Leave empty to use the site's SUMMARIZER setting"),
    )
    auto_publish = models.BooleanField(
        default=False, help_text=_("Publish new papers and digests at once, without review")
    )
    active = models.BooleanField(default=True)
    max_results = models.PositiveIntegerField(default=100, help_text=_("Cap on papers per run"))
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs) -> None:
        if not self.slug:
            self.slug = (
                slugify(self.name, allow_unicode=True)
                or hashlib.sha1(self.name.encode()).hexdigest()[:10]
            )
        super().save(*args, **kwargs)
        from papers.schedules import ensure_topic_schedule

        ensure_topic_schedule(self)

    def get_absolute_url(self) -> str:
        return reverse("papers:topic_detail", args=[self.slug])

    @property
    def category_list(self) -> list[str]:
        return self.categories.split()

    @property
    def exclude_term_list(self) -> list[str]:
        return [t.strip() for t in self.exclude_terms.splitlines() if t.strip()]

    @property
    def exclude_category_list(self) -> list[str]:
        return self.exclude_categories.split()

    def last_successful_run(self) -> "PipelineRun | None":
        return self.runs.filter(status=PipelineRun.State.SUCCEEDED).order_by("-started_at").first()


class Tag(TagBase):
    """A taggit tag whose slug is never empty (`+++` or emoji names get a hash slug)."""

    class Kind(models.TextChoices):
        TOPIC = "topic", _("Topic")
        CATEGORY = "category", _("arXiv category")
        KEYWORD = "keyword", _("Keyword")

    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.KEYWORD)

    class Meta:
        verbose_name = _("tag")
        verbose_name_plural = _("tags")
        ordering = ["name"]

    def slugify(self, tag: str, i: int | None = None) -> str:
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


class PaperQuerySet(models.QuerySet):
    def published(self) -> "PaperQuerySet":
        return self.filter(status=Status.PUBLISHED)

    def newest_first(self) -> "PaperQuerySet":
        return self.order_by("-published", "-id")

    def failed(self) -> "PaperQuerySet":
        return self.filter(state=Paper.State.FAILED)


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
    # unused on SQLite). Kept current by update_search_vector().
    search_vector = SearchVectorField(null=True, editable=False)
    abstract = models.TextField(blank=True)
    comment = models.TextField(blank=True)
    journal_ref = models.TextField(blank=True)
    doi = models.CharField(max_length=200, blank=True)
    primary_category = models.CharField(max_length=40, blank=True)
    categories = models.JSONField(default=list, blank=True)
    published = models.DateTimeField(null=True, blank=True, db_index=True)
    updated = models.DateTimeField(null=True, blank=True)
    abs_url = models.URLField(blank=True)
    pdf_url = models.URLField(blank=True)
    license = models.URLField(blank=True, max_length=300)
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
        self.update_search_vector()

    def get_absolute_url(self) -> str:
        return reverse("papers:paper_detail", args=[self.arxiv_id])

    def update_search_vector(self) -> None:
        if connection.vendor != "postgresql":
            return
        summary_text = " ".join(
            " ".join([s.tldr, s.title_translation, " ".join(s.keywords or [])])
            for s in self.summaries.all()
        )
        Paper.objects.filter(pk=self.pk).update(
            search_vector=SearchVector("title", weight="A", config="english")
            + SearchVector("authors_text", weight="A", config="simple")
            + SearchVector("abstract", weight="B", config="english")
            + SearchVector(models.Value(summary_text), weight="C", config="simple")
        )

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

    def save(self, *args, **kwargs) -> None:
        super().save(*args, **kwargs)
        self.paper.update_search_vector()

    def lock(self, user=None) -> None:
        self.locked = True
        self.locked_by = user if user and user.is_authenticated else None
        self.locked_at = timezone.now()

    def field_values(self) -> dict:
        return {name: getattr(self, name) for name in SUMMARY_FIELDS}


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
        return self.source_url

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
    history = HistoricalRecords()

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

    def publish(self) -> None:
        """Publish the digest and its papers (hidden papers stay hidden)."""
        self.status = Status.PUBLISHED
        self.save()
        for paper in self.papers.exclude(status__in=[Status.PUBLISHED, Status.HIDDEN]):
            paper.status = Status.PUBLISHED
            paper.save()

    def unpublish(self, status: str = Status.REVIEW) -> None:
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
            paper.status = Status.REVIEW
            paper.published_at = None
            paper.save()

    @property
    def is_published(self) -> bool:
        return self.status == Status.PUBLISHED


class DigestEntry(models.Model):
    digest = models.ForeignKey(Digest, on_delete=models.CASCADE, related_name="entries")
    paper = models.ForeignKey(Paper, on_delete=models.CASCADE, related_name="digest_entries")
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["digest", "position", "id"]
        verbose_name_plural = "digest entries"
        constraints = [
            models.UniqueConstraint(fields=["digest", "paper"], name="unique_digest_paper")
        ]

    def __str__(self) -> str:
        return f"{self.digest} #{self.position}: {self.paper.arxiv_id}"


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

    class Meta:
        ordering = ["-started_at"]
        indexes = [models.Index(fields=["topic", "-started_at"], name="run_topic_started")]

    def __str__(self) -> str:
        return f"{self.topic} run {self.started_at:%Y-%m-%d %H:%M}"


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
