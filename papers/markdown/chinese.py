"""Choosing between candidate characters in context, with the word models of chinese_model.

The models score a stretch of Chinese as a chain of words, so 与 between two nouns beats 不, which
wants a verb or an adjective after it, although 不 is the more frequent character. The two models
decide together, and where they differ the surer one wins. Rules of grammar beyond the next word
(在 ... 中, 与 ... 相比, 不 before a short adjective) add to their scores here.

`choose()` decodes a whole stretch at once, over every way to split it into words and every
candidate at its unknown positions, and gives each choice with its margin: how much more likely
the best reading is than the best reading with another character at that position.
"""

import itertools
import math
import re
from dataclasses import dataclass

from papers.markdown.chinese_model import FLOOR, MAX_WORD, Model, model, tagger_model

# 与 ("and", "with") and 中 ("in") lose the same byte as 不 ("not"): a repaired 不 standing alone
# reverses what the author wrote if it is wrong, so it must win by this much (in log-probability)
# over 与 and 中; at the start of a word (不可, 不透明) it needs a smaller lead.
NEGATION = "不"
REVERSED_BY_NEGATION = {"与", "中"}
NEGATION_GUARD = 2.0
NEGATION_WORD_GUARD = 1.0
# Grammar beyond the next word, as a bonus in log-probability: 在/从/于 ... 中 ("in ..."), and
# 与 ... 相比 ("compared with"), 与 ... 结合 ("combined with"), 与 ... 之间 ("between"), 将 A 与 B.
FRAME_BONUS = 2.0
FRAME_OPENERS = "在从于"
# 于 ends words that open no such frame (基于 "based on", 对于 "as for"), and a frame is closed by
# its first 中 or 上 ("在数据集上取得了与 A 相当的结果" has no 中 to come).
NOT_OPENING = {
    "基于",
    "由于",
    "对于",
    "用于",
    "关于",
    "等于",
    "属于",
    "至于",
    "鉴于",
    "大于",
    "小于",
}
FRAME_CLOSERS = "中上"
WITH_VERBS = (
    "相比",
    "结合",
    "之间",
    "相关",
    "一致",
    "对应",
    "相同",
    "不同",
    "相似",
    "融合",
    "对齐",
    "交互",
    "无关",
    "合作",
    "对比",
    "比较",
    "差异",
    "差值",
    "差距",
    "区别",
    "相当",
    "相符",
    "不符",
    "相近",
    "匹配",
    "贴合",
    "纠缠",
    "兼容",
    "同步",
    "权衡",
    "配对",
)
FRAME_GUARD = 2.0
# 不 before a short adjective that ends the clause (质量不高, 视角不一致时, 如不可用): 中高 and 与一致
# are no reading there, so the guard is off and 不 gets PROPERTY_BONUS instead (中高 is a word of
# its own, "middle to high"). The adjective may have characters to choose too.
NEGATED_PROPERTIES = (
    *"高强低大小好佳足多少快慢准稳",
    *"一致 明显 稳定 准确 清晰 充分 完整 理想 可靠 足够 合理 可用".split(),
)
CLAUSE_TAIL = "的等或和及时"
PROPERTY_BONUS = 1.0
WITH_OPENERS = "将把"
OPENER_REACH = 8
OBJECT_PRONOUNS = {"将其", "使其", "把其", "令其"}
WITH_OPENING_VERBS = ("比较", "平衡", "结合", "切换", "区分", "权衡", "融合", "对比", "统一")
# Verbs of taking something out of a source: 从 A 中提取 ("extract from A"), where 仍 ("still")
# reads as well word by word.
TAKING_VERBS = (
    "提取",
    "获得",
    "获取",
    "学习",
    "恢复",
    "重建",
    "估计",
    "推断",
    "采样",
    "选择",
    "检索",
    "生成",
    "分离",
    "挖掘",
    "收集",
)
# Verbs of being, having and ability, which an adverb such as 仍 ("still") comes before, and
# 从 ("from") never does.
MODALS = ("能", "是", "可", "会", "需", "要", "有", "存在", "面临", "具有", "无法")
# A repaired character that counts steps after a number (4步, 四步) rather than 来 ("come"), by a
# larger bonus than a frame's: 来时 and 后来 are common words that 步 must beat there.
COUNTED = "步"
COUNTED_BONUS = 4.0
NUMERALS = "一二三四五六七八九十百千两几多单每"
# And one that compares by a quantity (低 46%, "lower by 46%") rather than 住 ("live").
BEFORE_NUMBERS = "低"
# Nouns of media, places and processes that take 中 ("in") far more often than 与 in research
# writing (视频中, 场景中, 过程中): a repaired 中 right after one gets LOCATIVE_BONUS, and a 不
# there needs the lead it needs in a frame. (音频 is not one: 音频与口型同步.)
LOCATIVE_NOUNS = {"视频", "场景", "空间", "领域", "论文", "原文", "过程", "图像", "模型", "系统"}
LOCATIVE_BONUS = 2.0
# 与 between two words of one suffix (真实性与一致性, not 真实性不一致性) is guarded against 不
# as a frame is.
PARALLEL_SUFFIXES = "性度率化力感"
# A repaired 与 between nouns where one or two nouns (of up to SHORT_TAIL characters) end the
# clause, as in a heading "实验设计与实施：", gets TAIL_BONUS: 中 there leaves no verb.
SHORT_TAIL = 4
TAIL_BONUS = 1.0

