"""RSS 2.0 and Atom feeds: the site's latest papers, papers per tag, digests per topic.

Every text is cleaned of control characters (one of them anywhere breaks the XML) and bidi
controls, titles are escaped for RSS readers, and every HTML body is built by format_html from
escaped parts: the only markup in it is the feed's own, so nothing is left to sanitize per request.
"""

import mimetypes
from dataclasses import dataclass

from django.conf import settings
from django.contrib.syndication.views import Feed
from django.db.models import prefetch_related_objects
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.feedgenerator import Atom1Feed, Enclosure
from django.utils.html import escape, format_html, format_html_join
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from papers import follows, selectors, text
from papers.models import (
    Digest,
    DigestEntry,
    Figure,
    Paper,
    Summary,
    Tag,
    Topic,
    summary_fallback_note,
)

# Items of a paper feed, and about the number of papers in a topic feed (whole digests).
FEED_SIZE = 50


def clean_text(value: object) -> str:
    """Text without the control characters XML cannot carry (rows stored before the cleaner)."""
    return text.clean_text(str(value or ""))


def plain_text(feed: Feed, value: object) -> str:
    """A title or description: RSS readers treat these as HTML, Atom's are plain text."""
    value = clean_text(value)
    return value if feed.feed_type is Atom1Feed else escape(value)


def summary_html(paper: Paper, summary: Summary | None) -> str:
    """A paper's summary as a small HTML body, built from escaped parts: one-liner, key
    takeaways, else the abstract."""
    if not (summary and (summary.tldr or summary.key_takeaways)):
        return format_html("<p>{}</p>", clean_text(paper.abstract))
    takeaways = [t for t in summary.key_takeaways or [] if isinstance(t, str)]
    items = format_html_join("", "<li>{}</li>", ((clean_text(t),) for t in takeaways))
    return format_html(
        "{}{}",
        format_html("<p>{}</p>", clean_text(summary.tldr)) if summary.tldr else "",
        format_html("<ul>{}</ul>", items) if takeaways else "",
    )


@dataclass
class FeedScope:
    """What a feed is about, and the request (for absolute links to figures)."""

    request: HttpRequest
    tag: Tag | None = None
    topic: Topic | None = None
    follow: follows.Follow | None = None


def enclosure_for(request: HttpRequest, figure: Figure | None) -> Enclosure | None:
    if figure is None:
        return None
    if figure.image:
        try:
            length = figure.image.size
        except OSError:
            return None
        mime = mimetypes.guess_type(figure.image.name)[0] or "image/png"
    else:
        length = 0
        mime = mimetypes.guess_type(figure.source_url)[0] or "image/jpeg"
    return Enclosure(request.build_absolute_uri(figure.url), str(length), mime)


class PaperFeed(Feed):
    """The latest published papers, newest first; narrowed by a follow's parameters, if any."""

    def get_object(self, request: HttpRequest, *args, **kwargs) -> FeedScope:
        return FeedScope(request, follow=follows.follow_of(request))

    def title(self, scope: FeedScope) -> str:
        if scope.follow and scope.follow.pairs():
            return plain_text(self, f"{settings.SITE_NAME}: {follows.title(scope.follow)}")
        return plain_text(self, _("%(site)s: latest papers") % {"site": settings.SITE_NAME})

    def link(self, scope: FeedScope) -> str:
        query = scope.follow.query_string() if scope.follow else ""
        return reverse("papers:paper_list") + (f"?{query}" if query else "")

    def description(self, scope: FeedScope) -> str:
        return plain_text(self, _("New arXiv papers with short summaries."))

    def paper_queryset(self, scope: FeedScope):
        papers = selectors.papers_for_listing()
        if scope.follow:
            papers = follows.apply(scope.follow, papers)
        return papers.prefetch_related(selectors.visible_figures())

    def items(self, scope: FeedScope) -> list[Paper]:
        papers = list(self.paper_queryset(scope)[:FEED_SIZE])
        for paper in papers:
            paper.feed_enclosure = enclosure_for(scope.request, selectors.cover_figure(paper))
        return papers

    def item_title(self, paper: Paper) -> str:
        return plain_text(self, paper.title)

    def item_description(self, paper: Paper) -> str:
        language = self.scope_language(paper)
        body = summary_html(paper, paper.summary_for(language))
        if paper.journal_ref:
            venue = _("Published in %(venue)s") % {"venue": clean_text(paper.journal_ref)}
            body = format_html("<p><em>{}</em></p>{}", venue, body)
        return body

    def scope_language(self, paper: Paper) -> str:
        return "zh" if (get_language() or "").startswith("zh") else "en"

    def item_link(self, paper: Paper) -> str:
        return paper.get_absolute_url()

    def item_author_name(self, paper: Paper) -> str:
        return clean_text(", ".join(paper.author_names))

    def item_pubdate(self, paper: Paper):
        return paper.published or paper.published_at

    def item_updateddate(self, paper: Paper):
        return paper.updated_at

    def item_categories(self, paper: Paper) -> list[str]:
        return [clean_text(tag.name) for tag in paper.tag_list()]

    def item_enclosures(self, paper: Paper) -> list[Enclosure]:
        enclosure = getattr(paper, "feed_enclosure", None)
        return [enclosure] if enclosure else []


class PaperAtomFeed(PaperFeed):
    feed_type = Atom1Feed

    def subtitle(self, scope: FeedScope) -> str:
        return self.description(scope)


