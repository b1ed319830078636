"""Admin for e-mail subscriptions: subscribers (masked), subscriptions, sends, and the pause switch.

Addresses are never shown: lists and forms show the masked form, and the search box matches a whole
address exactly, so an editor can find the row of a reader who writes in without seeing the others.
Subscribers come only from the double opt-in, so nothing here adds one.
"""

from django.contrib import admin, messages
from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from papers.admin.common import NoAdding
from papers.models import MailSend, MailSettings, Subscriber, Subscription


class SubscriptionInline(NoAdding, admin.TabularInline):
    model = Subscription
    fields = ("topic", "tag", "frequency", "confirmed_at", "created_at")
    readonly_fields = fields
    extra = 0
    can_delete = True
    show_change_link = True


@admin.register(Subscriber)
class SubscriberAdmin(NoAdding, admin.ModelAdmin):
    list_display = (
        "masked_email",
        "subscription_count",
        "confirmed_at",
        "failures",
        "disabled_at",
        "created_at",
    )
    list_filter = (
        ("confirmed_at", admin.EmptyFieldListFilter),
        ("disabled_at", admin.EmptyFieldListFilter),
    )
    search_fields = ("=email",)
    search_help_text = _("The whole address, exactly; it is never shown.")
    fields = (
        "masked_email",
        "confirmed_at",
        "failures",
        "disabled_at",
        "last_error",
        "created_at",
    )
    readonly_fields = fields
    inlines = [SubscriptionInline]
    actions = ("enable_again",)
    date_hierarchy = "created_at"

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(subscription_total=Count("subscriptions"))

    @admin.display(description=_("address"))
    def masked_email(self, obj: Subscriber) -> str:
        return obj.masked_email

    @admin.display(description=_("subscriptions"), ordering="subscription_total")
    def subscription_count(self, obj: Subscriber) -> int:
        return obj.subscription_total

    @admin.action(description=_("Enable again (after bounces)"), permissions=["change"])
    def enable_again(self, request, queryset):
        count = queryset.exclude(disabled_at=None).update(disabled_at=None, failures=0)
        self.message_user(
            request,
            ngettext("%d address enabled again.", "%d addresses enabled again.", count) % count,
            messages.SUCCESS,
        )


@admin.register(Subscription)
class SubscriptionAdmin(NoAdding, admin.ModelAdmin):
    list_display = ("subscriber", "target_name", "frequency", "confirmed_at", "created_at")
    list_filter = ("frequency", ("confirmed_at", admin.EmptyFieldListFilter), "topic")
    list_select_related = ("subscriber", "topic", "tag")
    fields = ("subscriber", "topic", "tag", "frequency", "confirmed_at", "created_at")
    readonly_fields = fields

    @admin.display(description=_("following"))
    def target_name(self, obj: Subscription) -> str:
        return obj.target_name

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(MailSend)
class MailSendAdmin(NoAdding, admin.ModelAdmin):
    list_display = (
        "key",
        "subscriber",
        "frequency",
        "state",
        "attempts",
        "short_error",
        "next_attempt_at",
        "sent_at",
    )
    list_filter = ("state", "frequency")
    list_select_related = ("subscriber",)
    search_fields = ("key",)
    date_hierarchy = "created_at"
    fields = (
        "key",
        "subscriber",
        "frequency",
        "digest",
        "state",
        "attempts",
        "error",
        "next_attempt_at",
        "claimed_at",
        "sent_at",
        "created_at",
        "updated_at",
    )
    readonly_fields = fields
    actions = ("retry_now",)

    @admin.display(description=_("error"))
    def short_error(self, obj: MailSend) -> str:
        return obj.error[:80]

    @admin.action(description=_("Send again now (failed or waiting ones)"), permissions=["change"])
    def retry_now(self, request, queryset):
        from papers.subscriptions import tasks as mail_tasks

        count = queryset.filter(state__in=[MailSend.State.FAILED, MailSend.State.QUEUED]).update(
            state=MailSend.State.QUEUED, next_attempt_at=timezone.now(), attempts=0
        )
        mail_tasks.send_queued_mails.delay_on_commit()
        self.message_user(
            request,
            ngettext("%d mail queued again.", "%d mails queued again.", count) % count,
            messages.SUCCESS,
        )


@admin.register(MailSettings)
class MailSettingsAdmin(admin.ModelAdmin):
    list_display = ("__str__", "note", "updated_at", "updated_by")
    fields = ("paused", "note", "updated_at", "updated_by")
    readonly_fields = ("updated_at", "updated_by")

    def has_add_permission(self, request) -> bool:
        return not MailSettings.objects.exists()

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def changelist_view(self, request, extra_context=None):
        MailSettings.load()  # the one row is always there to change
        return super().changelist_view(request, extra_context)

    def save_model(self, request, obj: MailSettings, form, change) -> None:
        obj.updated_by = request.user
        super().save_model(request, obj, form, change)
        if "paused" in form.changed_data and not obj.paused:
            # Resumed: what waited goes out now rather than at the next periodic run.
            from papers.subscriptions import tasks as mail_tasks

            mail_tasks.send_queued_mails.delay_on_commit()
