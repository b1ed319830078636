"""Broken and unusual files, as the pipeline meets them in practice, for tests and the chaos campaign.

Truncated and encrypted PDFs, an HTML page served in place of a PDF, scanned PDFs without a text
layer, very long PDFs and a picture that is a decompression bomb, each made from a generated paper
(tools/pdfgen.py) or from nothing.
"""

import zlib
from pathlib import Path

import pymupdf

from tools.pdfgen import PAGE_H, PAGE_W


def make_truncated_pdf(source: Path, path: Path, fraction: float) -> Path:
    data = Path(source).read_bytes()
    Path(path).write_bytes(data[: int(len(data) * fraction)])
    return path


def make_encrypted_pdf(source: Path, path: Path, password: str = "secret") -> Path:
    doc = pymupdf.open(source)
    doc.save(
        path,
        encryption=pymupdf.PDF_ENCRYPT_AES_256,
        user_pw=password,
        owner_pw=password + "-owner",
    )
    doc.close()
    return path


def make_html_file(path: Path) -> Path:
    Path(path).write_text(
        "<!DOCTYPE html><html><head><title>Access denied</title></head>"
        "<body><h1>Please verify you are a human</h1></body></html>",
        encoding="utf-8",
    )
    return path


def make_scanned_pdf(source: Path, path: Path, pages: int = 2, dpi: int = 72) -> Path:
    """Each page is one big picture of a page of `source`: no text layer at all."""
    src = pymupdf.open(source)
    doc = pymupdf.open()
    for number in range(min(pages, src.page_count)):
        picture = src[number].get_pixmap(dpi=dpi, colorspace=pymupdf.csGRAY)
        page = doc.new_page(width=PAGE_W, height=PAGE_H)
        page.insert_image(page.rect, stream=picture.tobytes("png"))
    doc.save(path, deflate=True)
    doc.close()
    src.close()
    return path


def make_many_pages_pdf(source: Path, path: Path, pages: int) -> Path:
    """`source` repeated until the file has at least `pages` pages (fast, any size)."""
    src = pymupdf.open(source)
    doc = pymupdf.open()
    while doc.page_count < pages:
        doc.insert_pdf(src, to_page=min(src.page_count, pages - doc.page_count) - 1)
    doc.save(path, garbage=3, deflate=True)
    doc.close()
    src.close()
    return path


def _zeros_deflated(size: int) -> bytes:
    """A zlib stream that inflates to `size` zero bytes, made in well under a second at any size.

    Deflating 16 MiB of zeros and ending with a full flush leaves the compressor as it began, so
    that piece of output can be repeated; a fresh stream for the rest and the checksum close it.
    """
    piece = 1 << 24
    repeats, rest = divmod(size, piece)
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = compressor.compress(bytes(piece)) + compressor.flush(zlib.Z_FULL_FLUSH)
    tail = zlib.compressobj(9, zlib.DEFLATED, -15)
    end = tail.compress(bytes(rest)) + tail.flush()
    checksum = ((size % 65521) << 16) | 1  # Adler-32 of zeros: a = 1, b = size
    return b"\x78\xda" + block * repeats + end + checksum.to_bytes(4, "big")


def make_bomb_image_pdf(
    source: Path, path: Path, width: int = 50_000, height: int = 50_000, layers: int = 3
) -> Path:
    """`source` with its largest picture replaced by a decompression bomb: an RGB image of
    `width` x `height` pixels (7.5 GB at the default size) in a stream of a few hundred bytes,
    deflated `layers` times over."""
    data = _zeros_deflated(width * height * 3)
    for _ in range(layers - 1):
        data = zlib.compress(data, 9)
    filters = " ".join(["/FlateDecode"] * layers)
    doc = pymupdf.open(source)
    pictures = []
    for page in doc:
        for image in page.get_images(full=True):
            for rect in page.get_image_rects(image[0]):
                pictures.append((rect.width * rect.height, image[0]))
    if not pictures:
        raise ValueError(f"{source} has no picture to replace")
    _area, xref = max(pictures)
    doc.update_stream(xref, data, compress=False)
    doc.update_object(
        xref,
        f"<< /Type /XObject /Subtype /Image /Width {width} /Height {height} "
        f"/ColorSpace /DeviceRGB /BitsPerComponent 8 /Filter [{filters}] /Length {len(data)} >>",
    )
    doc.save(path)
    doc.close()
    return path
