"""The editors' admin, one module per model family; importing the package registers them all.

- common: what several admins share (list fields edited one item per line, thumbnails, links,
  extra pages, actions over the selected rows) and the site's titles.
- topics: topics, their query's dry run; today: the Today page the topic admin serves.
- papers: papers with their summaries, figures and topics inline; figures.
- summaries: summaries, the lock an editor's change sets, machine text next to the current text.
- digests: digests, their papers and cover, the preview; markdown: Markdown import and export.
- runs: pipeline runs and readers' error reports; tags: the site's tags.
- subscriptions: subscribers, subscriptions, mail sends and the pause switch.

Nothing outside this package imports it (Django's admin autodiscovery loads it). The admin may
import papers.models, papers.selectors, the services (papers.pipeline and the like) and papers.tasks;
rules about the data (publishing, digest order, tagging) belong there, not here.
"""

from papers.admin import (  # noqa: F401
    common,
    digests,
    markdown,
    papers,
    runs,
    subscriptions,
    summaries,
    tags,
    today,
    topics,
)
