"""Summaries inside the pipeline: backends per topic, LLM failures, locks and regeneration."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from papers import processing
from papers.models import Paper, Summary
from tests.factories import make_paper, make_summary, make_topic
from tests.samples import ABSTRACT, CHINESE

pytestmark = pytest.mark.django_db


def test_the_offline_summarizer_is_the_default(settings):
    paper = make_paper(abstract=ABSTRACT, topic=make_topic())
    assert processing.summarize_paper(paper)
    summary = Summary.objects.get()
    assert summary.backend == "extractive" and summary.language == "en"
    assert 3 <= len(summary.key_takeaways) <= 7
    assert all(sentence in ABSTRACT for sentence in summary.key_takeaways)
    assert summary.generated_at and summary.input_digest


def test_an_english_paper_in_a_chinese_topic_waits_offline_under_its_own_language():
    paper = make_paper(abstract=ABSTRACT, topic=make_topic(language="zh"))
    processing.summarize_paper(paper)
    assert list(Summary.objects.values_list("language", flat=True)) == ["en"]


def test_a_topic_can_use_an_llm_in_its_language(fake_llm):
    paper = make_paper(abstract=ABSTRACT, topic=make_topic(language="zh", summarizer="openai"))
    fake_llm.reply_json(CHINESE, total_tokens=900)
    assert processing.summarize_paper(paper)
    summary = Summary.objects.get()
    assert (summary.language, summary.backend, summary.model) == ("zh", "openai", "test-model")
    assert summary.tldr == CHINESE["tldr"] and summary.tokens == 900
    assert fake_llm.requests[0].body["model"] == "test-model"


def test_a_failing_llm_keeps_an_offline_summary_and_shows_the_error(fake_llm):
    paper = make_paper(abstract=ABSTRACT, topic=make_topic(summarizer="openai"))
    fake_llm.reply("this is not JSON")
    fake_llm.reply("still not JSON")
    assert not processing.summarize_paper(paper)
    paper = Paper.objects.get()
    assert paper.state == Paper.State.FAILED and "Summary (openai)" in paper.last_error
    assert paper.next_attempt_at is not None
    assert Summary.objects.get().backend == "extractive"


def test_unchanged_input_is_not_summarized_again():
    paper = make_paper(abstract=ABSTRACT, topic=make_topic())
    processing.summarize_paper(paper)
    first = Summary.objects.get().updated_at
    processing.summarize_paper(paper)
    assert Summary.objects.get().updated_at == first


def test_regenerate_command_keeps_locked_summaries_unless_told(django_user_model):
    topic = make_topic()
    kept = make_paper(abstract=ABSTRACT, topic=topic)
    summary = make_summary(kept, tldr="An editor wrote this.")
    summary.lock()
    summary.save()
    out = StringIO()
    call_command("regenerate_summaries", "--topic", topic.slug, stdout=out)
    assert Summary.objects.get().tldr == "An editor wrote this."

    call_command("regenerate_summaries", kept.arxiv_id, "--discard-locks", stdout=out)
    summary = Summary.objects.get()
    assert not summary.locked and summary.tldr != "An editor wrote this."
    assert summary.history.filter(tldr="An editor wrote this.").exists()


def test_regenerate_command_rejects_bad_input(db):
    with pytest.raises(CommandError):
        call_command("regenerate_summaries")
    with pytest.raises(CommandError, match="Unknown"):
        call_command("regenerate_summaries", "2410.99999")
    with pytest.raises(CommandError):
        call_command("regenerate_summaries", "not-an-id")
