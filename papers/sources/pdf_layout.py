"""Page layout for PDF extraction: text blocks, captions, figure regions and reading order
(PyMuPDF pages in, plain tuples and strings out). First-page affiliations are read by
papers/sources/pdf_affiliations.py.

Figures are found from their captions: a block that starts with "Figure 3:", "Fig. 3.", "FIG. 3."
or "Figure 3 |" is a caption; the figure is the images and vector drawings next to it (above, or
below for captions placed on top), within the caption's column, up to the nearest body text. That
page region is rendered as a picture, so vector art and multi-panel figures come out whole.
"""

import re
from dataclasses import dataclass

from papers.text import clean_text as base_clean_text

_LIGATURES = str.maketrans(
    {
        "\ufb00": "ff",
        "\ufb01": "fi",
        "\ufb02": "fl",
        "\ufb03": "ffi",
        "\ufb04": "ffl",
        "\ufb06": "st",
    }
)
_LINE_BREAKS = re.compile(r"\r\n|[\r\x0b\x0c\x1c-\x1e\x85\u2028\u2029]")
# Zero-width characters and marks; controls and bidi overrides go by papers.text.clean_text.
_INVISIBLE = re.compile(r"[\u200b-\u200f\u2060\ufeff]")
_SPACES = re.compile(r"[ \t\u00a0\u2000-\u200a\u202f\u205f\u3000]+")


def clean_text(s: str) -> str:
    """Remove control characters (keeping \\n and \\t as white space) and normalise white space.

    Feeds and XML break on characters such as \\x0c that PDF text is full of.
    """
    s = _LINE_BREAKS.sub("\n", s.translate(_LIGATURES))
    s = _INVISIBLE.sub("", base_clean_text(s))
    s = _SPACES.sub(" ", s)
    s = re.sub(r" ?\n ?", "\n", s)
    s = re.sub(r"\n{3,}", "\n\n", s)
    return s.strip()


WORD = re.compile(r"[^\W\d_]+(?:-[^\W\d_]+)*")
_HYPHEN_END = re.compile(r"([^\W\d_]+)-$")


def join_lines(lines: list[str], hyphenated_words: set[str]) -> str:
    """Join the lines of one text block, undoing line-end hyphenation where safe.

    "repre-" + "sentation" becomes "representation"; "self-" + "supervised" stays hyphenated when
    the document writes "self-supervised" elsewhere. Only lower-case continuations are joined.
    """
    out = ""
    for line in lines:
        line = line.strip()
        if not line:
            continue
        match = _HYPHEN_END.search(out) if out.endswith("-") else None
        if match and line[0].islower():
            head = match.group(1)
            tail = WORD.match(line)
            whole = f"{head}-{tail.group(0) if tail else ''}".lower()
            out = out[:-1] if whole not in hyphenated_words else out
            out += line
        else:
            out = f"{out} {line}" if out else line
    return out


def block_text(block: "Block", hyphenated_words: set[str]) -> str:
    """A block's text; a line that stops well before the block's right edge ends a paragraph
    (headings such as "1 Introduction" share a block with the paragraph under them)."""
    paragraphs, current = [], []
    right = block.rect[2]
    slack = max(20.0, 0.15 * _width(block.rect))
    for line, rect in zip(block.lines, block.line_rects, strict=True):
        current.append(line)
        if rect[2] < right - slack and not line.endswith("-"):
            paragraphs.append(current)
            current = []
    if current:
        paragraphs.append(current)
    return "\n".join(join_lines(p, hyphenated_words) for p in paragraphs)


# Page geometry helpers (rects are plain tuples x0, y0, x1, y1)

CAPTION_RE = re.compile(
    r"^\s*(?P<kind>Figure|FIGURE|Fig\.|FIG\.|Table|TABLE|Tab\.)\s*(?P<number>S?\d{1,3}(?:[.-]\d{1,3})?)\s*(?P<sep>[:.|\u2014\u2013])"
)
_CAPTION_HINT = re.compile(r"^\s*(?:Fig|FIG|Tab|TAB)", re.MULTILINE)
MIN_FIGURE = 60.0  # points: smaller regions are logos and icons
CAPTION_GAP = 40.0  # points between a caption and its figure at most
CHAIN_GAP = 30.0  # points between pieces of one figure at most
LABEL_GAP = 12.0  # points between a picture and a text label beyond it that is still part of it
EDGE = 0.06  # share of the page height at top and bottom that holds running heads and footers
# A picture declaring more pixels than this is a decompression bomb, not a figure: a stream of a few
# hundred bytes can inflate to gigabytes, and MuPDF inflates all of it to draw any part of it.
MAX_IMAGE_PIXELS = 100_000_000
# The most pixels one rendered figure may have; a page of absurd size is rendered smaller.
MAX_RENDER_PIXELS = 20_000_000


