"""Citations of papers as BibTeX, RIS and Highwire `citation_*` meta tags (what reference managers
such as Zotero read from a page). Plain functions over Paper rows; nothing is stored."""

import re
import unicodedata
from collections.abc import Iterable

from papers.models import Paper

ARXIV_ABS = "https://arxiv.org/abs/{}"


def _ascii_word(text: str) -> str:
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]", "", plain.lower())


def _last_name(name: str) -> str:
    name = name.strip()
    if "," in name:
        return name.split(",")[0]
    parts = name.split()
    return parts[-1] if parts else ""


def cite_key(paper: Paper) -> str:
    """`turing2024talking`: first author's family name, year, first long word of the title."""
    first = paper.author_names[0] if paper.author_names else ""
    year = paper.published.year if paper.published else ""
    words = [w for w in (_ascii_word(w) for w in paper.title.split()) if len(w) > 3]
    key = f"{_ascii_word(_last_name(first))}{year}{words[0] if words else ''}"
    return key or _ascii_word(paper.arxiv_id) or "paper"


def _bibtex_value(text: str) -> str:
    """A field value that parses whatever the text holds: braces balanced, specials escaped."""
    text = " ".join((text or "").split())
    text = re.sub(r"(?<!\\)([&%#])", r"\\\1", text)
    depth = 0
    for char in text:
        depth += {"{": 1, "}": -1}.get(char, 0)
        if depth < 0:
            break
    if depth != 0:
        text = text.replace("{", "(").replace("}", ")")
    return "{" + text + "}"


def bibtex_entry(paper: Paper, key: str | None = None) -> str:
    fields = [
        ("title", "{" + _bibtex_value(paper.title) + "}"),  # double braces keep the casing
        ("author", _bibtex_value(" and ".join(paper.author_names))),
        ("year", _bibtex_value(str(paper.published.year) if paper.published else "")),
        ("eprint", _bibtex_value(paper.arxiv_id)),
        ("archivePrefix", "{arXiv}"),
        ("primaryClass", _bibtex_value(paper.primary_category)),
        ("url", _bibtex_value(ARXIV_ABS.format(paper.arxiv_id))),
    ]
    if paper.doi:
        fields.append(("doi", _bibtex_value(paper.doi)))
    if paper.journal_ref:
        fields.append(("note", _bibtex_value(paper.journal_ref)))
    body = ",\n".join(f"  {name} = {value}" for name, value in fields if value != "{}")
    return f"@misc{{{key or cite_key(paper)},\n{body}\n}}\n"


def bibtex(papers: Iterable[Paper]) -> str:
    """One entry per paper; keys made unique within the file with a, b, c..."""
    seen: dict[str, int] = {}
    entries = []
    for paper in papers:
        key = cite_key(paper)
        count = seen.get(key, 0)
        seen[key] = count + 1
        if count:
            key += chr(ord("a") + count - 1) if count <= 26 else str(count)
        entries.append(bibtex_entry(paper, key))
    return "\n".join(entries)


def _ris_line(tag: str, value: str) -> str:
    return f"{tag}  - {' '.join(str(value).split())}\r\n"


def ris(papers: Iterable[Paper]) -> str:
    """RIS records: a preprint is UNPB, a paper with a journal reference JOUR."""
    out = []
    for paper in papers:
        out.append(_ris_line("TY", "JOUR" if paper.journal_ref else "UNPB"))
        out.append(_ris_line("TI", paper.title))
        out.extend(_ris_line("AU", name) for name in paper.author_names if name.strip())
        if paper.published:
            out.append(_ris_line("PY", paper.published.year))
            out.append(_ris_line("DA", paper.published.strftime("%Y/%m/%d")))
        if paper.abstract:
            out.append(_ris_line("AB", paper.abstract))
        if paper.journal_ref:
            out.append(_ris_line("JO", paper.journal_ref))
        if paper.doi:
            out.append(_ris_line("DO", paper.doi))
        out.append(_ris_line("UR", ARXIV_ABS.format(paper.arxiv_id)))
        out.append(_ris_line("M1", f"arXiv:{paper.arxiv_id}"))
        out.append(_ris_line("ER", ""))
    return "".join(out)


def highwire_meta(paper: Paper) -> list[tuple[str, str]]:
    """The `<meta name="citation_*">` pairs for a paper's page."""
    meta = [("citation_title", paper.title)]
    meta += [("citation_author", name) for name in paper.author_names if name.strip()]
    if paper.published:
        meta.append(("citation_publication_date", paper.published.strftime("%Y/%m/%d")))
        meta.append(("citation_online_date", paper.published.strftime("%Y/%m/%d")))
    meta.append(("citation_arxiv_id", paper.arxiv_id))
    meta.append(("citation_abstract_html_url", ARXIV_ABS.format(paper.arxiv_id)))
    if paper.pdf_url.startswith(("https://", "http://")):
        meta.append(("citation_pdf_url", paper.pdf_url))
    if paper.doi:
        meta.append(("citation_doi", paper.doi))
    if paper.journal_ref:
        meta.append(("citation_journal_title", paper.journal_ref))
    return meta
