"""The tag vocabulary: names, folded variants, editors' merges, renames and blocks, and the
pipeline and importer honouring them."""

import datetime as dt
import re

import pytest

from papers import pipeline, processing, tagging, vocabulary
from papers.demo import load_demo
from papers.models import Paper, Summary, Tag
from tests.arxiv_server import atom_feed, entry
from tests.conftest import require
from tests.factories import make_paper, make_topic
from tests.test_admin import make_editor
from tools.quality import SEED, seed_posts

LONG_AGO = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)


# ---------------------------------------------------------------- names


@pytest.mark.parametrize(
    "phrase",
    [
        "mathcal",
        r"\mathcal{X}",
        "$E=mc^2$",
        "<b>talking head</b> <i>x</i>",  # markup goes, and a one-letter word is a fragment
        "**bold** tag _x_",
        "2024",
        "3.5",
        "benchmark for evaluating",
        "generation must align",
        "synthesis with shared",
        "attention for Real-Time",
        "render slowly",
        "head generation turns",
        "the talking head",
        "prior work controls",
        "model",
        "Models",
        "此部分信息缺失",
        "由于没有给出具体关键词",
        "a phrase with far too many words in it",
    ],
)
def test_no_tag_from_latex_markup_numbers_or_fragments(phrase):
    assert vocabulary.keyword_name(phrase) is None


@pytest.mark.parametrize(
    ("phrase", "name"),
    [
        ("talking head", "talking head"),
        ("Real-Time face reenactment", "real-time face reenactment"),
        ("3D Gaussian Splatting", "3D Gaussian splatting"),
        ("NeRF", "NeRF"),
        ("Neural Radiance Fields (NeRF)", "neural radiance fields"),
        ("</strong>神经辐射场（NeRFs）", "神经辐射场"),
        ("多视角重建等", "多视角重建"),
        ("level of detail", "level of detail"),
        ("<b>talking head</b>", "talking head"),
    ],
)
def test_keywords_become_clean_noun_phrases(phrase, name):
    assert vocabulary.keyword_name(phrase) == name


def test_spelling_variants_fold_to_one_key():
    assert vocabulary.fold("blink") == vocabulary.fold("Blinks")
    assert vocabulary.fold("head") == vocabulary.fold("heads")
    assert vocabulary.fold("Real-Time") == vocabulary.fold("real time") == "real time"
    assert vocabulary.fold("studies") == "study" and vocabulary.fold("analysis") == "analysis"
    assert vocabulary.fold("Neural Radiance Fields (NeRF)") == "neural radiance field"
    assert vocabulary.fold("head") != vocabulary.fold("heat")


def test_arxiv_categories_have_human_names():
    assert vocabulary.category_name("cs.CV") == "Computer Vision and Pattern Recognition (cs.CV)"
    assert vocabulary.category_name("eess.AS") == "Audio and Speech Processing (eess.AS)"
    assert vocabulary.category_name("no.SUCH") == "no.SUCH"
    assert vocabulary.fold("Computer Vision and Pattern Recognition (cs.CV)") == "cs.cv"


# ---------------------------------------------------------------- tags in the database


@pytest.mark.django_db
def test_variants_share_one_tag_and_categories_keep_their_slug():
    blink = tagging.tags_for(["blink", "Blinks", "BLINK"], Tag.Kind.KEYWORD)
    assert [t.name for t in blink] == ["blink"]
    real_time = tagging.tags_for(["Real-Time"], Tag.Kind.KEYWORD)[0]
    assert tagging.tags_for(["real time", "real-time"], Tag.Kind.KEYWORD) == [real_time]
    cv = tagging.tags_for(["cs.CV"], Tag.Kind.CATEGORY)[0]
    assert cv.name == "Computer Vision and Pattern Recognition (cs.CV)" and cv.slug == "cscv"
    assert tagging.tags_for(["mathcal", "benchmark for evaluating"], Tag.Kind.KEYWORD) == []
    assert Tag.objects.count() == 3


