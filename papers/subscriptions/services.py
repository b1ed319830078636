"""Subscribing (double opt-in), confirming and unsubscribing.

A subscription waits until its confirmation link is followed; the link is a signed
(subscription, frequency) pair that expires after SUBSCRIPTION_CONFIRM_MAX_AGE_DAYS. Mailing the
link is the caller's job, after the commit: `papers.subscriptions.tasks.queue_confirmation_mail`.
"""

import datetime as dt

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from papers.models import Frequency, MailSend, Subscriber, Subscription, Tag, Topic

CONFIRM_SALT = "papers.subscriptions.confirm"


class ConfirmationError(Exception):
    """A confirmation link that is malformed, expired, or whose subscription is gone."""


def subscribe(
    email: str,
    *,
    topic: Topic | None = None,
    tag: Tag | None = None,
    frequency: str = Frequency.DAILY,
) -> Subscription:
    """Record a pending subscription; the caller mails its confirmation link after the commit.

    Nothing but that mail is sent before the link is followed. For an address that already follows
    the target, the link confirms the (possibly new) frequency; the form never changes a confirmed
    subscription by itself, so a stranger who knows an address can only cause a confirmation mail.
    """
    if (topic is None) == (tag is None):
        raise ValueError("subscribe to exactly one topic or tag")
    if frequency not in Frequency.values:
        raise ValueError(f"unknown frequency {frequency!r}")
    with transaction.atomic():
        subscriber, _created = Subscriber.objects.get_or_create(
            email=Subscriber.normalize_email(email)
        )
        subscription, _created = Subscription.objects.get_or_create(
            subscriber=subscriber, topic=topic, tag=tag, defaults={"frequency": frequency}
        )
        if not subscription.is_confirmed and subscription.frequency != frequency:
            subscription.frequency = frequency
            subscription.save(update_fields=["frequency"])
    return subscription


def sign_confirmation(subscription: Subscription, frequency: str) -> str:
    """The signed value a confirmation link carries."""
    return signing.dumps([subscription.pk, frequency], salt=CONFIRM_SALT)


def read_confirmation(value: str) -> tuple[Subscription, str]:
    """The subscription and frequency a confirmation link stands for; raises ConfirmationError."""
    max_age = dt.timedelta(days=settings.SUBSCRIPTION_CONFIRM_MAX_AGE_DAYS)
    try:
        subscription_id, frequency = signing.loads(value, salt=CONFIRM_SALT, max_age=max_age)
    except signing.SignatureExpired as exc:
        raise ConfirmationError(_("This confirmation link has expired.")) from exc
    except (signing.BadSignature, TypeError, ValueError) as exc:
        raise ConfirmationError(_("This confirmation link is not valid.")) from exc
    subscription = (
        Subscription.objects.select_related("subscriber", "topic", "tag")
        .filter(pk=subscription_id)
        .first()
    )
    if subscription is None or frequency not in Frequency.values:
        raise ConfirmationError(_("This subscription no longer exists."))
    return subscription, frequency


def confirm(value: str) -> Subscription:
    """Follow a confirmation link: the subscription becomes active with the frequency it names.

    Following it also proves the address receives mail, so an address disabled by bounces is
    enabled again.
    """
    subscription, frequency = read_confirmation(value)
    now = timezone.now()
    with transaction.atomic():
        subscription.frequency = frequency
        subscription.confirmed_at = subscription.confirmed_at or now
        subscription.save(update_fields=["frequency", "confirmed_at"])
        subscriber = subscription.subscriber
        subscriber.confirmed_at = subscriber.confirmed_at or now
        subscriber.disabled_at = None
        subscriber.failures = 0
        subscriber.save(update_fields=["confirmed_at", "disabled_at", "failures"])
    return subscription


def unsubscribe(subscriber: Subscriber) -> int:
    """End every subscription of the address; its queued mails are dropped.

    The address itself stays (so its mails stay deduplicated) until its owner deletes it.
    """
    with transaction.atomic():
        count, _deleted = subscriber.subscriptions.all().delete()
        MailSend.objects.filter(subscriber=subscriber, state=MailSend.State.QUEUED).update(
            state=MailSend.State.SKIPPED, error="unsubscribed"
        )
    return count
