"""What several model admins share: the site's titles, list fields edited one item per line,
thumbnails, links to a row's admin page, extra pages behind the admin's login, and actions that
change each selected row."""

import functools
import re
from collections.abc import Callable, Iterable

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from papers.models import Figure

admin.site.site_header = _("%(site)s: editors") % {"site": settings.SITE_NAME}
admin.site.site_title = settings.SITE_NAME
admin.site.index_title = _("Editors' desk")
# The page gets the whole width; the models are one click away on the home page and breadcrumbs.
admin.site.enable_nav_sidebar = False

THUMBNAIL = '<img src="{}" alt="" loading="lazy" style="max-height:{}px;max-width:{}px">'


def thumbnail(figure: Figure, height: int = 80, width: int = 160) -> str:
    return format_html(THUMBNAIL, figure.thumbnail_url, height, width)


def figure_link(figure: Figure, height: int = 80, width: int = 160) -> str:
    """The figure's thumbnail, linking to the full image; "-" for a figure not saved yet."""
    if not figure.pk:
        return "-"
    return format_html('<a href="{}">{}</a>', figure.url, thumbnail(figure, height, width))


def change_url(model: str, pk) -> str:
    """The admin page of a row of papers.`model`."""
    return reverse(f"admin:papers_{model}_change", args=[pk])


def item_text(item) -> str:
    """One item of a JSON list as an editor reads it: a link as `label URL`, a person by name,
    anything else as text."""
    if isinstance(item, dict) and "name" in item and "url" not in item:
        return item["name"]
    if isinstance(item, dict):
        return f"{item.get('label', '')} {item.get('url', '')}".strip()
    return str(item)


def as_lines(value) -> str:
    """A JSON list one item per line; any other value as its text."""
    if isinstance(value, list):
        return "\n".join(item_text(item) for item in value)
    return str(value or "")


def as_list(value) -> str:
    """A JSON list shown read-only as an HTML list (never raw JSON); "-" when empty."""
    if not value:
        return "-"
    if not isinstance(value, list):
        return str(value)
    return format_html(
        '<ul class="json-list">{}</ul>',
        format_html_join("", "<li>{}</li>", ((item_text(i),) for i in value)),
    )


class LinesField(forms.Field):
    """A JSON list of strings, edited as one item per line."""

    def __init__(self, *args, rows: int = 4, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("widget", forms.Textarea(attrs={"rows": rows, "cols": 80}))
        super().__init__(*args, **kwargs)

    def prepare_value(self, value):
        if isinstance(value, list):
            return as_lines(value)
        return value or ""

    def to_python(self, value):
        if isinstance(value, list):
            return value
        return [
            self.parse_line(line.strip()) for line in (value or "").splitlines() if line.strip()
        ]

    def parse_line(self, line: str):
        return line

    def has_changed(self, initial, data) -> bool:
        """Changed when the text an editor sees changed (so no spurious history rows)."""
        try:
            return self.prepare_value(self.to_python(data)) != self.prepare_value(initial or [])
        except ValidationError:
            return True


class WordsField(LinesField):
    """A JSON list of single words (arXiv categories), edited on one line, space-separated."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", forms.TextInput(attrs={"size": 40}))
        super().__init__(*args, **kwargs)

    def prepare_value(self, value):
        if isinstance(value, list):
            return " ".join(str(word) for word in value)
        return value or ""

    def to_python(self, value):
        if isinstance(value, list):
            return value
        return [word for word in re.split(r"[\s,;]+", value or "") if word]


class AuthorsField(LinesField):
    """Authors, one per line: the name, then `; affiliation` where one is known."""

    def prepare_value(self, value):
        if isinstance(value, list):
            return "\n".join(self.author_line(author) for author in value)
        return value or ""

    @staticmethod
    def author_line(author) -> str:
        if not isinstance(author, dict):
            return str(author)
        name, affiliation = author.get("name", ""), author.get("affiliation", "")
        return f"{name}; {affiliation}" if affiliation else name

    def parse_line(self, line: str) -> dict:
        name, _semicolon, affiliation = line.partition(";")
        author = {"name": name.strip()}
        if affiliation.strip():
            author["affiliation"] = affiliation.strip()
        return author


class LinksField(LinesField):
    """Links as `label URL` lines (the URL is the last word)."""

    def parse_line(self, line: str) -> dict:
        label, _space, url = line.rpartition(" ")
        if not re.match(r"^https?://\S+$", url):
            raise ValidationError(
                _("Write each link as a label and then its http(s) URL: %(line)s"),
                params={"line": line},
            )
        return {"label": label.strip(), "url": url}


class NoAdding:
    """For rows that only the machinery or readers create: editors never add one here."""

    def has_add_permission(self, request, obj=None) -> bool:
        return False


class ExtraPagesMixin:
    """Pages of a model admin beyond Django's own, behind the admin's login.

    `extra_pages` holds (route, view, URL name) triples; each view is called with the URL's
    arguments and `model_admin=` this admin.
    """

    extra_pages: tuple[tuple[str, Callable, str], ...] = ()

    def get_urls(self):
        pages = [
            path(
                route,
                self.admin_site.admin_view(functools.partial(view, model_admin=self)),
                name=name,
            )
            for route, view, name in self.extra_pages
        ]
        return pages + super().get_urls()


def change_each(
    model_admin, request, rows: Iterable, change: Callable, message: str | None = None
) -> int:
    """Call `change` on each row (so the model's save and history run) and say how many changed."""
    count = 0
    for row in rows:
        change(row)
        count += 1
    if message:
        model_admin.message_user(request, message % count, messages.SUCCESS)
    return count
