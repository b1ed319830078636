"""Digest mails: what to send to whom (queueing) and what a mail says (building).

Queueing creates one `MailSend` per subscriber and key (`digest:<id>`, or `week:<YYYY>-W<NN>` for
weekly subscribers) with the papers it will carry; the unique (subscriber, key) makes queueing
idempotent. Sending them is `papers.subscriptions.delivery`.
"""

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from papers.models import (
    Digest,
    DigestEntry,
    Frequency,
    MailSend,
    Paper,
    Status,
    Subscriber,
    Subscription,
    TaggedPaper,
    TopicPaper,
    summary_fallback_note,
)
from papers.subscriptions.services import sign_confirmation

# Publishing an old digest (importing an archive, re-publishing) mails nobody.
DIGEST_MAIL_MAX_AGE = dt.timedelta(days=7)


# Links, headers and messages.


def absolute_url(path: str) -> str:
    return settings.SITE_URL + path


def manage_url(subscriber: Subscriber) -> str:
    return absolute_url(reverse("subscriptions:manage", args=[subscriber.token]))


def unsubscribe_url(subscriber: Subscriber) -> str:
    return absolute_url(reverse("subscriptions:unsubscribe", args=[subscriber.token]))


def confirm_url(subscription: Subscription, frequency: str) -> str:
    return absolute_url(
        reverse("subscriptions:confirm", args=[sign_confirmation(subscription, frequency)])
    )


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


def confirmation_message(subscription: Subscription, frequency: str) -> EmailMultiAlternatives:
    """The mail that carries a subscription's confirmation link."""
    return _message(
        subscription.subscriber,
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
