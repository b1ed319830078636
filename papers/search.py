"""Full-text search over papers: title, authors, abstract, summaries and the PDF's body, weighted in
that order, best match first, with a highlighted snippet for each result.

PostgreSQL keeps two weighted tsvectors, both GIN-indexed: `Paper.search_vector` holds every field
and decides what matches; `Paper.head_vector` holds all but the body, a kilobyte or two, and decides
the order. A generic word matches most of the archive, and ranking every match would read every
paper's whole vector, so only a bounded set of candidates is ranked: the newest MAX_RESULTS papers
matching in their head, then, when those are fewer, up to BODY_RESULTS newest matching in their body
alone, ranked below them. SQLite keeps an FTS5 table, `paper_search`, ranked by bm25. Both are
written by `index_papers()`, through `papers.indexing.refresh_indexes()`, which every writer of a
paper's text or summaries calls.

Chinese has no spaces between words, so each run of Chinese text is indexed as jieba's words plus
its overlapping character pairs, and a Chinese query word must match as a run of those pairs: "说话人"
finds "说话人头像" whatever jieba makes of either.
"""

import html
import re
from collections.abc import Iterable

from django.contrib.postgres.fields import ArrayField
from django.db import connection
from django.db.models import Case, F, Func, IntegerField, QuerySet, Value, When
from django.utils.safestring import SafeString, mark_safe

from papers.models import Paper

# Candidates ranked per query: 25 pages of results, bounded for generic words.
MAX_RESULTS = 500
BODY_RESULTS = 200  # of papers matching in the PDF's body alone, whose vectors are large
BODY_CHARS = 200_000  # of the PDF's text indexed; the rest adds little but cost
SQLITE_WEIGHTS = (10.0, 6.0, 4.0, 3.0, 1.0)  # title, authors, abstract, summaries, body
POSTGRES_WEIGHTS = [
    0.05,
    0.2,
    0.5,
    1.0,
]  # D (body), C (abstract, summaries), B (authors), A (title)
# What PostgreSQL's vectors hold: (field, text search configuration, weight).
HEAD_FIELDS = (
    ("title", "english", "A"),
    ("authors", "simple", "B"),
    ("abstract", "english", "C"),
    ("summaries", "simple", "C"),
)
BODY_FIELD = ("body", "english", "D")
SNIPPET_CHARS = 240

CJK_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
WORD = re.compile(r"\w+", re.UNICODE)


def _jieba_words(run: str) -> list[str]:
    import jieba

    jieba.setLogLevel(60)
    return [word for word in jieba.cut_for_search(run) if word.strip()]


def _pairs(run: str) -> list[str]:
    if len(run) == 1:
        return [run]
    return [run[i : i + 2] for i in range(len(run) - 1)]


def segment(text: str) -> str:
    """Text as the index sees it: each Chinese run becomes jieba's words, then its character pairs."""

    def words(match: re.Match) -> str:
        run = match.group(0)
        return " " + " ".join(_jieba_words(run) + _pairs(run)) + " "

    return CJK_RUN.sub(words, text or "")


def query_terms(text: str) -> list[list[str]]:
    """The query's terms, each a list of tokens that must stand together (a phrase)."""
    terms = []
    for token in WORD.findall(text or ""):
        for part in re.split(f"({CJK_RUN.pattern})", token):
            if not part:
                continue
            terms.append(_pairs(part) if CJK_RUN.fullmatch(part) else [part.lower()])
    return terms


# Writing the index


def summary_text(summary) -> str:
    """The words of one summary that search sees."""
    return " ".join(
        [summary.tldr, summary.title_translation, summary.background, summary.method]
        + [summary.results, *(summary.keywords or []), *(summary.key_takeaways or [])]
    )


def write_index(
    pk: int, title: str, authors: str, abstract: str, summaries: str, body: str
) -> None:
    """Write one paper's search entry from its texts (segmented here)."""
    texts = {
        "title": segment(title),
        "authors": authors,
        "abstract": segment(abstract),
        "summaries": segment(summaries),
        "body": segment((body or "")[:BODY_CHARS]),
    }
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            sources = {name: f"%({name})s" for name in texts}
            cursor.execute(
                "UPDATE papers_paper SET head_vector = v.head, search_vector = v.head || v.body"
                f" FROM (SELECT {vector_sql(HEAD_FIELDS, sources)} AS head,"
                f" {vector_sql([BODY_FIELD], sources)} AS body) AS v"
                " WHERE id = %(id)s",
                {**texts, "id": pk},
            )
        elif connection.vendor == "sqlite":
            cursor.execute("DELETE FROM paper_search WHERE rowid = %s", [pk])
            cursor.execute(
                "INSERT INTO paper_search (rowid, title, authors, abstract, summaries, body)"
                " VALUES (%s, %s, %s, %s, %s, %s)",
                [pk, *texts.values()],
            )


