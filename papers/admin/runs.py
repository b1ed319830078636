"""What the machinery did and what readers reported: pipeline runs (read-only) and readers'
error reports, resolved by an editor."""

from django.contrib import admin, messages
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from papers.admin.common import NoAdding, as_list, change_url
from papers.models import ErrorReport, PipelineRun


@admin.register(PipelineRun)
class PipelineRunAdmin(NoAdding, admin.ModelAdmin):
    list_display = (
        "topic",
        "started_at",
        "status",
        "announcement",
        "returned",
        "found",
        "new",
        "updated",
        "failed",
        "note",
    )
    list_filter = ("status", "topic")
    list_select_related = ("topic",)
    date_hierarchy = "started_at"

    def get_fields(self, request, obj=None):
        """Every field, read-only, with the JSON lists shown as lists."""
        shown = {"errors": "error_list", "paper_ids": "paper_id_list"}
        return [shown.get(f.name, f.name) for f in PipelineRun._meta.fields]

    def get_readonly_fields(self, request, obj=None):
        return self.get_fields(request, obj)

    @admin.display(description=_("errors"))
    def error_list(self, run: PipelineRun) -> str:
        return as_list(run.errors)

    @admin.display(description=_("arXiv ids seen"))
    def paper_id_list(self, run: PipelineRun) -> str:
        return ", ".join(run.paper_ids or []) or "-"


@admin.register(ErrorReport)
class ErrorReportAdmin(NoAdding, admin.ModelAdmin):
    list_display = ("created_at", "paper", "summary_link", "short_message", "resolved")
    list_display_links = ("created_at",)
    list_filter = ("resolved",)
    search_fields = ("paper__arxiv_id", "message")
    list_select_related = ("paper", "summary", "resolved_by")
    fields = (
        "paper_link",
        "summary_link",
        "message",
        "contact",
        "created_at",
        "resolved",
        "resolved_by",
        "resolved_at",
    )
    readonly_fields = tuple(name for name in fields if name != "resolved")
    actions = ("resolve", "reopen")

    @admin.display(description=_("message"))
    def short_message(self, report: ErrorReport) -> str:
        return report.message[:100]

    @admin.display(description=_("paper"))
    def paper_link(self, report: ErrorReport) -> str:
        return format_html(
            '<a href="{}">{}</a> ({}: <a href="{}">{}</a>)',
            change_url("paper", report.paper_id),
            report.paper,
            _("public page"),
            report.paper.get_absolute_url(),
            report.paper.arxiv_id,
        )

    @admin.display(description=_("summary"))
    def summary_link(self, report: ErrorReport) -> str:
        if not report.summary_id:
            return "-"
        return format_html(
            '<a href="{}">{} [{}]</a>',
            change_url("summary", report.summary_id),
            _("edit the summary"),
            report.summary.language,
        )

    def save_model(self, request, obj, form, change):
        if "resolved" in form.changed_data:
            obj.resolved_by = request.user if obj.resolved else None
            obj.resolved_at = timezone.now() if obj.resolved else None
        super().save_model(request, obj, form, change)

    @admin.action(description=_("Mark resolved"), permissions=["change"])
    def resolve(self, request, queryset):
        count = queryset.filter(resolved=False).update(
            resolved=True, resolved_by=request.user, resolved_at=timezone.now()
        )
        self.message_user(
            request,
            ngettext("Resolved %d report.", "Resolved %d reports.", count) % count,
            messages.SUCCESS,
        )

    @admin.action(description=_("Reopen"), permissions=["change"])
    def reopen(self, request, queryset):
        count = queryset.filter(resolved=True).update(
            resolved=False, resolved_by=None, resolved_at=None
        )
        self.message_user(request, _("Reopened %d report(s).") % count, messages.SUCCESS)