# Adverbs of frequency, degree and manner come before a verb or an adjective, never before 中
# ("通常不令人满意", "并不总是"), and before 与 less often than before 不: a repaired 中 after one
# loses FRAME_BONUS, and a 不 there needs no lead but what a frame for 与 asks.
ADVERBS = {
    *"并均都也仍却还更很又亦尚皆",
    *"通常 往往 经常 总是 一般 仍然 依然 同时 可能 完全 从而 因而 始终 一直 并且 而且".split(),
}

# Suffixes that make research nouns of words before them (注意块, 掩蔽块: "attention block";
# 调整环: "adjustment loop"), at this cost in log-probability.
NOUN_SUFFIXES = "块环"
SUFFIX_COST = -6.0

HANZI = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")


def _guard(word: str, start: int, tokens: list[str], options: dict[int, list[str]]) -> float:
    """The lead a word with a repaired 不 needs over 与 and 中 there (不可, and 可不 too); more
    where the grammar around wants 与 (将 A 与 B 相结合, 与 A 相比), less than none before a short
    adjective that ends the clause (质量不高或)."""
    for offset, char in enumerate(word):
        at = start + offset
        reversed_ = REVERSED_BY_NEGATION & set(options.get(at, ()))
        if char == NEGATION and reversed_:
            if _short_property(at, tokens, options):
                return -PROPERTY_BONUS
            guard = NEGATION_GUARD if len(word) == 1 else NEGATION_WORD_GUARD
            if _after_adverb(at, tokens, options) or _right_after(at, tokens, options, "在"):
                guard = 0.0
            if "与" in reversed_ and (
                _frame("与", at, tokens, options) or _parallel(at, tokens, options)
            ):
                guard += FRAME_GUARD
            elif "中" in reversed_ and "".join(tokens[max(at - 2, 0) : at]) in LOCATIVE_NOUNS:
                guard += FRAME_GUARD
            return guard
    return 0.0


def _after_adverb(at: int, tokens: list[str], options: dict[int, list[str]]) -> bool:
    """Whether one of ADVERBS (with no character to choose) stands right before `at`."""
    for size in (1, 2):
        where = range(at - size, at)
        if at >= size and not any(i in options for i in where):
            if "".join(tokens[i] for i in where) in ADVERBS:
                return True
    return False


def _right_after(at: int, tokens: list[str], options: dict[int, list[str]], chars: str) -> bool:
    return at > 0 and at - 1 not in options and tokens[at - 1] in chars


def _parallel(at: int, tokens: list[str], options: dict[int, list[str]]) -> bool:
    """A 与 B with A and B of one suffix ("真实性与一致性", "稳定度与精度")."""
    if at < 1 or at - 1 in options or tokens[at - 1] not in PARALLEL_SUFFIXES:
        return False
    return any(
        i not in options and tokens[i] == tokens[at - 1]
        for i in range(at + 2, min(at + 5, len(tokens)))
    )


def _short_property(at: int, tokens: list[str], options: dict[int, list[str]]) -> bool:
    """Whether one of NEGATED_PROPERTIES follows `at` and ends the clause (质量不高, 不一致等)."""
    for word in NEGATED_PROPERTIES:
        end = at + 1 + len(word)
        if not _spells(tokens, options, at + 1, (word,)):
            continue
        if end == len(tokens) or _could_be(tokens, options, end, CLAUSE_TAIL):
            return True
    return False


