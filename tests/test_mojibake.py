"""Mojibake repair: UTF-8 read as a Windows code page, with the undefined bytes lost."""

from pathlib import Path

import ftfy.badness
import pytest

from papers.markdown.mojibake import (
    DROPPED_BYTES,
    REPLACEMENT,
    damage,
    looks_like_mojibake,
    repair_text,
)
from tests.conftest import require

SEED = Path(__file__).resolve().parent.parent.parent / "shared" / "seed"
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "posts"

CHINESE = (
    "我们提出一种新的方法，用于从语音生成说话人的面部动画。"
    "实验表明，该方法在多个公开数据集上取得了更好的效果，并且运行速度更快。"
    "此外，我们还发布了代码和预训练模型，方便后续研究。"
)


def correct_share(original: str, repaired: str) -> float:
    assert len(original) == len(repaired)
    wrong = sum(1 for a, b in zip(original, repaired, strict=True) if a != b)
    broken = sum(1 for c in original if any(b in DROPPED_BYTES for b in c.encode("utf-8")))
    return 1 - wrong / broken


def test_damage_loses_bytes_and_looks_like_mojibake():
    damaged = damage(CHINESE)
    assert damaged != CHINESE
    assert "æ" in damaged or "å" in damaged
    assert looks_like_mojibake(damaged)
    assert not looks_like_mojibake(CHINESE)


def test_repair_restores_chinese_and_reencodes_to_the_input():
    damaged = damage(CHINESE)
    repaired, report = repair_text(damaged)
    assert report.mojibake
    assert report.broken > 5
    assert report.broken == report.repaired + report.left
    assert report.left == 0
    # Damaging the repair again gives back exactly what we were given.
    assert damage(repaired) == damaged
    assert correct_share(CHINESE, repaired) >= 0.9
    assert not ftfy.badness.is_bad(repaired)


def test_whole_sequences_without_lost_bytes_come_back_exactly():
    text = "".join(c for c in CHINESE if not set(c.encode("utf-8")) & set(DROPPED_BYTES))
    assert len(text) > 40
    repaired, report = repair_text(damage(text))
    assert repaired == text
    assert report.broken == 0


def test_clean_text_is_left_alone():
    text = "干净的中文，全角标点：保持不变！English with Götz and Ramírez."
    repaired, report = repair_text(text)
    assert repaired == text
    assert not report.mojibake


def test_latin_mojibake_goes_to_ftfy():
    repaired, report = repair_text("Authors: GÃ¶tz and RamÃ­rez")
    assert repaired == "Authors: Götz and Ramírez"
    assert report.mojibake


def test_unknown_candidates_are_marked_with_replacement_character():
    # U+0190 loses its second byte (0x90); none of its candidates is Chinese or punctuation.
    text = CHINESE + "\u0190" + CHINESE
    repaired, report = repair_text(damage(text))
    assert report.left == 1
    assert repaired.count(REPLACEMENT) == 1
    assert repaired.index(REPLACEMENT) == len(CHINESE)


def test_turkish_code_page_variant_is_understood():
    text = "🔴 " + CHINESE
    damaged = damage(text, "sloppy-windows-1254")
    assert "ğ" in damaged
    repaired, report = repair_text(damaged)
    assert repaired.startswith("🔴 ")
    assert report.codepage == "windows-1254"


def test_own_chinese_post_survives_damage():
    clean = (FIXTURES / "zh-sample.md").read_text(encoding="utf-8")
    repaired, report = repair_text(damage(clean))
    assert report.left == 0
    assert correct_share(clean, repaired) >= 0.9


@pytest.fixture
def seed_text() -> str:
    path = SEED / "talking-head-generation-2024-10-12.md"
    require(path.exists(), f"the seed post {path}")
    return path.read_text(encoding="utf-8")


def test_seed_is_repaired_completely(seed_text):
    repaired, report = repair_text(seed_text)
    assert report.mojibake
    assert report.broken > 1000
    assert report.left == 0 and REPLACEMENT not in repaired
    # Only lost bytes were put back: damaging the repair reproduces the seed exactly.
    assert damage(repaired, "sloppy-windows-1254") == seed_text
    assert not ftfy.badness.is_bad(repaired)
    for marker in ("æ", "å", "ç", "è", "ï¼"):
        assert marker not in repaired
    assert "# 2024-10-12 更新" in repaired


def test_clean_seed_posts_survive_simulated_damage():
    names = ["2024-12-07-元宇宙_虚拟人.md", "2024-05-13-Talking Head Generation.md"]
    paths = [SEED / "more" / name for name in names]
    require(all(p.exists() for p in paths), "the seed's more/ posts")
    for path in paths:
        clean = path.read_text(encoding="utf-8")
        repaired, report = repair_text(damage(clean))
        assert report.broken > 300
        assert correct_share(clean, repaired) >= 0.93, path.name
