"""PDF download and extraction on generated papers, broken files and a local HTTP server."""

import io
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pymupdf
import pytest
import requests
from PIL import Image

from papers.sources.pdf import PdfError, clean_text, download_pdf, extract_pdf
from tools import badpdfs, pdfgen

FIXTURES = Path(__file__).parent / "fixtures" / "pdfs"

TWO_COLUMN = dict(
    columns=2,
    figures=["bitmap", "multi", "vector", "wide"],
    affiliations=["University of Cambridge", "Institute for Advanced Study"],
    links=["https://github.com/example/talking-heads"],
    seed=1,
)
ONE_COLUMN = dict(
    columns=1,
    figures=[
        {"kind": "bitmap", "style": "Fig. {n}."},
        {"kind": "vector", "style": "FIG. {n}.", "caption_above": True},
        {"kind": "multi", "style": "Figure {n}.", "panels": 4},
        {"kind": "wide", "style": "Figure {n} |"},
    ],
    authors=["Ada Lovelace", "Alan Turing", "Grace Hopper", "Edsger Dijkstra"],
    affiliations=["Google DeepMind", "Tsinghua University", "Max Planck Institute for Informatics"],
    seed=2,
)


@pytest.fixture(scope="module")
def papers(tmp_path_factory) -> dict:
    folder = tmp_path_factory.mktemp("pdfs")
    made = {}
    for name, options in (("two", TWO_COLUMN), ("one", ONE_COLUMN)):
        path = folder / f"{name}.pdf"
        expected = pdfgen.make_paper_pdf(path, **options)
        made[name] = (path, expected, extract_pdf(path))
    return made


def _overlap(a, b) -> float:
    """Share of rect b covered by rect a."""
    w = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    h = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    return w * h / ((b[2] - b[0]) * (b[3] - b[1]))


def _area(r) -> float:
    return (r[2] - r[0]) * (r[3] - r[1])


@pytest.mark.parametrize("name", ["two", "one"])
def test_every_caption_is_found_once_with_its_page(papers, name):
    _, expected, result = papers[name]
    assert [f.label for f in result.figures] == [f["label"] for f in expected["figures"]]
    assert [f.caption for f in result.figures] == [f["caption"] for f in expected["figures"]]
    assert [f.page for f in result.figures] == [f["page"] for f in expected["figures"]]
    assert [f.number for f in result.figures] == [1, 2, 3, 4]
    assert [f.order for f in result.figures] == [1, 2, 3, 4]
    assert result.page_count == expected["pages"]
    assert not result.repaired


@pytest.mark.parametrize("name", ["two", "one"])
def test_crops_hold_the_whole_figure_and_little_else(papers, name):
    _, expected, result = papers[name]
    for found, truth in zip(result.figures, expected["figures"], strict=True):
        assert _overlap(found.bbox, truth["bbox"]) > 0.97, found.label
        assert _area(found.bbox) < 1.6 * _area(truth["bbox"]), found.label
        image = Image.open(io.BytesIO(found.image))
        assert image.format == "PNG" and found.image_format == "png"
        assert image.size == (found.width, found.height)
        # 150 dpi: a point is about two pixels
        assert found.width == pytest.approx((found.bbox[2] - found.bbox[0]) * 150 / 72, abs=2)
        grey = image.convert("L")
        dark = sum(grey.histogram()[:240])
        assert dark > 0.1 * found.width * found.height, found.label
        thumb = Image.open(io.BytesIO(found.thumbnail))
        assert thumb.format == "PNG" and 100 < thumb.width <= 360


def test_decoys_are_not_figures(papers):
    # the header logo, the table ("Table 1:") and "Figure 2 shows ..." at a paragraph start
    for name in ("two", "one"):
        _, expected, result = papers[name]
        assert expected["tables"] == ["Table 1"]
        assert all(f.label.startswith("Figure") for f in result.figures)
        assert all(not f.caption.startswith("Figure 2 shows") for f in result.figures)
        assert all(f.bbox[1] > 60 for f in result.figures if f.page == 1)


