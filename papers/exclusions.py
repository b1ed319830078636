"""A topic's exclusions as editors type them: whole words, "quoted phrases" and `cat:` rules.

Words and phrases match whole words in the title or abstract, in any case: `GAN` leaves out "a
GAN-based model" but not "began" (nor "GANs": write that too if it is meant). `cat:cs.SD` leaves
out papers listed in that category.
"""

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Rule:
    """One exclusion; `label` is how the editor wrote it, shown wherever a paper is left out."""

    label: str
    category: str = ""
    pattern: re.Pattern | None = None

    def excludes(self, text: str, categories: list[str]) -> bool:
        if self.category:
            return self.category in categories
        return bool(self.pattern and self.pattern.search(text))


def word_pattern(phrase: str) -> re.Pattern:
    """Whole words in order, any case, any white space between them."""
    words = [re.escape(word) for word in phrase.split()]
    return re.compile(r"(?<!\w)" + r"\s+".join(words) + r"(?!\w)", re.IGNORECASE)


def parse_rules(terms: list[str], categories: list[str]) -> list[Rule]:
    """Rules from the topic's exclusion lines (`word`, `"a phrase"`, `cat:x.YZ`) and categories."""
    rules = []
    for line in terms:
        line = line.strip()
        if line.lower().startswith("cat:") and len(line) > 4:
            rules.append(Rule(label=f"cat:{line[4:].strip()}", category=line[4:].strip()))
            continue
        phrase = line.strip('"').strip()
        if phrase:
            rules.append(Rule(label=line, pattern=word_pattern(phrase)))
    for category in categories:
        rules.append(Rule(label=f"cat:{category}", category=category))
    return rules


def first_rule(rules: list[Rule], title: str, abstract: str, categories: list[str]) -> str:
    """The label of the first rule that leaves the paper out, or "" when none does."""
    text = f"{title}\n{abstract}"
    for rule in rules:
        if rule.excludes(text, categories):
            return rule.label
    return ""
