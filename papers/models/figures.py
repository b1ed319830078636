"""Figures taken from papers' PDFs."""

from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from papers.models.papers import Paper
from papers.storage import private_storage
from papers.text import safe_url


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
