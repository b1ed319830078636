"""Download a paper's PDF and take out its text, first-page affiliations and figures (PyMuPDF).

No Django here: the pipeline passes settings in as arguments. PyMuPDF is imported inside the
functions because the import costs about half a second and much memory.
Where the figures and the reading order come from is in `pdf_layout`.
"""

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests

from papers.sources import pdf_affiliations
from papers.sources import pdf_layout as layout
from papers.sources.pdf_layout import clean_text

logger = logging.getLogger(__name__)

# Kinds of PdfError
NOT_PDF = "not_pdf"
TOO_LARGE = "too_large"
ENCRYPTED = "encrypted"
BROKEN = "broken"
NO_TEXT = "no_text"
DOWNLOAD = "download"


class PdfError(Exception):
    """A PDF that could not be fetched or read. `transient` errors are worth retrying soon."""

    def __init__(
        self,
        kind: str,
        message: str = "",
        *,
        transient: bool = False,
        page_count: int | None = None,
        retry_after: str | None = None,
    ):
        super().__init__(f"{kind}: {message}" if message else kind)
        self.kind = kind
        self.transient = transient
        self.page_count = page_count
        # The server's Retry-After header, as sent (a 429 or 503 answer).
        self.retry_after = retry_after


# Text cleaning

# Download


def _looks_like_pdf(head: bytes) -> bool:
    return head.lstrip(b"\xef\xbb\xbf \t\r\n\x00").startswith(b"%PDF-")


def download_pdf(
    url: str,
    session: requests.Session,
    dest: Path,
    *,
    max_bytes: int,
    timeout: float = 60,
) -> int:
    """Stream the PDF at `url` into `dest` and return its size in bytes.

    The body is written as it arrives (never held in memory), refused once it passes `max_bytes`,
    and must start with %PDF-. `timeout` applies to connecting and to each read; the whole download
    may take at most five times that. Raises PdfError; 5xx, 429 and time-outs are transient.
    """
    dest = Path(dest)
    part = dest.with_name(dest.name + ".part")
    deadline = time.monotonic() + 5 * timeout
    done = False
    try:
        with session.get(url, stream=True, timeout=timeout) as response:
            status = response.status_code
            if status >= 500 or status in (408, 429):
                raise PdfError(
                    DOWNLOAD,
                    f"HTTP {status} from {url}",
                    transient=True,
                    retry_after=response.headers.get("Retry-After"),
                )
            if status != 200:
                raise PdfError(DOWNLOAD, f"HTTP {status} from {url}")
            length = response.headers.get("Content-Length", "")
            if length.isdigit() and int(length) > max_bytes:
                raise PdfError(TOO_LARGE, f"{length} bytes, the limit is {max_bytes}")
            dest.parent.mkdir(parents=True, exist_ok=True)
            total = 0
            head = b""
            with open(part, "wb") as out:
                for chunk in response.iter_content(chunk_size=64 * 1024):
                    if not chunk:
                        continue
                    if len(head) < 64:
                        head += chunk[:64]
                        if len(head) >= 64 and not _looks_like_pdf(head):
                            raise PdfError(NOT_PDF, f"{url} sent {head[:20]!r}")
                    total += len(chunk)
                    if total > max_bytes:
                        raise PdfError(TOO_LARGE, f"more than {max_bytes} bytes")
                    if time.monotonic() > deadline:
                        raise PdfError(DOWNLOAD, "download too slow", transient=True)
                    out.write(chunk)
            if not _looks_like_pdf(head):
                raise PdfError(NOT_PDF, f"{url} sent {head[:20]!r}")
            part.replace(dest)
            done = True
            return total
    except requests.Timeout as exc:
        raise PdfError(DOWNLOAD, f"time-out: {exc}", transient=True) from exc
    except (requests.ConnectionError, requests.exceptions.ChunkedEncodingError) as exc:
        raise PdfError(DOWNLOAD, f"connection: {exc}", transient=True) from exc
    except requests.RequestException as exc:
        raise PdfError(DOWNLOAD, str(exc)) from exc
    except OSError as exc:
        raise PdfError(DOWNLOAD, f"could not write the file: {exc}", transient=True) from exc
    finally:
        if not done:
            part.unlink(missing_ok=True)


# Extraction results


@dataclass
class ExtractedFigure:
    order: int  # 1-based, in reading order
    label: str  # "Figure 3"
    number: int | None
    caption: str  # the whole caption, cleaned ("Figure 3: Overview of ...")
    page: int  # 1-based
    bbox: tuple[float, float, float, float]  # the cropped region, in PDF points
    image: bytes
    thumbnail: bytes
    width: int
    height: int
    image_format: str = "png"


@dataclass
class PdfExtraction:
    page_count: int
    text: str
    first_page_text: str
    affiliations: list[str] = field(default_factory=list)
    figures: list[ExtractedFigure] = field(default_factory=list)
    repaired: bool = False


