"""Links to code, project pages, models and data: found, classified, checked for life against a
local server (live, dead, "coming soon", a server that hangs), shown with their state, and the
"has code" filter and feed."""

import datetime as dt
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import feedparser
import pytest
from django.utils import timezone

from papers import links, tasks
from papers.models import PaperLink
from tests.factories import make_paper, make_summary

pytestmark = pytest.mark.django_db


class Handler(BaseHTTPRequestHandler):
    seen: list[tuple[str, float]] = []

    def do_GET(self):  # noqa: N802 - the standard library's name
        Handler.seen.append((self.path, time.monotonic()))
        if self.path.startswith("/hang"):
            time.sleep(3)
        status, body = {
            "/live": (200, "<h1>The code</h1>"),
            "/soon": (200, "<p>Code coming soon!</p>"),
            "/gone": (404, "not found"),
            "/broken": (500, "oops"),
        }.get(self.path.split("?")[0], (200, "ok"))
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


@pytest.fixture
def site(monkeypatch):
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    Handler.seen = []
    monkeypatch.setattr(links, "TIMEOUT_SECONDS", 1)
    monkeypatch.setattr(links, "HOST_DELAY", 0.2)
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_links_are_found_and_classified():
    paper = make_paper(
        abstract="Code: https://github.com/team/heads. Project: https://team.github.io/heads/.",
        comment="Accepted at CVPR. Data at https://huggingface.co/datasets/team/heads",
    )
    make_summary(
        paper,
        links=[
            {"label": "Model", "url": "https://huggingface.co/team/heads-model"},
            {"label": "arXiv", "url": "https://arxiv.org/abs/2410.00001"},
        ],
    )
    assert links.collect_links([paper.pk]) == 4
    found = dict(PaperLink.objects.values_list("url", "kind"))
    assert found == {
        "https://github.com/team/heads": "code",
        "https://team.github.io/heads/": "project",
        "https://huggingface.co/datasets/team/heads": "data",
        "https://huggingface.co/team/heads-model": "model",
    }
    assert links.collect_links([paper.pk]) == 0  # once each
    assert set(PaperLink.objects.values_list("state", flat=True)) == {"unchecked"}


def test_a_check_records_live_dead_coming_soon_and_silence(site):
    paper = make_paper()
    for path in ("live", "soon", "gone", "broken", "hang"):
        PaperLink.objects.create(paper=paper, url=f"{site}/{path}", kind="code")
    PaperLink.objects.create(paper=paper, url="http://127.0.0.1:9/closed", kind="project")
    counts = tasks.check_links()
    states = {link.url.rsplit("/", 1)[1]: link.state for link in PaperLink.objects.all()}
    assert states == {
        "live": "live",
        "soon": "soon",
        "gone": "dead",
        "broken": "unreachable",
        "hang": "unreachable",
        "closed": "dead",
    }
    assert sum(counts.values()) == 6
    times = [t for _, t in Handler.seen]
    assert all(b - a >= 0.19 for a, b in zip(times, times[1:], strict=False))  # one host, spaced


def test_links_are_checked_again_after_a_week(site):
    paper = make_paper()
    link = PaperLink.objects.create(paper=paper, url=f"{site}/live", kind="code")
    links.check_due_links()
    assert links.due_links() == []
    PaperLink.objects.filter(pk=link.pk).update(checked_at=timezone.now() - dt.timedelta(days=8))
    assert [due.pk for due in links.due_links()] == [link.pk]


def test_the_paper_page_shows_each_link_with_its_state(client, site):
    paper = make_paper()
    PaperLink.objects.create(paper=paper, url=f"{site}/live", kind="code", state="live")
    PaperLink.objects.create(paper=paper, url=f"{site}/gone", kind="project", state="dead")
    PaperLink.objects.create(paper=paper, url=f"{site}/soon", kind="model", state="soon")
    body = client.get(paper.get_absolute_url()).content.decode()
    assert f'<a href="{site}/live" rel="nofollow noopener">code</a>' in body
    assert '<s>project page</s> <span class="meta">(link dead)</span>' in body
    assert '>model</a> <span class="meta">(coming soon)</span>' in body


def test_has_code_filter_and_feed_skip_dead_and_coming_soon(client):
    live = make_paper(title="Live code")
    PaperLink.objects.create(paper=live, url="https://github.com/a/live", kind="code", state="live")
    soon = make_paper(title="Soon code")
    PaperLink.objects.create(paper=soon, url="https://github.com/a/soon", kind="code", state="soon")
    dead = make_paper(title="Dead code")
    PaperLink.objects.create(paper=dead, url="https://github.com/a/dead", kind="code", state="dead")
    make_paper(title="No code")
    listed = [p.title for p in client.get("/papers/?code=1").context["page_obj"]]
    assert listed == ["Live code"]
    feed = feedparser.parse(client.get("/feed/?code=1").content)
    assert [entry.title for entry in feed.entries] == ["Live code"]


def test_processing_a_paper_collects_its_links():
    paper = make_paper(abstract="Our code is at https://github.com/team/repo.")
    tasks.paper_processed(paper.pk)
    assert list(paper.links.values_list("kind", flat=True)) == ["code"]
