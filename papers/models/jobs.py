"""Slow work editors start, done by a worker."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from papers.models.papers import Paper
from papers.models.topics import Topic


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
