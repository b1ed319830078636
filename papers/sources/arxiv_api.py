"""Talking to arXiv's API through the `arxiv` package, and turning its results into paper fields.

The client is pointed at ARXIV_API_URL and given a PoliteSession, so every request keeps the
deployment-wide spacing, has a time-out and is retried with back-off (the package has neither).
"""

import datetime as dt
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

import arxiv
import ftfy
from django.conf import settings

from papers.exclusions import first_rule
from papers.models import Topic, split_arxiv_id
from papers.sources.politeness import PoliteSession, backoff_seconds

# Control characters break feeds and XML; arXiv text may carry them.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class ArxivUnavailable(Exception):
    """arXiv could not be asked (network, 5xx after retries, malformed answer)."""


class _Client(arxiv.Client):
    """The package's client, refusing answers that are not an API feed (HTML, broken XML).

    Its parser recovers from anything and would take such an answer for "no results".
    """

    def _parse_feed(self, url, first_page=True, _try_index=0):
        if _try_index:
            # The package retries empty pages and errors at once; arXiv wants us to back off.
            time.sleep(backoff_seconds(_try_index - 1))
        feed = super()._parse_feed(url, first_page=first_page, _try_index=_try_index)
        last = getattr(self._session, "last_response", None)
        if not feed.results and (
            feed.malformed or last is None or b"opensearch:totalResults" not in last.content
        ):
            raise ArxivUnavailable(f"arXiv answered something that is not an API feed: {url}")
        return feed


def make_client() -> arxiv.Client:
    client = _Client(
        page_size=settings.ARXIV_PAGE_SIZE,
        # The spacing is kept across processes by PoliteSession; the package's own is per object.
        delay_seconds=0,
        num_retries=2,
    )
    client.query_url_format = settings.ARXIV_API_URL + "?{}"
    client._session = PoliteSession()
    return client


def clean(text: str | None) -> str:
    """Repair mojibake arXiv sometimes sends, drop control characters, fold white space."""
    if not text:
        return ""
    text = ftfy.fix_text(text)
    return " ".join(_CONTROL.sub(" ", text).split())


def clean_abstract(text: str | None) -> str:
    """Like clean(), but keep paragraph breaks while joining arXiv's hard-wrapped lines."""
    if not text:
        return ""
    paragraphs = re.split(r"\n\s*\n", ftfy.fix_text(text).strip())
    return "\n\n".join(clean(p) for p in paragraphs if p.strip())


@dataclass
class PaperData:
    """One arXiv result as the fields of Paper, repaired; `raw_title` as arXiv sent it."""

    arxiv_id: str
    version: int
    title: str
    raw_title: str
    authors: list[dict]
    abstract: str
    comment: str
    journal_ref: str
    doi: str
    primary_category: str
    categories: list[str]
    published: dt.datetime
    updated: dt.datetime
    abs_url: str
    pdf_url: str
    matched_terms: list[str] = field(default_factory=list)
    excluded_by: str = ""

    def paper_fields(self) -> dict:
        return {
            "version": self.version,
            "title": self.title,
            "title_raw": self.raw_title,
            "authors": self.authors,
            "abstract": self.abstract,
            "comment": self.comment,
            "journal_ref": self.journal_ref,
            "doi": self.doi,
            "primary_category": self.primary_category,
            "categories": self.categories,
            "published": self.published,
            "updated": self.updated,
            "abs_url": self.abs_url,
            "pdf_url": self.pdf_url,
        }


