"""Topics, with the languages and editorial states shared by the other models."""

import hashlib

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils.text import slugify
from django.utils.translation import gettext_lazy as _

from papers.exclusions import Rule, parse_rules
from papers.models.runs import PipelineRun


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