def vector_sql(fields, sources: dict[str, str]) -> str:
    """The SQL of a weighted tsvector of these fields, each read from the SQL in `sources`."""
    return " || ".join(
        f"setweight(to_tsvector('{config}', coalesce({sources[name]}, '')), '{weight}')"
        for name, config, weight in fields
    )


def index_papers(paper_ids: Iterable[int]) -> None:
    """Bring the search index of these papers up to date with their text and summaries."""
    ids = list(paper_ids)
    if not ids:
        return
    papers = (
        Paper.objects.filter(pk__in=ids)
        .only("pk", "title", "authors_text", "abstract", "full_text")
        .prefetch_related("summaries")
    )
    for paper in papers:
        summaries = " ".join(summary_text(s) for s in paper.summaries.all())
        write_index(
            paper.pk, paper.title, paper.authors_text, paper.abstract, summaries, paper.full_text
        )


# Reading it


def _sqlite_match(terms: list[list[str]]) -> str:
    quoted = []
    for tokens in terms:
        phrase = " ".join(token.replace('"', '""') for token in tokens)
        quoted.append(f'"{phrase}"')
    return " ".join(quoted)


def _postgres_query(terms: list[list[str]]) -> str:
    """A to_tsquery text: words stemmed by the caller's config, Chinese pairs as a phrase."""
    parts = []
    for tokens in terms:
        escaped = ["'" + token.replace("'", "''").replace("\\", "") + "'" for token in tokens]
        parts.append("(" + " <-> ".join(escaped) + ")")
    return " & ".join(parts)


# The newest matches by head, ranked on the head; then, when they are fewer than the pool, the
# newest matching in the body alone, ranked on the whole vector and after the others. The query
# is written out where it is used, not computed once: the planner then sees the words, and walks
# the id index for a word most papers hold and takes the GIN index for a rarer one.
ASKED = "(to_tsquery('english', %(q)s) || to_tsquery('simple', %(q)s))"


def _postgres_ranked(allowed: str) -> str:
    return f"""
WITH head AS MATERIALIZED (
    SELECT id FROM papers_paper WHERE head_vector @@ {ASKED}{allowed}
    ORDER BY id DESC LIMIT %(pool)s
), body AS MATERIALIZED (
    SELECT id FROM papers_paper
    WHERE (SELECT count(*) FROM head) < %(pool)s
        AND search_vector @@ {ASKED} AND NOT coalesce(head_vector @@ {ASKED}, false){allowed}
    ORDER BY id DESC LIMIT %(body_limit)s
)
SELECT id, score FROM (
    SELECT p.id, 1 AS tier, ts_rank(%(weights)s::float4[], p.head_vector, {ASKED}) AS score
    FROM head JOIN papers_paper p ON p.id = head.id
    UNION ALL
    SELECT p.id, 0, ts_rank(%(weights)s::float4[], p.search_vector, {ASKED})
    FROM body JOIN papers_paper p ON p.id = body.id
) AS found
ORDER BY tier DESC, score DESC, id DESC LIMIT %(limit)s
"""


def _allowed(within: QuerySet | None, column: str) -> tuple[str, dict]:
    """` AND <column> IN (<the ids of within>)`, with its parameters named for the outer query."""
    if within is None:
        return "", {}
    sql, values = within.order_by().values("pk").query.sql_with_params()
    params = {f"within{i}": value for i, value in enumerate(values)}
    names = iter(params)
    sql = re.sub(r"(?<!%)%s", lambda _match: f"%({next(names)})s", sql)
    return f" AND {column} IN ({sql})", params


def _ranked(
    terms: list[list[str]], any_term: bool, limit: int, within: QuerySet | None = None
) -> list[tuple[int, float]]:
    """Papers matching all (or any) of the terms, best first, with scores (higher is closer);
    only papers of `within` when it is given, so that a search inside a tag or a topic ranks
    that tag's or topic's papers.

    PostgreSQL matches stemmed English words or plain words; SQLite's table is stemmed already.
    """
    joiner = (" | ", " OR ") if any_term else (" & ", " ")
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            allowed, params = _allowed(within, "id")
            query = joiner[0].join(_postgres_query([term]) for term in terms)
            cursor.execute(
                _postgres_ranked(allowed),
                {
                    "q": query,
                    "weights": POSTGRES_WEIGHTS,
                    "limit": limit,
                    "pool": MAX_RESULTS,
                    "body_limit": BODY_RESULTS,
                    **params,
                },
            )
        else:
            allowed, params = _allowed(within, "rowid")
            weights = ", ".join(str(w) for w in SQLITE_WEIGHTS)
            cursor.execute(
                f"SELECT rowid, -bm25(paper_search, {weights}) AS score FROM paper_search"
                f" WHERE paper_search MATCH %(match)s{allowed}"
                f" ORDER BY bm25(paper_search, {weights}), rowid DESC LIMIT %(limit)s",
                {
                    "match": joiner[1].join(_sqlite_match([term]) for term in terms),
                    "limit": limit,
                    **params,
                },
            )
        return [(row[0], float(row[1])) for row in cursor.fetchall()]


