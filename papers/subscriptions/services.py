"""E-mail subscriptions: subscribe (double opt-in), confirm, unsubscribe, and send digest mails.

Sending happens in two steps. Queueing creates one `MailSend` per subscriber and key (`digest:<id>`,
or `week:<YYYY>-W<NN>` for weekly subscribers) with the papers it will carry; the unique
(subscriber, key) makes queueing idempotent. Delivery claims a row with a conditional UPDATE
(queued -> sending) before talking to the mail server, so a retried task or a second worker never
sends the same mail twice. A row left "sending" by a worker that died goes back to the queue after
`STALE_SENDING`; it keeps its Message-ID, so a receiving server can still drop the duplicate.
"""

import datetime as dt
import logging
import smtplib
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from django.conf import settings
from django.core import signing
from django.core.cache import cache
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import transaction
from django.db.models import F, Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from papers.models import (
    Digest,
    DigestEntry,
    Frequency,
    MailSend,
    MailSettings,
    Paper,
    Status,
    Subscriber,
    Subscription,
    Tag,
    TaggedPaper,
    Topic,
    TopicPaper,
    summary_fallback_note,
)

logger = logging.getLogger(__name__)

CONFIRM_SALT = "papers.subscriptions.confirm"
# A temporary failure (4xx, a connection problem) is tried again after 10, 20, 40 ... minutes,
# about a day in all, then the send is marked failed.
MAX_ATTEMPTS = 8
RETRY_BASE_SECONDS = 10 * 60
# A row still "sending" after this long belongs to a worker that died mid-send.
STALE_SENDING = dt.timedelta(hours=1)
# Keep one batch task well inside Celery's time limit whatever the rate.
BATCH_MINUTES = 10
# Publishing an old digest (importing an archive, re-publishing) mails nobody.
DIGEST_MAIL_MAX_AGE = dt.timedelta(days=7)


class ConfirmationError(Exception):
    """A confirmation link that is malformed, expired, or whose subscription is gone."""


class TemporaryMailError(Exception):
    """The mail server could not take a mail now; try again later."""


# Links, headers and messages.


def absolute_url(path: str) -> str:
    return settings.SITE_URL + path


def manage_url(subscriber: Subscriber) -> str:
    return absolute_url(reverse("subscriptions:manage", args=[subscriber.token]))


def unsubscribe_url(subscriber: Subscriber) -> str:
    return absolute_url(reverse("subscriptions:unsubscribe", args=[subscriber.token]))


def confirm_url(subscription: Subscription, frequency: str) -> str:
    value = signing.dumps([subscription.pk, frequency], salt=CONFIRM_SALT)
    return absolute_url(reverse("subscriptions:confirm", args=[value]))