class TagFeed(PaperFeed):
    """Published papers with one tag."""

    def get_object(self, request: HttpRequest, slug: str) -> FeedScope:
        return FeedScope(request, tag=get_object_or_404(Tag, slug=slug))

    def title(self, scope: FeedScope) -> str:
        return plain_text(
            self,
            _("%(site)s: papers tagged %(tag)s") % {"site": settings.SITE_NAME, "tag": scope.tag},
        )

    def link(self, scope: FeedScope) -> str:
        return scope.tag.get_absolute_url()

    def paper_queryset(self, scope: FeedScope):
        return selectors.filter_papers([scope.tag], "").prefetch_related(
            selectors.visible_figures()
        )


class TagAtomFeed(TagFeed):
    feed_type = Atom1Feed

    def subtitle(self, scope: FeedScope) -> str:
        return self.description(scope)


class PicksFeed(Feed):
    """The editors' picks of a topic, newest first, each with the editors' reason."""

    def get_object(self, request: HttpRequest, slug: str) -> FeedScope:
        return FeedScope(request, topic=get_object_or_404(Topic, slug=slug))

    def title(self, scope: FeedScope) -> str:
        return plain_text(
            self,
            _("%(site)s: editors' picks in %(topic)s")
            % {"site": settings.SITE_NAME, "topic": scope.topic.name},
        )

    def link(self, scope: FeedScope) -> str:
        return scope.topic.get_absolute_url()

    def description(self, scope: FeedScope) -> str:
        return plain_text(
            self, _("Papers the editors picked from the daily digests, with their reasons.")
        )

    def items(self, scope: FeedScope) -> list[DigestEntry]:
        return list(selectors.topic_picks(scope.topic)[:FEED_SIZE])

    def item_title(self, entry: DigestEntry) -> str:
        title = clean_text(entry.paper.title)
        return title if self.feed_type is Atom1Feed else escape(title)

    def item_description(self, entry: DigestEntry) -> str:
        summary = entry.paper.summary_for(entry.digest.topic.language)
        reason = format_html("<p><strong>{}</strong></p>", clean_text(entry.pick_reason))
        return format_html("{}{}", reason, summary_html(entry.paper, summary))

    def item_link(self, entry: DigestEntry) -> str:
        return entry.paper.get_absolute_url()

    def item_guid(self, entry: DigestEntry) -> str:
        return f"pick-{entry.digest_id}-{entry.paper_id}"

    item_guid_is_permalink = False

    def item_pubdate(self, entry: DigestEntry):
        return entry.digest.published_at

    def item_author_name(self, entry: DigestEntry) -> str:
        return clean_text(", ".join(entry.paper.author_names))


class TopicFeed(Feed):
    """A topic's published digests, newest first; each item lists the digest's papers."""

    def get_object(self, request: HttpRequest, slug: str) -> FeedScope:
        return FeedScope(request, topic=get_object_or_404(Topic, slug=slug))

    def title(self, scope: FeedScope) -> str:
        return plain_text(self, f"{settings.SITE_NAME}: {scope.topic.name}")

    def link(self, scope: FeedScope) -> str:
        return scope.topic.get_absolute_url()

    def description(self, scope: FeedScope) -> str:
        return plain_text(self, scope.topic.description or _("Daily digests of new arXiv papers."))

    def items(self, scope: FeedScope) -> list[Digest]:
        """The latest digests, until they hold about FEED_SIZE papers: the feed's size does not
        grow with the topic's archive."""
        digests = []
        papers = 0
        for digest in selectors.topic_digests(scope.topic)[:FEED_SIZE]:
            if papers >= FEED_SIZE:
                break
            digests.append(digest)
            papers += digest.paper_count
        prefetch_related_objects(digests, selectors.feed_entries())
        for digest in digests:
            digest.feed_enclosure = enclosure_for(scope.request, selectors.digest_cover(digest))
            digest.feed_request = scope.request
        return digests

    def item_title(self, digest: Digest) -> str:
        return plain_text(self, digest.display_title)

    def item_description(self, digest: Digest) -> str:
        parts = [format_html("<p>{}</p>", clean_text(digest.intro))] if digest.intro else []
        for entry in digest.entries.all():
            paper = entry.paper
            summary = paper.summary_for(digest.topic.language)
            note = summary_fallback_note(summary, digest.topic.language)
            parts.append(
                format_html(
                    '<h3><a href="{}">{}</a></h3>{}{}',
                    digest.feed_request.build_absolute_uri(paper.get_absolute_url()),
                    clean_text(paper.title),
                    format_html("<p><em>{}</em></p>", note) if note else "",
                    summary_html(paper, summary),
                )
            )
        return format_html_join("", "{}", ((part,) for part in parts))

    def item_link(self, digest: Digest) -> str:
        return digest.get_absolute_url()

    def item_pubdate(self, digest: Digest):
        return digest.published_at or digest.created_at

    def item_updateddate(self, digest: Digest):
        return digest.updated_at

    def item_categories(self, digest: Digest) -> list[str]:
        return [clean_text(digest.topic.name)]

    def item_enclosures(self, digest: Digest) -> list[Enclosure]:
        enclosure = getattr(digest, "feed_enclosure", None)
        return [enclosure] if enclosure else []


class TopicAtomFeed(TopicFeed):
    feed_type = Atom1Feed

    def subtitle(self, scope: FeedScope) -> str:
        return self.description(scope)
