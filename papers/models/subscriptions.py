"""E-mail subscriptions: subscribers, what they follow, the mails sent and the mail switch."""

import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from papers.models.digests import Digest
from papers.models.papers import Paper
from papers.models.tags import Tag
from papers.models.topics import Topic

# E-mail subscriptions


class Frequency(models.TextChoices):
    DAILY = "daily", _("Daily")
    WEEKLY = "weekly", _("Weekly")


def new_subscriber_token() -> str:
    return secrets.token_urlsafe(32)


def mask_email(email: str) -> str:
    """`reader@example.com` -> `r*****@example.com`: enough for an editor, never the address."""
    local, _at, domain = email.partition("@")
    return f"{local[:1]}*****@{domain}" if domain else "*****"


class SubscriberQuerySet(models.QuerySet):
    def active(self) -> "SubscriberQuerySet":
        """Confirmed addresses that have not been disabled by bounces."""
        return self.filter(confirmed_at__isnull=False, disabled_at__isnull=True)


class Subscriber(models.Model):
    """One e-mail address, stored once (lower-case), never shown; its token manages it."""

    email = models.EmailField(max_length=254, unique=True)
    token = models.CharField(
        max_length=64, unique=True, default=new_subscriber_token, editable=False
    )
    confirmed_at = models.DateTimeField(null=True, blank=True)
    failures = models.PositiveIntegerField(
        default=0, help_text=_("Permanent delivery failures in a row")
    )
    disabled_at = models.DateTimeField(
        null=True, blank=True, help_text=_("Set after repeated bounces; nothing is sent")
    )
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = SubscriberQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.masked_email

    @staticmethod
    def normalize_email(value: str) -> str:
        return value.strip().lower()

    @property
    def masked_email(self) -> str:
        return mask_email(self.email)

    @property
    def is_active(self) -> bool:
        return self.confirmed_at is not None and self.disabled_at is None


class SubscriptionQuerySet(models.QuerySet):
    def confirmed(self) -> "SubscriptionQuerySet":
        return self.filter(confirmed_at__isnull=False)


class Subscription(models.Model):
    """A subscriber following one topic or one tag, daily or weekly; inactive until confirmed."""

    subscriber = models.ForeignKey(
        Subscriber, on_delete=models.CASCADE, related_name="subscriptions"
    )
    topic = models.ForeignKey(
        Topic, null=True, blank=True, on_delete=models.CASCADE, related_name="subscriptions"
    )
    tag = models.ForeignKey(
        Tag, null=True, blank=True, on_delete=models.CASCADE, related_name="subscriptions"
    )
    frequency = models.CharField(max_length=10, choices=Frequency.choices, default=Frequency.DAILY)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = SubscriptionQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["subscriber", "topic"],
                condition=Q(topic__isnull=False),
                name="unique_subscriber_topic",
            ),
            models.UniqueConstraint(
                fields=["subscriber", "tag"],
                condition=Q(tag__isnull=False),
                name="unique_subscriber_tag",
            ),
            models.CheckConstraint(
                condition=Q(topic__isnull=False, tag__isnull=True)
                | Q(topic__isnull=True, tag__isnull=False),
                name="subscription_topic_or_tag",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.subscriber} / {self.target_name} ({self.frequency})"

    @property
    def target(self) -> Topic | Tag:
        return self.topic or self.tag

    @property
    def target_name(self) -> str:
        return self.topic.name if self.topic_id else self.tag.name

    @property
    def is_confirmed(self) -> bool:
        return self.confirmed_at is not None


class MailSend(models.Model):
    """One mail to one subscriber for one digest (or one week); (subscriber, key) is sent once."""

    class State(models.TextChoices):
        QUEUED = "queued", _("Queued")
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")
        SKIPPED = "skipped", _("Skipped")

    subscriber = models.ForeignKey(Subscriber, on_delete=models.CASCADE, related_name="mail_sends")
    key = models.CharField(
        max_length=64, help_text=_("`digest:<id>` or `week:<YYYY>-W<NN>`: sent once per subscriber")
    )
    frequency = models.CharField(max_length=10, choices=Frequency.choices)
    digest = models.ForeignKey(
        Digest, null=True, blank=True, on_delete=models.SET_NULL, related_name="mail_sends"
    )
    papers = models.ManyToManyField(Paper, blank=True, related_name="mail_sends")
    state = models.CharField(max_length=10, choices=State.choices, default=State.QUEUED)
    attempts = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["subscriber", "key"], name="unique_subscriber_mail_key")
        ]
        indexes = [models.Index(fields=["state", "next_attempt_at"], name="mailsend_state_due")]

    def __str__(self) -> str:
        return f"{self.key} to {self.subscriber} ({self.state})"


class MailSettings(models.Model):
    """The one row of site-wide mail switches; editors pause digest mails here."""

    paused = models.BooleanField(
        default=False, help_text=_("Hold digest mails; they stay queued and go out when resumed")
    )
    note = models.CharField(max_length=300, blank=True, help_text=_("Why sending is paused"))
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("mail settings")
        verbose_name_plural = _("mail settings")

    def __str__(self) -> str:
        return str(_("Mail sending paused") if self.paused else _("Mail sending on"))

    @classmethod
    def load(cls) -> "MailSettings":
        return cls.objects.get_or_create(pk=1)[0]
