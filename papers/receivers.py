"""Every signal receiver of the app, connected once from `PapersConfig.ready()`.

Receivers stay thin: each calls the function that holds the rule. Queryset `.update()` and
`.bulk_create()` send no signals, so code that uses them calls those functions itself.
"""

from celery.signals import task_failure
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_save
from simple_history.signals import pre_create_historical_record

from papers import schedules
from papers import tasks as paper_tasks
from papers.content import bump_content_version
from papers.models import (
    AuthorAlias,
    Digest,
    DigestEntry,
    Figure,
    Paper,
    Status,
    Summary,
    Tag,
    TaggedPaper,
    Topic,
    TopicPaper,
    record_paper_order,
)
from papers.subscriptions import tasks as mail_tasks

# What readers see: a change to any of these makes every cached page stale.
SEEN_BY_READERS = (
    Paper,
    Summary,
    Figure,
    Digest,
    DigestEntry,
    Topic,
    TopicPaper,
    Tag,
    TaggedPaper,
    AuthorAlias,
)


def content_changed(**kwargs) -> None:
    bump_content_version()


def tags_changed(action: str, **kwargs) -> None:
    """m2m_changed: a paper's tags changed once the change is done (not before it, "pre_*")."""
    if action.startswith("post_"):
        bump_content_version()


def remember_digest_status(sender, instance: Digest, **kwargs) -> None:
    """pre_save: was the digest already published in the database?"""
    instance._was_published = (
        instance.status == Status.PUBLISHED
        and instance.pk is not None
        and Digest.objects.filter(pk=instance.pk, status=Status.PUBLISHED).exists()
    )


def digest_saved(sender, instance: Digest, **kwargs) -> None:
    """post_save: a digest that has just become published mails its subscribers after the commit."""
    if instance.status == Status.PUBLISHED and not getattr(instance, "_was_published", False):
        mail_tasks.send_digest_mails.delay_on_commit(instance.pk)


def topic_deleted(sender, instance: Topic, **kwargs) -> None:
    schedules.remove_topic_schedule(instance)


def connect() -> None:
    """Connect every receiver (idempotent: each has a dispatch_uid)."""
    for model in SEEN_BY_READERS:
        uid = f"papers.content-version.{model.__name__}"
        post_save.connect(content_changed, sender=model, dispatch_uid=uid + ".save")
        post_delete.connect(content_changed, sender=model, dispatch_uid=uid + ".delete")
    m2m_changed.connect(
        tags_changed, sender=TaggedPaper, dispatch_uid="papers.content-version.tags"
    )
    pre_save.connect(
        remember_digest_status, sender=Digest, dispatch_uid="papers.mail.digest-status"
    )
    post_save.connect(digest_saved, sender=Digest, dispatch_uid="papers.mail.digest-published")
    post_delete.connect(topic_deleted, sender=Topic, dispatch_uid="papers.schedule.topic-deleted")
    task_failure.connect(paper_tasks.processing_gave_up, dispatch_uid="papers.processing.gave-up")
    pre_create_historical_record.connect(
        record_paper_order, sender=Digest.history.model, dispatch_uid="papers.history.paper-order"
    )
