"""Summaries of papers, the fields they hold, and readers' reports of mistakes in them."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from papers.models.topics import Language

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
    paper = models.ForeignKey("papers.Paper", on_delete=models.CASCADE, related_name="summaries")
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


class ErrorReport(models.Model):
    """A reader's report of a mistake in a paper's summary; editors resolve it in the admin."""

    paper = models.ForeignKey(
        "papers.Paper", on_delete=models.CASCADE, related_name="error_reports"
    )
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