def _open(path: Path):
    import pymupdf

    try:
        with open(path, "rb") as f:
            head = f.read(1024)
    except OSError as exc:
        raise PdfError(BROKEN, f"cannot read {path.name}: {exc}") from exc
    if not _looks_like_pdf(head):
        raise PdfError(NOT_PDF, f"{path.name} does not start with %PDF-")
    try:
        doc = pymupdf.open(path, filetype="pdf")
        page_count = doc.page_count
    except (RuntimeError, ValueError, pymupdf.mupdf.FzErrorBase) as exc:
        raise PdfError(BROKEN, str(exc)) from exc
    if not doc.is_pdf:
        doc.close()
        raise PdfError(NOT_PDF, "not a PDF document")
    if doc.needs_pass:
        doc.close()
        raise PdfError(ENCRYPTED, "the PDF needs a password", page_count=page_count)
    if page_count == 0:
        doc.close()
        raise PdfError(BROKEN, "the PDF has no pages")
    return doc


def extract_pdf(
    path: Path,
    *,
    max_figures: int = 12,
    dpi: int = 150,
    thumb_width: int = 360,
    max_pages: int = 200,
) -> PdfExtraction:
    """Text in reading order, first-page affiliations and captioned figures of a PDF.

    Only the first `max_pages` pages are read (page_count is still the whole document's).
    `max_figures=0` skips figures; a figure whose picture is a decompression bomb is left out
    (see pdf_layout.MAX_IMAGE_PIXELS). Raises PdfError for files that are not PDFs, encrypted,
    broken, or without any text (scanned).
    """
    import pymupdf

    path = Path(path)
    doc = _open(path)
    page_count = doc.page_count
    pages: list[list[layout.Block]] = []
    affiliations: list[str] = []
    figures: list[tuple[ExtractedFigure, list[str]]] = []
    seen: set[str] = set()
    try:
        for number in range(min(page_count, max_pages)):
            try:
                page = doc[number]
                blocks, data = layout.page_blocks(page)
                if number == 0:
                    affiliations = pdf_affiliations.affiliations(data, page.rect.height)
                regions = []
                if max_figures and any(layout.CAPTION_RE.match(b.lines[0]) for b in blocks):
                    images = page.get_image_info()
                    bombs = layout.oversized_pictures(images)
                    for found in layout.page_figures(page, blocks, images):
                        regions.append(found.region)
                        caption = found.caption
                        if not caption.is_figure or caption.label in seen:
                            continue
                        if len(figures) >= max_figures:
                            continue
                        if any(layout.overlaps(found.region, bomb) for bomb in bombs):
                            logger.warning(
                                "%s on page %d left out: its picture declares more than %d pixels",
                                caption.label,
                                number + 1,
                                layout.MAX_IMAGE_PIXELS,
                            )
                            continue
                        seen.add(caption.label)
                        bbox, image, thumbnail, w, h = layout.render(
                            page, found.region, dpi, thumb_width
                        )
                        figure = ExtractedFigure(
                            order=len(figures) + 1,
                            label=caption.label,
                            number=caption.number,
                            caption="",
                            page=number + 1,
                            bbox=bbox,
                            image=image,
                            thumbnail=thumbnail,
                            width=w,
                            height=h,
                        )
                        figures.append((figure, caption.block.lines))
                pages.append(_page_text_blocks(blocks, regions, page.rect))
            except (RuntimeError, ValueError, pymupdf.mupdf.FzErrorBase):
                pages.append([])
        repaired = bool(doc.is_repaired)
    finally:
        doc.close()

    hyphenated = set()
    for blocks in pages:
        for block in blocks:
            hyphenated.update(w.lower() for w in layout.WORD.findall(block.text) if "-" in w)
    page_texts = [
        clean_text("\n\n".join(layout.block_text(b, hyphenated) for b in blocks))
        for blocks in pages
    ]
    text = clean_text("\n\n".join(page_texts))
    letters = sum(map(str.isalnum, text))
    if letters < 40 * len(page_texts):
        # a repaired file whose pages came out empty is broken; otherwise it is a scan
        kind = BROKEN if repaired and letters == 0 else NO_TEXT
        raise PdfError(kind, "no text in the PDF", page_count=page_count)
    for figure, lines in figures:
        figure.caption = clean_text(layout.join_lines(lines, hyphenated))
    return PdfExtraction(
        page_count=page_count,
        text=text,
        first_page_text=page_texts[0] if page_texts else "",
        affiliations=affiliations,
        figures=[figure for figure, _ in figures],
        repaired=repaired,
    )


def _page_text_blocks(blocks: list[layout.Block], regions: list[tuple], rect) -> list[layout.Block]:
    """Blocks that belong in the text: no running heads, page numbers, or text inside figures."""
    height = rect.height
    kept = [
        b
        for b in blocks
        if not b.rotated
        and b.rect[3] >= height * layout.EDGE
        and b.rect[1] <= height * (1 - layout.EDGE)
        and not any(layout.center_inside(b.rect, r) for r in regions)
    ]
    return layout.reading_order(kept, rect.width)
