"""Links from papers to code, pages, models and data, and similar papers."""

from django.db import models
from django.utils.translation import gettext_lazy as _


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