def _width(r) -> float:
    return r[2] - r[0]


def _height(r) -> float:
    return r[3] - r[1]


def _union(a, b):
    return (min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3]))


def _x_overlap(r, x0: float, x1: float) -> float:
    return max(0.0, min(r[2], x1) - max(r[0], x0))


def center_inside(r, box) -> bool:
    cx, cy = (r[0] + r[2]) / 2, (r[1] + r[3]) / 2
    return box[0] <= cx <= box[2] and box[1] <= cy <= box[3]


@dataclass
class Block:
    rect: tuple
    lines: list[str]
    line_rects: list[tuple]
    rotated: bool = False

    @property
    def text(self) -> str:
        return " ".join(self.lines)

    @property
    def rows(self) -> int:
        """Lines at distinct heights (labels side by side in a figure make one row)."""
        tops = sorted(r[1] for r in self.line_rects)
        return 1 + sum(1 for a, b in zip(tops, tops[1:], strict=False) if b - a > 2)

    def is_body(self, min_width: float) -> bool:
        """Running text: wide, at least two rows, made of long lines. Labels inside a figure are
        short pieces side by side or a single row."""
        if _width(self.rect) < min_width or self.rows < 2:
            return False
        long_lines = sum(1 for r in self.line_rects if _width(r) >= 0.6 * _width(self.rect))
        return long_lines >= 2


@dataclass
class _Caption:
    block: Block
    label: str
    number: int | None
    is_figure: bool
    x0: float = 0.0  # the horizontal range the figure may occupy
    x1: float = 0.0


@dataclass
class _Found:
    caption: _Caption
    region: tuple
    gap: float


def _is_two_column(blocks: list[Block], width: float) -> bool:
    mid = width / 2
    left = sum(1 for b in blocks if b.rect[2] < mid and len(b.lines) >= 2)
    right = sum(1 for b in blocks if b.rect[0] > mid and len(b.lines) >= 2)
    return left >= 1 and right >= 1


def _caption_may_start(previous_line: str) -> bool:
    """A caption inside a block must follow a short line or a finished sentence (not "as in")."""
    previous_line = previous_line.rstrip()
    return len(previous_line) < 25 or previous_line[-1:] in ".:)"


def text_of_line(line: dict) -> str:
    return "".join(s["text"] for s in line["spans"]).strip()


def _same_row(left, right) -> bool:
    overlap = min(left[3], right[3]) - max(left[1], right[1])
    return overlap > 0.5 * min(_height(left), _height(right)) and right[0] >= left[2] - 1


def page_blocks(page) -> tuple[list[Block], dict]:
    """Text blocks of a page as lists of lines; a caption start always begins a new block."""
    import pymupdf

    flags = pymupdf.TEXT_PRESERVE_WHITESPACE | pymupdf.TEXT_MEDIABOX_CLIP
    data = page.get_text("dict", flags=flags)
    blocks = []
    for b in data["blocks"]:
        if b.get("type") != 0:
            continue
        current = None
        for line in b["lines"]:
            text = text_of_line(line)
            if not text:
                continue
            rect = tuple(line["bbox"])
            if abs(line["dir"][1]) > 0.1:
                # rotated text: axis titles in charts, stamps in the margin; never running text
                blocks.append(Block(rect, [text], [rect], rotated=True))
                current = None
                continue
            if current is not None and _same_row(current.line_rects[-1], rect):
                # pieces of one row ("1" and "Introduction") make one line
                current.lines[-1] += " " + text
                current.line_rects[-1] = _union(current.line_rects[-1], rect)
                current.rect = _union(current.rect, rect)
                continue
            if (
                current is None
                or (CAPTION_RE.match(text) and _caption_may_start(current.lines[-1]))
                or rect[1] - current.rect[3] > 0.8 * _height(rect)  # a wide vertical gap
                or _x_overlap(rect, current.rect[0], current.rect[2]) <= 0
            ):
                current = Block(rect, [text], [rect])
                blocks.append(current)
            else:
                current.lines.append(text)
                current.line_rects.append(rect)
                current.rect = _union(current.rect, rect)
    return blocks, data


