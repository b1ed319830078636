"""Digests: the digest page (its papers in order, papers added by arXiv id, a cover chosen among
their figures), its public page previewed in any state, publishing, and the Markdown import and
export (papers/admin/markdown.py)."""

import re

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from papers import selectors
from papers.admin.common import ExtraPagesMixin, NoAdding, change_each, change_url, thumbnail
from papers.admin.markdown import export_digests_action, import_digest_view
from papers.models import (
    Digest,
    DigestEntry,
    Figure,
    Paper,
    Status,
    split_arxiv_id,
)


def preview_view(request: HttpRequest, object_id: str, model_admin) -> HttpResponse:
    """The public digest page for a digest in any state, with a banner saying it is a preview
    (its hidden papers left out, as the public page will)."""
    digest = get_object_or_404(
        Digest.objects.select_related("topic", "cover", "cover__paper"), pk=object_id
    )
    if not model_admin.has_view_permission(request, digest):
        raise PermissionDenied
    entries = selectors.entries_for_page(
        DigestEntry.objects.filter(digest=digest).exclude(paper__status=Status.HIDDEN)
    )
    context = selectors.digest_page(digest, entries)
    cover = digest.cover
    if not (cover and not cover.hidden and cover.paper.content_allowed):
        cover = next((figure for row in context["entries"] for figure in row["figures"]), None)
    context.update(cover=cover, change_url=change_url("digest", digest.pk))
    return TemplateResponse(request, "admin/papers/digest/preview.html", context)


class CoverChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, figure: Figure) -> str:
        return format_html(
            "{} <span>{} · {}</span>",
            thumbnail(figure, 90, 180),
            figure.paper.arxiv_id,
            figure.caption[:80] or _("figure %d") % figure.order,
        )


def parse_arxiv_ids(text: str) -> list[str]:
    ids, bad = [], []
    for word in re.split(r"[\s,;]+", text.strip()):
        if not word:
            continue
        try:
            ids.append(split_arxiv_id(word)[0])
        except ValueError:
            bad.append(word)
    if bad:
        raise ValidationError(_("Not arXiv ids: %(ids)s"), params={"ids": ", ".join(bad)})
    return list(dict.fromkeys(ids))


class DigestForm(forms.ModelForm):
    add_papers = forms.CharField(
        required=False,
        label=_("Add papers"),
        help_text=_("arXiv ids, separated by spaces or commas; they go to the end of the digest"),
        widget=forms.TextInput(attrs={"size": 60}),
    )

    class Meta:
        model = Digest
        fields = ("topic", "date", "title", "status", "intro", "cover")

    def clean_add_papers(self) -> list[Paper]:
        ids = parse_arxiv_ids(self.cleaned_data.get("add_papers") or "")
        if not ids:
            return []
        found = {p.arxiv_id: p for p in Paper.objects.filter(arxiv_id__in=ids)}
        missing = [i for i in ids if i not in found]
        if missing:
            raise ValidationError(
                _("No stored paper has the id(s): %(ids)s"), params={"ids": ", ".join(missing)}
            )
        return [found[i] for i in ids]


class DigestEntryInline(NoAdding, admin.TabularInline):
    """The digest's papers: reorder by position, remove with the delete box; add via "Add papers"."""

    model = DigestEntry
    extra = 0
    fields = ("position", "paper_link", "paper_status", "pick_reason")
    readonly_fields = ("paper_link", "paper_status")
    ordering = ("position", "id")
    verbose_name = _("paper")
    verbose_name_plural = _("papers (edit the positions to reorder)")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("paper", "digest__topic")

    @admin.display(description=_("paper"))
    def paper_link(self, entry: DigestEntry) -> str:
        return format_html(
            '<a href="{}">{}</a> {}',
            change_url("paper", entry.paper_id),
            entry.paper.arxiv_id,
            entry.paper.title[:120],
        )

    @admin.display(description=_("status"))
    def paper_status(self, entry: DigestEntry) -> str:
        return entry.paper.get_status_display()


