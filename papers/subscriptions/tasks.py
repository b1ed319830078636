"""Celery tasks for e-mail subscriptions; the work is in `papers.subscriptions.mails` and
`papers.subscriptions.delivery`. A digest that becomes published queues `send_digest_mails` through
`papers.receivers`.
"""

import logging

from celery import shared_task
from django.db import transaction
from kombu.exceptions import OperationalError

from papers.database import DATABASE_ERRORS
from papers.models import Digest
from papers.subscriptions import delivery, mails

logger = logging.getLogger(__name__)


# Queueing is idempotent: while the database restarts, it is simply done again a little later.
RETRIED_WHILE_THE_DATABASE_RESTARTS = {
    "autoretry_for": DATABASE_ERRORS,
    "retry_backoff": 10,
    "retry_jitter": False,
    "max_retries": 3,
}


@shared_task(name="papers.send_digest_mails", **RETRIED_WHILE_THE_DATABASE_RESTARTS)
def send_digest_mails(digest_id: int) -> int:
    """Queue the mails for a newly published digest, then send what is due."""
    digest = Digest.objects.select_related("topic").filter(pk=digest_id).first()
    queued = mails.queue_digest_mails(digest) if digest else 0
    send_queued_mails()
    return queued


@shared_task(name="papers.send_weekly_mails", **RETRIED_WHILE_THE_DATABASE_RESTARTS)
def send_weekly_mails(week: str | None = None) -> int:
    """Queue the weekly mails (`week` like `2025-W03`, default the last complete week), then send."""
    queued = mails.queue_weekly_mails(f"week:{week}" if week else None)
    send_queued_mails()
    return queued


@shared_task(name="papers.send_queued_mails")
def send_queued_mails() -> int:
    """Hand the due queued mails to the workers in batches (also run every few minutes by beat)."""
    if delivery.sending_paused():
        return 0
    delivery.release_stale_sends()
    batches = delivery.due_batches()
    for batch in batches:
        deliver_mail_batch.delay(batch)
    return len(batches)


@shared_task(name="papers.deliver_mail_batch")
def deliver_mail_batch(send_ids: list[int]) -> dict:
    return dict(delivery.send_mails(send_ids))


@shared_task(name="papers.send_confirmation_mail", bind=True, max_retries=5)
def send_confirmation_mail(self, subscription_id: int, frequency: str) -> bool:
    try:
        return delivery.send_confirmation(subscription_id, frequency)
    except delivery.TemporaryMailError as exc:
        if self.request.is_eager:
            # In-process (no broker): there is no later; the reader can ask again.
            logger.warning(
                "Confirmation mail for subscription %s not sent: %s", subscription_id, exc
            )
            return False
        raise self.retry(exc=exc, countdown=60 * 2**self.request.retries) from exc


def queue_confirmation_mail(subscription_id: int, frequency: str) -> None:
    """After the commit, queue the confirmation mail; with the broker unreachable, send it now.

    A reader who subscribes while Redis is down still gets the link (the mail server does not
    need Redis); what cannot be sent at once is logged, and the reader can ask again.
    """

    def queue() -> None:
        try:
            send_confirmation_mail.delay(subscription_id, frequency)
        except OperationalError as exc:
            logger.warning("The broker is unreachable (%s): confirmation mail sent in-process", exc)
            send_confirmation_mail.apply(args=(subscription_id, frequency))

    transaction.on_commit(queue)