def _frame(char: str, at: int, tokens: list[str], options: dict[int, list[str]]) -> float:
    """FRAME_BONUS for a repaired 中 after 在/从/于 (and LOCATIVE_BONUS after one of LOCATIVE_NOUNS),
    or a repaired 与 before one of WITH_VERBS or after 将/把, in the same stretch (stretches end
    at punctuation)."""
    if char == "中":
        bonus = FRAME_BONUS if _opened(at, tokens, options) else 0.0
        if _after_adverb(at, tokens, options) or _right_after(at, tokens, options, "在"):
            # 通常中, 在中: no reading (在不进行优化的情况下, 在不同帧之间).
            bonus -= FRAME_BONUS
        if "".join(tokens[max(at - 2, 0) : at]) in LOCATIVE_NOUNS:
            bonus += LOCATIVE_BONUS
        return bonus
    if char in COUNTED and at and _number(tokens, options, at - 1):
        return COUNTED_BONUS
    if char in BEFORE_NUMBERS and at + 1 < len(tokens) and _number(tokens, options, at + 1):
        return FRAME_BONUS
    if char == "从" and any(
        _could_be(tokens, options, i, "中") and _spells(tokens, options, i + 1, TAKING_VERBS)
        for i in range(at + 2, len(tokens))
    ):
        # 从 A 中提取 ("extract from A"), not 仍 ("still").
        return FRAME_BONUS
    if char == "仍" and _spells(tokens, options, at + 1, MODALS):
        # 仍能, 仍是, 仍需: "still can", where 从 ("from") wants a noun.
        return FRAME_BONUS
    if char == "均" and at and tokens[at - 1] == "上" and "在" in tokens[: at - 1]:
        # 在 A 上均 ... ("on A ... alike"), not 上升.
        return FRAME_BONUS
    if char == "与" and not (at and _could_be(tokens, options, at - 1, "与")):
        # Something stands between 与 and the verb: "与一致" is no frame, "与X一致" is. And one 与
        # opens it: in "与不同架构兼容" the second is 不.
        after = any(_could_spell(tokens, options, at + 2, word) for word in WITH_VERBS)
        # 将/把 A 与 B ...: "combine A with B", where A is short: a 将 further back has had its
        # object (将空间分解到实体的不平行面上). 比较/平衡/结合 A 与 B: "compare A with B".
        reach = max(at - OPENER_REACH, 0)
        before = any(_could_be(tokens, options, i, WITH_OPENERS) for i in range(reach, at)) or any(
            _could_spell(tokens[:at], options, 0, word) for word in WITH_OPENING_VERBS
        )
        # 将其与 … 结合 / 使其与 … 贴合 ("combine it with"): the pronoun is the object, and 其中
        # ("among them", 将其中的噪声去除) the word to beat.
        pronoun = after and "".join(tokens[max(at - 2, 0) : at]) in OBJECT_PRONOUNS
        # Both ends of the frame count: 将其与文本特征相结合 against 其中.
        return FRAME_BONUS * (after + before + pronoun)
    return 0.0


def _short_tail(m: Model, at: int, tokens: list[str], options: dict[int, list[str]]) -> bool:
    """Whether a noun stands before `at` and one or two nouns end the clause after it
    ("实验设计与实施：", "训练与推理过程"), with no 在/从/于 that would ask for 中 there."""
    rest = tokens[at + 1 :]
    if not 0 < len(rest) <= SHORT_TAIL or at < 2 or _opened(at, tokens, options):
        return False
    if not _spells_nouns(m, tokens[at - 2 : at], range(at - 2, at), options, 1):
        return False
    return _spells_nouns(m, rest, range(at + 1, len(tokens)), options, 2)


def _spells_nouns(m: Model, tokens, where, options, most: int) -> bool:
    """Whether the tokens (with any of their candidates) spell up to `most` nouns of two or
    more characters each."""
    spelled = [options.get(i) or [t] for i, t in zip(where, tokens, strict=True)]
    for chars in itertools.product(*spelled):
        text = "".join(chars)
        if len(text) != len(chars) or not all(HANZI.fullmatch(c) for c in text):
            continue
        if _noun(m, text):
            return True
        if most > 1 and any(
            _noun(m, text[:n]) and _noun(m, text[n:]) for n in range(2, len(text) - 1)
        ):
            return True
    return False


