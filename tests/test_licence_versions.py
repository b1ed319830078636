"""Licences follow versions, and a paper whose licence arXiv has not told yet says so."""

import datetime as dt

import pytest

from papers import pipeline, processing, tasks
from papers.models import Paper
from tests.arxiv_server import atom_feed, entry
from tests.factories import make_digest, make_figure, make_paper, make_topic

pytestmark = pytest.mark.django_db
CC_BY = "http://creativecommons.org/licenses/by/4.0/"
ARXIV_ONLY = "http://arxiv.org/licenses/nonexclusive-distrib/1.0/"
LONG_AGO = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
UNKNOWN = "Licence not yet known"
FORBIDS = "licence does not let this site show its figures"


def test_a_new_version_has_its_licence_read_again(fake_arxiv):
    topic = make_topic()
    fake_arxiv.answers = [atom_feed([entry("2410.00001", 1)])]
    fake_arxiv.licences = {"2410.00001": CC_BY}
    pipeline.fetch_topic(topic, since=LONG_AGO)
    assert processing.check_missing_licences(10) == 1
    assert Paper.objects.get().license == CC_BY

    fake_arxiv.answers = [atom_feed([entry("2410.00001", 2, updated="2024-10-20T10:00:00Z")])]
    fake_arxiv.licences = {"2410.00001": ARXIV_ONLY}
    pipeline.fetch_topic(topic, since=LONG_AGO)
    paper = Paper.objects.get()
    assert paper.version == 2 and paper.license_checked_at is None

    assert tasks.check_licences() == 1
    paper.refresh_from_db()
    assert paper.license == ARXIV_ONLY and paper.license_checked_at
    assert not paper.content_allowed
    assert processing.check_missing_licences(10) == 0  # nothing left to ask


def test_an_imported_paper_says_its_licence_is_not_yet_known_until_it_is_read(client, fake_arxiv):
    topic = make_topic(slug="heads")
    paper = make_paper("2410.00002", topic=topic)  # as the Markdown import stores it
    make_figure(paper)
    digest = make_digest(topic, [paper])

    page = client.get(paper.get_absolute_url()).content.decode()
    assert UNKNOWN in page and FORBIDS not in page
    page = client.get(digest.get_absolute_url()).content.decode()
    assert UNKNOWN in page and FORBIDS not in page

    fake_arxiv.licences = {"2410.00002": CC_BY}
    assert tasks.check_licences() == 1
    paper.refresh_from_db()
    assert paper.content_allowed
    page = client.get(paper.get_absolute_url()).content.decode()
    assert UNKNOWN not in page and "CC BY 4.0" in page


def test_a_read_licence_that_forbids_says_so(client, fake_arxiv):
    paper = make_paper("2410.00003", license=ARXIV_ONLY)
    make_figure(paper)
    processing.check_licence(paper)
    page = client.get(paper.get_absolute_url()).content.decode()
    assert FORBIDS in page and UNKNOWN not in page


def test_an_unreachable_oai_is_left_alone_after_a_few_failures(fake_arxiv, settings):
    from tests.arxiv_server import Answer

    settings.ARXIV_RETRIES = 1
    fake_arxiv.files["/oai"] = Answer(b"down", status=503)
    for number in range(6):
        make_paper(f"2410.0010{number}")
    assert processing.check_missing_licences(10) == 0
    assert fake_arxiv.hits("/oai") == 3
