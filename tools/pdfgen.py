"""Generated PDFs laid out like LaTeX papers, with known figures, for tests and measurements.

`make_paper_pdf` writes a paper (title block, authors with superscript marks, affiliations,
abstract, numbered sections, one or two columns, figures of several kinds, decoys) and returns what a
careful reader would find in it, so tests can score figure detection and text extraction.
The broken kinds of file the pipeline meets in practice are made by tools/badpdfs.py.
"""

import io
import random
from pathlib import Path

import pymupdf
from PIL import Image, ImageDraw

PAGE_W, PAGE_H = 612.0, 792.0  # US Letter, points
TOP, BOTTOM = 72.0, PAGE_H - 66.0
BODY_SIZE, LEADING = 9.5, 11.5
CAPTION_SIZE = 8.5
GUTTER = 18.0

FONT = pymupdf.Font("helv")
BOLD = pymupdf.Font("hebo")

FIGURE_KINDS = ("bitmap", "multi", "vector", "wide")
LABEL_STYLES = ("Figure {n}:", "Fig. {n}.", "FIG. {n}.", "Figure {n}.", "Figure {n} |")

VOCABULARY = (
    "model method training data network image video audio speech face head motion pose "
    "expression identity frame render synthesis diffusion latent encoder decoder attention layer "
    "loss baseline dataset benchmark result quality metric evaluation ablation study we our the a "
    "of to in and with for on is are this that by from propose show improve learn generate "
    "temporal spatial coherent realistic efficient robust accurate stable large small novel prior "
    "work approach task input output feature control signal driven portrait lip sync "
    "representation generalization reconstruction correspondence disentanglement"
).split()

SECTIONS = ("1 Introduction", "2 Related Work", "3 Method", "4 Experiments", "5 Conclusion")


def _sentence(rng: random.Random) -> str:
    words = [rng.choice(VOCABULARY) for _ in range(rng.randint(8, 18))]
    return " ".join(words).capitalize() + "."


def _paragraph(rng: random.Random, sentences: int = 0) -> str:
    return " ".join(_sentence(rng) for _ in range(sentences or rng.randint(4, 7)))


_ADVANCES: dict[tuple[str, str], float] = {}


def text_length(text: str, size: float, font: pymupdf.Font = FONT) -> float:
    """Font.text_length, but from cached glyph widths (Font.text_length is slow per call)."""
    total = 0.0
    for char in text:
        key = (font.name, char)
        if key not in _ADVANCES:
            _ADVANCES[key] = font.glyph_advance(ord(char))
        total += _ADVANCES[key]
    return total * size


def wrap(text: str, width: float, size: float, font: pymupdf.Font = FONT) -> list[str]:
    """Greedy line breaking; long words are hyphenated at a line end, as TeX would."""
    lines: list[str] = []
    line = ""
    for word in text.split():
        candidate = f"{line} {word}" if line else word
        if text_length(candidate, size, font) <= width:
            line = candidate
            continue
        if line and len(word) >= 10 and word.isalpha():
            for cut in range(len(word) - 4, 3, -1):
                head = f"{line} {word[:cut]}-"
                if text_length(head, size, font) <= width:
                    lines.append(head)
                    line = word[cut:]
                    break
            else:
                lines.append(line)
                line = word
            continue
        if line:
            lines.append(line)
        line = word
    if line:
        lines.append(line)
    return lines