@pytest.mark.django_db
def test_merge_moves_papers_and_followers_and_the_old_address_redirects(client):
    blink = Tag.objects.create(name="blink")
    blinks = Tag.objects.create(name="eye blinking")
    both = make_paper(arxiv_id="2410.00001", tags=["blink", "eye blinking"])
    one = make_paper(arxiv_id="2410.00002", tags=["eye blinking"])
    assert client.get(f"/tags/{blinks.slug}/").status_code == 200  # now in the page cache
    assert tagging.merge_tags([blinks], blink) == 1
    assert set(both.tags.all()) == {blink} and set(one.tags.all()) == {blink}
    blinks.refresh_from_db()
    assert blinks.merged_into == blink
    response = client.get(f"/tags/{blinks.slug}/")
    assert response.status_code == 301 and response["Location"] == "/tags/blink/"
    # Typed in `?tag=`, the old name finds the papers of the tag it went into.
    # The alias's address goes on to the tag's own (one canonical URL per follow).
    assert len(client.get("/papers/?tag=eye-blinking", follow=True).context["page_obj"]) == 2
    # The pipeline files the old name under the new tag from now on.
    assert tagging.tags_for(["eye blinking"], Tag.Kind.KEYWORD) == [blink]
    assert "eye blinking" not in [t.name for t in client.get("/tags/").context["page_obj"]]


@pytest.mark.django_db
def test_rename_keeps_the_old_name_and_address_as_an_alias(client):
    tag = Tag.objects.create(name="Gaussians")
    make_paper(tags=["Gaussians"])
    renamed = tagging.rename_tag(tag, "3D Gaussian splatting")
    assert renamed.pk == tag.pk and renamed.slug == "3d-gaussian-splatting"
    assert client.get("/tags/gaussians/")["Location"] == "/tags/3d-gaussian-splatting/"
    assert tagging.tags_for(["gaussian"], Tag.Kind.KEYWORD) == [renamed]


@pytest.mark.django_db
def test_a_blocked_tag_leaves_every_paper_and_is_never_given_again(client):
    paper = make_paper(tags=["personal"])
    tag = Tag.objects.get(name="personal")
    assert client.get(f"/tags/{tag.slug}/").status_code == 200  # now in the page cache
    tagging.block_tags([tag])
    assert not paper.tags.exists()
    assert tagging.tags_for(["Personal"], Tag.Kind.KEYWORD) == []
    assert client.get(f"/tags/{tag.slug}/").status_code == 404


@pytest.mark.django_db
def test_editors_merge_rename_and_block_in_the_admin(client):
    client.force_login(make_editor())
    head = Tag.objects.create(name="talking head")
    heads = Tag.objects.create(name="talking heads model")
    noise = Tag.objects.create(name="mathcal")
    make_paper(tags=["talking heads model", "mathcal"])
    url = "/admin/papers/tag/"
    response = client.post(
        url, {"action": "merge_tags", "_selected_action": [heads.pk], "target": "talking head"}
    )
    assert response.status_code == 302
    heads.refresh_from_db()
    assert heads.merged_into == head
    client.post(url, {"action": "block_tags", "_selected_action": [noise.pk], "target": ""})
    noise.refresh_from_db()
    assert noise.blocked and not noise.tagged_papers.exists()
    # Merging without naming the target changes nothing.
    client.post(url, {"action": "merge_tags", "_selected_action": [head.pk], "target": ""})
    head.refresh_from_db()
    assert head.merged_into is None

    change = f"/admin/papers/tag/{head.pk}/change/"
    response = client.post(change, {"name": "talking face", "kind": head.kind, "blocked": ""})
    assert response.status_code == 302, response.content.decode()[:2000]
    head.refresh_from_db()
    assert head.name == "talking face" and head.slug == "talking-face"
    assert client.get("/tags/talking-head/")["Location"] == "/tags/talking-face/"
    assert "Merge into" in client.get(url).content.decode()


