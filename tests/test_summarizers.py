"""The summarizers: offline extractive on real abstracts and sample papers, and the LLM backend
against a scripted OpenAI-compatible server on 127.0.0.1."""

import copy
import json
import re
from pathlib import Path

import pytest

from papers.models import SUMMARY_FIELDS
from papers.summarizers import (
    LlmConfig,
    SummarizerError,
    SummaryInput,
    input_digest,
    summarize,
    validate_fields,
)
from papers.summarizers.extractive import PROSE_FIELDS, STOPWORDS
from papers.summarizers.text import estimate_tokens, split_document, split_sentences
from tests.conftest import require
from tests.llm_server import FakeLlm

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT.parent / "shared" / "seed"
FIXTURES = Path(__file__).parent / "fixtures" / "papers"
FULL_PAPER = (FIXTURES / "lipsync_full.txt").read_text(encoding="utf-8")
TITLE = "EchoFace: Phoneme-Aware Diffusion for Long Talking Head Videos"
AUTHORS = ["Mira Kowalczyk", "Tomas Ferreira", "Lena Hoffmann"]
FIRST_PAGE = FULL_PAPER.split("Abstract")[0]


def flat(text: str) -> str:
    """The source as a reader sees it: PDF hyphenation joined, whitespace collapsed."""
    text = re.sub(r"([a-z])-\s*\n\s*([a-z])", r"\1\2", text)
    return " ".join(text.split())


def seed_papers() -> list[dict]:
    """Title, abstract and comment of each paper in the seed posts."""
    files = [SEED / "talking-head-generation-2024-10-12.md", *sorted((SEED / "more").glob("*.md"))]
    require(
        all(f.exists() for f in files[:1]) and len(files) > 1, "the seed posts in ../shared/seed"
    )
    papers = []
    for path in files:
        text = path.read_text(encoding="utf-8")
        for block in re.split(r"^## ", text, flags=re.M)[1:]:
            match = re.match(
                r"(?P<title>.+?)\n+\*\*Authors:.*?\*\*\n+(?P<abstract>.*?)\n+\[PDF\]\((?P<url>\S+?)\)(?P<comment>[^\n]*)",
                block,
                re.S,
            )
            if match:
                papers.append(
                    {k: match.group(k).strip() for k in ("title", "abstract", "comment", "url")}
                )
    return papers


def full_input(**kwargs) -> SummaryInput:
    fields = {
        "arxiv_id": "2410.99999",
        "title": TITLE,
        "abstract": "",
        "authors": AUTHORS,
        "full_text": FULL_PAPER,
        "first_page_text": FIRST_PAGE,
    }
    fields.update(kwargs)
    return SummaryInput(**fields)


# ---------------------------------------------------------------- text handling


def test_sentences_keep_abbreviations_decimals_and_initials():
    text = (
        "Methods such as GANs, e.g. Wav2Lip, edit the mouth (Smith et al. [3]). "
        "The error drops by 3.5 dB, see Fig. 2 and Eq. 4. J. Smith agrees! Does it scale? "
        "Yes, to 4K. 我们提出了新方法。效果很好！"
    )
    assert split_sentences(text) == [
        "Methods such as GANs, e.g. Wav2Lip, edit the mouth (Smith et al. [3]).",
        "The error drops by 3.5 dB, see Fig. 2 and Eq. 4.",
        "J. Smith agrees!",
        "Does it scale?",
        "Yes, to 4K.",
        "我们提出了新方法。",
        "效果很好！",
    ]


def test_full_text_is_cut_into_sections_by_headings():
    doc = split_document(FULL_PAPER)
    kinds = [(s.number, s.kind) for s in doc.sections]
    assert kinds[0] == ("1", "intro")
    assert ("2", "related") in kinds and ("3", "method") in kinds and ("5", "conclusion") in kinds
    # Subsections belong to their section, whatever their own title says.
    assert ("2.2", "related") in kinds and ("4.3", "experiments") in kinds
    assert doc.abstract.startswith("Talking head generation turns a portrait")
    assert "University of Northbridge" in doc.header
    assert doc.sections[-1].kind == "references"


# ---------------------------------------------------------------- extractive