def _captions(blocks: list[Block], page_width: float, two_column: bool) -> list[_Caption]:
    found = []
    mid = page_width / 2
    for block in blocks:
        match = CAPTION_RE.match(block.lines[0])
        if not match or block.rotated:
            continue
        kind = match.group("kind")
        raw = match.group("number")
        is_figure = kind.lower().startswith("fig")
        label = ("Figure " if is_figure else "Table ") + raw
        number = int(raw) if raw.isdigit() else None
        caption = _Caption(block, label, number, is_figure)
        r = block.rect
        if two_column and r[2] <= mid + 0.03 * page_width:
            caption.x0, caption.x1 = 0.0, mid
        elif two_column and r[0] >= mid - 0.03 * page_width:
            caption.x0, caption.x1 = mid, page_width
        else:
            caption.x0, caption.x1 = 0.0, page_width
        found.append(caption)
    return found


def overlaps(a, b) -> bool:
    return min(a[2], b[2]) > max(a[0], b[0]) and min(a[3], b[3]) > max(a[1], b[1])


def oversized_pictures(images: list[dict]) -> list[tuple]:
    """Rects of the page's pictures (`page.get_image_info()`) that declare more than
    MAX_IMAGE_PIXELS (read from their dictionaries, nothing decoded): a region that touches one
    is never rendered."""
    return [
        tuple(info["bbox"]) for info in images if info["width"] * info["height"] > MAX_IMAGE_PIXELS
    ]


def _visual_elements(page, images: list[dict]) -> list[tuple]:
    """Rects of images and of clusters of vector drawings, without page-sized backgrounds."""
    area = page.rect.width * page.rect.height
    rects = []
    for info in images:
        r = tuple(page.rect & info["bbox"])
        if _width(r) >= 8 and _height(r) >= 8:
            rects.append(r)
    try:
        clusters = page.cluster_drawings()
    except (RuntimeError, ValueError):
        clusters = []
    for c in clusters:
        r = tuple(page.rect & c)
        if _width(r) >= 4 and _height(r) >= 4 and _width(r) * _height(r) < 0.8 * area:
            rects.append(r)
    return rects


def _find_region(
    caption: _Caption,
    elements: list[tuple],
    used: set[int],
    blocks: list[Block],
    captions: list[_Caption],
    page_size: tuple[float, float],
) -> _Found | None:
    """The figure region that belongs to a caption: the images and drawings next to it, above or
    below, chained by small gaps, up to the nearest body text or other caption."""
    page_width, page_height = page_size
    cr = caption.block.rect
    x0, x1 = caption.x0, caption.x1
    span = x1 - x0
    barrier_width = (0.45 if span < 0.75 * page_width else 0.35) * span
    caption_blocks = {id(c.block) for c in captions}

    def in_range(r) -> bool:
        return _x_overlap(r, x0, x1) >= 0.5 * _width(r)

    near = [r for r in elements if in_range(r)]
    hard = [
        (i, r)
        for i, r in enumerate(elements)
        if i not in used
        and in_range(r)
        and r[3] > page_height * EDGE
        and r[1] < page_height * (1 - EDGE)
    ]
    barriers, soft = [], []
    for block in blocks:
        r = block.rect
        if block is caption.block or not in_range(r):
            continue
        if id(block) in caption_blocks:
            barriers.append(r)
        elif any(center_inside(r, e) for e in near):
            continue  # text drawn inside a figure
        elif block.is_body(barrier_width):
            barriers.append(r)
        elif page_height * EDGE < r[1] and r[3] < page_height * (1 - EDGE):
            if _height(r) < 0.2 * page_height:  # not a stamp down the margin
                soft.append(r)

    # framed words and rules inside running text are not pictures
    hard = [(i, r) for i, r in hard if not any(center_inside(r, b) for b in barriers)]

    best = None
    for above in (True, False):
        if above:
            limit = max([b[3] for b in barriers if b[3] <= cr[1] + 2], default=0.0)
            pieces = [(r, i) for i, r in hard if r[3] <= cr[1] + 3 and r[1] >= limit - 3]
            pieces += [(r, -1) for r in soft if r[3] <= cr[1] + 3 and r[1] >= limit - 3]
            pieces.sort(key=lambda p: -p[0][3])
        else:
            limit = min([b[1] for b in barriers if b[1] >= cr[3] - 2], default=page_height)
            pieces = [(r, i) for i, r in hard if r[1] >= cr[3] - 3 and r[3] <= limit + 3]
            pieces += [(r, -1) for r in soft if r[1] >= cr[3] - 3 and r[3] <= limit + 3]
            pieces.sort(key=lambda p: p[0][1])
        frontier = cr[1] if above else cr[3]
        region, gap, figure = None, None, None
        for r, index in pieces:
            distance = frontier - r[3] if above else r[1] - frontier
            if distance > (CHAIN_GAP if gap is not None else CAPTION_GAP):
                break
            if gap is None:
                gap = max(0.0, distance)
            region = r if region is None else _union(region, r)
            frontier = min(frontier, r[1]) if above else max(frontier, r[3])
            if index >= 0 or (figure is not None and distance <= LABEL_GAP):
                figure = region  # labels right next to a picture belong to it; other text not
        # a caption on top of its figure is the exception: prefer the figure above on a near tie
        score = (gap or 0.0) + (0.0 if above else 4.0)
        if figure is None and caption.is_figure and region is not None:
            # a figure made of text only (big glyphs, a screen listing): weaker evidence
            if _width(region) >= MIN_FIGURE and _height(region) >= 40:
                figure, score = region, score + 10.0
        if figure is None:
            continue
        if best is None or score < best.gap:
            best = _Found(caption, figure, score)
    return best