@pytest.mark.django_db
def test_an_editors_merge_and_block_survive_the_next_fetch(fake_arxiv):
    """Editors' decisions stand when arXiv serves a new version and the paper is tagged again."""
    abstract = (
        "Talking head generation animates a portrait from speech. Existing methods ignore eye "
        "blinks and gaze. We propose BlinkNet, a diffusion model with an eye blink prior. "
        "Experiments show that BlinkNet outperforms baselines on blink realism."
    )
    topic = make_topic("Talking Head Generation", auto_publish=True)

    def fetch(version: int) -> Paper:
        fake_arxiv.answers = [
            atom_feed(
                [
                    entry(
                        "2410.00007",
                        version,
                        title="BlinkNet: eye blinks for talking heads",
                        abstract=abstract,
                        categories=("cs.CV", "cs.GR"),
                        pdf_url=fake_arxiv.url + "/pdf/missing",
                    )
                ]
            )
        ]
        outcome = pipeline.fetch_topic(topic, since=LONG_AGO)
        for paper_id in outcome.to_process:
            processing.process_paper(paper_id)
        return Paper.objects.get(arxiv_id="2410.00007")

    paper = fetch(1)
    names = {t.name for t in paper.tags.all()}
    assert "Computer Vision and Pattern Recognition (cs.CV)" in names
    assert "Graphics (cs.GR)" in names and "Talking Head Generation" in names
    keywords = list(paper.tags.filter(kind=Tag.Kind.KEYWORD))
    assert len(keywords) >= 2, names
    merged, blocked = keywords[0], keywords[1]
    target = Tag.objects.create(name="eye animation")
    tagging.merge_tags([merged], target)
    tagging.block_tags([blocked])
    count = Tag.objects.count()

    paper = fetch(2)
    assert paper.version == 2 and Summary.objects.get(paper=paper).stale is False
    tags = set(paper.tags.all())
    assert target in tags and merged not in tags and blocked not in tags
    assert Tag.objects.count() == count  # no tag made again under the old names


# ---------------------------------------------------------------- across the demo and the seed


def check_vocabulary(tags: list[Tag]) -> None:
    keys = [t.key for t in tags]
    assert len(keys) == len(set(keys)), sorted(keys)
    for tag in tags:
        assert not re.search(r"[\\$^_{}<>*`]", tag.name), tag.name
        if tag.kind == Tag.Kind.KEYWORD:
            assert vocabulary.keyword_name(tag.name) == tag.name, tag.name
        if tag.kind == Tag.Kind.CATEGORY:
            assert vocabulary.category_code(tag.name) and "(" in tag.name, tag.name
        words = tag.name.casefold().split()
        assert words[0] not in vocabulary.STOP_WORDS and words[-1] not in vocabulary.STOP_WORDS


@pytest.mark.django_db
def test_no_tag_breaks_the_rules_across_the_demo_and_the_seed_posts():
    require(SEED.exists() and len(seed_posts()) > 1, "the seed posts in ../shared/seed")
    from papers.markdown.importer import import_files

    load_demo()
    reports = import_files(seed_posts())
    assert not [error for report in reports for error in report.errors]
    tags = list(Tag.objects.filter(tagged_papers__isnull=False).distinct())
    assert len(tags) > 100
    check_vocabulary(tags)
    names = {t.name for t in tags}
    for noise in ("mathcal", "benchmark for evaluating", "generation must align", "blinks"):
        assert noise not in names
    assert "Computer Vision and Pattern Recognition (cs.CV)" in names


@pytest.mark.django_db
def test_readers_type_a_category_code_or_a_plural_in_the_tag_filter(client):
    paper = make_paper()
    paper.tags.add(*tagging.tags_for(["cs.CV"], Tag.Kind.CATEGORY))
    paper.tags.add(*tagging.tags_for(["talking heads"], Tag.Kind.KEYWORD))
    for query in ("?tag=cs.CV", "?tag=cscv", "?tag=talking+head", "?tag=Talking-Heads"):
        listed = client.get("/papers/" + query, follow=True)  # on to the canonical ?tag=<slug>
        assert listed.content.decode().count('<article class="paper-item">') == 1, query
    assert client.get("/papers/?tag=cs.LG").status_code == 404
