"""Topic exclusions mean what editors typed: whole words, quoted phrases, any case, `cat:`."""

import pytest

from papers.exclusions import first_rule, parse_rules
from papers.models import Topic


def rule_for(lines: str, title: str, abstract: str = "", categories=("cs.CV",), cats="") -> str:
    topic = Topic(exclude_terms=lines, exclude_categories=cats)
    return first_rule(topic.exclusion_rules, title, abstract, list(categories))


@pytest.mark.parametrize(
    ("title", "abstract"),
    [
        ("It began early", "in the world of organs"),  # "GAN" and "RL" inside other words
        ("GANs everywhere", ""),  # a plural is another word
        ("Reinforcement", "RLHF tuning"),
    ],
)
def test_words_never_match_inside_other_words(title, abstract):
    assert rule_for("GAN\nRL", title, abstract) == ""


def test_whole_words_in_any_case_and_the_rule_that_matched():
    assert rule_for("GAN\nRL", "A gan for faces") == "GAN"
    assert rule_for("GAN\nRL", "Faces", "We train with RL-based rewards.") == "RL"
    assert rule_for("GAN\nRL", "A GAN-based model") == "GAN"


def test_quoted_phrases_match_whole_phrases_across_line_breaks():
    lines = '"large language model"'
    assert rule_for(lines, "Talking heads", "A Large\nLanguage  Model drives it.") == lines
    assert rule_for(lines, "Talking heads", "A large language modeller.") == ""
    assert rule_for(lines, "Talking heads", "A language model, large.") == ""


def test_category_rules_from_the_lines_and_the_field():
    assert rule_for("cat:cs.SD", "Faces", categories=("cs.CV", "cs.SD")) == "cat:cs.SD"
    assert rule_for("", "Faces", categories=("eess.AS",), cats="eess.AS") == "cat:eess.AS"
    assert rule_for("cat:cs.SD", "About cs.SD", categories=("cs.CV",)) == ""


def test_blank_lines_and_stray_quotes_make_no_rule():
    assert [rule.label for rule in parse_rules(["", '""', "  ", "GAN"], [])] == ["GAN"]
