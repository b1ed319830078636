"""Authors of papers, the key that joins spellings of one name, and editors' aliases."""

import re
import unicodedata

from django.db import models
from django.utils.translation import gettext_lazy as _


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
