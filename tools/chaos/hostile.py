"""Hostile input for the chaos campaign.

Generated hostile strings (markup, control and bidi characters, odd encodings, huge values), the
hostile data sent through the real entry points (arXiv metadata, LLM text) to the pages, the feeds
and the admin, and hostile requests to every public URL and form. Every page and feed is checked
for unescaped markup and stray control characters.
"""

from __future__ import annotations

import random
import xml.etree.ElementTree as ET
from urllib.parse import quote, urlencode

from tools.chaos import LONG_AGO

SCRIPT = "<script>alert(1)</script>"
IMG = '"><img src=x onerror=alert(1)>'
# Raw forms that must never reach a page or feed unescaped.
MARKERS = ("<script>alert(", "<img src=x onerror")
BIDI = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
FRAGMENTS = [
    SCRIPT,
    IMG,
    "javascript:alert(1)",
    "\x00",
    "\x01\x07\x0b\x0c\x1b\x7f",
    "\u202e",
    "\u2066x\u2069",
    "../../etc/passwd",
    "%00",
    "%",
    "%zz",
    "'",
    '"',
    "\\",
    " ",
    "\r\n",
    "中文标签",
    "😀",
    "9" * 40,
    "-1",
    "0",
    "2024-13-45",
    "a" * 3000,
    "$\\href{javascript:alert(1)}{x}$",
    "{{ 7|add:7 }}",
    "${7*7}",
    "?x=1&y=2#z",
    "//evil.example/",
]


def hostile_values(count: int, seed: int) -> list[str]:
    """`count` generated hostile strings: random mixes of the fragments above and random text."""
    rng = random.Random(seed)
    values = list(FRAGMENTS) if count >= len(FRAGMENTS) else rng.sample(FRAGMENTS, count)
    while len(values) < count:
        parts = rng.sample(FRAGMENTS, rng.randint(1, 4))
        parts.append("".join(chr(rng.randint(32, 0x2FFF)) for _ in range(rng.randint(0, 12))))
        rng.shuffle(parts)
        values.append("".join(parts))
    return values