def _noun(m: Model, word: str) -> bool:
    return any(entry in m.nouns for entry, _, _ in m.words.get(word, ()))


def _number(tokens: list[str], options: dict[int, list[str]], index: int) -> bool:
    if index in options:
        return False
    return tokens[index].isdigit() or tokens[index] in NUMERALS


def _opened(at: int, tokens: list[str], options: dict[int, list[str]]) -> bool:
    """Whether a 在/从/于 some way before `at` opens a frame that nothing has closed yet.

    A frame has one 中: a position on the way that may hold 中 (and is not right after the
    opener: 在不同) likely closes it, so 在设置中具有与 … 相当 has no second 中 to come."""
    latest = -1  # the position nearest `at` that may hold 中
    for i in range(at - 2, -1, -1):
        if i not in options and tokens[i] in FRAME_CLOSERS:
            return False
        before = tokens[i - 1] if i else ""
        for char in options.get(i) or [tokens[i]]:
            if char in FRAME_OPENERS and before + char not in NOT_OPENING:
                return latest <= i + 1
        if latest < 0 and "中" in options.get(i, ()):
            latest = i
    return False


def _spells(
    tokens: list[str], options: dict[int, list[str]], start: int, words: tuple[str, ...]
) -> bool:
    """Whether one of `words` stands (or may stand, at positions to choose) right at `start`."""
    return any(
        start + len(word) <= len(tokens)
        and all(_could_be(tokens, options, start + n, c) for n, c in enumerate(word))
        for word in words
    )


def _could_spell(tokens: list[str], options: dict[int, list[str]], start: int, word: str) -> bool:
    """Whether `word` stands (or may stand, at positions to choose) anywhere from `start` on."""
    return any(_spells(tokens, options, begin, (word,)) for begin in range(start, len(tokens)))


def _could_be(tokens: list[str], options: dict[int, list[str]], index: int, chars: str) -> bool:
    return any(c in chars for c in options.get(index) or [tokens[index]])


@dataclass
class Choice:
    char: str
    margin: float  # log-probability ahead of the runner-up; inf when there was no other
    runner_up: str = ""


def choose(tokens: list[str], options: dict[int, list[str]]) -> dict[int, Choice]:
    """Pick a character for each position in `options` (index into `tokens` -> candidates).

    `tokens` is one stretch of text: single Chinese characters and whole Latin words, with a
    placeholder at the positions to choose. Returns the choice and its margin per position.
    """
    newspaper = _choose(model(), tokens, options)
    tagger = _choose(tagger_model(), tokens, options)
    found = {}
    for index in newspaper.keys() | tagger.keys():
        one, other = newspaper.get(index), tagger.get(index)
        found[index] = combine(one, other) if one and other else one or other
    return found


def combine(one: Choice, other: Choice) -> Choice:
    """Both models' choices at one position as one: where they differ, the surer one wins, by
    what it is surer."""
    best, worse = (one, other) if one.margin >= other.margin else (other, one)
    if one.char == other.char:
        # Agreeing, they are as sure as the surer one; but a 不 that may reverse the meaning is
        # only as sure as the less sure one.
        return worse if _negation_at_stake(best) else best
    # A model unsure of its own choice (a guarded 不 behind it, a margin below zero) makes the
    # other no surer.
    return Choice(best.char, best.margin - max(worse.margin, 0.0), worse.char)


def _negation_at_stake(choice: Choice) -> bool:
    pair = {choice.char, choice.runner_up}
    return NEGATION in pair and bool(pair & REVERSED_BY_NEGATION)


