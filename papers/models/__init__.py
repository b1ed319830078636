"""The domain: topics, papers, summaries, figures, digests, tags and pipeline runs.

Names follow the product contract (DESIGN.md). Data rules live here and in the querysets.
Each module holds one family of models; this package gives every name as `papers.models.X`.
"""

from papers.arxiv_ids import split_arxiv_id  # noqa: F401 - other modules import it from here
from papers.models.authors import AuthorAlias, PaperAuthor, author_key
from papers.models.digests import (
    Arrangement,
    Digest,
    DigestEntry,
    DigestHistory,
    DigestQuerySet,
    record_paper_order,
)
from papers.models.figures import Figure, figure_upload_to
from papers.models.jobs import Job, JobQuerySet
from papers.models.links import PaperLink, RelatedPaper
from papers.models.papers import (
    CORRECTABLE_FIELDS,
    REDISTRIBUTABLE_LICENSES,
    Paper,
    PaperQuerySet,
    TopicPaper,
    license_allows_redistribution,
    license_name,
)
from papers.models.runs import Announcement, PipelineRun
from papers.models.subscriptions import (
    Frequency,
    MailSend,
    MailSettings,
    Subscriber,
    SubscriberQuerySet,
    Subscription,
    SubscriptionQuerySet,
    mask_email,
    new_subscriber_token,
)
from papers.models.summaries import (
    SUMMARY_FIELDS,
    SUMMARY_LIST_FIELDS,
    SUMMARY_TEXT_FIELDS,
    ErrorReport,
    Summary,
    summary_fallback_note,
)
from papers.models.tags import Tag, TaggedPaper
from papers.models.topics import Language, Status, Topic

__all__ = [
    "Language",
    "Status",
    "Topic",
    "Tag",
    "TaggedPaper",
    "CORRECTABLE_FIELDS",
    "PaperQuerySet",
    "Paper",
    "license_name",
    "REDISTRIBUTABLE_LICENSES",
    "license_allows_redistribution",
    "author_key",
    "PaperAuthor",
    "PaperLink",
    "RelatedPaper",
    "AuthorAlias",
    "TopicPaper",
    "SUMMARY_TEXT_FIELDS",
    "SUMMARY_LIST_FIELDS",
    "SUMMARY_FIELDS",
    "Summary",
    "summary_fallback_note",
    "figure_upload_to",
    "Figure",
    "DigestQuerySet",
    "DigestHistory",
    "Arrangement",
    "Digest",
    "record_paper_order",
    "DigestEntry",
    "Announcement",
    "PipelineRun",
    "JobQuerySet",
    "Job",
    "ErrorReport",
    "Frequency",
    "new_subscriber_token",
    "mask_email",
    "SubscriberQuerySet",
    "Subscriber",
    "SubscriptionQuerySet",
    "Subscription",
    "MailSend",
    "MailSettings",
    "split_arxiv_id",
]