def ranked_ids(text: str, within: QuerySet | None = None) -> list[int]:
    """The ids of papers (of `within`, if given) matching every word of `text`, best first, at
    most MAX_RESULTS."""
    terms = query_terms(text)
    return [pk for pk, _ in _ranked(terms, False, MAX_RESULTS, within)] if terms else []


def ranked_by_any_word(words: list[str], limit: int = 30) -> list[tuple[int, float]]:
    """Papers holding any of these words, best first, with their scores (higher is closer)."""
    terms = [[word.lower()] for word in words if WORD.fullmatch(word)]
    return _ranked(terms, True, limit) if terms else []


def search(queryset: QuerySet, text: str) -> QuerySet:
    """`queryset` narrowed to the papers matching `text`, best match first."""
    ids = ranked_ids(text, within=queryset)
    if not ids:
        return queryset.none()
    return queryset.filter(pk__in=ids).order_by(_in_order(ids))


def _in_order(ids: list[int]):
    """An ordering that puts rows in the order of `ids`."""
    if connection.vendor == "postgresql":
        array = Value(ids, output_field=ArrayField(IntegerField()))
        return Func(array, F("pk"), function="array_position", output_field=IntegerField())
    return Case(*[When(pk=pk, then=i) for i, pk in enumerate(ids)], output_field=IntegerField())


# Snippets


def _stem(word: str) -> str:
    """A crude English stem, enough to mark "rendered" for the query "rendering"."""
    for suffix in ("ings", "ing", "ed", "es", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)]
    return word


def _needles(text: str) -> re.Pattern | None:
    """A pattern for the query's words as they may stand in a text: Chinese as typed, English
    words by their stem, to the end of the word."""
    parts = []
    for tokens in query_terms(text):
        if CJK_RUN.fullmatch(tokens[0]):
            parts.append(re.escape(tokens[0] + "".join(t[1:] for t in tokens[1:])))
        else:
            parts.append(r"\b" + re.escape(_stem(tokens[0])) + r"\w*")
    return re.compile("|".join(parts), re.IGNORECASE) if parts else None


def _highlight(passage: str, pattern: re.Pattern) -> str:
    out, last = [], 0
    for match in pattern.finditer(passage):
        out.append(html.escape(passage[last : match.start()]))
        out.append(f"<mark>{html.escape(match.group(0))}</mark>")
        last = match.end()
    out.append(html.escape(passage[last:]))
    return "".join(out)


def snippet(texts: Iterable[str], text: str) -> SafeString | None:
    """A short passage of the first text that holds a query word, the words marked."""
    pattern = _needles(text)
    if pattern is None:
        return None
    for candidate in texts:
        candidate = " ".join((candidate or "").split())
        found = pattern.search(candidate)
        if not found:
            continue
        start = max(0, found.start() - SNIPPET_CHARS // 3)
        if start:  # begin at a word, not inside one
            space = candidate.find(" ", start, found.start())
            start = space + 1 if space >= 0 else start
        passage = candidate[start : start + SNIPPET_CHARS]
        prefix = "…" if start else ""
        suffix = "…" if start + SNIPPET_CHARS < len(candidate) else ""
        # Every piece of the passage is escaped by _highlight.
        return mark_safe(prefix + _highlight(passage, pattern) + suffix)
    return None


def attach_snippets(papers: list[Paper], text: str) -> None:
    """Set `paper.snippet` on each paper of a page: from its abstract, summary or PDF body."""
    if not text or not papers:
        return
    bodies = dict(
        Paper.objects.filter(pk__in=[p.pk for p in papers]).values_list("pk", "full_text")
    )
    for paper in papers:
        summaries = [s.tldr for s in paper.summary_list()] + [
            s.method for s in paper.summary_list()
        ]
        paper.snippet = snippet([paper.abstract, *summaries, bodies.get(paper.pk, "")], text)
