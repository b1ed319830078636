"""A local stand-in for arXiv's API: a real HTTP server on 127.0.0.1 that answers from a script.

Answers are the recorded real ones in tests/fixtures/arxiv/ or Atom built by `atom_feed` in the same
format. The real `arxiv` client talks to it through ARXIV_API_URL.
"""

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit
from xml.sax.saxutils import escape

FIXTURES = Path(__file__).parent / "fixtures" / "arxiv"


@dataclass
class Answer:
    body: bytes
    status: int = 200
    delay: float = 0.0
    content_type: str = "application/atom+xml; charset=utf-8"
    headers: dict = field(default_factory=dict)


def recorded(name_start: str) -> Answer:
    """The recorded answer whose file name starts with `name_start`."""
    (path,) = FIXTURES.glob(f"{name_start}_*.json")
    data = json.loads(path.read_text())
    return Answer(body=data["body"].encode(), status=data["status_code"])


def entry(
    arxiv_id: str,
    version: int = 1,
    *,
    title: str = "A paper",
    abstract: str = "An abstract.",
    authors: tuple[str, ...] = ("Ada Lovelace",),
    categories: tuple[str, ...] = ("cs.CV",),
    published: str = "2024-10-10T17:59:46Z",
    updated: str | None = None,
    comment: str | None = None,
    pdf_url: str | None = None,
) -> str:
    """One Atom <entry> in the exact layout arXiv's API uses today."""
    pdf_url = pdf_url or f"https://arxiv.org/pdf/{arxiv_id}v{version}"
    lines = [
        "  <entry>",
        f"    <id>http://arxiv.org/abs/{arxiv_id}v{version}</id>",
        f"    <title>{escape(title)}</title>",
        f"    <updated>{updated or published}</updated>",
        f'    <link href="https://arxiv.org/abs/{arxiv_id}v{version}" rel="alternate" '
        'type="text/html"/>',
        f'    <link href="{escape(pdf_url)}" rel="related" type="application/pdf" title="pdf"/>',
        f"    <summary>{escape(abstract)}</summary>",
    ]
    lines += [
        f'    <category term="{c}" scheme="http://arxiv.org/schemas/atom"/>' for c in categories
    ]
    lines.append(f"    <published>{published}</published>")
    if comment:
        lines.append(f"    <arxiv:comment>{escape(comment)}</arxiv:comment>")
    lines.append(f'    <arxiv:primary_category term="{categories[0]}"/>')
    for name in authors:
        lines += ["    <author>", f"      <name>{escape(name)}</name>", "    </author>"]
    lines.append("  </entry>")
    return "\n".join(lines)


def atom_feed(entries: list[str], total: int | None = None, start: int = 0) -> Answer:
    total = len(entries) if total is None else total
    body = "\n".join(
        [
            "<?xml version='1.0' encoding='UTF-8'?>",
            '<feed xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/" '
            'xmlns:arxiv="http://arxiv.org/schemas/atom" xmlns="http://www.w3.org/2005/Atom">',
            "  <id>https://arxiv.org/api/local</id>",
            "  <title>arXiv Query</title>",
            "  <updated>2024-10-12T00:00:00Z</updated>",
            f"  <opensearch:itemsPerPage>{max(len(entries), 1)}</opensearch:itemsPerPage>",
            f"  <opensearch:totalResults>{total}</opensearch:totalResults>",
            f"  <opensearch:startIndex>{start}</opensearch:startIndex>",
            *entries,
            "</feed>",
            "",
        ]
    )
    return Answer(body=body.encode())


def oai_record(arxiv_id: str, licence: str = "") -> Answer:
    """An OAI-PMH GetRecord answer in the `arXiv` metadata format."""
    licence_line = f"      <license>{escape(licence)}</license>" if licence else ""
    body = f"""<?xml version="1.0" encoding="UTF-8"?>
<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/">
  <responseDate>2024-10-12T00:00:00Z</responseDate>
  <request verb="GetRecord" identifier="oai:arXiv.org:{arxiv_id}" metadataPrefix="arXiv">
    http://export.arxiv.org/oai2</request>
  <GetRecord>
    <record>
      <header>
        <identifier>oai:arXiv.org:{arxiv_id}</identifier>
        <datestamp>2024-10-11</datestamp>
        <setSpec>cs</setSpec>
      </header>
      <metadata>
        <arXiv xmlns="http://arxiv.org/OAI/arXiv/">
      <id>{arxiv_id}</id>
      <created>2024-10-10</created>
      <title>A paper</title>
      <categories>cs.CV</categories>
{licence_line}
      <abstract>An abstract.</abstract>
        </arXiv>
      </metadata>
    </record>
  </GetRecord>
</OAI-PMH>
"""
    return Answer(body=body.encode(), content_type="text/xml")


class FakeArxiv:
    """Serves queued answers in order (the last one repeats) and records every request."""

    def __init__(self) -> None:
        self.answers: list[Answer] = []
        # path -> answer, or a list of answers given in turn (the last one repeats).
        self.files: dict[str, Answer | list[Answer]] = {}
        # arXiv id -> licence URL served by the OAI-PMH stand-in ("" for none).
        self.licences: dict[str, str] = {}
        self.requests: list[dict] = []
        self.times: list[float] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - the http.server API
                split = urlsplit(self.path)
                fake.requests.append(
                    {
                        "path": split.path,
                        "query": parse_qs(split.query),
                        "user_agent": self.headers.get("User-Agent", ""),
                    }
                )
                fake.times.append(time.monotonic())
                if split.path in fake.files:
                    answer = fake.files[split.path]
                    if isinstance(answer, list):
                        answer = answer.pop(0) if len(answer) > 1 else answer[0]
                elif split.path == "/oai":
                    identifier = parse_qs(split.query).get("identifier", [""])[0]
                    arxiv_id = identifier.removeprefix("oai:arXiv.org:")
                    answer = oai_record(arxiv_id, fake.licences.get(arxiv_id, ""))
                elif fake.answers:
                    answer = fake.answers.pop(0) if len(fake.answers) > 1 else fake.answers[0]
                else:
                    answer = atom_feed([])
                if answer.delay:
                    time.sleep(answer.delay)
                try:
                    self.send_response(answer.status)
                    self.send_header("Content-Type", answer.content_type)
                    self.send_header("Content-Length", str(len(answer.body)))
                    for name, value in answer.headers.items():
                        self.send_header(name, value)
                    self.end_headers()
                    self.wfile.write(answer.body)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    @property
    def api_url(self) -> str:
        return self.url + "/api/query"

    def hits(self, path: str) -> int:
        return sum(1 for r in self.requests if r["path"] == path)

    def queries(self) -> list[dict]:
        return [r["query"] for r in self.requests if r["path"] == "/api/query"]

    def __enter__(self) -> "FakeArxiv":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()