def check_common(result, source: str, *, min_takeaways: int = 3) -> None:
    fields = result.fields
    assert list(fields) == list(SUMMARY_FIELDS)
    assert validate_fields(fields, min_takeaways=min_takeaways) == fields
    assert min_takeaways <= len(fields["key_takeaways"]) <= 7
    assert len(set(fields["key_takeaways"])) == len(fields["key_takeaways"])
    flat_source = flat(source)
    for sentence in [fields["tldr"], *fields["key_takeaways"], *fields["method_steps"]]:
        assert sentence in flat_source, sentence
    assert 3 <= len(fields["keywords"]) <= 8
    lowered = [k.lower() for k in fields["keywords"]]
    assert len(set(lowered)) == len(lowered)
    for keyword in lowered:
        assert keyword not in STOPWORDS
        assert keyword.split()[0] not in STOPWORDS and keyword.split()[-1] not in STOPWORDS
    assert result.backend == "extractive" and result.tokens is None
    assert len(result.input_digest) == 64


def test_extractive_on_the_seed_abstracts():
    papers = seed_papers()
    assert len(papers) >= 50
    for paper in papers:
        inp = SummaryInput(
            arxiv_id="x", title=paper["title"], abstract=paper["abstract"], comment=paper["comment"]
        )
        result = summarize(inp, "extractive")
        sentence_count = len(split_sentences(paper["abstract"]))
        check_common(result, paper["abstract"], min_takeaways=min(3, sentence_count))
        fields = result.fields
        assert result.language == "en"
        sentences = split_sentences(paper["abstract"])
        assert fields["tldr"] in sentences
        assert fields["method"], paper["title"]
        # A field without a sentence of its role stays empty, and the editor is told.
        for name in ("tldr", *PROSE_FIELDS):
            if not fields[name]:
                assert f"no sentence of the paper fits '{name}'" in result.warnings
        # No sentence of the abstract stands in two prose fields.
        placed = [
            sentence
            for name in PROSE_FIELDS
            for line in fields[name].split("\n")
            for sentence in split_sentences(
                line.partition(": ")[2] if name == "assessment" else line
            )
        ]
        assert len(placed) == len(set(placed)), paper["title"]
        assert set(placed) <= set(sentences)
        assert fields["title_translation"] == " ".join(paper["title"].split())
        # Abstract alone: the editor is told.
        assert any("abstract alone" in w for w in result.warnings)


def test_extractive_seed_links_and_keywords():
    papers = {p["title"]: p for p in seed_papers()}
    mmhead = papers["MMHead: Towards Fine-grained Multi-modal 3D Facial Animation"]
    inp = SummaryInput(
        arxiv_id="2410.07757",
        title=mmhead["title"],
        abstract=mmhead["abstract"],
        comment=mmhead["comment"],
    )
    fields = summarize(inp, "extractive").fields
    assert fields["links"] == [
        {"label": "Project page", "url": "https://wsj-sjtu.github.io/MMHead/"}
    ]
    assert "facial animation" in [k.lower() for k in fields["keywords"]]
    assert "MMHead" in fields["keywords"]
    # The gap ("rarely explored") is the problem; what was done before is the prior work.
    assert "rarely explored due to the lack" in fields["background"]
    assert fields["prior_work"] == (
        "Audio-driven 3D facial animation has been widely explored with promising results."
    )
    assert fields["tldr"].startswith("To fill this gap, we first construct")
    assert "we first construct" in fields["method"]
    assert "significant potential of our dataset" in fields["significance"]
    # Every field of the seed's talking-head paper comes from its own abstract, deterministically.
    again = summarize(copy.deepcopy(inp), "extractive")
    assert again.fields == fields


def test_extractive_on_a_full_paper():
    inp = full_input()
    result = summarize(inp, "extractive")
    check_common(result, FULL_PAPER)
    fields = result.fields
    assert all(fields[name] for name in SUMMARY_FIELDS), fields
    assert len(fields["key_takeaways"]) == 7
    assert fields["tldr"].startswith("We propose EchoFace")
    assert fields["affiliations"] == [
        "Department of Computer Science, University of Northbridge",
        "Vision Group, Harbor Institute of Technology",
    ]
    assert fields["links"] == [
        {"label": "Code", "url": "https://github.com/echoface-lab/echoface"},
        {"label": "Project page", "url": "https://echoface-lab.github.io/echoface/"},
    ]
    assert "phoneme-aware diffusion" in [k.lower() for k in fields["keywords"]]
    assert "Video conferencing" in fields["background"]
    assert "Existing" in fields["prior_work"] and "however" in fields["prior_work"]
    assert "outperforms all baselines" in fields["results"]
    assert "We presented EchoFace" in fields["significance"]
    labels = [line.split(":")[0] for line in fields["assessment"].split("\n")]
    assert labels == ["Innovation", "Performance", "Workload"]
    # Method steps come from the method section, in the paper's order.
    method = flat(split_document(FULL_PAPER).text_of("method"))
    positions = [method.find(step) for step in fields["method_steps"]]
    assert -1 not in positions and positions == sorted(positions)
    assert any(step.startswith("Finally") for step in fields["method_steps"])
    # References and acknowledgements never feed the summary.
    text = json.dumps(fields)
    assert "someone/else" not in text and "volunteers" not in text
    assert result.warnings == []
    assert summarize(full_input(), "extractive").fields == fields


