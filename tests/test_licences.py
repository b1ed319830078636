import pytest

from papers import processing
from papers.models import Paper
from papers.sources.licences import LicenceUnavailable, fetch_licence, parse_licence
from tests.arxiv_server import Answer
from tests.factories import make_paper

CC_BY = "http://creativecommons.org/licenses/by/4.0/"
ARXIV_ONLY = "http://arxiv.org/licenses/nonexclusive-distrib/1.0/"


def test_licence_is_read_from_oai_pmh(fake_arxiv):
    fake_arxiv.licences = {"2410.07757": CC_BY, "hep-th/9901001": ""}
    assert fetch_licence("2410.07757") == CC_BY
    assert fetch_licence("hep-th/9901001") == ""
    query = fake_arxiv.requests[0]["query"]
    assert query == {
        "verb": ["GetRecord"],
        "identifier": ["oai:arXiv.org:2410.07757"],
        "metadataPrefix": ["arXiv"],
    }


def test_oai_errors_are_reported():
    unknown = (
        b'<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/">'
        b'<error code="idDoesNotExist">No such record</error></OAI-PMH>'
    )
    assert parse_licence(unknown) == ""
    with pytest.raises(LicenceUnavailable):
        parse_licence(
            b'<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/">'
            b'<error code="badArgument">no</error></OAI-PMH>'
        )
    with pytest.raises(LicenceUnavailable):
        parse_licence(b"<html>")


@pytest.mark.django_db
@pytest.mark.parametrize("licence, allowed", [(CC_BY, True), (ARXIV_ONLY, False), ("", False)])
def test_the_pipeline_records_the_licence_and_what_it_allows(fake_arxiv, licence, allowed):
    paper = make_paper("2410.07757")
    fake_arxiv.licences = {"2410.07757": licence}
    processing.check_licence(paper)
    paper = Paper.objects.get()
    assert paper.license == licence and paper.license_checked_at
    assert paper.content_allowed is allowed


@pytest.mark.django_db
def test_an_unreachable_oai_leaves_the_licence_unchecked(fake_arxiv, settings):
    settings.ARXIV_RETRIES = 1
    fake_arxiv.files["/oai"] = Answer(b"down", status=503)
    paper = make_paper("2410.07757")
    processing.check_licence(paper)
    assert Paper.objects.get().license_checked_at is None
