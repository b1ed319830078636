"""Measure figure detection (recall, precision) and extraction speed. Run by hand, not a test:

    .venv/bin/python tools/measure_figures.py [extra.pdf ...]

Scored files: the LaTeX-made papers in tests/fixtures/pdfs (their figures carry invisible links
"truth:N" around the figure body, see common.tex), generated papers from tools/pdfgen.py, and any
PDF given on the command line that has such truth links. A figure counts as found when its label
matches the truth's ("Figure N"), it is on the same page and its crop covers at least 80% of the
true region with an intersection over union of at least 0.5.
"""

import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import pymupdf  # noqa: E402

from papers.sources.pdf import extract_pdf  # noqa: E402
from tools import pdfgen  # noqa: E402
from tools.pdfgen import truth_from_links  # noqa: E402

FIXTURES = Path(__file__).parent / "fixtures" / "pdfs"


def _union(a, b):
    return (min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3]))


def _area(r) -> float:
    return max(0.0, r[2] - r[0]) * max(0.0, r[3] - r[1])


def _intersection(a, b) -> float:
    return _area((max(a[0], b[0]), max(a[1], b[1]), min(a[2], b[2]), min(a[3], b[3])))


def score(path: Path, truth: dict[str, tuple[int, tuple]]) -> tuple[int, int, int, list[str]]:
    result = extract_pdf(path)
    matched, notes = 0, []
    for figure in result.figures:
        expected = truth.get(figure.label)
        if expected is None:
            notes.append(f"extra {figure.label} p{figure.page}")
            continue
        page, region = expected
        inter = _intersection(figure.bbox, region)
        iou = inter / (_area(figure.bbox) + _area(region) - inter)
        if figure.page == page and inter >= 0.8 * _area(region) and iou >= 0.5:
            matched += 1
        else:
            notes.append(f"bad crop {figure.label} p{figure.page} iou={iou:.2f}")
    found = {f.label for f in result.figures}
    notes += [f"missed {label}" for label in truth if label not in found]
    return matched, len(truth), len(result.figures), notes


GENERATED = [
    ("gen-2col-all", dict(columns=2, figures=["bitmap", "multi", "vector", "wide"])),
    ("gen-1col-all", dict(columns=1, figures=["vector", "bitmap", "wide", "multi"])),
    (
        "gen-2col-styles",
        dict(
            columns=2,
            figures=[
                {"kind": "vector", "style": "Fig. {n}."},
                {"kind": "multi", "style": "FIG. {n}.", "panels": 2},
                {"kind": "bitmap", "style": "Figure {n} |", "caption_above": True},
                {"kind": "wide", "style": "Figure {n}."},
            ],
        ),
    ),
    (
        "gen-1col-above",
        dict(
            columns=1,
            figures=[
                {"kind": "bitmap", "caption_above": True},
                {"kind": "vector", "caption_above": True},
                {"kind": "multi", "panels": 4},
            ],
        ),
    ),
    ("gen-2col-many", dict(columns=2, figures=["vector", "bitmap"] * 4, pages=8)),
]


def main(extra: list[str]) -> None:
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        files = []
        for path in sorted(FIXTURES.glob("*.pdf")) + [Path(p) for p in extra]:
            files.append((path.name, path, truth_from_links(path)))
        for seed in range(3):
            for name, options in GENERATED:
                path = Path(folder) / f"{name}-{seed}.pdf"
                made = pdfgen.make_paper_pdf(path, seed=seed, **options)
                truth = {f["label"]: (f["page"], f["bbox"]) for f in made["figures"]}
                files.append((path.name, path, truth))
        totals = [0, 0, 0]
        print(f"{'file':28} {'truth':>5} {'found':>5} {'right':>5}  recall precision  notes")
        for name, path, truth in files:
            right, expected, found, notes = score(path, truth)
            totals = [totals[0] + right, totals[1] + expected, totals[2] + found]
            recall = right / expected if expected else 1.0
            precision = right / found if found else 1.0
            rows.append((name, expected, found, right, recall, precision))
            print(
                f"{name:28} {expected:5} {found:5} {right:5}  {recall:6.2f} {precision:9.2f}  "
                + "; ".join(notes)
            )
        right, expected, found = totals
        print(
            f"{'TOTAL':28} {expected:5} {found:5} {right:5}  {right / expected:6.2f} "
            f"{right / max(found, 1):9.2f}"
        )
        speed(Path(folder))


def speed(folder: Path) -> None:
    path = folder / "fifty.pdf"
    made = pdfgen.make_paper_pdf(path, pages=80, figures=["bitmap", "multi", "vector", "wide"] * 3)
    with pymupdf.open(path) as doc:
        doc.select(range(min(50, doc.page_count)))
        doc.save(folder / "fifty-cut.pdf")
    path = folder / "fifty-cut.pdf"
    pages = extract_pdf(path, max_figures=0).page_count
    for label, options in (("text only", dict(max_figures=0)), ("text and figures", {})):
        runs = []
        for _ in range(3):
            start = time.perf_counter()
            result = extract_pdf(path, **options)
            runs.append(time.perf_counter() - start)
        best = min(runs)
        print(
            f"{label:18} {pages} pages, {len(result.figures)} figures: {best:.3f} s, "
            f"{pages / best:.0f} pages/s (best of 3, {os.cpu_count()} CPUs)"
        )
    del made


if __name__ == "__main__":
    main(sys.argv[1:])
