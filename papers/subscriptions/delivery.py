"""Sending queued mails over SMTP, once each, at the configured rate.

Delivery claims a row with a conditional UPDATE (queued -> sending) before talking to the mail
server, so a retried task or a second worker never sends the same mail twice. A row left "sending"
by a worker that died goes back to the queue after `STALE_SENDING`; it keeps its Message-ID, so a
receiving server can still drop the duplicate.
"""

import datetime as dt
import logging
import smtplib
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.core.mail import get_connection
from django.db.models import F
from django.utils import timezone

from papers.models import MailSend, MailSettings, Subscriber, Subscription
from papers.subscriptions.mails import build_digest_message, confirmation_message

logger = logging.getLogger(__name__)

# A temporary failure (4xx, a connection problem) is tried again after 10, 20, 40 ... minutes,
# about a day in all, then the send is marked failed.
MAX_ATTEMPTS = 8
RETRY_BASE_SECONDS = 10 * 60
# A row still "sending" after this long belongs to a worker that died mid-send.
STALE_SENDING = dt.timedelta(hours=1)
# Keep one batch task well inside Celery's time limit whatever the rate.
BATCH_MINUTES = 10


class TemporaryMailError(Exception):
    """The mail server could not take a mail now; try again later."""


def send_confirmation(subscription_id: int, frequency: str) -> bool:
    """Mail the confirmation link; False when the subscription is gone or the address refused.

    A refused address (5xx) counts as a bounce; raises TemporaryMailError for what may pass later.
    """
    subscription = (
        Subscription.objects.select_related("subscriber", "topic", "tag")
        .filter(pk=subscription_id)
        .first()
    )
    if subscription is None:
        return False
    subscriber = subscription.subscriber
    message = confirmation_message(subscription, frequency)
    try:
        message.send()
    except Exception as exc:  # noqa: BLE001 - sorted into bounce or temporary below
        failure = classify_failure(exc)
        if failure.bounce:
            record_bounce(subscriber, failure.error)
        if failure.permanent:
            logger.warning(
                "Confirmation mail to subscriber %s refused: %s", subscriber.pk, failure.error
            )
            return False
        raise TemporaryMailError(failure.error) from exc
    return True


@dataclass
class Failure:
    permanent: bool  # never try this mail again
    bounce: bool  # the address was refused: counts towards disabling it
    recipient_only: bool  # the server is fine; the next mail may go over the same connection
    error: str


def _smtp_text(code: int, text: bytes | str) -> str:
    return f"{code} {text.decode(errors='replace') if isinstance(text, bytes) else text}"


