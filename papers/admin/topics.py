"""Topics: the form that saves a changed arXiv query only after its dry run, the topic list with
each topic's run health, and the "fetch now" action. The topic admin also serves the Today page."""

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db.models import Count
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from papers import health, jobs, schedules, tasks
from papers.admin.common import ExtraPagesMixin, change_each
from papers.admin.today import JOBS_SHOWN, today_view
from papers.health import topics_with_last_run
from papers.models import Job, Topic

QUERY_FIELDS = jobs.QUERY_FIELDS


class TopicForm(forms.ModelForm):
    """A new or changed query, or a paused topic made active before any dry run (an imported
    one), is saved only after the editor has seen a dry run of the query.

    The first save queues the dry run (a worker asks arXiv) and refuses; the page shows the job
    until it is done, then its results. The hidden field then carries a fingerprint of the query
    that was shown, so saving the same query again goes through.
    """

    dry_run_of = forms.CharField(required=False, widget=forms.HiddenInput)

    class Meta:
        model = Topic
        fields = (
            "name",
            "slug",
            "description",
            "language",
            "active",
            "auto_publish",
            *QUERY_FIELDS,
            "max_results",
            "summarizer",
        )

    user = None  # set by the admin: who started the dry run
    dry_run_job: Job | None = None
    dry_run_seen = False

    def needs_dry_run(self) -> bool:
        if self.instance.pk is None or any(name in self.changed_data for name in QUERY_FIELDS):
            return True
        return bool(self.cleaned_data.get("active")) and not self.instance.query_checked

    def clean(self):
        cleaned = super().clean()
        if self.errors or not self.needs_dry_run():
            return cleaned
        values = {name: cleaned.get(name, "") for name in QUERY_FIELDS}
        fingerprint = jobs.query_fingerprint(values)
        seen = cleaned.get("dry_run_of") == fingerprint
        job = jobs.dry_run_of(values)
        if job is None or (job.state == Job.State.FAILED and seen):
            job = tasks.queue_job(
                Job.Kind.DRY_RUN,
                topic=self.instance if self.instance.pk else None,
                params={**values, "fingerprint": fingerprint},
                user=self.user,
            )
        self.dry_run_job = job
        if job.state == Job.State.DONE and seen:
            self.dry_run_seen = True
            return cleaned
        if job.finished:
            self.data = self.data.copy()
            self.data[self.add_prefix("dry_run_of")] = fingerprint
        if job.state == Job.State.DONE:
            raise ValidationError(
                _(
                    "Check what this query matched over the last %(days)d days (below), "
                    "then save again to keep it."
                ),
                params={"days": jobs.DRY_RUN_DAYS},
            )
        if job.state == Job.State.FAILED:
            raise ValidationError(_("The dry run failed (below); save again to try again."))
        raise ValidationError(
            _("A dry run of this query is %(state)s; reload the page to see it, then save again."),
            params={"state": job.get_state_display().lower()},
        )


@admin.register(Topic)
class TopicAdmin(ExtraPagesMixin, admin.ModelAdmin):
    form = TopicForm
    list_display = (
        "name",
        "slug",
        "language",
        "auto_publish",
        "active",
        "paper_count",
        "last_run",
    )
    list_filter = ("active", "query_checked", "language", "auto_publish")
    search_fields = ("name", "slug", "query")
    readonly_fields = ("query_checked",)
    prepopulated_fields = {"slug": ("name",)}
    actions = ("run_now",)
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "name",
                    "slug",
                    "description",
                    "language",
                    "active",
                    "query_checked",
                    "auto_publish",
                )
            },
        ),
        (
            _("arXiv query"),
            {
                "description": _(
                    "A changed query is saved only after a dry run: what it matched on arXiv "
                    "over the last week. Nothing is stored by the dry run."
                ),
                "fields": (*QUERY_FIELDS, "max_results", "dry_run_of"),
            },
        ),
        (_("Summaries"), {"fields": ("summarizer",)}),
    )
    extra_pages = (("today/", today_view, "papers_today"),)

    def get_queryset(self, request):
        return topics_with_last_run().annotate(paper_count=Count("topic_papers", distinct=True))

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        form.user = request.user
        return form

    def save_model(self, request, obj, form, change):
        if form.dry_run_seen:
            obj.query_checked = True
        super().save_model(request, obj, form, change)
        schedules.ensure_topic_schedule(obj)

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        adminform = context.get("adminform")
        context["dry_run_job"] = getattr(adminform.form, "dry_run_job", None) if adminform else None
        if obj is not None:
            context["topic_jobs"] = list(
                obj.jobs.recent().select_related("topic", "created_by")[:JOBS_SHOWN]
            )
        return super().render_change_form(request, context, add, change, form_url, obj)

    @admin.display(description=_("papers"), ordering="paper_count")
    def paper_count(self, topic: Topic) -> int:
        return topic.paper_count

    @admin.display(description=_("last run"), ordering="last_run_at")
    def last_run(self, topic: Topic) -> str:
        """Failed and stalled runs stand out: editors must see a topic that stopped working."""
        # Without the schedule here, a topic is stalled after STALLED_TOPIC without a run.
        state = health.run_health(
            topic.active, topic.last_run_status, topic.last_run_at, timezone.now()
        )
        if topic.last_run_at is None:
            return format_html('<strong class="run-{}">{}</strong>', state, _("never run"))
        when = topic.last_run_at.strftime("%Y-%m-%d %H:%M")
        if state in health.ATTENTION:
            label = _("failed") if state == health.FAILED else _("stalled")
            return format_html(
                '<strong class="run-{}" style="color:#b00">{}</strong> {}', state, label, when
            )
        return f"{topic.last_run_status} {when}"

    @admin.action(description=_("Fetch now from arXiv"))
    def run_now(self, request, queryset):
        change_each(
            self,
            request,
            queryset,
            lambda topic: tasks.queue_job(Job.Kind.FETCH, topic=topic, user=request.user),
            _("Queued %d topic(s); the Today page and each topic's page show how it goes."),
        )