def test_a_paper_without_figures_has_none(tmp_path):
    path = tmp_path / "plain.pdf"
    pdfgen.make_paper_pdf(path, figures=[], pages=2)
    result = extract_pdf(path)
    assert result.figures == []
    assert "Table 1: Comparison" in result.text


def test_caption_above_and_below_styles_and_vector_art(papers):
    _, expected, result = papers["one"]
    kinds = {f["label"]: f["kind"] for f in expected["figures"]}
    assert kinds["Figure 2"] == "vector"
    vector = result.figures[1]
    assert vector.caption.startswith("FIG. 2. ")
    assert result.figures[0].caption.startswith("Fig. 1. ")
    assert result.figures[3].caption.startswith("Figure 4 | ")


def test_figure_cap_keeps_the_first_figures(papers, tmp_path):
    path, _, _ = papers["two"]
    result = extract_pdf(path, max_figures=2, thumb_width=120, dpi=72)
    assert [f.label for f in result.figures] == ["Figure 1", "Figure 2"]
    for figure in result.figures:
        assert Image.open(io.BytesIO(figure.thumbnail)).width <= 120
    assert extract_pdf(path, max_figures=0).figures == []


def test_text_follows_the_columns(papers):
    _, expected, result = papers["two"]
    text = result.text
    positions = [text.find(p) for p in expected["paragraphs"]]
    assert -1 not in positions
    assert positions == sorted(positions)
    sections = [text.find(s) for s in expected["sections"]]
    assert -1 not in sections and sections == sorted(sections)
    assert text.find("Abstract") < sections[0]
    assert result.first_page_text and result.first_page_text in text


def test_text_is_clean_and_hyphenation_is_undone(papers):
    for name in ("two", "one"):
        _, expected, result = papers[name]
        assert expected["hyphenated"], "the generator should split some long words"
        for word in expected["hyphenated"]:
            assert word in result.text
        assert "\x0c" not in result.text and "\x00" not in result.text
        assert "Preprint. Under review." not in result.text  # running head
        assert "m1 m2" not in result.text  # labels inside a chart


@pytest.mark.parametrize("name", ["two", "one"])
def test_affiliations_of_the_first_page(papers, name):
    _, expected, result = papers[name]
    assert result.affiliations == expected["affiliations"]
    assert not any("@" in a for a in result.affiliations)


def test_clean_text_removes_control_characters():
    assert clean_text("a\x0cb\x00c\x1b d\u200b") == "a\nbc d"
    assert clean_text("  one \t two \r\n\n\n\nthree\x85 ") == "one two\n\nthree"
    assert clean_text("e\ufb03cient \ufb01gure") == "efficient figure"
    assert clean_text("tab\there") == "tab here"


# Broken files


@pytest.fixture(scope="module")
def source(papers) -> Path:
    return papers["two"][0]


def _error(path: Path, **options) -> PdfError:
    with pytest.raises(PdfError) as info:
        extract_pdf(path, **options)
    assert not info.value.transient
    return info.value


@pytest.mark.parametrize("fraction", [0.02, 0.1, 0.5])
def test_truncated_pdf_is_broken(source, tmp_path, fraction):
    path = badpdfs.make_truncated_pdf(source, tmp_path / "cut.pdf", fraction)
    assert _error(path).kind == "broken"


def test_encrypted_pdf(source, tmp_path):
    path = badpdfs.make_encrypted_pdf(source, tmp_path / "locked.pdf")
    assert _error(path).kind == "encrypted"


def test_html_served_as_pdf(tmp_path):
    path = badpdfs.make_html_file(tmp_path / "paper.pdf")
    assert _error(path).kind == "not_pdf"
    (tmp_path / "empty.pdf").write_bytes(b"")
    assert _error(tmp_path / "empty.pdf").kind == "not_pdf"


def test_scanned_pdf_has_no_text_but_a_page_count(source, tmp_path):
    path = badpdfs.make_scanned_pdf(source, tmp_path / "scan.pdf", pages=3)
    error = _error(path)
    assert error.kind == "no_text"
    assert error.page_count == 3