def list_headers(subscriber: Subscriber) -> dict[str, str]:
    """RFC 2369 / RFC 8058 headers: mail programs show an unsubscribe button that POSTs the URL."""
    return {
        "List-Unsubscribe": f"<{unsubscribe_url(subscriber)}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _message(
    subscriber: Subscriber, subject: str, template: str, context: dict, connection=None
) -> EmailMultiAlternatives:
    """A mail with plain-text and HTML parts from `subscriptions/mail/<template>.{txt,html}`."""
    context = {
        "SITE_NAME": settings.SITE_NAME,
        "SITE_URL": settings.SITE_URL,
        "manage_url": manage_url(subscriber),
        "unsubscribe_url": unsubscribe_url(subscriber),
        **context,
    }
    message = EmailMultiAlternatives(
        subject=_one_line(subject),
        body=render_to_string(f"subscriptions/mail/{template}.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[subscriber.email],
        headers=list_headers(subscriber),
        connection=connection,
    )
    message.attach_alternative(
        render_to_string(f"subscriptions/mail/{template}.html", context), "text/html"
    )
    return message


# Subscribing.


def throttle_allows(kind: str, value: str) -> bool:
    """Count one subscribe request for this address or client; False once over the hourly limit."""
    digest = salted_hmac("papers.subscriptions.throttle", value).hexdigest()
    key = f"subscriptions:throttle:{kind}:{digest}"
    cache.add(key, 0, timeout=60 * 60)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.add(key, 1, timeout=60 * 60)
        count = 1
    return count <= settings.SUBSCRIBE_THROTTLE_PER_HOUR


def subscribe(
    email: str,
    *,
    topic: Topic | None = None,
    tag: Tag | None = None,
    frequency: str = Frequency.DAILY,
) -> Subscription:
    """Record a pending subscription and mail its confirmation link (after the commit).

    Nothing but that mail is sent before the link is followed. For an address that already follows
    the target, the link confirms the (possibly new) frequency; the form never changes a confirmed
    subscription by itself, so a stranger who knows an address can only cause a confirmation mail.
    """
    if (topic is None) == (tag is None):
        raise ValueError("subscribe to exactly one topic or tag")
    if frequency not in Frequency.values:
        raise ValueError(f"unknown frequency {frequency!r}")
    from papers.subscriptions import tasks as mail_tasks

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
        mail_tasks.send_confirmation_mail.delay_on_commit(subscription.pk, frequency)
    return subscription


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
    message = _message(
        subscriber,
        _("Confirm your subscription to %(name)s") % {"name": subscription.target_name},
        "confirm",
        {
            "subscription": subscription,
            "target_url": absolute_url(subscription.target.get_absolute_url()),
            "frequency_label": Frequency(frequency).label,
            "confirm_url": confirm_url(subscription, frequency),
            "max_age_days": settings.SUBSCRIPTION_CONFIRM_MAX_AGE_DAYS,
        },
    )
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


# Queueing digest mails.


def week_key(day: dt.date) -> str:
    year, week, _weekday = day.isocalendar()
    return f"week:{year}-W{week:02d}"


def week_bounds(key: str) -> tuple[dt.datetime, dt.datetime]:
    """`week:2025-W03` -> that ISO week's start and end (exclusive), in UTC."""
    year, week = key.removeprefix("week:").split("-W")
    start = dt.datetime.combine(
        dt.date.fromisocalendar(int(year), int(week), 1), dt.time(), tzinfo=dt.UTC
    )
    return start, start + dt.timedelta(days=7)


def _tag_papers(paper_ids: Iterable[int]) -> dict[int, set[int]]:
    """tag id -> the ids among `paper_ids` that carry it."""
    tag_papers: dict[int, set[int]] = defaultdict(set)
    rows = TaggedPaper.objects.filter(content_object_id__in=list(paper_ids))
    for paper_id, tag_id in rows.values_list("content_object_id", "tag_id"):
        tag_papers[tag_id].add(paper_id)
    return tag_papers


def _queue(
    key: str, frequency: str, topic_papers: dict[int, set[int]], digest: Digest | None = None
) -> int:
    """Queue one mail per subscriber with the papers of what they follow that they have not had."""
    paper_ids = set().union(*topic_papers.values()) if topic_papers else set()
    if not paper_ids:
        return 0
    tag_papers = _tag_papers(paper_ids)
    subscriptions = (
        Subscription.objects.confirmed()
        .filter(frequency=frequency, subscriber__in=Subscriber.objects.active())
        .filter(Q(topic_id__in=list(topic_papers)) | Q(tag_id__in=list(tag_papers)))
    )
    wanted: dict[int, set[int]] = defaultdict(set)
    for subscription in subscriptions:
        if subscription.topic_id:
            wanted[subscription.subscriber_id] |= topic_papers[subscription.topic_id]
        else:
            wanted[subscription.subscriber_id] |= tag_papers[subscription.tag_id]
    # A paper already mailed to an address (with another digest, or daily) is not mailed again.
    had = (
        MailSend.papers.through.objects.filter(
            mailsend__subscriber_id__in=list(wanted), paper_id__in=paper_ids
        )
        .exclude(mailsend__state__in=[MailSend.State.FAILED, MailSend.State.SKIPPED])
        .exclude(mailsend__key=key)
    )
    for subscriber_id, paper_id in had.values_list("mailsend__subscriber_id", "paper_id"):
        wanted[subscriber_id].discard(paper_id)
    queued = 0
    for subscriber_id, papers in wanted.items():
        if not papers:
            continue
        with transaction.atomic():
            send, created = MailSend.objects.get_or_create(
                subscriber_id=subscriber_id,
                key=key,
                defaults={"frequency": frequency, "digest": digest},
            )
            if created:
                send.papers.set(papers)
                queued += 1
    return queued


def queue_digest_mails(digest: Digest) -> int:
    """Queue the mails for a published digest to its daily subscribers; returns how many are new.

    A digest dated more than DIGEST_MAIL_MAX_AGE ago (an imported archive) is mailed to nobody.
    """
    if not digest.is_published or digest.date < timezone.now().date() - DIGEST_MAIL_MAX_AGE:
        return 0
    paper_ids = set(
        Paper.objects.published().filter(digest_entries__digest=digest).values_list("id", flat=True)
    )
    return _queue(f"digest:{digest.pk}", Frequency.DAILY, {digest.topic_id: paper_ids}, digest)


def queue_weekly_mails(key: str | None = None) -> int:
    """Queue the weekly mails for digests published in one ISO week (default: the last complete one)."""
    key = key or week_key(timezone.now().date() - dt.timedelta(days=7))
    start, end = week_bounds(key)
    entries = DigestEntry.objects.filter(
        digest__status=Status.PUBLISHED,
        digest__published_at__gte=start,
        digest__published_at__lt=end,
        paper__in=Paper.objects.published(),
    )
    topic_papers: dict[int, set[int]] = defaultdict(set)
    for topic_id, paper_id in entries.values_list("digest__topic_id", "paper_id"):
        topic_papers[topic_id].add(paper_id)
    return _queue(key, Frequency.WEEKLY, topic_papers)


# Rendering one mail.


@dataclass
class Section:
    """What one subscription contributes to a mail."""

    title: str
    url: str
    papers: list[dict] = field(default_factory=list)


def _paper_item(paper: Paper, language: str) -> dict:
    summary = paper.summary_for(language)
    names = paper.author_names
    return {
        "title": _one_line(paper.title),
        "url": absolute_url(paper.get_absolute_url()),
        "abs_url": paper.abs_url,
        "arxiv_id": paper.arxiv_id,
        "authors": ", ".join(names[:6]) + (" …" if len(names) > 6 else ""),
        "summary_note": summary_fallback_note(summary, language),
        "tldr": _one_line(summary.tldr) if summary else "",
        "key_takeaways": [_one_line(t) for t in summary.key_takeaways] if summary else [],
    }


def mail_sections(send: MailSend) -> list[Section]:
    """The send's papers grouped by the subscriptions that still want them, each paper once."""
    subscriptions = (
        send.subscriber.subscriptions.confirmed()
        .filter(frequency=send.frequency)
        .select_related("topic", "tag")
    )
    papers = {
        paper.pk: paper
        for paper in send.papers.published().prefetch_related("summaries").order_by("-published")
    }
    positions: dict[int, int] = {}
    if send.digest_id:
        positions = dict(
            DigestEntry.objects.filter(digest_id=send.digest_id).values_list("paper_id", "position")
        )
    # The digest's order first; the rest newest first (the sort is stable).
    order = sorted(papers, key=lambda pk: positions.get(pk, len(positions)))
    in_topic: dict[int, set[int]] = defaultdict(set)
    for topic_id, paper_id in DigestEntry.objects.filter(
        paper_id__in=papers, digest__status=Status.PUBLISHED
    ).values_list("digest__topic_id", "paper_id"):
        in_topic[topic_id].add(paper_id)
    for topic_id, paper_id in TopicPaper.objects.filter(paper_id__in=papers).values_list(
        "topic_id", "paper_id"
    ):
        in_topic[topic_id].add(paper_id)
    tag_papers = _tag_papers(papers)

    sections = []
    placed: set[int] = set()
    for subscription in subscriptions:
        if subscription.topic_id:
            members, language = in_topic[subscription.topic_id], subscription.topic.language
        else:
            members, language = tag_papers[subscription.tag_id], settings.SUMMARY_LANGUAGE
        chosen = [pk for pk in order if pk in members and pk not in placed]
        if not chosen:
            continue
        placed.update(chosen)
        sections.append(
            Section(
                title=subscription.target_name,
                url=absolute_url(subscription.target.get_absolute_url()),
                papers=[_paper_item(papers[pk], language) for pk in chosen],
            )
        )
    return sections


def build_digest_message(send: MailSend, connection=None) -> EmailMultiAlternatives | None:
    """The mail for one send, or None when nothing is left to send (unsubscribed meanwhile)."""
    sections = mail_sections(send)
    count = sum(len(section.papers) for section in sections)
    if not count:
        return None
    papers_label = ngettext("%(count)d new paper", "%(count)d new papers", count) % {"count": count}
    if send.digest_id:
        heading = send.digest.display_title
        heading_url = absolute_url(send.digest.get_absolute_url())
    else:
        heading = _("Your week %(week)s") % {"week": send.key.removeprefix("week:")}
        heading_url = absolute_url(reverse("papers:home"))
    message = _message(
        send.subscriber,
        f"{settings.SITE_NAME}: {heading} ({papers_label})",
        "digest",
        {
            "heading": heading,
            "heading_url": heading_url,
            "papers_label": papers_label,
            "sections": sections,
        },
        connection=connection,
    )
    domain = settings.SITE_URL.split("://", 1)[-1].split("/", 1)[0].split(":", 1)[0]
    # The same Message-ID for every attempt lets receiving servers drop a duplicate, too.
    message.extra_headers["Message-ID"] = f"<digest-mail-{send.pk}@{domain}>"
    return message


# Delivery.


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
