"""Repair of UTF-8 text that was once decoded as a Windows code page (mojibake).

Legacy posts were read as Windows-1252 (or its Turkish sibling, Windows-1254), so each byte of
the UTF-8 became one Latin character, and the bytes the code page leaves undefined (plus the
invisible soft hyphen, 0xAD) were dropped. Mapping the characters back to bytes gives the UTF-8
again, except that some multi-byte sequences are one or two bytes short. For those we enumerate
every way to put the lost bytes back, decode each candidate, and keep the character that makes
the most likely Chinese in its context, scored with the word frequencies of jieba's dictionary.
Text that is not wholly of that kind goes to ftfy, which fixes cleanly re-decoded segments.
"""

import itertools
import math
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

import ftfy
import ftfy.bad_codecs  # noqa: F401 - registers the sloppy-windows-* codecs

# Bytes lost on the way: undefined in Windows-1252 (0x81 0x8D 0x8F 0x90 0x9D), also undefined in
# Windows-1254 (0x8E 0x9E), and the soft hyphen (0xAD) that editors strip as invisible.
DROPPED_BYTES = bytes([0x81, 0x8D, 0x8E, 0x8F, 0x90, 0x9D, 0x9E, 0xAD])
CODEPAGES = ("sloppy-windows-1252", "sloppy-windows-1254")
REPLACEMENT = "\ufffd"

# Window of context on each side of a repaired character, and the longest word looked up.
CONTEXT = 4
MAX_WORD = 5
BEAM = 8

# Characters jieba's dictionary does not list, with frequencies on its scale (its total is about
# 6e7, "的" about 3e5): Chinese punctuation and the emoji variation selector.
EXTRA_FREQUENCIES = {
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
}


@dataclass
class RepairReport:
    """What repair_text found: `broken` sequences, of which `repaired` were restored and `left`
    replaced by U+FFFD (no candidate known to the model)."""

    mojibake: bool = False
    broken: int = 0
    repaired: int = 0
    left: int = 0
    codepage: str = ""

    def __str__(self) -> str:
        if not self.mojibake:
            return "no mojibake"
        return (
            f"mojibake ({self.codepage}): {self.broken} broken sequences, "
            f"{self.repaired} repaired, {self.left} left"
        )


@lru_cache(maxsize=1)
def _byte_of() -> dict[str, int]:
    """Latin character -> the byte it stood for, over the code pages we know of."""
    table: dict[str, int] = {}
    for codepage in reversed(CODEPAGES):
        for byte in range(0x80, 0x100):
            table[bytes([byte]).decode(codepage)] = byte
    return table


@lru_cache(maxsize=1)
def _model() -> tuple[dict[str, int], float]:
    """Word frequencies from jieba's dictionary plus all their prefixes (frequency 0)."""
    import jieba

    freq: dict[str, int] = {}
    with jieba.get_dict_file() as handle:
        for raw in handle:
            parts = raw.decode("utf-8").split(" ")
            if len(parts) < 2:
                continue
            word, count = parts[0], int(parts[1])
            if len(word) > MAX_WORD:
                continue
            freq[word] = count
    for word in list(freq):
        for end in range(1, len(word)):
            freq.setdefault(word[:end], 0)
    for char, count in EXTRA_FREQUENCIES.items():
        freq[char] = max(freq.get(char, 0), count)
    total = sum(freq.values())
    return freq, math.log(total)


def _log_likelihood(text: str) -> float:
    """Log-probability of the best split of `text` into dictionary words (unknown chars: 1)."""
    freq, log_total = _model()
    best = [0.0] * (len(text) + 1)
    for start in range(len(text) - 1, -1, -1):
        score = -log_total + best[start + 1]  # as an unknown single character
        end = start + 1
        while end <= len(text):
            count = freq.get(text[start:end])
            if count is None:
                break
            if count > 0:
                score = max(score, math.log(count) - log_total + best[end])
            end += 1
        best[start] = score
    return best[0]


def _known(char: str) -> bool:
    return _model()[0].get(char, 0) > 0


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


def _choose(chars: list[str], broken: dict[int, list[str]]) -> int:
    """Fill each broken index with its likeliest candidate in context; returns how many were left.

    Broken characters close to each other are decided together (a small beam search), since
    the word they form matters more than each character alone.
    """
    options = {i: [c for c in found if _known(c)] for i, found in broken.items()}
    indices = sorted(i for i, found in options.items() if found)
    clusters: list[list[int]] = []
    for index in indices:
        if clusters and index - clusters[-1][-1] <= CONTEXT:
            clusters[-1].append(index)
        else:
            clusters.append([index])
    for cluster in clusters:
        beams: list[tuple[dict[int, str], float]] = [({}, 0.0)]
        for position, index in enumerate(cluster):
            start = max(0, cluster[0] - CONTEXT, index - 3 * CONTEXT)
            following = cluster[position + 1] if position + 1 < len(cluster) else None
            stop = following if following is not None else min(len(chars), index + 1 + CONTEXT)
            scored = []
            for chosen, _ in beams:
                for char in options[index]:
                    trial = {**chosen, index: char}
                    window = "".join(trial.get(j, chars[j]) for j in range(start, stop))
                    scored.append((trial, _log_likelihood(window)))
            scored.sort(key=lambda item: item[1], reverse=True)
            beams = scored[:BEAM]
        for index, char in beams[0][0].items():
            chars[index] = char
    return len(broken) - len(indices)


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
    left = _choose(chars, broken)
    report.broken = len(broken) + stray
    report.left = left + stray
    report.repaired = report.broken - report.left
    return "".join(chars), report


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
