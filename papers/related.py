"""Related papers: for each paper, the few papers whose text is most like its own.

A paper's key words (title first, then abstract and summary keywords) are asked of the search
index as "any of these words" for a bounded set of candidates; the candidates are then ordered by
how much of the paper's key words their own title and abstract share, the index's rank breaking
ties. Offline and incremental: a new paper gets its list, and the papers on its list are looked
at again so the newcomer can join theirs.
"""

import re
from collections import Counter
from collections.abc import Iterable

from django.db import transaction

from papers import search
from papers.models import Paper, RelatedPaper, Status
from papers.summarizers.extractive import STOPWORDS

RELATED = 5
KEY_WORDS = 12
CANDIDATES = 50
WORD = re.compile(r"[^\W\d_][\w-]{2,}", re.UNICODE)


def _words(text: str) -> list[str]:
    words = (w.lower().strip("-") for w in WORD.findall(text or ""))
    return [w.removesuffix("s") for w in words if len(w) > 2 and w not in STOPWORDS]


def key_words(paper: Paper) -> dict[str, int]:
    """What the paper is about: its frequent words (title counted thrice), with their weights."""
    counts: Counter[str] = Counter()
    keywords = [k for s in paper.summaries.all() for k in (s.keywords or []) if isinstance(k, str)]
    for text, weight in ((paper.title, 3), (paper.abstract, 1), (" ".join(keywords), 2)):
        for word in _words(text):
            counts[word] += weight
    return dict(counts.most_common(KEY_WORDS))


def _shared(words: dict[str, int], title: str, abstract: str) -> int:
    """How much of `words` a candidate's text holds; its title counts double."""
    in_title, in_abstract = set(_words(title)), set(_words(abstract))
    return sum(
        w * (2 if word in in_title else 1 if word in in_abstract else 0)
        for word, w in words.items()
    )


def update_related(paper_ids: Iterable[int]) -> int:
    """Recompute the related papers of these papers; returns how many lists were written."""
    written = 0
    papers = Paper.objects.filter(pk__in=list(paper_ids)).prefetch_related("summaries")
    for paper in papers:
        words = key_words(paper)
        rank = {
            pk: n
            for n, (pk, _score) in enumerate(search.ranked_by_any_word(list(words), CANDIDATES))
            if pk != paper.pk
        }
        candidates = Paper.objects.filter(pk__in=rank, status=Status.PUBLISHED).values_list(
            "pk", "title", "abstract"
        )
        scored = sorted(
            (
                (_shared(words, title, abstract), -rank[pk], pk)
                for pk, title, abstract in candidates
            ),
            reverse=True,
        )
        chosen = [(pk, score) for score, _, pk in scored if score > 0][:RELATED]
        with transaction.atomic():
            RelatedPaper.objects.filter(paper=paper).delete()
            RelatedPaper.objects.bulk_create(
                RelatedPaper(paper=paper, other_id=pk, position=n, score=score)
                for n, (pk, score) in enumerate(chosen)
            )
        written += 1
    return written


def paper_arrived(paper_id: int) -> int:
    """A new or changed paper: its own list, then the lists of the papers it is like."""
    update_related([paper_id])
    neighbours = RelatedPaper.objects.filter(paper_id=paper_id).values_list("other_id", flat=True)
    return 1 + update_related(list(neighbours))
