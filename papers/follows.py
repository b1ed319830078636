"""A follow: any combination of filters over published papers, the same for a listing and its feeds.

`/papers/?tag=a&tag=b&any=c&any=d&not=e&topic=t&author=k&category=cs.CV&code=1&q=words` lists the
papers with every `tag`, at least one `any`, no `not`, in topic `t`, by author `k`, in the arXiv
category, with a code link, matching the words; `/feed/` and `/feed/atom/` take the same
parameters. Parameters have one canonical order, so caches and feed readers see one URL per follow.
"""

import re
from dataclasses import dataclass
from urllib.parse import urlencode

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.http import Http404, HttpRequest, QueryDict
from django.utils.translation import gettext as _

from papers import authors, inputs, selectors
from papers.models import PaperLink, Tag, TaggedPaper, Topic

MAX_VALUES = 5  # per parameter
CATEGORY = re.compile(r"^[a-z][a-z-]*(?:\.[A-Za-z][A-Za-z-]*)?$")
# The order parameters take in a canonical URL.
ORDER = ("topic", "author", "category", "tag", "any", "not", "code", "q")


@dataclass(frozen=True)
class Follow:
    tags: tuple[Tag, ...] = ()
    any_tags: tuple[Tag, ...] = ()
    not_tags: tuple[Tag, ...] = ()
    topic: Topic | None = None
    author: str = ""  # the canonical author key
    author_name: str = ""
    category: str = ""
    code: bool = False
    query: str = ""

    def pairs(self) -> list[tuple[str, str]]:
        values = {
            "topic": [self.topic.slug] if self.topic else [],
            "author": [self.author] if self.author else [],
            "category": [self.category] if self.category else [],
            "tag": sorted(tag.slug for tag in self.tags),
            "any": sorted(tag.slug for tag in self.any_tags),
            "not": sorted(tag.slug for tag in self.not_tags),
            "code": ["1"] if self.code else [],
            "q": [self.query] if self.query else [],
        }
        return [(name, value) for name in ORDER for value in values[name]]

    @property
    def mail_scope(self) -> dict:
        """What an e-mail subscription can carry of this follow: one topic or one tag alone."""
        pairs = self.pairs()
        if len(pairs) == 1 and pairs[0][0] == "topic":
            return {"topic": self.topic}
        if len(pairs) == 1 and pairs[0][0] == "tag":
            return {"tag": self.tags[0]}
        return {}

    def query_string(self) -> str:
        """The canonical query string, without "?"; "" for no filter at all."""
        return urlencode(self.pairs())


def _tags(params: QueryDict, name: str) -> tuple[Tag, ...]:
    slugs = selectors.clean_tag_slugs(params.getlist(name))[:MAX_VALUES]
    if not slugs:
        return ()
    tags = selectors.tags_by_slugs(slugs)
    if len(tags) != len(slugs):
        raise Http404("No such tag")
    return tuple({tag.pk: tag for tag in tags}.values())


def _one(params: QueryDict, name: str) -> str:
    values = [v.strip() for v in params.getlist(name) if v.strip()]
    if len(values) > 1:
        raise Http404(f"Only one {name} at a time")
    return values[0][:100] if values else ""


def follow_of(request: HttpRequest) -> Follow:
    """The request's follow, parsed once however many layers (canonical URL, view, feed) ask."""
    if not hasattr(request, "follow"):
        request.follow = parse_follow(request.GET)
    return request.follow


def parse_follow(params: QueryDict) -> Follow:
    """The follow a query string asks for; unknown tags, topics and authors are a 404, and so is
    a control character in any value but the search (which is cleaned instead)."""
    for name, values in params.lists():
        if name != "q" and any(inputs.has_control_characters(value) for value in values):
            raise Http404(f"control characters in {name}")
    topic_slug = _one(params, "topic")
    topic = Topic.objects.filter(slug=topic_slug).first() if topic_slug else None
    if topic_slug and topic is None:
        raise Http404("No such topic")
    author = _one(params, "author")
    author_name = ""
    if author:
        author = authors.canonical_key(author)
        author_name = authors.display_name(author)
        if not author_name:
            raise Http404("No such author")
    category = _one(params, "category")
    if category and not CATEGORY.match(category):
        raise Http404("Not an arXiv category")
    return Follow(
        tags=_tags(params, "tag"),
        any_tags=_tags(params, "any"),
        not_tags=_tags(params, "not"),
        topic=topic,
        author=author,
        author_name=author_name,
        category=category,
        code=params.get("code", "") in ("1", "true", "yes", "on"),
        query=selectors.clean_query(params.get("q", "")),
    )


def _with_tag(tag: Tag) -> Exists:
    return Exists(TaggedPaper.objects.filter(content_object=OuterRef("pk"), tag=tag))


def has_code() -> Exists:
    """A link to code that was not found dead or "coming soon"."""
    usable = PaperLink.objects.filter(paper=OuterRef("pk"), kind=PaperLink.Kind.CODE).exclude(
        state__in=[PaperLink.State.DEAD, PaperLink.State.COMING_SOON]
    )
    return Exists(usable)


def apply(follow: Follow, queryset: QuerySet) -> QuerySet:
    """`queryset` (of papers) narrowed to the follow, best search match first when searching."""
    for tag in follow.tags:
        queryset = queryset.filter(_with_tag(tag))
    if follow.any_tags:
        any_of = Q()
        for tag in follow.any_tags:
            any_of |= Q(_with_tag(tag))
        queryset = queryset.filter(any_of)
    for tag in follow.not_tags:
        queryset = queryset.exclude(_with_tag(tag))
    if follow.topic:
        queryset = queryset.filter(topics=follow.topic)
    if follow.author:
        queryset = authors.papers_by(follow.author, queryset)
    if follow.category:
        queryset = queryset.filter(categories__icontains=f'"{follow.category}"')
    if follow.code:
        queryset = queryset.filter(has_code())
    return selectors.search_papers(queryset, follow.query)


def _names(tags: tuple[Tag, ...], joiner: str) -> str:
    names = [tag.name for tag in tags]
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + f" {joiner} " + names[-1]


def title(follow: Follow) -> str:
    """A human title: "Papers tagged 3DGS and avatars, not NeRF, by J. Smith"."""
    parts = []
    if follow.tags:
        parts.append(_("tagged %(tags)s") % {"tags": _names(follow.tags, _("and"))})
    if follow.any_tags:
        parts.append(_("tagged %(tags)s") % {"tags": _names(follow.any_tags, _("or"))})
    if follow.not_tags:
        parts.append(_("not %(tags)s") % {"tags": _names(follow.not_tags, _("or"))})
    if follow.topic:
        parts.append(_("in %(topic)s") % {"topic": follow.topic.name})
    if follow.author:
        parts.append(_("by %(author)s") % {"author": follow.author_name})
    if follow.category:
        parts.append(_("in %(category)s") % {"category": follow.category})
    if follow.code:
        parts.append(_("with code"))
    if follow.query:
        parts.append(_("matching “%(query)s”") % {"query": follow.query})
    if not parts:
        return _("Papers")
    return _("Papers") + " " + ", ".join(parts)
