"""Tags: the site's own tag model (papers.Tag) with its paper counts, the tag editor of the paper
form (chips, with suggestions from the tags already in use) and the JSON list it asks; taggit's
default Tag model stays out of the admin."""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q
from django.http import HttpRequest, JsonResponse
from django.urls import reverse_lazy
from django.utils.translation import gettext_lazy as _
from taggit.forms import TagWidget
from taggit.models import Tag as TaggitTag

from papers import tagging
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


class TagActionForm(helpers.ActionForm):
    target = forms.CharField(
        label=_("Merge into"),
        required=False,
        help_text=_("the name or slug of the tag to merge into"),
    )


@admin.register(Tag)
class TagAdmin(ExtraPagesMixin, admin.ModelAdmin):
    """Editors rename, merge and block tags; the pipeline follows (papers/tagging.py)."""

    list_display = ("name", "slug", "kind", "paper_count", "blocked", "merged_into")
    list_filter = ("kind", "blocked", ("merged_into", admin.EmptyFieldListFilter))
    list_select_related = ("merged_into",)
    search_fields = ("name", "slug")
    fields = ("name", "slug", "kind", "blocked", "merged_into")
    action_form = TagActionForm
    actions = ("merge_tags", "block_tags", "unblock_tags")
    extra_pages = (("suggest/", suggest_view, "papers_tag_suggest"),)

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(paper_count=Count("tagged_papers"))

    @admin.display(description=_("papers"), ordering="paper_count")
    def paper_count(self, tag: Tag) -> int:
        return tag.paper_count

    def get_readonly_fields(self, request, obj=None):
        # A tag's address changes with its name, through a rename that keeps the old one.
        return ("slug", "merged_into") if obj else ("merged_into",)

    def save_model(self, request, obj, form, change):
        new_name = obj.name
        renaming = change and "name" in form.changed_data
        if renaming:
            obj.name = form.initial["name"]
        super().save_model(request, obj, form, change)
        if renaming:
            renamed = tagging.rename_tag(obj, new_name)
            if renamed.pk != obj.pk:
                self.message_user(
                    request, _("Merged into the existing tag %s.") % renamed, messages.INFO
                )
        if "blocked" in form.changed_data and obj.blocked:
            tagging.block_tags([obj])

    @admin.action(description=_("Merge the selected tags into the tag named below"))
    def merge_tags(self, request, queryset):
        name = request.POST.get("target", "").strip()
        target = Tag.objects.filter(Q(slug=name) | Q(name__iexact=name)).first() if name else None
        if target is None:
            self.message_user(
                request, _("Name the tag to merge into (its name or slug)."), messages.ERROR
            )
            return
        count = tagging.merge_tags(queryset, target)
        self.message_user(
            request, _("Merged %(count)d tag(s) into %(tag)s.") % {"count": count, "tag": target}
        )

    @admin.action(description=_("Block: take off every paper, never give again"))
    def block_tags(self, request, queryset):
        count = tagging.block_tags(queryset)
        self.message_user(request, _("Blocked %d tag(s).") % count, messages.SUCCESS)

    @admin.action(description=_("Unblock"))
    def unblock_tags(self, request, queryset):
        count = tagging.unblock_tags(queryset)
        self.message_user(request, _("Unblocked %d tag(s).") % count, messages.SUCCESS)


# The site uses its own Tag model (papers.Tag); taggit's default one stays unused.
if admin.site.is_registered(TaggitTag):
    admin.site.unregister(TaggitTag)