def test_enormous_pdf_reads_only_the_first_pages(source, tmp_path):
    path = badpdfs.make_many_pages_pdf(source, tmp_path / "long.pdf", 12)
    whole = extract_pdf(path, max_figures=0)
    first = extract_pdf(path, max_pages=4)
    assert whole.page_count == first.page_count == 12
    assert all(f.page <= 4 for f in first.figures) and first.figures
    assert len(first.text) < 0.4 * len(whole.text)


def test_enormous_pdf_past_the_default_page_cap(source, tmp_path):
    path = badpdfs.make_many_pages_pdf(source, tmp_path / "longer.pdf", 210)
    result = extract_pdf(path, max_figures=0)
    assert result.page_count == 210
    one_copy = extract_pdf(source, max_figures=0)
    assert len(result.text) == pytest.approx(50 * len(one_copy.text), rel=0.05)


def test_a_picture_that_is_a_decompression_bomb_leaves_out_its_figure_only(source, tmp_path):
    # 7.5 GB of pixels in a few hundred bytes: drawing any of it would inflate all of it.
    path = badpdfs.make_bomb_image_pdf(source, tmp_path / "bomb.pdf")
    whole = extract_pdf(source)
    result = extract_pdf(path)
    assert result.page_count == whole.page_count
    assert result.text == whole.text
    bombed = {f.label for f in whole.figures} - {f.label for f in result.figures}
    assert len(bombed) == 1 and len(result.figures) == len(whole.figures) - 1


def test_a_figure_on_a_page_of_absurd_size_is_rendered_smaller(tmp_path):
    from papers.sources import pdf_layout

    path = tmp_path / "poster.pdf"
    pdfgen.make_paper_pdf(path, figures=["vector"], pages=1, table=False)
    doc = pymupdf.open(path)
    page = doc[0]
    # The whole page scaled up to 200 x 200 inches (PDF's largest page): 900 million pixels
    # at 150 dpi if rendered as it is.
    page.set_mediabox(pymupdf.Rect(0, 0, 14400, 14400))
    _box, image, _thumb, width, height = pdf_layout.render(page, (0, 0, 14400, 14400), 150, 360)
    doc.close()
    assert width * height <= pdf_layout.MAX_RENDER_PIXELS
    assert Image.open(io.BytesIO(image)).size == (width, height)


# Download against a local server


class _Server:
    def __init__(self, pdf: bytes):
        self.pdf = pdf
        self.release = threading.Event()
        self.big_done = threading.Event()
        self.big_sent = 0
        self.big_total = 64 * 1024 * 1024


def _handler(state: _Server):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def _send(self, status: int, body: bytes, kind: str = "application/pdf", length=None):
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body) if length is None else length))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self):
            if self.path == "/paper.pdf":
                self._send(200, state.pdf)
            elif self.path == "/html":
                self._send(
                    200,
                    b"<!DOCTYPE html><html><body>Just a moment...</body></html>" * 3,
                    "text/html",
                )
            elif self.path == "/unavailable":
                self._send(503, b"busy", "text/plain")
            elif self.path == "/missing":
                self._send(404, b"no such paper", "text/plain")
            elif self.path == "/declared-huge":
                self._send(200, b"%PDF-1.7\n", length=10**9)
            elif self.path == "/huge":
                self.send_response(200)
                self.send_header("Content-Type", "application/pdf")
                self.send_header("Connection", "close")
                self.end_headers()
                chunk = b"%PDF-1.7\n" + b"0" * (64 * 1024 - 9)
                try:
                    while state.big_sent < state.big_total:
                        self.wfile.write(chunk)
                        state.big_sent += len(chunk)
                except OSError:
                    pass
                finally:
                    state.big_done.set()
                self.close_connection = True
            elif self.path == "/stall-headers":
                state.release.wait(10)
            elif self.path == "/stall-body":
                self.send_response(200)
                self.send_header("Content-Type", "application/pdf")
                self.send_header("Content-Length", "100000")
                self.end_headers()
                self.wfile.write(b"%PDF-1.7\n" + b"0" * 1000)
                self.wfile.flush()
                state.release.wait(10)

    return Handler


