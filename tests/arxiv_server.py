"""A local stand-in for arXiv's API: a real HTTP server on 127.0.0.1 that answers from a script.

Answers are the recorded real ones in tests/fixtures/arxiv/ or Atom built by `atom_feed` in the same
format. The real `arxiv` client talks to it through ARXIV_API_URL.
"""

import datetime as dt
import json
import re
import threading
import time
from dataclasses import dataclass
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
    journal_ref: str | None = None,
    doi: str | None = None,
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
    if journal_ref:
        lines.append(f"    <arxiv:journal_ref>{escape(journal_ref)}</arxiv:journal_ref>")
    if doi:
        lines.append(f"    <arxiv:doi>{escape(doi)}</arxiv:doi>")
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


@dataclass
class Listed:
    """One version of a paper in the scripted catalogue, shown from `visible_from` on."""

    arxiv_id: str
    version: int
    title: str
    abstract: str
    categories: tuple[str, ...]
    submitted: dt.datetime  # this version's submission (the API's <updated>)
    first_submitted: dt.datetime  # version 1's (the API's <published>)
    visible_from: dt.datetime

    def entry(self) -> str:
        return entry(
            self.arxiv_id,
            self.version,
            title=self.title,
            abstract=self.abstract,
            categories=self.categories,
            published=_atom_time(self.first_submitted),
            updated=_atom_time(self.submitted),
        )


def _atom_time(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


_QUERY_TOKEN = re.compile(r'\(|\)|\b(?:ANDNOT|AND|OR)\b|\w+:"[^"]*"|\w+:[^\s()]+')


def query_matches(query: str, item: Listed) -> bool:
    """arXiv's query syntax, enough of it for tests: ti/abs/all/cat, AND, OR, ANDNOT, brackets."""
    tokens = _QUERY_TOKEN.findall(query)
    position = 0

    def atom() -> bool:
        nonlocal position
        token = tokens[position]
        position += 1
        if token == "(":
            value = expression()
            position += 1  # ")"
            return value
        field, _colon, term = token.partition(":")
        term = term.strip('"').lower()
        if field == "cat":
            return term in [c.lower() for c in item.categories]
        texts = {"ti": item.title, "abs": item.abstract}.get(field)
        text = texts if texts is not None else f"{item.title} {item.abstract}"
        return term in text.lower()

    def expression() -> bool:
        nonlocal position
        value = atom()
        while position < len(tokens) and tokens[position] in ("AND", "OR", "ANDNOT"):
            operator = tokens[position]
            position += 1
            right = atom()
            if operator == "AND":
                value = value and right
            elif operator == "OR":
                value = value or right
            else:
                value = value and not right
        return value

    return expression()


class Catalogue:
    """A scripted arXiv: papers appear at announcement times on a fake clock (`clock`)."""

    def __init__(self) -> None:
        self.items: list[Listed] = []
        self.clock = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)

    def add(self, item: Listed) -> Listed:
        self.items.append(item)
        return item

    def visible(self) -> list[Listed]:
        """The latest visible version of each paper."""
        latest: dict[str, Listed] = {}
        for item in self.items:
            if item.visible_from <= self.clock:
                known = latest.get(item.arxiv_id)
                if known is None or item.version > known.version:
                    latest[item.arxiv_id] = item
        return list(latest.values())

    def answer(self, query: dict) -> Answer:
        search = query.get("search_query", [""])[0]
        start = int(query.get("start", ["0"])[0])
        size = int(query.get("max_results", ["10"])[0])
        found = [item for item in self.visible() if query_matches(search, item)]
        by_submission = query.get("sortBy", [""])[0] == "submittedDate"
        found.sort(
            key=lambda i: (i.first_submitted if by_submission else i.submitted, i.arxiv_id),
            reverse=True,
        )
        page = found[start : start + size]
        return atom_feed([item.entry() for item in page], total=len(found), start=start)


class FakeArxiv:
    """Serves queued answers in order (the last one repeats) and records every request."""

    def __init__(self) -> None:
        self.answers: list[Answer] = []
        # path -> answer, or a list of answers given in turn (the last one repeats).
        self.files: dict[str, Answer | list[Answer]] = {}
        # arXiv id -> licence URL served by the OAI-PMH stand-in ("" for none).
        self.licences: dict[str, str] = {}
        # When set, API queries are answered from this scripted catalogue instead of `answers`.
        self.catalogue: Catalogue | None = None
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
                elif fake.catalogue is not None and split.path == "/api/query":
                    answer = fake.catalogue.answer(parse_qs(split.query))
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