def test_extractive_short_abstracts():
    three = (FIXTURES / "short_abstract.txt").read_text(encoding="utf-8")
    result = summarize(SummaryInput(arxiv_id="x", title="GazeKeep", abstract=three), "extractive")
    assert result.fields["key_takeaways"] == split_sentences(three)
    assert (
        result.fields["tldr"] == "We propose GazeKeep, a light gaze module for talking head models."
    )

    two = " ".join(split_sentences(three)[:2])
    result = summarize(SummaryInput(arxiv_id="x", title="GazeKeep", abstract=two), "extractive")
    assert len(result.fields["key_takeaways"]) == 2
    assert any("only 2 key takeaway" in w for w in result.warnings)


def test_extractive_writes_in_the_papers_language():
    inp = full_input(language="zh")
    result = summarize(inp, "extractive")
    assert result.language == "en"
    assert result.fields["title_translation"] == TITLE
    assert any("topic's (zh)" in w for w in result.warnings)


def test_input_digest_follows_what_matters():
    inp = full_input()
    digest = input_digest(inp, backend="openai", model="m", prompt_version="1")
    assert digest == input_digest(
        full_input(authors=["Someone Else"]), backend="openai", model="m", prompt_version="1"
    )
    assert digest != input_digest(
        full_input(comment="v2"), backend="openai", model="m", prompt_version="1"
    )
    assert digest != input_digest(inp, backend="openai", model="m", prompt_version="2")


def valid_fields(**changes) -> dict:
    fields = {
        "tldr": "EchoFace keeps long talking head videos in sync.",
        "key_takeaways": [
            "Phonemes condition each frame.",
            "An identity memory stops drift.",
            "Lip-sync error drops by 18.4%.",
        ],
        "title_translation": TITLE,
        "affiliations": ["University of Northbridge", "Harbor Institute of Technology"],
        "keywords": ["talking head", "diffusion", "lip sync"],
        "links": [{"label": "Code", "url": "https://github.com/echoface-lab/echoface"}],
        "background": "Talking heads are needed for dubbing.",
        "prior_work": "Earlier diffusion models drift after a few seconds.",
        "method": "A phoneme-aware diffusion model with an identity memory.",
        "results": "It beats the baselines on HDTF.",
        "method_steps": [
            "Recognize phonemes.",
            "Encode phoneme windows.",
            "Denoise chunks with memory.",
        ],
        "significance": "It makes long dubbing practical.",
        "assessment": "Innovation: phoneme windows. Performance: better sync. Workload: a 120-hour benchmark.",
    }
    fields.update(changes)
    return fields


def test_validate_fields_names_the_bad_field():
    assert validate_fields(valid_fields()) == valid_fields()
    broken = valid_fields()
    del broken["method"]
    with pytest.raises(ValueError, match="missing field 'method'"):
        validate_fields(broken)
    with pytest.raises(ValueError, match="'key_takeaways' must be a list"):
        validate_fields(valid_fields(key_takeaways="one. two. three."))
    with pytest.raises(ValueError, match="'keywords' item 2 must be a string"):
        validate_fields(valid_fields(keywords=["a", 3]))
    with pytest.raises(ValueError, match="'links' item 1"):
        validate_fields(valid_fields(links=["https://github.com/x/y"]))
    with pytest.raises(ValueError, match="'tldr' must be a string"):
        validate_fields(valid_fields(tldr=None))
    with pytest.raises(ValueError, match="unexpected field 'authors'"):
        validate_fields(valid_fields(authors=["A"]))
    with pytest.raises(ValueError, match="3 to 7 items, got 8"):
        validate_fields(valid_fields(key_takeaways=[f"Point {i}." for i in range(8)]))


