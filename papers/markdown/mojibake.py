"""Repair of UTF-8 text that was once decoded as a Windows code page (mojibake).

Legacy posts were read as Windows-1252 (or its Turkish sibling, Windows-1254), so each byte of
the UTF-8 became one Latin character, and the bytes the code page leaves undefined (plus the
invisible soft hyphen, 0xAD) were dropped. Mapping the characters back to bytes gives the UTF-8
again, except that some multi-byte sequences are one or two bytes short. For those we enumerate
every way to put the lost bytes back, decode each candidate, and keep the character that makes
the most likely Chinese in its context (papers.markdown.chinese, a word-level model). Where the
runner-up comes close, the spot is reported as uncertain with both readings, for an editor.
Text that is not wholly of that kind goes to ftfy, which fixes cleanly re-decoded segments.
"""

import itertools
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache

import ftfy
import ftfy.bad_codecs  # noqa: F401 - registers the sloppy-windows-* codecs

from papers.markdown import chinese
from papers.markdown.chinese import Choice

# Bytes lost on the way: undefined in Windows-1252 (0x81 0x8D 0x8F 0x90 0x9D), also undefined in
# Windows-1254 (0x8E 0x9E), and the soft hyphen (0xAD) that editors strip as invisible.
DROPPED_BYTES = bytes([0x81, 0x8D, 0x8E, 0x8F, 0x90, 0x9D, 0x9E, 0xAD])
CODEPAGES = ("sloppy-windows-1252", "sloppy-windows-1254")
REPLACEMENT = "\ufffd"

# A repaired character less than this far ahead of the runner-up (in log-probability: e, about
# 2.7 times as likely) is reported as uncertain, with this many characters around it.
UNCERTAIN_MARGIN = 1.0
SPOT_CONTEXT = 8

# Characters other than Chinese that a broken sequence may stand for, by how often they are meant:
# punctuation, quotes, the emoji variation selector, accented letters of authors' names,
# superscript digits of affiliations. A candidate not listed here is never chosen.
SYMBOLS = {
    "，": 300000,
    "。": 200000,
    "、": 100000,
    "：": 60000,
    "；": 30000,
    "（": 40000,
    "）": 40000,
    "“": 40000,
    "”": 40000,
    "！": 20000,
    "？": 20000,
    "《": 10000,
    "》": 10000,
    "—": 10000,
    "…": 10000,
    "\ufe0f": 50000,
    "⭐": 5000,
    "í": 1000,
    **{digit: 300 for digit in "⁰ⁱ⁴⁵⁶⁷⁸⁹"},
}


@dataclass(frozen=True)
class UncertainSpot:
    """A repaired character whose runner-up reading was nearly as likely: both readings, with
    the text around them, for an editor to check."""

    line: int  # 1-based
    column: int  # 1-based
    chosen: str
    other: str
    before: str
    after: str

    def reading(self, char: str) -> str:
        return f"{self.before}{char}{self.after}"

    def __str__(self) -> str:
        return (
            f"line {self.line}: repaired as \u201c{self.reading(self.chosen)}\u201d, "
            f"could be \u201c{self.reading(self.other)}\u201d"
        )


@dataclass
class RepairReport:
    """What repair_text found: `broken` sequences, of which `repaired` were restored and `left`
    replaced by U+FFFD (no candidate known to the model). `uncertain` lists the repaired spots
    where another character was nearly as likely."""

    mojibake: bool = False
    broken: int = 0
    repaired: int = 0
    left: int = 0
    codepage: str = ""
    uncertain: list[UncertainSpot] = field(default_factory=list)

    def __str__(self) -> str:
        if not self.mojibake:
            return "no mojibake"
        if not self.broken:
            return f"mojibake ({self.codepage}): repaired"
        return (
            f"mojibake ({self.codepage}): {self.broken} broken sequences, "
            f"{self.repaired} repaired of which {len(self.uncertain)} uncertain, {self.left} left"
        )


