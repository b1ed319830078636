"""Tags and the table that gives them to papers."""

import functools
import hashlib

from django.db import models
from django.urls import get_script_prefix, reverse
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from taggit.models import TagBase, TaggedItemBase

from papers import vocabulary


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
        return _tag_url(self.slug, get_language(), get_script_prefix())


class TaggedPaper(TaggedItemBase):
    tag = models.ForeignKey(Tag, on_delete=models.CASCADE, related_name="tagged_papers")
    content_object = models.ForeignKey("Paper", on_delete=models.CASCADE)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["content_object", "tag"], name="unique_paper_tag")
        ]
        # A tag's papers from the index alone (tag filters and counts).
        indexes = [models.Index(fields=["tag", "content_object"], name="tag_paper")]


@functools.lru_cache(maxsize=20_000)
def _tag_url(slug: str, language: str | None, script_prefix: str) -> str:
    """A tag's URL, reversed once per language: a list page links a few hundred tags, and
    reversing each costs more than the rest of its line."""
    return reverse("papers:tag_detail", args=[slug])
