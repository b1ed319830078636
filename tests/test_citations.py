"""Citing: Highwire meta tags on paper pages, BibTeX and RIS for a paper, a digest and a listing,
read back with real parsers (pybtex, rispy), and one-click copy in a browser."""

import datetime as dt
from html.parser import HTMLParser

import pytest
import rispy
from pybtex.database import parse_string

from tests.factories import make_digest, make_paper, make_topic

pytestmark = pytest.mark.django_db

HIGHWIRE = {
    "citation_title",
    "citation_author",
    "citation_publication_date",
    "citation_online_date",
    "citation_arxiv_id",
    "citation_abstract_html_url",
    "citation_pdf_url",
    "citation_doi",
    "citation_journal_title",
}


class MetaTags(HTMLParser):
    def __init__(self):
        super().__init__()
        self.pairs: list[tuple[str, str]] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "meta" and attrs.get("name", "").startswith("citation_"):
            self.pairs.append((attrs["name"], attrs.get("content", "")))


def awkward_paper(**fields):
    fields.setdefault("title", "Heads & faces: {fast $\\alpha$-blending} at 100% of {speed")
    return make_paper(
        "2410.07757",
        authors=[{"name": "José Ramírez"}, {"name": "Ada Lovelace"}, {"name": "Grace Hopper"}],
        published=dt.datetime(2024, 10, 10, 17, 0, tzinfo=dt.UTC),
        doi="10.1000/xyz123",
        journal_ref="CVPR 2025, pp. 1-10",
        **fields,
    )


def test_paper_page_carries_highwire_citation_tags(client):
    paper = awkward_paper()
    parser = MetaTags()
    parser.feed(client.get(paper.get_absolute_url()).content.decode())
    names = [name for name, _ in parser.pairs]
    assert set(names) <= HIGHWIRE
    assert set(names) == HIGHWIRE
    values = dict(parser.pairs)
    assert values["citation_title"] == paper.title
    assert [c for n, c in parser.pairs if n == "citation_author"] == [
        "José Ramírez",
        "Ada Lovelace",
        "Grace Hopper",
    ]
    assert values["citation_publication_date"] == "2024/10/10"
    assert values["citation_arxiv_id"] == "2410.07757"
    assert values["citation_pdf_url"] == "https://arxiv.org/pdf/2410.07757"


def test_bibtex_of_a_paper_parses_whatever_its_title_holds(client):
    awkward_paper()
    response = client.get("/papers/2410.07757/cite.bib")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/x-bibtex")
    entries = parse_string(response.content.decode(), "bibtex").entries
    ((key, entry),) = entries.items()
    assert key == "ramirez2024heads"
    assert entry.type == "misc"
    assert [str(p) for p in entry.persons["author"]] == [
        "Ramírez, José",
        "Lovelace, Ada",
        "Hopper, Grace",
    ]
    assert entry.fields["eprint"] == "2410.07757"
    assert entry.fields["archivePrefix"] == "arXiv"
    assert entry.fields["doi"] == "10.1000/xyz123"
    assert "alpha" in entry.fields["title"] and "100\\%" in entry.fields["title"]
    assert client.get("/papers/2410.07757v2/cite.bib").status_code == 200  # a version is fine


def test_ris_of_a_paper_reads_back(client):
    awkward_paper()
    (record,) = rispy.loads(client.get("/papers/2410.07757/cite.ris").content.decode())
    assert record["type_of_reference"] == "JOUR"
    assert record["authors"] == ["José Ramírez", "Ada Lovelace", "Grace Hopper"]
    assert record["year"] == "2024"
    assert record["doi"] == "10.1000/xyz123"
    assert record["urls"] == ["https://arxiv.org/abs/2410.07757"]


def test_a_digest_cites_its_papers_in_order_with_unique_keys(client):
    topic = make_topic("Talking Head Generation")
    same = dict(
        authors=[{"name": "Ada Lovelace"}], published=dt.datetime(2024, 10, 10, tzinfo=dt.UTC)
    )
    papers = [make_paper(title="Talking heads again", **same) for _ in range(3)]
    make_digest(topic, papers, date=dt.date(2024, 10, 12))
    text = client.get(f"/topics/{topic.slug}/2024-10-12/cite.bib").content.decode()
    entries = parse_string(text, "bibtex").entries
    assert list(entries) == ["lovelace2024talking", "lovelace2024talkinga", "lovelace2024talkingb"]
    assert [e.fields["eprint"] for e in entries.values()] == [p.arxiv_id for p in papers]
    ris = rispy.loads(client.get(f"/topics/{topic.slug}/2024-10-12/cite.ris").content.decode())
    assert [r["type_of_reference"] for r in ris] == ["UNPB"] * 3


def test_a_listing_cites_what_it_lists(client):
    tagged = make_paper(tags=["avatars"])
    make_paper(tags=["nerf"])
    text = client.get("/papers/cite.bib?tag=avatars").content.decode()
    assert [e.fields["eprint"] for e in parse_string(text, "bibtex").entries.values()] == [
        tagged.arxiv_id
    ]
    page = client.get("/papers/?tag=avatars").content.decode()
    assert 'href="/papers/cite.bib?tag=avatars"' in page


@pytest.mark.parametrize(
    "url",
    [
        "/papers/2410.99999/cite.bib",
        "/papers/2410.07757/cite.pdf",
        "/topics/nope/2024-10-12/cite.bib",
        "/topics/nope/2024-13-45/cite.ris",
        "/papers/cite.bib?tag=no-such-tag",
    ],
)
def test_unknown_things_to_cite_are_404(client, url):
    awkward_paper()
    assert client.get(url).status_code == 404


def test_draft_papers_are_not_cited(client):
    make_paper("2410.00001", status="draft")
    assert client.get("/papers/2410.00001/cite.bib").status_code == 404


@pytest.mark.browser
def test_copy_bibtex_with_one_click(live_site, browser):
    awkward_paper()
    context = browser.new_context(permissions=["clipboard-read", "clipboard-write"])
    page = context.new_page()
    try:
        page.goto(live_site.url + "/papers/2410.07757/")
        page.get_by_role("button", name="Copy BibTeX").click()
        page.get_by_text("Copied.").wait_for()
        copied = page.evaluate("navigator.clipboard.readText()")
    finally:
        context.close()
    assert "ramirez2024heads" in parse_string(copied, "bibtex").entries
