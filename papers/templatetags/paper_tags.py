"""Small template helpers for the public pages."""

from urllib.parse import urlencode

from django import template
from django.http import HttpRequest

from papers import text
from papers.citations import bibtex_entry, highwire_meta
from papers.models import author_key
from papers.public.views import url_in_language

register = template.Library()


@register.simple_tag
def without_tag(request: HttpRequest, slug: str) -> str:
    """The current query string minus one `tag` value (and the page): a chip's remove link."""
    pairs = [
        (key, value)
        for key, values in request.GET.lists()
        for value in values
        if key != "page" and not (key == "tag" and value == slug)
    ]
    return "?" + urlencode(pairs) if pairs else "?"


@register.simple_tag
def with_tag(request: HttpRequest, slug: str) -> str:
    """The current query string plus one more `tag` value (narrowing the list)."""
    pairs = [
        (key, value) for key, values in request.GET.lists() for value in values if key != "page"
    ]
    if ("tag", slug) not in pairs:
        pairs.append(("tag", slug))
    return "?" + urlencode(pairs)


@register.filter
def text_items(values) -> list[str]:
    """Only the string items of a JSON list (summaries come from machines and editors)."""
    if not isinstance(values, list):
        return []
    return [str(v) for v in values if isinstance(v, str | int | float) and str(v).strip()]


@register.filter
def safe_links(values) -> list[dict]:
    """Summary links with an http(s) URL only; anything else (javascript:, data:) is dropped."""
    return [
        {"label": link["label"] or link["url"], "url": link["url"]}
        for link in text.safe_links(values)
    ]


@register.filter
def safe_url(value) -> str:
    """The URL when its scheme is allowed (http, https), else "": never a javascript: link."""
    return text.safe_url(str(value or ""))


@register.filter
def summary_in(paper, language: str):
    """`paper.summary_for(language)` for templates (uses prefetched summaries)."""
    return paper.summary_for(language)


@register.simple_tag
def citation_meta(paper) -> list[tuple[str, str]]:
    """Highwire `citation_*` name/content pairs, for reference managers."""
    return highwire_meta(paper)


@register.filter
def bibtex(paper) -> str:
    return bibtex_entry(paper)


@register.simple_tag
def listing_query(request: HttpRequest) -> str:
    """The current listing's filters as a query string (no page), for its citation files."""
    pairs = [
        (key, value) for key, values in request.GET.lists() for value in values if key != "page"
    ]
    return "?" + urlencode(pairs) if pairs else ""


@register.filter
def author_keys(names: list[str]) -> list[tuple[str, str]]:
    """Each author's name with the key of their author page."""
    return [(name, author_key(name)) for name in names]


@register.simple_tag
def page_in_language(request: HttpRequest, code: str) -> str:
    """This page's absolute URL in another language, for hreflang alternates."""
    return request.build_absolute_uri(url_in_language(request.get_full_path(), code))
