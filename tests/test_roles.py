"""Sentence roles and the summary fields they feed, in English and Chinese."""

from papers.summarizers import SummaryInput, summarize
from papers.summarizers.extractive import PROSE_FIELDS
from papers.summarizers.roles import ordered_roles, section_role, sentence_roles
from papers.summarizers.text import split_sentences
from tools.quality import FIELD_ROLES, extractive_fields, role_precision

ABSTRACT = (
    "Talking head videos are needed for dubbing and remote meetings. "
    "Existing GAN-based methods edit only the mouth and suffer from blurry teeth. "
    "These methods also drift in identity after a few seconds. "
    "We propose StillFace, a diffusion model with an identity memory. "
    "First, a phoneme encoder turns speech into a conditioning vector. "
    "Then, the denoiser attends to the memory at every step. "
    "Experiments on HDTF show that StillFace outperforms all baselines by 12% in lip-sync error. "
    "We believe this paves the way for long-form dubbing. "
    "Code is available at https://github.com/example/stillface."
)

ZH_ABSTRACT = (
    "说话人视频生成在虚拟主播和在线教育中需求很大。"
    "现有方法大多只编辑嘴部区域，难以保持长视频中的身份一致性。"
    "本文提出一种带身份记忆的扩散模型，用于生成长时间的说话人视频。"
    "首先，音素编码器把语音转换为逐帧的条件向量。"
    "然后，去噪网络在每一步读取身份记忆以保持人脸外观。"
    "实验表明，该方法在唇形同步误差上优于所有基线方法。"
    "这项工作为长视频配音奠定了基础。"
)


def test_an_abstract_reads_in_order_around_its_claim():
    assert ordered_roles(split_sentences(ABSTRACT)) == [
        "problem",
        "prior_work",
        "prior_work",  # "These methods ..." goes on about the earlier work
        "contribution",
        "method",
        "method",
        "result",
        "significance",
        "other",
    ]


def test_a_question_then_a_proposal_makes_the_proposal_the_claim():
    texts = [
        "We study how well speech-driven avatars keep eye contact.",
        "We propose GazeKeep, a light gaze module for talking head models.",
        "It improves perceived eye contact in a user study.",
    ]
    fields = extractive_fields(" ".join(texts))
    assert fields["tldr"] == texts[1]


def test_sections_give_roles_whatever_the_cues():
    assert section_role("Many studies map audio to landmarks (Smith et al., 2021).", "related") == (
        "prior_work"
    )
    assert section_role("We outperform them by 3 dB.", "experiments") == "result"
    assert section_role("We train on 8 GPUs for three days.", "experiments") == "method"
    assert section_role("Future work will handle profile views.", "conclusion") == "limitation"
    assert section_role("It makes dubbing practical.", "conclusion") == "significance"
    assert sentence_roles([("We propose X.", "abstract"), ("X has two stages.", "method")]) == [
        "contribution",
        "method",
    ]


def test_each_field_takes_its_own_role_and_none_borrows():
    inp = SummaryInput(arxiv_id="x", title="StillFace", abstract=ABSTRACT)
    result = summarize(inp, "extractive")
    fields = result.fields
    assert fields["tldr"].startswith("We propose StillFace")
    assert fields["background"] == "Talking head videos are needed for dubbing and remote meetings."
    assert fields["prior_work"].startswith("Existing GAN-based methods")
    assert "These methods also drift" in fields["prior_work"]
    assert fields["results"].startswith("Experiments on HDTF show")
    assert fields["significance"] == "We believe this paves the way for long-form dubbing."
    assert "github.com" not in " ".join(fields[name] for name in PROSE_FIELDS)
    # Nothing is left for the assessment's lines but a step of the method: no result is borrowed.
    assert "outperforms" not in fields["assessment"]

    # Without any earlier work named, the field stays empty and the editor is told.
    bare = ABSTRACT.replace(
        "Existing GAN-based methods edit only the mouth and suffer from blurry teeth. "
        "These methods also drift in identity after a few seconds. ",
        "",
    )
    result = summarize(SummaryInput(arxiv_id="x", title="StillFace", abstract=bare), "extractive")
    assert result.fields["prior_work"] == ""
    assert "no sentence of the paper fits 'prior_work'" in result.warnings
    assert result.fields["background"] == fields["background"]


def test_a_chinese_paper_is_summarized_in_chinese_by_role():
    texts = split_sentences(ZH_ABSTRACT)
    assert ordered_roles(texts) == [
        "problem",
        "prior_work",
        "contribution",
        "method",
        "method",
        "result",
        "significance",
    ]
    inp = SummaryInput(
        arxiv_id="x", title="长时间说话人视频的身份记忆扩散模型", abstract=ZH_ABSTRACT
    )
    result = summarize(inp, "extractive")
    fields = result.fields
    # Written in the paper's own language, although the topic asked for English.
    assert result.language == "zh"
    assert any("paper's language (zh)" in w for w in result.warnings)
    assert fields["tldr"] == texts[2]
    assert fields["background"] == texts[0]
    assert fields["prior_work"] == texts[1]
    assert fields["results"] == texts[5]
    assert fields["significance"] == texts[6]
    assert texts[3] in fields["method"] + "".join(fields["method_steps"])
    assert fields["assessment"] == "" or fields["assessment"].startswith(("创新", "性能", "工作量"))


def test_role_precision_on_the_labelled_abstracts():
    """A floor under the measure `make bench` prints: each field mostly holds its own role."""
    scores, total = role_precision(extractive_fields)
    assert total == 73
    assert set(scores) == set(FIELD_ROLES)
    assert scores["tldr"].precision >= 0.9
    assert scores["tldr"].filled == total
    for name in ("background", "prior_work", "method", "method_steps", "results", "assessment"):
        assert scores[name].precision >= 0.75, name
