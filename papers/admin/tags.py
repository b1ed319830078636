"""Tags: the site's own tag model (papers.Tag) with its paper counts; taggit's default Tag model
stays out of the admin."""

from django.contrib import admin
from django.db.models import Count
from django.utils.translation import gettext_lazy as _
from taggit.models import Tag as TaggitTag

from papers.models import Tag


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "kind", "paper_count")
    list_filter = ("kind",)
    search_fields = ("name", "slug")

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(paper_count=Count("tagged_papers"))

    @admin.display(description=_("papers"), ordering="paper_count")
    def paper_count(self, tag: Tag) -> int:
        return tag.paper_count


# The site uses its own Tag model (papers.Tag); taggit's default one stays unused.
if admin.site.is_registered(TaggitTag):
    admin.site.unregister(TaggitTag)
