"""Broken and unusual files, as the pipeline meets them in practice, for tests and the chaos campaign.

Truncated and encrypted PDFs, an HTML page served in place of a PDF, scanned PDFs without a text
layer and very long PDFs, each made from a generated paper (tools/pdfgen.py) or from nothing.
"""

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