def strings(value) -> list[str]:
    """Every string inside a JSON-like value."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        value = list(value.values())
    if isinstance(value, list):
        return [text for item in value for text in strings(item)]
    return []


class HostileInput:
    """The campaign's hostile-input stages (a part of tools.chaos.campaign.Campaign)."""

    # ---------------------------------------------------------------- hostile data to pages

    def hostile_data(self) -> None:
        """Hostile text through the real entry points: arXiv metadata and LLM text."""
        from papers import pipeline, processing
        from papers.models import Figure, Paper
        from tests.arxiv_server import atom_feed, entry

        self.hostile_topic = self.topic(name=f"Hostile {SCRIPT}", summarizer="openai")
        arxiv_id = self.arxiv_id()
        self.arxiv.answers = [
            atom_feed(
                [
                    entry(
                        arxiv_id,
                        title=f"Title \u202e{SCRIPT} $\\href{{javascript:alert(1)}}{{x}}$",
                        abstract=f"Abstract {IMG} \u2066in detail\x7f.",
                        authors=(f"Eve {SCRIPT}", f"Mallory \u202e{IMG}"),
                        comment=f"Code: javascript:alert(1) {SCRIPT}",
                        pdf_url="javascript:alert(1)",
                    )
                ]
            )
        ]
        self.llm.script.clear()
        self.llm.reply_json(
            {
                "tldr": f"TLDR {SCRIPT}\u202e",
                "key_takeaways": [f"One {IMG}", f"Two {SCRIPT}", "Three \u2067x"],
                "title_translation": f"Translation {SCRIPT}",
                "affiliations": [],
                "keywords": [f"{SCRIPT}", f"kw {IMG}"],
                "links": [],
                "background": f"Background {IMG}",
                "prior_work": "p",
                "method": "m",
                "results": "r",
                "method_steps": [f"Step {SCRIPT}"],
                "significance": "s",
                "assessment": "a",
            }
        )
        run = pipeline.fetch_topic(self.hostile_topic, since=LONG_AGO).run
        paper = Paper.objects.get(arxiv_id=arxiv_id)
        # Summarized and tagged without its PDF: its PDF link points at the real arXiv.
        processing.summarize_paper(paper)
        pipeline.tag_paper(paper)
        self.hostile_paper = paper
        # A row as an older version could have stored it, and a figure kept by a hostile URL.
        Figure.objects.create(
            paper=paper,
            order=99,
            source_url="javascript:alert(4)",
            caption=f"Figure 9: \u202e{SCRIPT}",
        )
        Paper.objects.filter(pk=paper.pk).update(comment=f"Legacy \u202e{SCRIPT}")
        self.fault(
            "hostile arXiv metadata and LLM text",
            "stored clean, pipeline goes on",
            lambda: (
                run.status == "succeeded" and "\u202e" not in paper.title,
                f"run {run.status}, paper {paper.state}",
            ),
        )

    def public_urls(self) -> list[str]:
        from papers.models import Digest, Paper, Tag, Topic

        urls = ["/", "/papers/", "/tags/", "/feed/", "/feed/atom/", "/sitemap.xml", "/source/"]
        for paper in Paper.objects.filter(status="published").order_by("-pk")[:6]:
            urls.append(paper.get_absolute_url())
        for tag in Tag.objects.order_by("-pk")[:4]:
            urls += [tag.get_absolute_url(), tag.get_absolute_url() + "feed/"]
        for topic in Topic.objects.order_by("-pk")[:3]:
            urls += [topic.get_absolute_url(), topic.get_absolute_url() + "feed/"]
        for digest in Digest.objects.order_by("-pk")[:3]:
            urls.append(digest.get_absolute_url())
        return urls

    def check_pages(self) -> None:
        from django.urls import reverse

        from papers.models import Digest, Figure, Summary, Tag

        paper = self.hostile_paper
        tags = list(paper.tags.all())
        digest = Digest.objects.filter(entries__paper=paper).first()
        urls = [
            "/",
            "/papers/",
            "/tags/",
            paper.get_absolute_url(),
            self.hostile_topic.get_absolute_url(),
        ]
        urls += [tag.get_absolute_url() for tag in tags]
        if digest:
            urls.append(digest.get_absolute_url())
        feeds = ["/feed/", "/feed/atom/", self.hostile_topic.get_absolute_url() + "feed/"]
        feeds += [tag.get_absolute_url() + "feed/" for tag in tags]
        feeds += [tag.get_absolute_url() + "feed/atom/" for tag in tags]
        admin = [
            "/admin/",
            "/admin/papers/paper/",
            f"/admin/papers/paper/{paper.pk}/change/",
            "/admin/papers/summary/",
            "/admin/papers/figure/",
            "/admin/papers/tag/",
            "/admin/papers/topic/",
            f"/admin/papers/topic/{self.hostile_topic.pk}/change/",
            "/admin/papers/pipelinerun/",
            "/admin/papers/errorreport/",
            reverse("admin:papers_today"),
        ]
        admin += [
            f"/admin/papers/summary/{s.pk}/change/" for s in Summary.objects.filter(paper=paper)
        ]
        admin += [
            f"/admin/papers/figure/{f.pk}/change/" for f in Figure.objects.filter(paper=paper)
        ]
        admin += [
            f"/admin/papers/tag/{t.pk}/change/"
            for t in Tag.objects.filter(pk__in=[t.pk for t in tags])
        ]
        if digest:
            admin += [
                f"/admin/papers/digest/{digest.pk}/change/",
                f"/admin/papers/digest/{digest.pk}/preview/",
            ]

        def pages():
            bad = []
            for url in urls:
                response = self.get(self.client, url)
                if response.status_code != 200:
                    bad.append(f"{url} {response.status_code}")
                    continue
                self.check_html(response.content.decode(), url)
            return not bad, f"{len(urls)} pages, not 200: {bad or 'none'}"

        self.fault("hostile text on public pages", "escaped, no bidi, no javascript:", pages)

        def feeds_check():
            import feedparser

            bad = []
            for url in feeds:
                response = self.get(self.client, url)
                if response.status_code != 200:
                    bad.append(f"{url} {response.status_code}")
                    continue
                try:
                    root = ET.fromstring(response.content)
                except ET.ParseError as exc:
                    bad.append(f"{url} not XML: {exc}")
                    continue
                if feedparser.parse(response.content).bozo:
                    bad.append(f"{url} feedparser bozo")
                self.check_feed(root, url)
            return not bad, f"{len(feeds)} feeds, problems: {bad or 'none'}"

        self.fault("hostile text in feeds", "strict XML, feedparser, escaped", feeds_check)

        def admin_pages():
            bad = []
            for url in admin:
                response = self.get(self.admin, url)
                if response.status_code != 200:
                    bad.append(f"{url} {response.status_code}")
                    continue
                self.check_html(response.content.decode(), "admin " + url)
            return not bad, f"{len(admin)} admin pages, not 200: {bad or 'none'}"

        self.fault("hostile text in the admin", "escaped, no clickable javascript:", admin_pages)

    def check_feed(self, root: ET.Element, url: str) -> None:
        """RSS titles and descriptions are HTML to readers; Atom titles are text, content HTML."""
        atom = "{http://www.w3.org/2005/Atom}"
        html_texts = []
        if root.tag == "rss":
            for element in root.iter():
                if element.tag in ("title", "description"):
                    html_texts.append(element.text or "")
        else:
            for element in root.iter():
                if element.tag in (f"{atom}summary", f"{atom}content", f"{atom}subtitle"):
                    if element.get("type") == "html":
                        html_texts.append(element.text or "")
        body = ET.tostring(root, encoding="unicode")
        for text in html_texts:
            for marker in MARKERS:
                self.tally.checks += 1
                if marker in text.lower():
                    self.tally.unescaped.append(f"{marker!r} in {url}")
        self.tally.checks += 1
        if any(c in body for c in BIDI):
            self.tally.unescaped.append(f"bidi control in {url}")

    # ---------------------------------------------------------------- hostile requests

    def hostile_requests(self) -> None:
        from papers.models import Paper, Tag, Topic

        count = 6 if self.quick else len(FRAGMENTS) + 12
        values = hostile_values(count, seed=15)
        topic = Topic.objects.order_by("pk").first()
        tag = Tag.objects.order_by("pk").first()
        paper = Paper.objects.filter(status="published").order_by("pk").first()

        def one(value: str) -> None:
            q = quote(value, safe="")
            gets = [
                "/papers/?" + urlencode({"q": value}),
                "/papers/?" + urlencode({"tag": value}),
                "/papers/?" + urlencode({"page": value}),
                "/papers/?" + urlencode([("tag", tag.slug), ("tag", value), ("q", value)]),
                f"/papers/{q}/",
                f"/papers/{q}/report/",
                f"/tags/{q}/",
                f"/tags/{q}/feed/",
                f"/topics/{q}/",
                f"/topics/{q}/feed/",
                f"/topics/{topic.slug}/{q}/",
                f"/topics/{topic.slug}/2024-10-{q}/",
                "/subscribe/?" + urlencode({"tag": value, "topic": value}),
                f"/subscriptions/{q}/",
                f"/subscriptions/confirm/{q}/",
                f"/unsubscribe/{q}/",
                f"/language/{q}/?" + urlencode({"next": value}),
                "/language/en/?" + urlencode({"next": value}),
                "/feed/?" + urlencode({"page": value}),
                "/sitemap.xml?" + urlencode({"p": value}),
                f"/figures/{q}/",
            ]
            for url in gets:
                response = self.get(self.client, url)
                if response.status_code == 200 and "html" in response.get("Content-Type", ""):
                    self.check_html(response.content.decode(errors="replace"), url)
            posts = [
                ("/subscribe/", {"email": value, "frequency": "daily", "tag": tag.slug}),
                ("/subscribe/", {"email": "a@example.org", "frequency": value, "topic": value}),
                (f"/papers/{paper.arxiv_id}/report/", {"message": value * 3, "contact": value}),
                (f"/subscriptions/{q}/", {"frequency": value}),
                (f"/unsubscribe/{q}/", {}),
            ]
            for url, data in posts:
                response = self.post(self.client, url, data)
                if response.status_code == 200 and "html" in response.get("Content-Type", ""):
                    self.check_html(response.content.decode(errors="replace"), "POST " + url)

        def check():
            before = len(self.tally.errors)
            asked = self.tally.requests
            for value in values:
                one(value)
            errors = len(self.tally.errors) - before
            return errors == 0, f"{self.tally.requests - asked} requests, {errors} answered 500"

        self.fault("generated hostile input to every URL and form", "no 500, escaped", check)
