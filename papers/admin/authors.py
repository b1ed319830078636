"""Authors: an editor merges two spellings of one person by making one key an alias of the other."""

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from papers.models import AuthorAlias


@admin.register(AuthorAlias)
class AuthorAliasAdmin(admin.ModelAdmin):
    list_display = ("key", "canonical", "shown_as", "note", "created_at")
    search_fields = ("key", "canonical", "note")
    fields = ("key", "canonical", "note")

    @admin.display(description=_("author page"))
    def shown_as(self, alias: AuthorAlias) -> str:
        return format_html(
            '<a href="{}">{}</a>',
            reverse("papers:author_detail", args=[alias.canonical]),
            alias.canonical,
        )