@lru_cache(maxsize=1)
def _byte_of() -> dict[str, int]:
    """Latin character -> the byte it stood for, over the code pages we know of."""
    table: dict[str, int] = {}
    for codepage in reversed(CODEPAGES):
        for byte in range(0x80, 0x100):
            table[bytes([byte]).decode(codepage)] = byte
    return table


def _sequence_length(lead: int) -> int:
    """Continuation bytes a UTF-8 lead byte needs, or -1 for a byte that cannot lead."""
    if lead < 0x80:
        return 0
    if 0xC2 <= lead <= 0xDF:
        return 1
    if 0xE0 <= lead <= 0xEF:
        return 2
    if 0xF0 <= lead <= 0xF4:
        return 3
    return -1


def _candidates(lead: int, present: bytes, needed: int) -> list[str]:
    """Every printable character the sequence can be with its lost bytes put back."""
    missing = needed - len(present)
    found: list[str] = []
    for slots in itertools.combinations(range(needed), missing):
        for values in itertools.product(DROPPED_BYTES, repeat=missing):
            tail, given, added = [], iter(present), iter(values)
            for index in range(needed):
                tail.append(next(added) if index in slots else next(given))
            try:
                char = bytes([lead, *tail]).decode("utf-8")
            except UnicodeDecodeError:
                continue
            if unicodedata.category(char) in ("Cn", "Co", "Cs", "Cc"):
                continue
            if char not in found:
                found.append(char)
    return found


def _decode(data: bytes) -> tuple[list[str], dict[int, list[str]], int]:
    """UTF-8 with lost bytes -> characters, candidates per broken index, count of stray bytes."""
    chars: list[str] = []
    broken: dict[int, list[str]] = {}
    stray = 0
    index = 0
    while index < len(data):
        lead = data[index]
        needed = _sequence_length(lead)
        if needed == 0:
            chars.append(chr(lead))
            index += 1
            continue
        if needed < 0:
            chars.append(REPLACEMENT)
            stray += 1
            index += 1
            continue
        end = index + 1
        while end < len(data) and end - index - 1 < needed and 0x80 <= data[end] <= 0xBF:
            end += 1
        present = data[index + 1 : end]
        index = end
        if len(present) == needed:
            try:
                chars.append(bytes([lead, *present]).decode("utf-8"))
                continue
            except UnicodeDecodeError:
                chars.append(REPLACEMENT)
                stray += 1
                continue
        broken[len(chars)] = _candidates(lead, present, needed)
        chars.append(REPLACEMENT)
    return chars, broken, stray


def _choose(chars: list[str], broken: dict[int, list[str]]) -> tuple[int, dict[int, Choice]]:
    """Fill each broken index with its likeliest candidate; returns how many were left, and the
    model's choices (with margins) at the Chinese ones."""
    m = chinese.model()
    hanzi: dict[int, list[str]] = {}
    left = 0
    for index, found in broken.items():
        words = [c for c in found if chinese.HANZI.fullmatch(c) and c in m.prefixes]
        if words:
            hanzi[index] = words
            continue
        symbols = [c for c in found if c in SYMBOLS]
        if symbols:
            chars[index] = max(symbols, key=SYMBOLS.__getitem__)
        else:
            left += 1
    choices: dict[int, Choice] = {}
    for tokens, where in _stretches(chars, hanzi):
        options = {n: hanzi[i] for n, i in enumerate(where) if i in hanzi}
        for n, choice in chinese.choose(tokens, options).items():
            chars[where[n]] = choice.char
            choices[where[n]] = choice
    return left, choices


def _stretches(chars: list[str], hanzi: dict[int, list[str]]):
    """Runs of Chinese (with Latin words; spaces and hyphens skipped) that hold a character to
    choose, as (tokens, index in `chars` of each token)."""
    tokens: list[str] = []
    where: list[int] = []
    index = 0
    while index <= len(chars):
        char = chars[index] if index < len(chars) else "\n"
        if index in hanzi or chinese.HANZI.fullmatch(char):
            tokens.append(char)
            where.append(index)
            index += 1
            continue
        if char.isascii() and char.isalnum():
            end = index
            while end < len(chars) and chars[end].isascii() and chars[end].isalnum():
                end += 1
            tokens.append("".join(chars[index:end]))
            where.append(index)
            index = end
            continue
        if char in " \t-":
            index += 1
            continue
        aside = _aside(chars, index)
        if aside:
            index += aside
            continue
        if any(i in hanzi for i in where):
            yield tokens, where
        tokens, where = [], []
        index += 1


