"""Tags: the site's own tag model (papers.Tag) with its paper counts, the tag editor of the paper
form (chips, with suggestions from the tags already in use) and the JSON list it asks; taggit's
default Tag model stays out of the admin."""

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db.models import Count
from django.http import HttpRequest, JsonResponse
from django.urls import reverse_lazy
from django.utils.translation import gettext_lazy as _
from taggit.forms import TagWidget
from taggit.models import Tag as TaggitTag

from papers.admin.common import ExtraPagesMixin
from papers.models import Tag

SUGGESTIONS = 12


class TagsInput(TagWidget):
    """taggit's comma-separated text, edited as chips by static/papers_admin/tags.js; without the
    script it stays the plain text input."""

    class Media:
        js = ("papers_admin/tags.js",)

    def __init__(self, attrs=None):
        attrs = {
            "data-tag-suggest-url": reverse_lazy("admin:papers_tag_suggest"),
            "class": "vTextField tag-input",
            **(attrs or {}),
        }
        super().__init__(attrs)


def suggest_view(request: HttpRequest, model_admin) -> JsonResponse:
    """Tags whose name contains `q`, the most used first: {"tags": [{"name", "papers"}]}."""
    if not (
        request.user.has_perm("papers.change_paper") or model_admin.has_view_permission(request)
    ):
        raise PermissionDenied
    query = request.GET.get("q", "").strip()
    tags = Tag.objects.annotate(papers=Count("tagged_papers"))
    if query:
        tags = tags.filter(name__icontains=query)
    rows = tags.order_by("-papers", "name").values("name", "papers")[:SUGGESTIONS]
    return JsonResponse({"tags": list(rows)})


@admin.register(Tag)
class TagAdmin(ExtraPagesMixin, admin.ModelAdmin):
    list_display = ("name", "slug", "kind", "paper_count")
    list_filter = ("kind",)
    search_fields = ("name", "slug")
    extra_pages = (("suggest/", suggest_view, "papers_tag_suggest"),)

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(paper_count=Count("tagged_papers"))

    @admin.display(description=_("papers"), ordering="paper_count")
    def paper_count(self, tag: Tag) -> int:
        return tag.paper_count


# The site uses its own Tag model (papers.Tag); taggit's default one stays unused.
if admin.site.is_registered(TaggitTag):
    admin.site.unregister(TaggitTag)
