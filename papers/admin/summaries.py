"""Summaries: the form (lists one item per line), the lock an editor's change puts on a summary,
the summary page with the paper beside it, and the machine text next to the current text.

The paper admin shows summaries inline with the same form and the same lock and compare panels.
"""

import json

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Prefetch, Q, prefetch_related_objects
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from papers import indexing
from papers.admin.common import (
    ExtraPagesMixin,
    LinesField,
    LinksField,
    as_lines,
    as_list,
    change_url,
    figure_link,
)
from papers.models import SUMMARY_FIELDS, SUMMARY_TEXT_FIELDS, ErrorReport, Figure, Summary

SUMMARY_EDIT_FIELDS = (
    "tldr",
    "key_takeaways",
    "title_translation",
    "affiliations",
    "keywords",
    "links",
    "background",
    "prior_work",
    "method",
    "results",
    "method_steps",
    "significance",
    "assessment",
)

# What the pipeline recorded about how it wrote the summary; read-only.
PROVENANCE_FIELDS = (
    "paper_version",
    "backend",
    "model",
    "prompt_version",
    "generated_at",
    "input_digest",
    "tokens",
    "duration_ms",
    "source",
)


def lock_if_edited(form, summary: Summary, user) -> None:
    """An editor's change to any summary field locks the summary against the pipeline."""
    if summary.locked:
        return
    if any(name in form.changed_data for name in SUMMARY_FIELDS):
        summary.lock(user)


def lock_state(summary: Summary) -> str:
    if not summary.locked:
        return _("Not locked: the pipeline may rewrite it")
    who = summary.locked_by.get_username() if summary.locked_by_id else _("an editor")
    when = summary.locked_at.strftime("%Y-%m-%d %H:%M") if summary.locked_at else ""
    return _("Locked by %(who)s %(when)s") % {"who": who, "when": when}


class SummaryForm(forms.ModelForm):
    key_takeaways = LinesField(label=_("Key takeaways"), help_text=_("One per line"), rows=5)
    affiliations = LinesField(
        label=_("Authors' affiliations (shown on the site)"),
        help_text=_("One per line"),
        rows=3,
    )
    keywords = LinesField(label=_("Keywords"), help_text=_("One per line"), rows=3)
    method_steps = LinesField(label=_("Method steps"), help_text=_("One per line, in order"))
    links = LinksField(
        label=_("Links"),
        help_text=_("One per line: a label, then the URL (Code https://github.com/...)"),
        rows=3,
    )

    class Meta:
        model = Summary
        fields = ("paper", "language", *SUMMARY_EDIT_FIELDS, "stale", "locked")
        widgets = {
            name: forms.Textarea(attrs={"rows": 2 if name == "tldr" else 4, "cols": 80})
            for name in SUMMARY_TEXT_FIELDS
        }


class SummaryPanels:
    """Read-only panels of a summary, on its own page and inline on its paper's page."""

    @admin.display(description=_("lock"))
    def lock_info(self, summary: Summary) -> str:
        if not summary.pk:
            return "-"
        stale = _(" · written for an earlier version") if summary.stale else ""
        return f"{lock_state(summary)}{stale}"

    @admin.display(description=_("compare"))
    def compare(self, summary: Summary) -> str:
        if not summary.pk:
            return "-"
        return format_html(
            '<a href="{}">{}</a> · <a href="{}">{}</a>',
            reverse("admin:papers_summary_compare", args=[summary.pk]),
            _("Machine text next to the current text"),
            reverse("admin:papers_summary_history", args=[summary.pk]),
            _("History"),
        )

    @admin.display(description=_("warnings"))
    def warning_list(self, summary: Summary) -> str:
        return as_list(summary.warnings)


def request_sent(summary: Summary) -> str:
    """What the summarizer was given: the LLM's messages one by one, exactly as sent."""
    request = summary.request or {}
    if not request:
        return _("Not recorded (written before requests were kept, imported, or by an editor)")
    sent_with = {k: v for k, v in request.items() if k not in ("messages", "input")}
    parts = []
    if sent_with:
        parts.append(
            format_html(
                "<p><strong>{}</strong> {}</p>",
                _("Sent with:"),
                json.dumps(sent_with, ensure_ascii=False, sort_keys=True),
            )
        )
    for message in request.get("messages", []):
        content = message.get("content") or ""
        parts.append(
            format_html(
                '<details><summary>{} ({} {})</summary><pre class="sent-text" style="white-space:pre-wrap;overflow-wrap:anywhere">{}</pre></details>',
                message.get("role", ""),
                len(content),
                _("characters"),
                content,
            )
        )
    if "input" in request:
        parts.append(
            format_html(
                '<details><summary>{}</summary><pre class="sent-text" style="white-space:pre-wrap;overflow-wrap:anywhere">{}</pre></details>',
                _("Input of the offline summarizer"),
                json.dumps(request["input"], ensure_ascii=False, indent=2),
            )
        )
    return format_html_join("", "{}", ((part,) for part in parts))


def machine_record(summary: Summary):
    """The summary as the pipeline last wrote it: its newest historical record while unlocked."""
    return summary.history.filter(locked=False).order_by("-history_date", "-history_id").first()