# An aside in brackets that holds no Chinese (an abbreviation, a citation) is read through:
# in "潜在扩散模型（LDMs）中进行" the 在 ... 中 frame and the noun before 中 still count.
ASIDES = {"（": "）", "(": ")", "[": "]"}
ASIDE_LENGTH = 40


def _aside(chars: list[str], index: int) -> int:
    """The length of a bracketed aside of ASCII alone that starts at `index`, or 0."""
    close = ASIDES.get(chars[index]) if index < len(chars) else None
    if close is None:
        return 0
    for end in range(index + 1, min(index + ASIDE_LENGTH, len(chars))):
        if chars[end] == close:
            return end + 1 - index
        if not chars[end].isascii() or chars[end] == "\n":
            return 0
    return 0


def looks_like_mojibake(text: str) -> bool:
    """True when every non-ASCII character maps back to a byte and those bytes are mostly UTF-8."""
    table = _byte_of()
    if all(ord(c) < 0x80 for c in text):
        return False
    if any(ord(c) >= 0x80 and c not in table for c in text):
        return False
    data = bytes(table[c] if ord(c) >= 0x80 else ord(c) for c in text)
    chars, broken, stray = _decode(data)
    whole = sum(1 for c in chars if ord(c) >= 0x80 and c != REPLACEMENT)
    return whole >= 2 and whole >= 2 * (len(broken) + stray)


def repair_text(text: str) -> tuple[str, RepairReport]:
    """Undo UTF-8-read-as-Windows-1252 (with lost bytes); other text goes through ftfy's fixer."""
    report = RepairReport()
    if not looks_like_mojibake(text):
        fixed = ftfy.fix_encoding(text)
        report.mojibake = fixed != text
        report.codepage = "ftfy" if report.mojibake else ""
        return fixed, report
    table = _byte_of()
    report.mojibake = True
    report.codepage = "windows-1254" if any(table[c] != _cp1252(c) for c in _high(text)) else ""
    report.codepage = report.codepage or "windows-1252"
    data = bytes(table[c] if ord(c) >= 0x80 else ord(c) for c in text)
    chars, broken, stray = _decode(data)
    left, choices = _choose(chars, broken)
    report.broken = len(broken) + stray
    report.left = left + stray
    report.repaired = report.broken - report.left
    repaired = "".join(chars)
    report.uncertain = _uncertain_spots(repaired, choices)
    return repaired, report


def _uncertain_spots(text: str, choices: dict[int, Choice]) -> list[UncertainSpot]:
    spots = []
    line, counted = 1, 0
    for index in sorted(i for i, choice in choices.items() if choice.margin < UNCERTAIN_MARGIN):
        line += text.count("\n", counted, index)
        counted = index
        start = max(text.rfind("\n", 0, index) + 1, index - SPOT_CONTEXT)
        end = text.find("\n", index)
        end = min(len(text) if end < 0 else end, index + 1 + SPOT_CONTEXT)
        choice = choices[index]
        before, after = text[start:index], text[index + 1 : end]
        column = index - text.rfind("\n", 0, index)
        spots.append(UncertainSpot(line, column, choice.char, choice.runner_up, before, after))
    return spots


def _high(text: str) -> set[str]:
    return {c for c in text if ord(c) >= 0x80}


def _cp1252(char: str) -> int | None:
    try:
        return char.encode("sloppy-windows-1252")[0]
    except UnicodeEncodeError:
        return None


def damage(text: str, codepage: str = "sloppy-windows-1252") -> str:
    """The damage repair_text undoes: UTF-8 read as `codepage`, with DROPPED_BYTES lost.

    Used to check a repair (damaging it again must give the input back) and to make test input.
    """
    data = bytes(b for b in text.encode("utf-8") if b not in DROPPED_BYTES)
    return data.decode(codepage)