@admin.register(Digest)
class DigestAdmin(ExtraPagesMixin, SimpleHistoryAdmin):
    form = DigestForm
    list_display = ("date", "topic", "title", "status", "paper_count", "published_at", "preview")
    list_display_links = ("date", "topic")
    list_filter = ("status", "topic")
    date_hierarchy = "date"
    search_fields = ("title", "topic__name")
    list_select_related = ("topic",)
    inlines = (DigestEntryInline,)
    history_list_display = ("status", "paper_order", "picks")
    actions = ("publish", "unpublish", "hide", export_digests_action)
    fields = ("topic", "date", "title", "status", "intro", "add_papers", "cover")
    extra_pages = (
        ("<path:object_id>/preview/", preview_view, "papers_digest_preview"),
        ("import/", import_digest_view, "papers_digest_import"),
    )

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related("topic")
            .annotate(paper_count=Count("entries"))
        )

    def get_form(self, request, obj=None, change=False, **kwargs):
        request._digest_being_edited = obj
        form = super().get_form(request, obj, change=change, **kwargs)
        cover = form.base_fields.get("cover")
        if cover is not None and hasattr(cover.widget, "widget"):
            # Plain radio buttons: the add/change/delete figure links make no sense here.
            cover.widget = cover.widget.widget
        return form

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "cover":
            digest = getattr(request, "_digest_being_edited", None)
            figures = Figure.objects.none()
            if digest is not None:
                figures = (
                    Figure.objects.filter(
                        Q(paper__in=digest.papers.all(), hidden=False) | Q(pk=digest.cover_id)
                    )
                    .select_related("paper")
                    .order_by("paper__arxiv_id", "order", "id")
                )
            return CoverChoiceField(
                queryset=figures,
                required=False,
                blank=True,
                widget=forms.RadioSelect,
                empty_label=_("The first figure of the first paper"),
                label=_("Cover"),
                help_text=_("Figures of this digest's papers (save after adding papers)"),
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    @admin.display(description=_("papers"), ordering="paper_count")
    def paper_count(self, digest: Digest) -> int:
        return digest.paper_count

    @admin.display(description=_("preview"))
    def preview(self, digest: Digest) -> str:
        return format_html(
            '<a href="{}">{}</a>',
            reverse("admin:papers_digest_preview", args=[digest.pk]),
            _("preview"),
        )

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        request._reverting_to = version_id
        return super().history_form_view(request, object_id, version_id, extra_context)

    def save_model(self, request, obj, form, change):
        """Status changes go through Digest.set_status (papers follow) once the papers are
        saved; the save's one history record is made at the end, with the papers in order."""
        version_id = getattr(request, "_reverting_to", None)
        if version_id is not None:  # a revert from the history: the whole recorded state
            record = get_object_or_404(Digest.history.model, id=obj.pk, history_id=version_id)
            Digest.objects.get(pk=obj.pk).restore(record)
            return
        obj._status_wanted = obj.status
        if change:
            obj.status = Digest.objects.values_list("status", flat=True).get(pk=obj.pk)
        obj.skip_history_when_saving = True
        super().save_model(request, obj, form, change)
        del obj.skip_history_when_saving

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        digest = form.instance
        digest.renumber()
        digest.add_papers(form.cleaned_data.get("add_papers") or [])
        if "_publish" in request.POST:
            digest.publish()
        elif digest._status_wanted != digest.status:
            digest.set_status(digest._status_wanted)
        else:
            digest.save()

    def response_change(self, request, obj):
        if "_publish" in request.POST:
            self.message_user(
                request,
                format_html(
                    '{} <a href="{}">{}</a>',
                    _("Published the digest and its papers."),
                    obj.get_absolute_url(),
                    _("View it on the site"),
                ),
                messages.SUCCESS,
            )
            return self.response_post_save_change(request, obj)
        return super().response_change(request, obj)

    @admin.action(description=_("Publish (with its papers)"), permissions=["change"])
    def publish(self, request, queryset):
        change_each(
            self, request, queryset, lambda digest: digest.publish(), _("Published %d digest(s).")
        )

    @admin.action(description=_("Unpublish (back to review)"), permissions=["change"])
    def unpublish(self, request, queryset):
        change_each(
            self,
            request,
            queryset,
            lambda digest: digest.withdraw(),
            _("Unpublished %d digest(s)."),
        )

    @admin.action(description=_("Hide"), permissions=["change"])
    def hide(self, request, queryset):
        change_each(
            self,
            request,
            queryset,
            lambda digest: digest.withdraw(Status.HIDDEN),
            _("Hid %d digest(s)."),
        )