# ---------------------------------------------------------------- LLM backend


@pytest.fixture
def fake_llm():
    server = FakeLlm().start()
    yield server
    server.stop()


def config(server: FakeLlm, **kwargs) -> LlmConfig:
    kwargs.setdefault("timeout", 10)
    kwargs.setdefault("max_retries", 0)
    return LlmConfig(base_url=server.url, api_key="test-key", model="test-model", **kwargs)


def run(server: FakeLlm, inp: SummaryInput | None = None, **kwargs):
    return summarize(inp or full_input(), "openai", llm=config(server, **kwargs))


def test_llm_valid_answer_first_time(fake_llm):
    fake_llm.reply_json(valid_fields(), total_tokens=1234)
    result = run(fake_llm)
    assert result.fields == valid_fields()
    assert (result.backend, result.model, result.language) == ("openai", "test-model", "en")
    assert result.tokens == 1234 and result.prompt_version and result.warnings == []
    assert len(fake_llm.requests) == 1
    request = fake_llm.requests[0]
    assert request.path == "/v1/chat/completions"
    assert request.headers["authorization"] == "Bearer test-key"
    assert request.body["model"] == "test-model"
    assert request.body["response_format"] == {"type": "json_object"}
    system, user = request.body["messages"]
    for name in SUMMARY_FIELDS:
        assert f'"{name}"' in system["content"]
    for fact in ("authors", "doi", "journal", "categor", "date"):
        assert fact not in system["content"].lower()
    for author in AUTHORS:
        assert author not in user["content"]
    assert "northbridge.edu" not in user["content"]
    assert "University of Northbridge" in user["content"]


def test_llm_text_is_trimmed_by_section_under_the_budget(fake_llm):
    fake_llm.reply_json(valid_fields())
    run(fake_llm, max_input_tokens=700)
    messages = fake_llm.requests[0].body["messages"]
    sent = "\n".join(m["content"] for m in messages)
    assert estimate_tokens(sent) <= 700
    for heading in ("## Introduction", "## Method", "## Experiments", "## Conclusion"):
        assert heading in sent
    assert "Some prior paper" not in sent and "volunteers" not in sent
    # Cut at sentence ends: the longest sections lose their tails.
    assert (
        "Video conferencing, dubbing and virtual assistants all need faces that speak convincingly."
        in sent
    )
    assert "The memory is refreshed every 8 chunks" not in sent
    # With room for everything, everything but references and acknowledgements goes.
    fake_llm.reply_json(valid_fields())
    run(fake_llm, max_input_tokens=12000)
    sent = fake_llm.requests[1].body["messages"][1]["content"]
    assert "The memory is refreshed every 8 chunks from the portrait." in sent
    assert "Some prior paper" not in sent


def test_llm_broken_json_then_valid_carries_the_error(fake_llm):
    fake_llm.reply('{"tldr": "cut off')
    fake_llm.reply_json(valid_fields(), total_tokens=50)
    result = run(fake_llm)
    assert result.fields == valid_fields()
    assert result.tokens == 150
    second = fake_llm.requests[1].body["messages"]
    assert second[2] == {"role": "assistant", "content": '{"tldr": "cut off'}
    assert "not valid JSON" in second[3]["content"]


def test_llm_broken_twice_fails_for_good(fake_llm):
    fake_llm.reply("Here is the summary you asked for.")
    fake_llm.reply('{"tldr": ')
    with pytest.raises(SummarizerError, match="invalid twice") as error:
        run(fake_llm)
    assert error.value.transient is False
    assert len(fake_llm.requests) == 2


def test_llm_wrong_types_and_missing_fields_are_retried(fake_llm):
    fake_llm.reply_json(valid_fields(key_takeaways="All good."))
    fake_llm.reply_json(valid_fields())
    assert run(fake_llm).fields == valid_fields()
    assert "'key_takeaways' must be a list" in fake_llm.requests[1].body["messages"][3]["content"]

    incomplete = valid_fields()
    del incomplete["significance"]
    fake_llm.reply_json(incomplete)
    fake_llm.reply_json(incomplete)
    with pytest.raises(SummarizerError, match="missing field 'significance'"):
        run(fake_llm)
    assert "missing field 'significance'" in fake_llm.requests[3].body["messages"][3]["content"]


