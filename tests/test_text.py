"""The one cleaning rule for outside text and links, and its use by every writer."""

import pytest

from papers import processing
from papers.markdown.importer import decode_post
from papers.models import Figure, Paper, Summary
from papers.public.forms import ErrorReportForm
from papers.sources.pdf import clean_text as pdf_clean_text
from papers.text import clean_data, clean_text, safe_links, safe_url
from tests.factories import make_figure, make_paper, make_topic

HOSTILE = "a\x00b\x01c\x0cd\x1be\x7ff\u202eg\u2066h\u2069i\ud800j\ufffek"
BIDI = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"


def test_clean_text_drops_controls_surrogates_and_bidi_controls():
    assert clean_text(HOSTILE) == "abcdefghijk"
    assert clean_text("two\tlines\nkept\r\n") == "two\tlines\nkept\r\n"
    assert clean_text("مرحبا שלום 中文 Ramírez") == "مرحبا שלום 中文 Ramírez"
    assert clean_text(None) == "" and clean_text("") == ""
    assert not any(c in clean_text(BIDI * 3) for c in BIDI)


def test_clean_data_cleans_every_string_inside_json():
    data = {"a\x00": ["x\u202ey", {"k": "v\x00"}, 3, None]}
    assert clean_data(data) == {"a": ["xy", {"k": "v"}, 3, None]}


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "JaVaScRiPt:alert(1)",
        " javascript:alert(1)",
        "java\x00script:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        "vbscript:msgbox(1)",
        "//evil.example/x",
        "/relative",
        "http://",
        "https://exa mple.org",
        "ftp://example.org/x",
        "",
        None,
    ],
)
def test_safe_url_refuses_everything_but_absolute_http_urls(url):
    assert safe_url(url) == ""


def test_safe_url_keeps_http_and_https():
    assert safe_url("https://github.com/a/b") == "https://github.com/a/b"
    assert safe_url("HTTP://arxiv.org/pdf/2410.07757v1") == "HTTP://arxiv.org/pdf/2410.07757v1"
    links = [{"label": "Code\u202e", "url": "https://x.org"}, {"label": "x", "url": "javascript:1"}]
    assert safe_links(links) == [{"label": "Code", "url": "https://x.org"}]
    assert safe_links("not a list") == []


def test_pdf_text_uses_the_same_rule():
    assert pdf_clean_text("Fig\u202eure\x00 1\u2066") == "Figure 1"


def test_imported_posts_are_cleaned():
    text, _ = decode_post("title: a\u202eb\x01c\n".encode())
    assert text == "title: abc\n"


def test_report_form_cleans_its_text():
    form = ErrorReportForm(data={"message": "The \u202etldr is wrong here.", "contact": ""})
    assert form.is_valid()
    assert form.cleaned_data["message"] == "The tldr is wrong here."
    # A control character is refused outright (papers.inputs), with a form error.
    form = ErrorReportForm(data={"message": "The tldr is\x07 wrong here.", "contact": ""})
    assert not form.is_valid() and "message" in form.errors


def test_a_javascript_figure_url_is_never_a_link(db):
    paper = make_paper()
    figure = make_figure(paper, source_url="javascript:alert(1)")
    assert Figure.objects.get(pk=figure.pk).url == ""


ABSTRACT = (
    "Talking head videos must keep lips in sync with speech. Existing methods drift after a few "
    "seconds. We propose a memory that keeps the identity stable. Code: https://github.com/a/b ."
)


def llm_answer(**overrides) -> dict:
    answer = {
        "tldr": "A memory\x00 keeps \u202eidentity\u2069 stable.\x1b[31m",
        "key_takeaways": ["One\x00.", "Two\u202e.", "Three\x0c."],
        "title_translation": "Memory",
        "affiliations": [],
        "keywords": ["talking\x00 head", "memory\u202e"],
        "links": [{"label": "Code\u202e", "url": "https://github.com/a/b"}],
        "background": "b",
        "prior_work": "p",
        "method": "m",
        "results": "r",
        "method_steps": ["s\x00"],
        "significance": "s",
        "assessment": "a",
    }
    answer.update(overrides)
    return answer


@pytest.mark.django_db
def test_llm_text_with_nul_and_bidi_controls_is_stored_clean(fake_llm):
    paper = make_paper(abstract=ABSTRACT, topic=make_topic(summarizer="openai"))
    fake_llm.reply_json(llm_answer())
    assert processing.summarize_paper(paper)
    summary = Summary.objects.get()
    assert summary.tldr == "A memory keeps identity stable.[31m"
    assert summary.key_takeaways == ["One.", "Two.", "Three."]
    assert summary.keywords == ["talking head", "memory"]
    assert summary.links == [{"label": "Code", "url": "https://github.com/a/b"}]


@pytest.mark.django_db
def test_a_summary_that_cannot_be_stored_fails_the_paper_and_is_retried(monkeypatch):
    paper = make_paper(abstract=ABSTRACT, topic=make_topic(), state=Paper.State.EXTRACTED)

    def refuse(paper, result):
        raise ValueError("the database refused the text")

    monkeypatch.setattr(processing, "store_summary", refuse)
    assert not processing.summarize_paper(paper)
    paper.refresh_from_db()
    assert paper.state == Paper.State.FAILED
    assert "could not be stored" in paper.last_error and "refused" in paper.last_error
    assert paper.next_attempt_at is not None and paper.attempts == 1