def paper_data(result: arxiv.Result) -> PaperData:
    arxiv_id, version = split_arxiv_id(result.get_short_id())
    authors = []
    for author in result.authors:
        entry = {"name": clean(author.name)}
        if author.affiliation:
            entry["affiliation"] = "; ".join(clean(a) for a in author.affiliation)
        authors.append(entry)
    return PaperData(
        arxiv_id=arxiv_id,
        version=version or 1,
        title=clean(result.title),
        raw_title=result.title or "",
        authors=authors,
        abstract=clean_abstract(result.summary),
        comment=clean(result.comment),
        journal_ref=clean(result.journal_ref),
        doi=(result.doi or "").strip(),
        primary_category=result.primary_category or "",
        categories=list(result.categories or []),
        published=result.published,
        updated=result.updated or result.published,
        abs_url=f"https://arxiv.org/abs/{arxiv_id}v{version or 1}",
        pdf_url=(result.pdf_url or f"https://arxiv.org/pdf/{arxiv_id}v{version or 1}"),
    )


def _quoted_terms(query: str) -> list[str]:
    return [t.lower() for t in re.findall(r'"([^"]+)"', query)] or [
        w.lower()
        for w in re.findall(r"[A-Za-z][\w-]+", re.sub(r"\b\w+:", " ", query))
        if w not in {"AND", "OR", "ANDNOT"}
    ]


def topic_query(topic: Topic) -> str:
    """The topic's query in arXiv syntax, limited to its categories.

    Exclusions are not sent: they are applied to the results (excluded_by), so that a run can
    say what it left out and why, and so that they mean whole words (arXiv's ANDNOT is loose).
    """
    query = f"({topic.query.strip()})"
    if topic.category_list:
        query += " AND (" + " OR ".join(f"cat:{c}" for c in topic.category_list) + ")"
    return query


def matched_terms(topic: Topic, data: PaperData) -> list[str]:
    text = f"{data.title} {data.abstract}".lower()
    terms = [t for t in _quoted_terms(topic.query) if t in text]
    terms += [f"cat:{c}" for c in topic.category_list if c in data.categories]
    return terms


def search_results(topic: Topic, since: dt.datetime, max_results: int) -> Iterator[PaperData]:
    """Every result of the topic's query updated since `since`, newest first, at most
    `max_results`; an excluded one carries the rule in `excluded_by`.

    Sorted by last update so a new version of an older paper is seen too; iteration stops at the
    first result older than `since`.
    """
    search = arxiv.Search(
        query=topic_query(topic),
        max_results=max_results,
        sort_by=arxiv.SortCriterion.LastUpdatedDate,
        sort_order=arxiv.SortOrder.Descending,
    )
    rules = topic.exclusion_rules
    try:
        for result in make_client().results(search):
            data = paper_data(result)
            if data.updated < since:
                return
            data.excluded_by = first_rule(rules, data.title, data.abstract, data.categories)
            if not data.excluded_by:
                data.matched_terms = matched_terms(topic, data)
            yield data
    except (arxiv.ArxivError, OSError) as exc:
        raise ArxivUnavailable(str(exc)) from exc


def fetch_by_ids(arxiv_ids: list[str]) -> Iterator[PaperData]:
    """The current metadata of these papers, in one API query per page of ids."""
    if not arxiv_ids:
        return
    search = arxiv.Search(id_list=list(arxiv_ids), max_results=len(arxiv_ids))
    try:
        for result in make_client().results(search):
            yield paper_data(result)
    except (arxiv.ArxivError, OSError) as exc:
        raise ArxivUnavailable(str(exc)) from exc
def newest_submission(topic: Topic) -> dt.datetime | None:
    """When the newest paper arXiv shows in the topic's categories (else matching its query) was
    submitted: tells whether arXiv announced anything since an earlier look. One request."""
    if topic.category_list:
        query = " OR ".join(f"cat:{c}" for c in topic.category_list)
    else:
        query = topic_query(topic)
    search = arxiv.Search(
        query=query,
        max_results=1,
        sort_by=arxiv.SortCriterion.SubmittedDate,
        sort_order=arxiv.SortOrder.Descending,
    )
    try:
        for result in make_client().results(search):
            return result.published
    except (arxiv.ArxivError, OSError) as exc:
        raise ArxivUnavailable(str(exc)) from exc
    return None