def compare_view(request: HttpRequest, object_id: str, model_admin) -> HttpResponse:
    """The machine's text next to the current one, field by field, with a way to revert."""
    summary = get_object_or_404(Summary.objects.select_related("paper", "locked_by"), pk=object_id)
    if not model_admin.has_view_permission(request, summary):
        raise PermissionDenied
    machine = machine_record(summary)
    rows = []
    for name in SUMMARY_FIELDS:
        current = getattr(summary, name)
        original = getattr(machine, name) if machine else None
        rows.append(
            {
                "name": Summary._meta.get_field(name).verbose_name,
                "machine": None if machine is None else as_lines(original),
                "current": as_lines(current),
                "changed": machine is not None and original != current,
            }
        )
    context = {
        **model_admin.admin_site.each_context(request),
        "title": gettext("Machine text and current text: %s") % summary,
        "opts": Summary._meta,
        "summary": summary,
        "machine": machine,
        "rows": rows,
        "can_revert": machine is not None and model_admin.has_change_permission(request, summary),
    }
    return TemplateResponse(request, "admin/papers/summary/compare.html", context)


@admin.register(Summary)
class SummaryAdmin(ExtraPagesMixin, SummaryPanels, SimpleHistoryAdmin):
    form = SummaryForm
    list_display = (
        "paper",
        "language",
        "locked",
        "stale",
        "open_reports",
        "backend",
        "generated_at",
    )
    list_filter = ("language", "locked", "stale", "backend")
    search_fields = ("paper__arxiv_id", "paper__title", "tldr")
    list_select_related = ("paper",)
    raw_id_fields = ("paper",)
    readonly_fields = (
        "paper_abstract",
        "paper_figures",
        "reports",
        "lock_info",
        "compare",
        "warning_list",
        "request_sent",
        *PROVENANCE_FIELDS,
    )
    fieldsets = (
        (
            None,
            {"fields": ("paper", "language", "lock_info", "compare", "warning_list", "reports")},
        ),
        (_("The paper"), {"fields": ("paper_abstract", "paper_figures")}),
        (_("Summary"), {"fields": SUMMARY_EDIT_FIELDS}),
        (
            _("Provenance"),
            {
                "description": _("How the machine wrote this summary: the exact request."),
                "fields": ("request_sent", "stale", "locked", *PROVENANCE_FIELDS),
            },
        ),
    )

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related("paper", "locked_by")
            .annotate(
                open_report_count=Count(
                    "error_reports", filter=Q(error_reports__resolved=False), distinct=True
                )
            )
        )

    def get_object(self, request, object_id, from_field=None):
        summary = super().get_object(request, object_id, from_field)
        if summary is not None:
            prefetch_related_objects(
                [summary],
                Prefetch("paper__figures", queryset=Figure.objects.order_by("order", "id")),
                Prefetch(
                    "error_reports",
                    queryset=ErrorReport.objects.filter(resolved=False).order_by("-created_at"),
                    to_attr="open_error_reports",
                ),
            )
        return summary

    @admin.display(description=_("open reports"), ordering="open_report_count")
    def open_reports(self, summary: Summary) -> int:
        return getattr(summary, "open_report_count", 0)

    @admin.display(description=_("abstract"))
    def paper_abstract(self, summary: Summary) -> str:
        if not summary.pk:
            return "-"
        return format_html(
            '<p><a href="{}"><strong>{}</strong></a></p><p style="white-space:pre-line">{}</p>',
            change_url("paper", summary.paper_id),
            summary.paper.title,
            summary.paper.abstract,
        )

    @admin.display(description=_("figures"))
    def paper_figures(self, summary: Summary) -> str:
        if not summary.pk:
            return "-"
        figures = format_html_join(
            "",
            "<figure>{}<figcaption>{}</figcaption></figure>",
            ((figure_link(f), f.caption[:120]) for f in summary.paper.figures.all()),
        )
        return (
            format_html('<div class="figure-row">{}</div>', figures) if figures else _("No figures")
        )

    @admin.display(description=_("readers' reports"))
    def reports(self, summary: Summary) -> str:
        open_reports = getattr(summary, "open_error_reports", [])
        if not open_reports:
            return _("No open reports")
        return format_html_join(
            "",
            '<p><a href="{}">{}</a>: {}</p>',
            (
                (
                    change_url("errorreport", r.pk),
                    r.created_at.strftime("%Y-%m-%d"),
                    r.message[:300],
                )
                for r in open_reports
            ),
        )

    @admin.display(description=_("request sent"))
    def request_sent(self, summary: Summary) -> str:
        return request_sent(summary)

    def save_model(self, request, obj, form, change):
        """Also on a revert from the history: text for an older paper version stays stale, unless
        the editor cleared "stale" here (reviewed it for the present version)."""
        if change:
            lock_if_edited(form, obj, request.user)
        if "stale" in form.changed_data and not obj.stale:
            obj.mark_current()
        obj.settle_staleness()
        super().save_model(request, obj, form, change)
        indexing.refresh_indexes([obj.paper_id])

    extra_pages = (("<path:object_id>/compare/", compare_view, "papers_summary_compare"),)