def test_llm_honours_retry_after_on_429(fake_llm):
    fake_llm.error(429, "slow down", headers={"Retry-After": "1"})
    fake_llm.reply_json(valid_fields())
    assert run(fake_llm, max_retries=2).fields == valid_fields()
    first, second = fake_llm.requests
    assert second.at - first.at >= 0.9


def test_llm_rate_limited_too_long_is_transient(fake_llm):
    fake_llm.error(429, "come back in an hour", headers={"Retry-After": "3600"})
    with pytest.raises(SummarizerError) as error:
        run(fake_llm, max_retries=2)
    assert error.value.transient is True and error.value.retry_after == 3600
    assert len(fake_llm.requests) == 1


def test_llm_time_out_is_transient(fake_llm):
    fake_llm.stall(30)
    with pytest.raises(SummarizerError, match="did not answer") as error:
        run(fake_llm, timeout=0.3)
    assert error.value.transient is True


def test_llm_server_errors_are_transient(fake_llm):
    fake_llm.error(500, "boom")
    fake_llm.error(503, "overloaded")
    with pytest.raises(SummarizerError, match="HTTP 503") as error:
        run(fake_llm, max_retries=1)
    assert error.value.transient is True
    assert len(fake_llm.requests) == 2


def test_llm_falls_back_without_response_format(fake_llm):
    fake_llm.error(400, "response_format is not supported by this model")
    fake_llm.reply_json(valid_fields())
    assert run(fake_llm).fields == valid_fields()
    assert "response_format" in fake_llm.requests[0].body
    assert "response_format" not in fake_llm.requests[1].body


def test_llm_other_bad_requests_are_not_transient(fake_llm):
    fake_llm.error(400, "context length exceeded")
    with pytest.raises(SummarizerError) as error:
        run(fake_llm)
    assert error.value.transient is False


def zh_fields(**changes) -> dict:
    fields = valid_fields(
        tldr="EchoFace 让长时间说话人视频保持口型同步。",
        key_takeaways=["每一帧都以音素为条件。", "身份记忆防止漂移。", "口型误差降低 18.4%。"],
        title_translation="EchoFace：面向长时说话人视频的音素感知扩散模型",
        keywords=["说话人生成", "扩散模型", "口型同步"],
        background="配音和虚拟助手需要逼真的说话人视频。",
        prior_work="以往的扩散模型在几秒后身份漂移。",
        method="提出音素感知的扩散模型和身份记忆。",
        results="在 HDTF 上优于所有基线。",
        method_steps=["识别音素。", "编码音素窗口。", "分块去噪。"],
        significance="让长视频配音变得可行。",
        assessment="创新：音素窗口。性能：口型更准。工作量：120 小时的数据集。",
    )
    fields.update(changes)
    return fields


def test_llm_zh_answer_must_be_chinese(fake_llm):
    fake_llm.reply_json(zh_fields())
    result = run(fake_llm, full_input(language="zh"))
    assert result.language == "zh" and result.fields == zh_fields()
    assert "Simplified Chinese" in fake_llm.requests[0].body["messages"][0]["content"]

    fake_llm.reply_json(valid_fields())
    fake_llm.reply_json(
        zh_fields(method="A phoneme-aware diffusion model with an identity memory.")
    )
    with pytest.raises(SummarizerError, match="'method' is not written in Simplified Chinese"):
        run(fake_llm, full_input(language="zh"))
    assert "not written" in fake_llm.requests[2].body["messages"][3]["content"]


def test_llm_invented_affiliations_and_links_are_dropped(fake_llm):
    answer = valid_fields(
        affiliations=["University of Northbridge", "Stanford University"],
        links=[
            {"label": "Code", "url": "https://github.com/echoface-lab/echoface"},
            {"label": "Project page", "url": "https://echoface.example.org/"},
        ],
    )
    fake_llm.reply_json(answer)
    result = run(fake_llm)
    assert result.fields["affiliations"] == ["University of Northbridge"]
    assert result.fields["links"] == [
        {"label": "Code", "url": "https://github.com/echoface-lab/echoface"}
    ]
    assert "affiliation 'Stanford University' not found in the PDF's first page" in result.warnings
    assert "link 'https://echoface.example.org/' not found in the paper's text" in result.warnings
