"""Related papers: the most similar papers by their text, offline, updated as papers arrive."""

import pytest
from django.core.management import call_command

from papers import tasks
from papers.indexing import refresh_indexes
from papers.models import Paper, RelatedPaper, Status
from papers.related import key_words, update_related
from tests.factories import make_paper, make_summary

pytestmark = pytest.mark.django_db

SPLATS = [
    ("Gaussian splatting avatars from monocular video", "We fit 3D Gaussian splatting avatars."),
    ("Animatable Gaussian splatting heads", "Gaussian splatting heads animated by expressions."),
    ("Relightable Gaussian splatting avatars", "Splatting avatars that can be relit."),
]
OTHERS = [
    ("Diffusion models for video generation", "A video diffusion model with temporal layers."),
    ("Protein folding with transformers", "We predict protein structures."),
    ("Speech recognition for low-resource languages", "Recognition of rare languages."),
]


def papers(pairs, **fields):
    made = [make_paper(title=title, abstract=abstract, **fields) for title, abstract in pairs]
    refresh_indexes(p.pk for p in made)
    return made


def test_key_words_come_from_title_abstract_and_keywords():
    paper = make_paper(title="Gaussian splatting avatars", abstract="The avatars are relit.")
    make_summary(paper, keywords=["relighting"])
    words = key_words(Paper.objects.prefetch_related("summaries").get(pk=paper.pk))
    assert words["avatar"] == 4 and words["gaussian"] == 3 and words["relighting"] == 2
    assert "the" not in words and "are" not in words


def test_the_most_similar_papers_come_first_never_the_paper_itself():
    splats = papers(SPLATS)
    papers(OTHERS)
    update_related([splats[0].pk])
    related = list(RelatedPaper.objects.filter(paper=splats[0]).values_list("other_id", flat=True))
    assert set(related[:2]) == {splats[1].pk, splats[2].pk}
    assert splats[0].pk not in related
    assert len(related) <= 5


def test_unpublished_papers_are_never_suggested():
    splats = papers(SPLATS)
    hidden = papers(
        [("Gaussian splatting avatars again", "Gaussian splatting avatars.")], status=Status.HIDDEN
    )[0]
    update_related([splats[0].pk])
    assert not RelatedPaper.objects.filter(other=hidden).exists()


def test_a_new_paper_joins_the_lists_of_the_papers_it_is_like():
    older = papers(SPLATS[:2])
    update_related([older[0].pk])
    assert list(RelatedPaper.objects.filter(paper=older[0]).values_list("other_id", flat=True)) == [
        older[1].pk
    ]
    newcomer = papers(SPLATS[2:])[0]
    tasks.paper_processed(newcomer.pk)  # what the worker runs after processing a paper
    assert newcomer.pk in RelatedPaper.objects.filter(paper=older[0]).values_list(
        "other_id", flat=True
    )
    assert RelatedPaper.objects.filter(paper=newcomer).count() == 2


def test_the_paper_page_shows_see_also_in_constant_queries(client, django_assert_max_num_queries):
    splats = papers(SPLATS)
    update_related([splats[0].pk])
    with django_assert_max_num_queries(100) as captured:
        body = client.get(splats[0].get_absolute_url()).content.decode()
    assert "See also" in body and "Animatable Gaussian splatting heads" in body
    few = len(captured)
    more = papers([(f"Gaussian splatting avatars {n}", "Gaussian splatting.") for n in range(6)])
    assert more
    update_related([splats[0].pk])
    with django_assert_max_num_queries(few):
        client.get(splats[0].get_absolute_url(), {"again": 1})


def test_the_demo_papers_have_related_papers(client):
    call_command("load_demo")
    assert RelatedPaper.objects.exists()
    paper = RelatedPaper.objects.first().paper
    assert "See also" in client.get(paper.get_absolute_url()).content.decode()