@pytest.fixture
def server(source):
    state = _Server(source.read_bytes())
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    httpd.daemon_threads = True
    httpd.block_on_close = False
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{httpd.server_address[1]}"
    yield state
    state.release.set()
    httpd.shutdown()
    httpd.server_close()


def _download(server, path: str, dest: Path, **options) -> int:
    with requests.Session() as session:
        return download_pdf(
            server.url + path, session, dest, max_bytes=options.pop("max_bytes", 10**7), **options
        )


def test_download_ok(server, tmp_path):
    dest = tmp_path / "sub" / "paper.pdf"
    size = _download(server, "/paper.pdf", dest)
    assert size == len(server.pdf) == dest.stat().st_size
    assert dest.read_bytes() == server.pdf
    assert extract_pdf(dest).page_count >= 1
    assert list(dest.parent.iterdir()) == [dest]


def _download_error(server, path: str, dest: Path, **options) -> PdfError:
    with pytest.raises(PdfError) as info:
        _download(server, path, dest, **options)
    assert not dest.exists()
    assert list(dest.parent.iterdir()) == []  # no partial file left behind
    return info.value


def test_download_too_large_stops_reading(server, tmp_path):
    error = _download_error(server, "/huge", tmp_path / "huge.pdf", max_bytes=200_000)
    assert error.kind == "too_large" and not error.transient
    assert server.big_done.wait(10)
    assert server.big_sent < server.big_total / 2


def test_download_too_large_by_its_header(server, tmp_path):
    error = _download_error(server, "/declared-huge", tmp_path / "x.pdf", max_bytes=10**6)
    assert error.kind == "too_large"


def test_download_html_is_not_a_pdf(server, tmp_path):
    error = _download_error(server, "/html", tmp_path / "x.pdf")
    assert error.kind == "not_pdf" and not error.transient


def test_download_server_error_is_transient(server, tmp_path):
    error = _download_error(server, "/unavailable", tmp_path / "x.pdf")
    assert error.kind == "download" and error.transient
    error = _download_error(server, "/missing", tmp_path / "x.pdf")
    assert error.kind == "download" and not error.transient


@pytest.mark.parametrize("path", ["/stall-headers", "/stall-body"])
def test_download_stalled_server_is_transient(server, tmp_path, path):
    error = _download_error(server, path, tmp_path / "x.pdf", timeout=0.5)
    assert error.kind == "download" and error.transient


def test_download_refused_connection_is_transient(tmp_path):
    with requests.Session() as session, pytest.raises(PdfError) as info:
        download_pdf(
            "http://127.0.0.1:9/x.pdf", session, tmp_path / "x.pdf", max_bytes=1000, timeout=2
        )
    assert info.value.transient


LATEX_AFFILIATIONS = {
    "twocolumn.pdf": ["University of Cambridge", "Google Research"],
    "onecolumn.pdf": [
        "Eindhoven University of Technology",
        "Massachusetts Institute of Technology",
    ],
    "journal-fig.pdf": ["Institute of Physics, Example Laboratory"],
    "nature-bar.pdf": ["King's College London", "MRC Laboratory of Molecular Biology"],
}


@pytest.mark.parametrize("name", sorted(LATEX_AFFILIATIONS))
def test_latex_made_papers(name):
    # small papers compiled with pdflatex from the .tex next to them; their figure bodies are
    # wrapped in invisible "truth:N" links that mark where each figure really is
    path = FIXTURES / name
    truth = pdfgen.truth_from_links(path)
    assert len(truth) == path.with_suffix(".tex").read_text().count("\\begin{figure")
    result = extract_pdf(path)
    assert [f.label for f in result.figures] == sorted(truth)
    for figure in result.figures:
        page, region = truth[figure.label]
        assert figure.page == page
        assert _overlap(figure.bbox, region) > 0.95, figure.label
        assert _area(figure.bbox) < 1.3 * _area(region), figure.label
    assert result.affiliations == LATEX_AFFILIATIONS[name]
