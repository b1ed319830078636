"""What every writer of a paper's text, authors or summaries calls after the change: the search
index and the author rows follow the paper (no `save()` does this behind the writer's back)."""

from collections.abc import Iterable

from papers import authors, search


def refresh_indexes(paper_ids: Iterable[int]) -> None:
    ids = list(paper_ids)
    search.index_papers(ids)
    authors.index_authors(ids)
