"""Links to a paper's code, project page, models and data: found in the abstract, the comment and
the summaries (which take them from the PDF), then checked for life, politely, and again weekly.

A check asks HEAD (GET when a server refuses HEAD, and GET to read a "coming soon" page), with a
time-out, one request at a time and at least `HOST_DELAY` seconds between two to one host.
"""

import datetime as dt
import re
import time
from collections.abc import Iterable
from urllib.parse import urlsplit

import requests
from django.conf import settings
from django.utils import timezone

from papers.models import Paper, PaperLink

URL = re.compile(r"https?://[^\s<>\"'()\[\]{}，。；]+", re.IGNORECASE)
TRAILING = ".,;:!?)]}'\""
CODE_HOSTS = ("github.com", "gitlab.com", "bitbucket.org", "codeberg.org", "gitee.com")
DATA_HOSTS = ("zenodo.org", "kaggle.com", "figshare.com")
# Links that say nothing of the paper's own artifacts.
SKIP_HOSTS = ("arxiv.org", "doi.org", "creativecommons.org", "orcid.org")
COMING_SOON = re.compile(r"coming soon|code will be (?:made )?(?:released|available)", re.I)
RECHECK = dt.timedelta(days=7)
TIMEOUT_SECONDS = 10
HOST_DELAY = 1.0
BODY_BYTES = 65536


def kind_of(url: str) -> str | None:
    """What a link is to, by its address; None for links that are not the paper's artifacts."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower().removeprefix("www.")
    if not host or any(host == h or host.endswith("." + h) for h in SKIP_HOSTS):
        return None
    if host in CODE_HOSTS:
        return PaperLink.Kind.CODE if parts.path.strip("/").count("/") >= 1 else None
    if host == "huggingface.co":
        return PaperLink.Kind.DATA if parts.path.startswith("/datasets/") else PaperLink.Kind.MODEL
    if host in DATA_HOSTS:
        return PaperLink.Kind.DATA
    return PaperLink.Kind.PROJECT


def found_urls(paper: Paper) -> list[str]:
    """The distinct http(s) links of a paper's abstract, comment and summaries, in that order."""
    texts = [paper.abstract, paper.comment]
    for summary in paper.summaries.all():
        texts += [link.get("url", "") for link in summary.links or [] if isinstance(link, dict)]
    urls: list[str] = []
    for text in texts:
        for match in URL.findall(text or ""):
            url = match.rstrip(TRAILING)
            if url not in urls and len(url) <= 500:
                urls.append(url)
    return urls


def collect_links(paper_ids: Iterable[int]) -> int:
    """Record the links these papers mention (new ones start unchecked); returns how many are new."""
    added = 0
    for paper in Paper.objects.filter(pk__in=list(paper_ids)).prefetch_related("summaries"):
        known = set(paper.links.values_list("url", flat=True))
        for url in found_urls(paper):
            kind = kind_of(url)
            if kind and url not in known:
                PaperLink.objects.get_or_create(paper=paper, url=url, defaults={"kind": kind})
                added += 1
    return added


def _state(response: requests.Response, body: str) -> str:
    if response.status_code in (404, 410, 451):
        return PaperLink.State.DEAD
    if response.status_code >= 400:
        return PaperLink.State.UNREACHABLE
    if COMING_SOON.search(body):
        return PaperLink.State.COMING_SOON
    return PaperLink.State.LIVE


def check_link(link: PaperLink, session: requests.Session) -> PaperLink:
    """Ask the link's server once and record what it said."""
    try:
        response = session.get(link.url, timeout=TIMEOUT_SECONDS, stream=True, allow_redirects=True)
        with response:
            body = response.raw.read(BODY_BYTES, decode_content=True).decode(
                response.encoding or "utf-8", errors="replace"
            )
        link.state = _state(response, body)
        link.http_status = response.status_code
    except requests.ConnectionError:
        link.state, link.http_status = PaperLink.State.DEAD, None
    except requests.RequestException:
        link.state, link.http_status = PaperLink.State.UNREACHABLE, None
    link.checked_at = timezone.now()
    link.save(update_fields=["state", "http_status", "checked_at"])
    return link


def due_links(limit: int = 500):
    """Links never checked, then those last checked more than a week ago."""
    stale = timezone.now() - RECHECK
    unchecked = PaperLink.objects.filter(checked_at__isnull=True)
    old = PaperLink.objects.filter(checked_at__lt=stale).order_by("checked_at")
    return (list(unchecked[:limit]) + list(old[:limit]))[:limit]


def check_due_links(limit: int = 500) -> dict[str, int]:
    """Check the links that are due, one at a time, sparing each host; returns counts by state."""
    session = requests.Session()
    session.headers["User-Agent"] = f"{settings.SITE_NAME} link check ({settings.SITE_URL})"
    last_asked: dict[str, float] = {}
    counts: dict[str, int] = {}
    for link in due_links(limit):
        host = urlsplit(link.url).hostname or ""
        wait = last_asked.get(host, 0.0) + HOST_DELAY - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        check_link(link, session)
        last_asked[host] = time.monotonic()
        counts[link.state] = counts.get(link.state, 0) + 1
    return counts