def _png(width: int, height: int, rng: random.Random) -> bytes:
    """A photo-like bitmap: a gradient with a few shapes, never plain white."""
    image = Image.new("RGB", (width, height))
    draw = ImageDraw.Draw(image)
    base = [rng.randint(40, 200) for _ in range(3)]
    for y in range(height):
        shade = tuple(min(255, c + y * 60 // height) for c in base)
        draw.line([(0, y), (width, y)], fill=shade)
    for _ in range(4):
        x0, y0 = rng.randint(0, width // 2), rng.randint(0, height // 2)
        x1, y1 = x0 + rng.randint(10, width // 2), y0 + rng.randint(10, height // 2)
        draw.ellipse([x0, y0, x1, y1], fill=tuple(rng.randint(0, 255) for _ in range(3)))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


class _Layout:
    """Places lines, figures and tables into one or two columns over as many pages as needed."""

    def __init__(self, doc: pymupdf.Document, columns: int, rng: random.Random, logo: bool):
        self.doc = doc
        self.columns = columns
        self.rng = rng
        self.logo = logo
        margin = 54.0 if columns == 2 else 90.0
        self.left, self.right = margin, PAGE_W - margin
        self.col_w = (self.right - self.left - GUTTER * (columns - 1)) / columns
        self.page: pymupdf.Page | None = None
        self.writer: pymupdf.TextWriter | None = None
        self.col = 0
        self.y = TOP
        self.top = TOP
        self.pending_wide: list = []
        self.new_page()

    # pages and columns
    def new_page(self) -> None:
        self.finish_page()
        self.page = self.doc.new_page(width=PAGE_W, height=PAGE_H)
        self.writer = pymupdf.TextWriter(self.page.rect)
        number = self.page.number + 1
        self.text(self.left, 40, "Preprint. Under review.", 8)
        self.text(PAGE_W / 2 - 3, PAGE_H - 36, str(number), 9)
        if self.logo and number == 1:
            # a small header logo: an image that is not a figure
            self.page.insert_image(
                pymupdf.Rect(self.right - 30, 28, self.right, 58), stream=_png(60, 60, self.rng)
            )
        self.col = 0
        self.y = self.top = TOP
        waiting, self.pending_wide = self.pending_wide, []
        for place in waiting:
            place()

    def finish_page(self) -> None:
        if self.page is not None and self.writer is not None:
            self.writer.write_text(self.page)

    def x(self) -> float:
        return self.left + self.col * (self.col_w + GUTTER)

    def next_column(self) -> None:
        if self.col + 1 < self.columns:
            self.col += 1
            self.y = self.top
        else:
            self.new_page()

    def room(self, height: float) -> None:
        if self.y + height > BOTTOM and self.y > self.top:
            self.next_column()

    # drawing
    def text(self, x: float, baseline: float, text: str, size: float, font=FONT) -> None:
        self.writer.append((x, baseline), text, font=font, fontsize=size)

    def centered(self, baseline: float, text: str, size: float, font=FONT) -> None:
        width = text_length(text, size, font)
        self.text((self.left + self.right - width) / 2, baseline, text, size, font)

    def lines(self, lines: list[str], size: float = BODY_SIZE, font=FONT) -> None:
        for line in lines:
            self.room(LEADING)
            self.text(self.x(), self.y + size, line, size, font)
            self.y += LEADING

    def paragraph(self, text: str) -> None:
        self.lines(wrap(text, self.col_w, BODY_SIZE))
        self.y += 5

    def heading(self, text: str) -> None:
        self.room(3 * LEADING + 10)
        self.y += 6
        self.lines([text], 11, BOLD)
        self.y += 4

    def caption_lines(self, caption: str, width: float) -> list[str]:
        return wrap(caption, width, CAPTION_SIZE)


def _draw_bitmap(page, rect, rng) -> None:
    page.insert_image(rect, stream=_png(int(rect.width * 1.5), int(rect.height * 1.5), rng))


def _draw_multi(page, rect, rng, writer, count: int) -> None:
    gap = 6.0
    width = (rect.width - gap * (count - 1)) / count
    for i in range(count):
        x0 = rect.x0 + i * (width + gap)
        sub = pymupdf.Rect(x0, rect.y0, x0 + width, rect.y1 - 12)
        page.insert_image(sub, stream=_png(int(width * 1.5), int(sub.height * 1.5), rng))
        label = f"({'abcd'[i]}) view {i + 1}"
        writer.append(
            (x0 + (width - text_length(label, 7)) / 2, rect.y1 - 2), label, font=FONT, fontsize=7
        )


def _draw_vector(page, rect, rng, writer) -> None:
    """A bar chart with axes, ticks, a curve and labels: drawing commands only, no image."""
    shape = page.new_shape()
    plot = pymupdf.Rect(rect.x0 + 22, rect.y0 + 4, rect.x1 - 4, rect.y1 - 16)
    shape.draw_line(plot.bl, plot.br)
    shape.draw_line(plot.bl, plot.tl)
    shape.finish(color=(0, 0, 0), width=0.8)
    bars = 6
    step = plot.width / bars
    heights = [rng.uniform(0.2, 0.95) for _ in range(bars)]
    for i, h in enumerate(heights):
        bar = pymupdf.Rect(
            plot.x0 + i * step + step * 0.2,
            plot.y1 - h * plot.height,
            plot.x0 + (i + 1) * step - step * 0.2,
            plot.y1,
        )
        shape.draw_rect(bar)
        shape.finish(color=(0.1, 0.2, 0.5), fill=(0.3, 0.5, 0.8 - 0.1 * (i % 3)), width=0.5)
        writer.append((bar.x0, plot.y1 + 9), f"m{i + 1}", font=FONT, fontsize=6.5)
    shape.draw_bezier(
        (plot.x0, plot.y1 - plot.height * 0.2),
        (plot.x0 + plot.width * 0.3, plot.y0),
        (plot.x0 + plot.width * 0.7, plot.y1),
        (plot.x1, plot.y0 + plot.height * 0.1),
    )
    shape.finish(color=(0.8, 0.1, 0.1), width=1.2)
    for i in range(5):
        y = plot.y1 - i * plot.height / 4
        shape.draw_line((plot.x0 - 3, y), (plot.x0, y))
        writer.append((rect.x0, y + 2), f"{i * 25}", font=FONT, fontsize=6.5)
    shape.finish(color=(0, 0, 0), width=0.5)
    shape.commit()


def _draw_wide(page, rect, rng, writer) -> None:
    """An overview diagram: boxes joined by arrows (vector) with one embedded picture."""
    shape = page.new_shape()
    boxes, gap = 4, 30.0
    box_w = (rect.width - gap * (boxes - 1)) / boxes
    for i in range(boxes):
        x0 = rect.x0 + i * (box_w + gap)
        box = pymupdf.Rect(x0, rect.y0, x0 + box_w, rect.y1)
        if i == 0:
            page.insert_image(box, stream=_png(int(box.width), int(box.height), rng))
        else:
            shape.draw_rect(box)
            shape.finish(color=(0.2, 0.2, 0.2), fill=(0.85, 0.9, 1.0), width=0.8)
            writer.append((box.x0 + 6, box.y0 + 14), f"stage {i}", font=FONT, fontsize=7)
        if i < boxes - 1:
            y = (box.y0 + box.y1) / 2
            shape.draw_line((box.x1 + 2, y), (box.x1 + gap - 2, y))
            shape.draw_polyline(
                [(box.x1 + gap - 6, y - 3), (box.x1 + gap - 2, y), (box.x1 + gap - 6, y + 3)]
            )
            shape.finish(color=(0, 0, 0), width=0.8, closePath=False)
    shape.commit()


def _place_figure(layout: _Layout, spec: dict, number: int, expected: list) -> None:
    """Draw one figure with its caption where the layout stands; record what a reader would see."""
    kind = spec["kind"]
    wide = kind == "wide"
    style = spec.get("style", "Figure {n}:")
    caption = f"{style.format(n=number)} {spec['caption']}"
    full = wide and layout.columns == 2
    width = layout.right - layout.left if full else layout.col_w
    graphic_h = spec.get("height") or (width * (0.3 if wide else 0.6))
    cap_lines = layout.caption_lines(caption, width)
    cap_h = len(cap_lines) * (CAPTION_SIZE + 2.5)
    total = graphic_h + 8 + cap_h + 14
    if not full:
        layout.room(total)
    x0 = layout.left if full else layout.x()
    page = layout.page
    y = layout.y + 4
    above = spec.get("caption_above", False)
    if above:
        cap_y, graphic_y = y, y + cap_h + 8
    else:
        graphic_y, cap_y = y, y + graphic_h + 8
    inset = width * 0.05 if kind in ("bitmap", "vector") else 0
    rect = pymupdf.Rect(x0 + inset, graphic_y, x0 + width - inset, graphic_y + graphic_h)
    if kind == "bitmap":
        _draw_bitmap(page, rect, layout.rng)
    elif kind == "multi":
        _draw_multi(page, rect, layout.rng, layout.writer, spec.get("panels", 3))
    elif kind == "vector":
        _draw_vector(page, rect, layout.rng, layout.writer)
    else:
        _draw_wide(page, rect, layout.rng, layout.writer)
    for i, line in enumerate(cap_lines):
        lx = x0 if len(cap_lines) > 1 else x0 + (width - text_length(line, CAPTION_SIZE)) / 2
        layout.text(lx, cap_y + CAPTION_SIZE + i * (CAPTION_SIZE + 2.5), line, CAPTION_SIZE)
    expected.append(
        {
            "label": f"Figure {number}",
            "number": number,
            "caption": caption,
            "kind": kind,
            "page": page.number + 1,
            "bbox": tuple(rect),
        }
    )
    if full:
        layout.top = layout.y = y + total
    else:
        layout.y = y + total


def _place_table(layout: _Layout, number: int) -> None:
    """A booktabs-style table with its caption above: a decoy, not a figure."""
    caption = f"Table {number}: Comparison with prior work on the benchmark (higher is better)."
    cap_lines = layout.caption_lines(caption, layout.col_w)
    rows = 5
    layout.room(len(cap_lines) * 11 + rows * 12 + 24)
    x0 = layout.x()
    for line in cap_lines:
        layout.text(x0, layout.y + CAPTION_SIZE + 2, line, CAPTION_SIZE)
        layout.y += CAPTION_SIZE + 2.5
    layout.y += 6
    shape = layout.page.new_shape()
    top = layout.y
    for i in range(rows):
        cells = (
            ["Method", "FID", "LSE-C", "SSIM"]
            if i == 0
            else [f"Base {i}", f"{20 + i}.{i}", f"{6 + i}.1", f"0.{70 + i}"]
        )
        for j, cell in enumerate(cells):
            layout.text(x0 + 6 + j * layout.col_w / 4, layout.y + 9, cell, 8)
        layout.y += 12
    for y in (top - 2, top + 12, layout.y + 1):
        shape.draw_line((x0, y), (x0 + layout.col_w, y))
    shape.finish(color=(0, 0, 0), width=0.6)
    shape.commit()
    layout.y += 12


def _title_block(layout: _Layout, title: str, authors, affiliations, links) -> float:
    y = TOP
    for line in wrap(title, layout.right - layout.left, 16, BOLD):
        layout.centered(y + 16, line, 16, BOLD)
        y += 20
    y += 8
    # authors: name then a raised small mark, as \textsuperscript does
    parts = []
    for name, mark in authors:
        parts.append((name, str(mark)))
    total = sum(text_length(n, 11) + text_length(m, 7) + 12 for n, m in parts)
    x = (layout.left + layout.right - total) / 2
    for i, (name, mark) in enumerate(parts):
        layout.text(x, y + 11, name, 11)
        x += text_length(name, 11)
        layout.text(x, y + 7, mark, 7)
        x += text_length(mark, 7)
        if i < len(parts) - 1:
            layout.text(x, y + 11, ", ", 11)
        x += 12
    y += 20
    for i, affiliation in enumerate(affiliations, start=1):
        width = text_length(affiliation, 9.5) + 5
        x = (layout.left + layout.right - width) / 2
        layout.text(x, y + 6, str(i), 6.5)
        layout.text(x + 5, y + 9.5, affiliation, 9.5)
        y += 13
    emails = ", ".join(f"{name.split()[-1].lower()}@example.org" for name, _ in authors[:2])
    layout.centered(y + 9, emails, 9)
    y += 13
    for link in links:
        layout.centered(y + 9, f"Project page: {link}", 9)
        layout.page.insert_link(
            {
                "kind": pymupdf.LINK_URI,
                "from": pymupdf.Rect(layout.left, y, layout.right, y + 12),
                "uri": link,
            }
        )
        y += 13
    return y + 14


def make_paper_pdf(
    path: Path,
    *,
    title: str = "Talking Heads in the Wild: Coherent Audio Driven Portrait Video Synthesis",
    authors: list[str] = ("Ada Lovelace", "Alan Turing", "Grace Hopper"),
    affiliations: list[str] = ("University of Cambridge", "Institute for Advanced Study"),
    abstract: str = "",
    columns: int = 2,
    figures: list = ("bitmap", "multi", "vector", "wide"),
    pages: int = 4,
    links: list[str] = (),
    seed: int = 0,
    table: bool = True,
    logo: bool = True,
) -> dict:
    """Write a LaTeX-like paper to `path` and return what is in it.

    `figures` holds kinds ("bitmap", "multi", "vector", "wide") or dicts with `kind` and optionally
    `caption`, `style` (e.g. "Fig. {n}."), `caption_above`, `panels`, `height`.
    Returns {"pages", "figures" (label, number, caption, kind, page, bbox of the graphic), "tables",
    "affiliations", "paragraphs" (first words of each body paragraph, in reading order), "sections",
    "hyphenated" (words TeX-style split at a line end)}.
    """
    rng = random.Random(seed)
    specs = [dict(kind=f) if isinstance(f, str) else dict(f) for f in figures]
    for i, spec in enumerate(specs):
        assert spec["kind"] in FIGURE_KINDS, spec
        spec.setdefault(
            "caption",
            f"{['Overview', 'Results', 'Comparison', 'Ablation'][i % 4]} of the {spec['kind']} "
            f"case number {i + 1}. " + _sentence(rng),
        )
    authors_marked = [(name, 1 + i % max(1, len(affiliations))) for i, name in enumerate(authors)]
    abstract = abstract or _paragraph(rng, 5)

    doc = pymupdf.open()
    layout = _Layout(doc, columns, rng, logo)
    layout.top = layout.y = _title_block(layout, title, authors_marked, affiliations, links)

    layout.heading("Abstract")
    layout.paragraph(abstract)

    expected: list = []
    paragraphs: list[str] = []
    hyphenated: list[str] = []
    per_page = 7 if columns == 2 else 5
    per_section = max(2, (pages * per_page - len(specs) * 2) // len(SECTIONS))
    figure_slots = {
        round((i + 1) * len(SECTIONS) * per_section / (len(specs) + 1)): spec
        for i, spec in enumerate(specs)
    }
    count = 0
    placed_table = not table
    for s, section in enumerate(SECTIONS):
        layout.heading(section)
        for p in range(per_section):
            text = _paragraph(rng)
            if s == 0 and p == 0:
                text = "As shown in Figure 1, our model improves. " + text
            if s == 0 and p == 1:
                text = "Figure 2 shows the results. " + text
            paragraphs.append(" ".join(text.split()[:6]))
            lines = wrap(text, layout.col_w, BODY_SIZE)
            for line, following in zip(lines, lines[1:], strict=False):
                if line.endswith("-"):
                    hyphenated.append(line.split()[-1][:-1] + following.split()[0].rstrip("."))
            layout.paragraph(text)
            count += 1
            spec = figure_slots.get(count)
            if spec is not None:
                number = len(expected) + 1
                if spec["kind"] == "wide" and columns == 2:
                    layout.pending_wide.append(
                        lambda spec=spec, number=number: _place_figure(
                            layout, spec, number, expected
                        )
                    )
                else:
                    _place_figure(layout, spec, number, expected)
            if not placed_table and s == 3:
                _place_table(layout, 1)
                placed_table = True
    # a wide figure still waiting goes on a page of its own, as LaTeX floats do at the end
    if layout.pending_wide:
        layout.new_page()
    layout.finish_page()
    expected.sort(key=lambda f: f["number"])
    # hyphenated words at a line end must be whole words of the body text
    hyphenated = [w for w in hyphenated if w.isalpha()]
    doc.set_metadata({"title": title, "creator": "tools.pdfgen"})
    doc.save(path, garbage=3, deflate=True)
    result = {
        "pages": doc.page_count,
        "figures": expected,
        "tables": ["Table 1"] if table else [],
        "affiliations": list(affiliations),
        "paragraphs": paragraphs,
        "sections": list(SECTIONS),
        "hyphenated": hyphenated,
    }
    doc.close()
    return result


def truth_from_links(path: Path) -> dict[str, tuple[int, tuple]]:
    """{"Figure N": (page, region)} of a LaTeX-made fixture whose figure bodies are wrapped in
    invisible links "truth:N" (see tests/fixtures/pdfs/common.tex)."""
    truth: dict[str, tuple[int, tuple]] = {}
    with pymupdf.open(path) as doc:
        for page in doc:
            for link in page.get_links():
                uri = link.get("uri") or ""
                if uri.startswith("truth:"):
                    label = "Figure " + uri.split(":", 1)[1]
                    r = tuple(link["from"])
                    if label in truth:
                        old = truth[label][1]
                        r = (
                            min(old[0], r[0]),
                            min(old[1], r[1]),
                            max(old[2], r[2]),
                            max(old[3], r[3]),
                        )
                    truth[label] = (page.number + 1, r)
    return truth