def page_figures(page, blocks: list[Block], images: list[dict]) -> list[_Found]:
    """Figure and table regions of one page, in reading order."""
    width, height = page.rect.width, page.rect.height
    two_column = _is_two_column(blocks, width)
    captions = _captions(blocks, width, two_column)
    if not captions:
        return []
    elements = _visual_elements(page, images)
    size = (width, height)
    # the caption nearest to its figure chooses first; each picture belongs to one caption
    first = [_find_region(c, elements, set(), blocks, captions, size) for c in captions]
    order = sorted(range(len(captions)), key=lambda i: first[i].gap if first[i] else 1e9)
    used: set[int] = set()
    found = []
    for i in order:
        result = _find_region(captions[i], elements, used, blocks, captions, size)
        if result is None:
            continue
        region = result.region
        used.update(j for j, r in enumerate(elements) if center_inside(r, region))
        if _width(region) < 20 or _height(region) < 20:
            continue
        if _width(region) < MIN_FIGURE and _height(region) < MIN_FIGURE:
            continue
        found.append(result)
    mid = width / 2
    found.sort(key=lambda f: (f.region[0] >= mid - 0.02 * width, f.region[1]))
    return found


def reading_order(blocks: list[Block], width: float) -> list[Block]:
    """Blocks in reading order: full-width blocks cut the page into bands; in each band the left
    column is read before the right one. A one-column page is read top to bottom."""
    if not _is_two_column(blocks, width):
        return sorted(blocks, key=lambda b: (round(b.rect[1]), b.rect[0]))
    mid = width / 2
    full, columns = [], []
    for block in blocks:
        r = block.rect
        if r[2] <= mid + 0.02 * width or r[0] >= mid - 0.02 * width:
            columns.append(block)
        else:
            full.append(block)
    full.sort(key=lambda b: b.rect[1])
    columns.sort(key=lambda b: (0 if b.rect[2] <= mid + 0.02 * width else 1, b.rect[1]))
    ordered, done = [], set()
    for separator in full:
        for block in columns:
            if id(block) not in done and block.rect[1] < separator.rect[1]:
                ordered.append(block)
                done.add(id(block))
        ordered.append(separator)
    ordered.extend(b for b in columns if id(b) not in done)
    return ordered


# Rendering


def render(page, region, dpi: int, thumb_width: int) -> tuple[tuple, bytes, bytes, int, int]:
    import pymupdf

    clip = pymupdf.Rect(region[0] - 3, region[1] - 3, region[2] + 3, region[3] + 3) & page.rect
    zoom = dpi / 72
    pixels = clip.width * clip.height * zoom * zoom
    if pixels > MAX_RENDER_PIXELS:
        zoom *= 0.99 * (MAX_RENDER_PIXELS / pixels) ** 0.5  # pixel edges round outwards
    pixmap = page.get_pixmap(clip=clip, matrix=pymupdf.Matrix(zoom, zoom), alpha=False)
    image = pixmap.tobytes("png")
    width, height = pixmap.width, pixmap.height
    if width > thumb_width:
        zoom = (thumb_width - 2) / clip.width  # pixel edges round outwards
        thumb = page.get_pixmap(clip=clip, matrix=pymupdf.Matrix(zoom, zoom), alpha=False)
        thumbnail = thumb.tobytes("png")
    else:
        thumbnail = image
    return tuple(clip), image, thumbnail, width, height