def classify_failure(exc: Exception) -> Failure:
    """Sort a sending error: a 5xx for the recipient is a bounce; a 4xx or a lost connection passes."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        code, text = next(iter(exc.recipients.values()), (0, b""))
        permanent = 500 <= code < 600
        return Failure(permanent, permanent, True, _smtp_text(code, text))
    if isinstance(exc, smtplib.SMTPResponseException):
        # A 5xx for the message itself (content refused) fails it without blaming the address;
        # anything else about the session (sender refused, authentication, 4xx) may pass later.
        permanent = isinstance(exc, smtplib.SMTPDataError) and 500 <= exc.smtp_code < 600
        return Failure(permanent, False, False, _smtp_text(exc.smtp_code, exc.smtp_error))
    return Failure(False, False, False, f"{type(exc).__name__}: {exc}")


def record_bounce(subscriber: Subscriber, error: str) -> None:
    """Count a permanent refusal; after MAIL_MAX_FAILURES in a row the address is disabled."""
    Subscriber.objects.filter(pk=subscriber.pk).update(
        failures=F("failures") + 1, last_error=error[:1000]
    )
    Subscriber.objects.filter(
        pk=subscriber.pk, failures__gte=settings.MAIL_MAX_FAILURES, disabled_at__isnull=True
    ).update(disabled_at=timezone.now())


def wait_for_send_slot(
    clock: Callable[[], float] | None = None, sleep: Callable[[float], None] | None = None
) -> None:
    """Hold MAIL_RATE_PER_MINUTE over every worker: sends are counted per clock minute in the cache."""
    clock, sleep = clock or time.time, sleep or time.sleep
    while True:
        now = clock()
        window = int(now // 60)
        key = f"subscriptions:rate:{window}"
        cache.add(key, 0, timeout=120)
        try:
            count = cache.incr(key)
        except ValueError:  # expired between add and incr: count again
            continue
        if count <= settings.MAIL_RATE_PER_MINUTE:
            return
        sleep((window + 1) * 60 - now)


def sending_paused() -> bool:
    return MailSettings.load().paused


def _finish(send: MailSend, state: str, error: str = "", **fields) -> None:
    MailSend.objects.filter(pk=send.pk, state=MailSend.State.SENDING).update(
        state=state, error=error[:2000], **fields
    )


# What send_one() answers besides the MailSend states.
TAKEN = "taken"  # not queued (sent, or claimed by another worker), or not due yet
SERVER_ERROR = "server-error"  # queued again; the mail server is in trouble, stop the batch


def send_one(send_id: int, connection) -> str:
    """Send one queued mail over `connection`; returns the state it ends in, or TAKEN."""
    now = timezone.now()
    claimed = MailSend.objects.filter(
        pk=send_id, state=MailSend.State.QUEUED, next_attempt_at__lte=now
    ).update(state=MailSend.State.SENDING, claimed_at=now, attempts=F("attempts") + 1)
    if not claimed:
        return TAKEN
    send = MailSend.objects.select_related("subscriber", "digest__topic").get(pk=send_id)
    try:
        if not send.subscriber.is_active:
            _finish(send, MailSend.State.SKIPPED, "address disabled or not confirmed")
            return MailSend.State.SKIPPED
        message = build_digest_message(send, connection)
        if message is None:
            _finish(send, MailSend.State.SKIPPED, "nothing left to send")
            return MailSend.State.SKIPPED
        wait_for_send_slot()
        connection.open()
        message.send()
    except Exception as exc:  # noqa: BLE001 - one address never stops the batch
        return _failed(send, exc, connection)
    _finish(send, MailSend.State.SENT, sent_at=timezone.now())
    Subscriber.objects.filter(pk=send.subscriber_id, failures__gt=0).update(failures=0)
    return MailSend.State.SENT


def _failed(send: MailSend, exc: Exception, connection) -> str:
    failure = classify_failure(exc)
    if not isinstance(exc, smtplib.SMTPException | OSError):
        logger.exception("Mail %s failed unexpectedly", send.pk)
    if not failure.recipient_only:
        # The connection may be broken; the next mail opens a new one.
        try:
            connection.close()
        except (smtplib.SMTPException, OSError):
            connection.connection = None
    if failure.bounce:
        record_bounce(send.subscriber, failure.error)
    if failure.permanent or send.attempts >= MAX_ATTEMPTS:
        _finish(send, MailSend.State.FAILED, failure.error)
        return MailSend.State.FAILED
    delay = dt.timedelta(seconds=RETRY_BASE_SECONDS * 2 ** (send.attempts - 1))
    _finish(send, MailSend.State.QUEUED, failure.error, next_attempt_at=timezone.now() + delay)
    return MailSend.State.QUEUED if failure.recipient_only else SERVER_ERROR


def send_mails(send_ids: Iterable[int]) -> Counter:
    """Send these queued mails over one connection.

    Stops when an editor pauses sending or the mail server fails (not just one recipient): the
    rest stay queued for the next run.
    """
    results: Counter = Counter()
    connection = get_connection()
    try:
        for send_id in send_ids:
            if sending_paused():
                results["paused"] += 1
                break
            result = send_one(send_id, connection)
            results[result] += 1
            if result == SERVER_ERROR:
                break
    finally:
        try:
            connection.close()
        except (smtplib.SMTPException, OSError):
            pass
    return results


def release_stale_sends() -> int:
    """Queue again the mails of workers that died mid-send (the server may or may not have them)."""
    return MailSend.objects.filter(
        state=MailSend.State.SENDING, claimed_at__lt=timezone.now() - STALE_SENDING
    ).update(state=MailSend.State.QUEUED, error="interrupted while sending")


def due_batches() -> list[list[int]]:
    """The ids of queued mails that are due, cut into batches for the workers."""
    size = min(settings.MAIL_BATCH_SIZE, settings.MAIL_RATE_PER_MINUTE * BATCH_MINUTES)
    ids = list(
        MailSend.objects.filter(state=MailSend.State.QUEUED, next_attempt_at__lte=timezone.now())
        .order_by("id")
        .values_list("id", flat=True)
    )
    return [ids[i : i + size] for i in range(0, len(ids), size)]
