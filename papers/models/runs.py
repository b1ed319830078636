"""Pipeline runs: what each fetch of a topic found, and what it saw of arXiv's announcements."""

from collections import Counter

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Announcement(models.TextChoices):
    """What a run saw of arXiv's announcements since the previous run (blank: not known)."""

    SEEN = "seen", _("Announced")
    NONE = "none", _("No announcement")


class PipelineRun(models.Model):
    class State(models.TextChoices):
        RUNNING = "running", _("Running")
        SUCCEEDED = "succeeded", _("Succeeded")
        FAILED = "failed", _("Failed")

    topic = models.ForeignKey("papers.Topic", on_delete=models.CASCADE, related_name="runs")
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
