"""Authors across papers: the rows that join a paper to its authors' keys, and editors' merges.

`index_authors()` is called with the search index by every writer of a paper's authors (see
`papers.indexing`). An author page shows the papers of a key and of every key merged into it.
"""

from collections import Counter
from collections.abc import Iterable

from django.db import transaction
from django.db.models import QuerySet

from papers.models import AuthorAlias, Paper, PaperAuthor, author_key


def index_authors(paper_ids: Iterable[int]) -> None:
    """Rewrite the author rows of these papers from their `authors` lists (when they changed:
    most writers of a paper's text leave its authors as they were)."""
    ids = list(paper_ids)
    if not ids:
        return
    rows = []
    for pk, authors in Paper.objects.filter(pk__in=ids).values_list("pk", "authors"):
        for position, author in enumerate(authors or []):
            name = " ".join(str(author.get("name", "")).split())[:300]
            key = author_key(name)
            if key:
                rows.append(PaperAuthor(paper_id=pk, position=position, name=name, key=key))
    stored = PaperAuthor.objects.filter(paper_id__in=ids)
    wanted = {(row.paper_id, row.position, row.name, row.key) for row in rows}
    if set(stored.values_list("paper_id", "position", "name", "key")) == wanted:
        return
    with transaction.atomic():
        stored.delete()
        PaperAuthor.objects.bulk_create(rows)


def canonical_key(key: str) -> str:
    """The key an author is shown under: the target of an editor's merge, else the key itself."""
    alias = AuthorAlias.objects.filter(key=key).values_list("canonical", flat=True).first()
    return alias or key


def merged_keys(canonical: str) -> list[str]:
    return [
        canonical,
        *AuthorAlias.objects.filter(canonical=canonical).values_list("key", flat=True),
    ]


def papers_by(canonical: str, queryset: QuerySet) -> QuerySet:
    """`queryset` narrowed to papers by this author (under any merged spelling)."""
    keys = merged_keys(canonical)
    return queryset.filter(pk__in=PaperAuthor.objects.filter(key__in=keys).values("paper_id"))


def display_name(canonical: str) -> str:
    """The spelling used most often for this author, "" when no paper has the key."""
    names = Counter(
        PaperAuthor.objects.filter(key__in=merged_keys(canonical)).values_list("name", flat=True)[
            :500
        ]
    )
    return names.most_common(1)[0][0] if names else ""