def _choose(m: Model, tokens: list[str], options: dict[int, list[str]]) -> dict[int, Choice]:
    size = len(tokens)
    # Every word of the stretch: (start, end, entry, exit, log P, the characters it chose).
    edges: list[list[tuple[int, int, int, float, dict[int, str]]]] = [[] for _ in range(size)]
    for start in range(size):
        token = tokens[start]
        if start not in options and not HANZI.fullmatch(token):
            entry, exit_, logp = m.latin(token)
            edges[start].append((start + 1, entry, exit_, logp, {}))
            continue
        _words_from(m, tokens, options, start, edges[start])
    _compounds(m, tokens, options, edges)

    # Best score of each stretch prefix by the state its last word ended in, and of each suffix
    # by the state of the word before it.
    forward: list[dict[int, float]] = [{} for _ in range(size + 1)]
    entering: list[dict[int, float]] = [{} for _ in range(size)]
    for start in range(size):
        came = forward[start]
        best_in: dict[int, float] = {}
        for end, entry, exit_, logp, _ in edges[start]:
            if entry not in best_in:
                if start == 0:
                    best_in[entry] = m.start[entry]
                else:
                    best_in[entry] = max(s + m.transition[p][entry] for p, s in came.items())
            score = best_in[entry] + logp
            if score > forward[end].get(exit_, -math.inf):
                forward[end][exit_] = score
        entering[start] = best_in
    backward: list[dict[int, float]] = [{} for _ in range(size + 1)]
    backward[size] = {p: m.end[p] for p in forward[size]}
    for start in range(size - 1, -1, -1):
        best_out: dict[int, float] = {}
        for end, entry, exit_, logp, _ in edges[start]:
            score = logp + backward[end].get(exit_, -math.inf)
            if score > best_out.get(entry, -math.inf):
                best_out[entry] = score
        if start == 0:
            continue
        backward[start] = {
            p: max(m.transition[p][entry] + s for entry, s in best_out.items())
            for p in forward[start]
        }

    best: dict[int, dict[str, float]] = {index: {} for index in options}
    for start in range(size):
        for end, entry, exit_, logp, chosen in edges[start]:
            if not chosen:
                continue
            through = entering[start][entry] + logp + backward[end].get(exit_, -math.inf)
            for index, char in chosen.items():
                if through > best[index].get(char, -math.inf):
                    best[index][char] = through
    result = {}
    for index, scores in best.items():
        ranked = sorted(scores.items(), key=lambda item: item[1], reverse=True)
        if not ranked:
            continue
        if len(ranked) == 1:
            result[index] = Choice(ranked[0][0], math.inf)
        else:
            (char, score), (other, second) = ranked[0], ranked[1]
            margin = score - second
            if {char, other} & {NEGATION} and {char, other} & REVERSED_BY_NEGATION:
                # Only what the reading wins by beyond the guard counts as sure.
                margin -= NEGATION_GUARD
            result[index] = Choice(char, margin, other)
    return result


def _compounds(m: Model, tokens: list[str], options: dict[int, list[str]], edges: list) -> None:
    """A word of two or more characters (or a Latin one) followed by a suffix of research nouns
    is a noun: 注意块 and Transformer块 ("attention block"), not 注意南 (a verb and "south")."""
    for start, found in enumerate(edges):
        for end, entry, _, logp, chosen in list(found):
            suffixes = [c for c in options.get(end, ()) if c in NOUN_SUFFIXES]
            if not suffixes:
                continue
            if end - start < 2 and (start in options or HANZI.fullmatch(tokens[start])):
                continue
            for char in suffixes:
                found.append(
                    (end + 1, entry, m.compound, logp + SUFFIX_COST, {**chosen, end: char})
                )


def _words_from(m: Model, tokens, options, start: int, out: list) -> None:
    """Every dictionary word (and every single character) that can begin at `start`."""
    stack: list[tuple[int, str, dict[int, str]]] = [(start, "", {})]
    while stack:
        at, text, chosen = stack.pop()
        if at >= len(tokens) or len(text) >= MAX_WORD:
            continue
        for char in options.get(at) or [tokens[at]]:
            if not HANZI.fullmatch(char):
                continue
            word = text + char
            if word not in m.prefixes and text:
                continue
            picked = {**chosen, at: char} if at in options else chosen
            found = m.word(word)
            if found is not None:
                extra = -_guard(word, start, tokens, options)
                if at in options and len(word) == 1:
                    extra += _frame(word, at, tokens, options)
                    if word == "与" and _short_tail(m, at, tokens, options):
                        extra += TAIL_BONUS
                for entry, exit_, logp in found:
                    out.append((at + 1, entry, exit_, logp + extra, picked))
            elif not text:
                state = m.unknown
                out.append((at + 1, state, state, FLOOR, picked))
            if word in m.prefixes:
                stack.append((at + 1, word, picked))
