"""Import and export of Markdown digests in the legacy blog's layout."""

import datetime as dt
import io
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path
from urllib.parse import unquote

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.test import RequestFactory
from django.urls import resolve, reverse

from papers.admin.markdown import ImportDigestForm, export_digests_action, import_digest_view
from papers.markdown import importer as markdown_io
from papers.markdown.export import digest_filename, export_digest
from papers.markdown.importer import import_files, import_post
from papers.markdown.mojibake import damage
from papers.markdown.parse import parse_post
from papers.models import (
    SUMMARY_FIELDS,
    Digest,
    DigestEntry,
    Figure,
    Paper,
    Status,
    Summary,
    Tag,
    Topic,
    TopicPaper,
)
from tests.conftest import require
from tests.factories import make_paper, make_summary

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "posts"
SEED = Path(__file__).resolve().parent.parent.parent / "shared" / "seed"
SEED_POST = SEED / "talking-head-generation-2024-10-12.md"


def fixture_bytes(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def snapshot() -> dict:
    """Everything an import writes, without ids and times, for comparisons."""
    papers = {}
    for paper in Paper.objects.order_by("arxiv_id"):
        papers[paper.arxiv_id] = {
            "version": paper.version,
            "title": paper.title,
            "authors": paper.authors,
            "abstract": paper.abstract,
            "comment": paper.comment,
            "status": paper.status,
            "topics": sorted(t.name for t in paper.topics.all()),
            "tags": sorted(t.name for t in paper.tags.all()),
            "figures": [(f.order, f.source_url, f.caption) for f in paper.figures.all()],
            "summaries": {
                s.language: {name: getattr(s, name) for name in SUMMARY_FIELDS}
                for s in paper.summaries.all()
            },
        }
    digests = {
        (d.topic.name, d.date.isoformat()): {
            "title": d.title,
            "intro": d.intro,
            "status": d.status,
            "cover": d.cover.source_url if d.cover else None,
            "papers": [e.paper.arxiv_id for e in d.entries.order_by("position")],
        }
        for d in Digest.objects.all()
    }
    return {"papers": papers, "digests": digests}


def updated_times() -> list:
    return sorted(
        [("paper", p.pk, p.updated_at) for p in Paper.objects.all()]
        + [("summary", s.pk, s.updated_at) for s in Summary.objects.all()]
        + [("digest", d.pk, d.updated_at) for d in Digest.objects.all()]
    )


def empty_database() -> None:
    from django_celery_beat.models import PeriodicTask

    PeriodicTask.objects.all().delete()  # topics' schedules outlive their topics
    Digest.objects.all().delete()
    Paper.objects.all().delete()
    Topic.objects.all().delete()
    Tag.objects.all().delete()


# --- parsing ---------------------------------------------------------------------------------


def test_parse_english_post():
    post = parse_post((FIXTURES / "en-sample.md").read_text(encoding="utf-8"))
    assert post.topic_name == "Speech Driven Avatars"
    assert post.date == dt.datetime(2025, 1, 15, 7, 30, tzinfo=dt.UTC)
    assert post.language == "en"
    assert [p.arxiv_id for p in post.papers] == ["2501.00011", "2501.00022"]
    first = post.papers[0]
    assert first.title == "LipSync Lite: A Small Model for Mouth Motion"
    assert first.version == 2
    assert first.authors == ["Ada Byron", "Grace Hopper", "Edsger Dijkstra"]
    assert first.abstract.splitlines()[1].startswith("It runs on a phone")
    assert first.comment == "8 pages, code at https://github.com/example/lipsync-lite"
    assert first.figures[1] == (
        "https://images.example.org/fig-a2.png",
        "Figure 2: Lip error per frame",
    )
    s = first.summary
    assert s["tldr"].startswith("A compact network")
    assert len(s["key_takeaways"]) == 3
    assert s["affiliations"] == ["Analytical Engines Institute", "Harbor Compiler Lab"]
    assert s["keywords"] == ["lip sync", "talking head", "mobile inference"]
    assert s["links"] == [
        {"label": "Code", "url": "https://github.com/example/lipsync-lite"},
        {"label": "Project page", "url": "https://lipsync.example.org"},
    ]
    assert s["results"].endswith("thirty frames per second.")
    assert "closing remark" not in s["results"]
    assert len(s["method_steps"]) == 3
    assert s["significance"].startswith("Significance:")
    assert "Workload" in s["assessment"] and "Performance" in s["assessment"]
    # Bullet takeaways and a partial analysis.
    second = post.papers[1].summary
    assert second["key_takeaways"][2] == "Anyone can submit a system."
    assert second["keywords"] == ["gesture generation", "evaluation"]
    assert "method" not in second and "method_steps" not in second


def test_parse_chinese_post_with_bold_labels():
    post = parse_post((FIXTURES / "zh-sample.md").read_text(encoding="utf-8"))
    assert post.language == "zh"
    s = post.papers[0].summary
    assert s["title_translation"].startswith("从声音到人脸")
    assert s["affiliations"] == ["北京大学"]
    assert s["keywords"] == ["语音", "人脸生成", "跨模态学习"]
    assert s["links"] == [{"label": "arXiv", "url": "https://arxiv.org/abs/2502.00033"}]
    assert s["background"].startswith("研究背景")
    assert len(s["method_steps"]) == 2
    assert s["assessment"].startswith("创新点")


# --- importing -------------------------------------------------------------------------------


def test_import_english_post(db):
    report = import_post(fixture_bytes("en-sample.md"), "en-sample.md")
    assert report.ok, report.errors
    assert report.created["paper"] == 2 and report.created["summary"] == 2
    assert report.created["figure"] == 3 and report.created["digest"] == 1

    topic = Topic.objects.get()
    assert (topic.name, topic.slug, topic.language) == (
        "Speech Driven Avatars",
        "speech-driven-avatars",
        "en",
    )
    assert topic.query == 'abs:"Speech Driven Avatars"'
    paper = Paper.objects.get(arxiv_id="2501.00011")
    assert paper.version == 2 and paper.status == Status.PUBLISHED
    assert paper.authors[0] == {"name": "Ada Byron"}
    assert paper.abs_url == "https://arxiv.org/abs/2501.00011"
    assert TopicPaper.objects.filter(topic=topic, paper=paper).exists()
    summary = paper.summaries.get()
    assert (summary.language, summary.backend, summary.source) == ("en", "imported", "en-sample.md")
    assert summary.generated_at == dt.datetime(2025, 1, 15, 7, 30, tzinfo=dt.UTC)
    assert len(summary.key_takeaways) == 3
    assert [f.source_url for f in paper.figures.all()][0] == "https://images.example.org/fig-a1.png"
    tags = {t.name: t.kind for t in paper.tags.all()}
    assert tags["Speech Driven Avatars"] == Tag.Kind.TOPIC
    assert tags["lip sync"] == Tag.Kind.KEYWORD

    digest = Digest.objects.get()
    assert digest.date == dt.date(2025, 1, 15) and digest.status == Status.PUBLISHED
    assert digest.intro.startswith("Two new papers")
    assert [e.paper.arxiv_id for e in digest.entries.all()] == ["2501.00011", "2501.00022"]
    assert digest.cover.source_url == "https://images.example.org/fig-a1.png"


def test_importing_twice_changes_nothing(db):
    first = import_post(fixture_bytes("en-sample.md"), "en-sample.md")
    assert first.changed
    before, times = snapshot(), updated_times()
    again = import_post(fixture_bytes("en-sample.md"), "en-sample.md")
    assert again.ok and not again.changed
    assert sum(again.unchanged.values()) > 0
    assert snapshot() == before
    assert updated_times() == times


def test_locked_summary_is_never_overwritten(db):
    import_post(fixture_bytes("en-sample.md"), "en-sample.md")
    summary = Summary.objects.get(paper__arxiv_id="2501.00011")
    summary.tldr = "An editor's sentence."
    summary.lock()
    summary.save()
    report = import_post(fixture_bytes("en-sample.md"), "en-sample.md")
    assert report.skipped_locked == 1
    summary.refresh_from_db()
    assert summary.tldr == "An editor's sentence." and summary.locked


def test_unlocked_summary_is_updated_and_richer_paper_metadata_kept(db):
    paper = make_paper(
        "2501.00011", title="The pipeline's title", abstract="The pipeline's abstract", comment=""
    )
    paper.version = 3
    paper.save()
    make_summary(paper, "en", tldr="An old machine summary.")
    report = import_post(fixture_bytes("en-sample.md"), "en-sample.md")
    assert report.updated["paper"] == 1 and report.updated["summary"] == 1
    paper.refresh_from_db()
    assert paper.title == "The pipeline's title"
    assert paper.abstract == "The pipeline's abstract"
    assert paper.version == 3
    assert paper.comment.startswith("8 pages")  # was empty: filled in
    assert paper.summaries.get().tldr.startswith("A compact network")


def test_chinese_topic_gets_a_working_unicode_slug(db):
    report = import_post(fixture_bytes("zh-sample.md"), "zh-sample.md")
    assert report.ok, report.errors
    topic = Topic.objects.get()
    assert topic.slug == "虚拟人_数字人" and topic.language == "zh"
    url = reverse("papers:topic_detail", args=[topic.slug])
    assert resolve(unquote(url)).kwargs["slug"] == topic.slug
    digest_url = reverse("papers:digest_detail", args=[topic.slug, "2025-02-03"])
    assert resolve(unquote(digest_url)).kwargs["slug"] == topic.slug
    summary = Summary.objects.get()
    assert summary.language == "zh"
    assert summary.key_takeaways[0] == "只需三秒语音即可生成人脸。"


def test_mojibake_post_is_repaired_on_import(db):
    clean = (FIXTURES / "zh-sample.md").read_text(encoding="utf-8")
    report = import_post(damage(clean).encode("utf-8"), "zh-damaged.md")
    assert report.ok, report.errors
    assert report.repair.mojibake and report.repair.left == 0
    summary = Summary.objects.get()
    assert summary.language == "zh"
    assert len(summary.key_takeaways) == 3 and len(summary.method_steps) == 2
    assert not re.search("[æåçèï]", summary.tldr + "".join(summary.key_takeaways))
    assert Topic.objects.get().name == "虚拟人_数字人"


def test_uncertain_repairs_are_counted_and_shown_on_the_summary(db):
    clean = (FIXTURES / "zh-sample.md").read_text(encoding="utf-8")
    report = import_post(damage(clean).encode("utf-8"), "zh-damaged.md")
    assert report.ok, report.errors
    spots = report.repair.uncertain
    assert spots and f"of which {len(spots)} uncertain" in report.line()
    summary = Summary.objects.get()
    first_paper_line = clean.split("\n").index("## Voice2Face: Faces From Voices") + 1
    in_papers = [spot for spot in spots if spot.line >= first_paper_line]
    assert summary.warnings == [f"Uncertain repair of the text, {spot}" for spot in in_papers]
    assert "could be" in summary.warnings[0]
    # Importing the same file again changes nothing.
    again = import_post(damage(clean).encode("utf-8"), "zh-damaged.md")
    assert again.unchanged["summary"] == 1 and not again.changed


def test_malformed_posts_are_reported_with_file_and_line_and_skipped(db, tmp_path):
    for path in FIXTURES.iterdir():
        shutil.copy(path, tmp_path / path.name)
    (tmp_path / "latin1.md").write_bytes(b"---\ntitle: X\ndate: 2025-01-01\n---\n\n## Caf\xe9\n")
    reports = {r.name: r for r in import_files([tmp_path])}
    assert reports["en-sample.md"].ok and reports["zh-sample.md"].ok
    assert reports["broken-no-front-matter.md"].errors == [
        "broken-no-front-matter.md:1: no front matter (expected a line '---')"
    ]
    [error] = reports["broken-no-pdf-link.md"].errors
    assert error.startswith("broken-no-pdf-link.md:14: paper 'A Paper With No Link'")
    assert reports["broken-bad-date.md"].errors[0].startswith("broken-bad-date.md:3: ")
    assert reports["latin1.md"].errors == ["latin1.md:6: not UTF-8 text"]
    # Nothing of the skipped posts was written, not even their good first paper.
    assert not Paper.objects.filter(arxiv_id="2501.00055").exists()
    assert Paper.objects.count() == 3


def test_a_failing_post_leaves_nothing_half_written(db, monkeypatch):
    def fail(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(markdown_io, "_store_digest", fail)
    report = import_post(fixture_bytes("en-sample.md"), "en-sample.md")
    assert report.errors == ["en-sample.md:1: RuntimeError: disk full"]
    assert not Paper.objects.exists() and not Topic.objects.exists()
    assert not Summary.objects.exists() and not Figure.objects.exists()


# --- exporting -------------------------------------------------------------------------------


def round_trip(names: list[str], paths: list[Path]) -> None:
    """Import, export every digest, import the exports into an empty database: same data."""
    for path in paths:
        report = import_post(path.read_bytes(), path.name)
        assert report.ok, report.errors
    before = snapshot()
    exports = {}
    for digest in Digest.objects.all():
        text = export_digest(digest)
        text.encode("utf-8")  # valid UTF-8
        exports[digest_filename(digest)] = text
    empty_database()
    for name, text in exports.items():
        report = import_post(text.encode("utf-8"), name)
        assert report.ok, report.errors
    after = snapshot()
    assert after["digests"] == before["digests"]
    assert after["papers"].keys() == before["papers"].keys()
    for arxiv_id, paper in before["papers"].items():
        assert after["papers"][arxiv_id] == paper, arxiv_id


def test_export_layout(db):
    import_post(fixture_bytes("en-sample.md"), "en-sample.md")
    text = export_digest(Digest.objects.get())
    assert text.startswith("---\ntitle: Speech Driven Avatars 2025-01-15\ndate: 2025-01-15 ")
    for line in (
        "tags:\n    - Speech Driven Avatars",
        "cover: https://images.example.org/fig-a1.png",
        "## LipSync Lite: A Small Model for Mouth Motion",
        "**Authors:Ada Byron, Grace Hopper, Edsger Dijkstra**",
        "[PDF](http://arxiv.org/abs/2501.00011v2) 8 pages, code at",
        "**Summary**\nA compact network",
        "**Key Takeaways**\n1. The model has fewer",
        "1. Title: LipSync Lite",
        "6. Summary:",
        "    - (3) Method: a tiny recurrent network",
        "7. Methods:",
        "8. Conclusion:",
        '<img src="https://images.example.org/fig-a2.png" alt="Figure 2: Lip error per frame"',
        "</details>",
    ):
        assert line in text, line


def test_export_uses_chinese_labels_and_site_urls_for_stored_figures(db, settings):
    settings.SITE_URL = "https://digest.example.org"
    import_post(fixture_bytes("zh-sample.md"), "zh-sample.md")
    paper = Paper.objects.get()
    figure = paper.figures.get(order=1)
    figure.source_url = ""
    figure.save()
    from django.core.files.base import ContentFile

    from tests.factories import png_bytes

    figure.image.save("crop.png", ContentFile(png_bytes()))
    text = export_digest(Digest.objects.get())
    assert "1. 标题：从声音到人脸" in text and "8. 结论：" in text
    assert f'<img src="https://digest.example.org{figure.url}"' in text


def test_round_trip_english_and_chinese(db):
    round_trip([], [FIXTURES / "en-sample.md", FIXTURES / "zh-sample.md"])


# --- the seed --------------------------------------------------------------------------------


@pytest.fixture
def seed_post() -> Path:
    require(SEED_POST.exists(), f"the seed post {SEED_POST}")
    return SEED_POST


def takeaway_counts(text: str) -> list[int]:
    counts = []
    for block in text.split("**Key Takeaways**")[1:]:
        items = block.split("**[")[0]
        counts.append(len(re.findall(r"^(?:\d+\.|-) ", items, flags=re.M)))
    return counts


def test_seed_imports_six_papers_into_one_digest(db, seed_post):
    report = import_post(seed_post.read_bytes(), seed_post.name)
    assert report.ok, report.errors
    assert report.repair.mojibake and report.repair.left == 0
    assert Paper.objects.count() == 6 and Summary.objects.count() == 6
    digest = Digest.objects.get()
    assert digest.date == dt.date(2024, 10, 12)
    assert digest.topic.name == "Talking Head Generation"
    assert digest.topic.language == "zh"
    ids = [e.paper.arxiv_id for e in digest.entries.all()]
    assert ids[0] == "2410.07757" and len(ids) == 6
    # As many takeaways per paper as the post lists (the raw post: mojibake does not hide them).
    raw = seed_post.read_text(encoding="utf-8")
    expected = takeaway_counts(raw)
    got = [len(Summary.objects.get(paper__arxiv_id=i).key_takeaways) for i in ids]
    assert got == expected and all(n >= 3 for n in got)
    for summary in Summary.objects.all():
        assert summary.language == "zh" and summary.backend == "imported"
        assert not re.search("[æåçèï]", summary.tldr + "".join(summary.key_takeaways))
        assert re.search("[\u4e00-\u9fff]", summary.tldr)
    first = Summary.objects.get(paper__arxiv_id="2410.07757")
    assert first.title_translation.startswith("MMHead")
    assert first.background and first.prior_work and first.method and first.results
    assert len(first.method_steps) == 4 and first.significance and first.assessment
    assert Paper.objects.get(arxiv_id="2410.07757").figures.count() == 4
    assert digest.cover is not None


def test_seed_round_trip(db, seed_post):
    round_trip([], [seed_post])


def test_seed_more_posts(db):
    folder = SEED / "more"
    require(folder.is_dir(), f"the seed's posts in {folder}")
    reports = import_files([folder])
    assert len(reports) == 9 and all(r.ok for r in reports), [r.errors for r in reports]
    assert Digest.objects.count() == 9
    assert Topic.objects.count() == 6
    for name in ("元宇宙/虚拟人", "医学图像"):
        topic = Topic.objects.get(name=name)
        assert topic.slug and topic.language == "zh"
        assert resolve(unquote(reverse("papers:topic_detail", args=[topic.slug]))).kwargs[
            "slug"
        ] == (topic.slug)
    shared = Paper.objects.get(arxiv_id="2405.06547")
    assert shared.topics.count() == 3
    assert shared.summaries.count() == 1
    assert DigestEntry.objects.filter(paper=shared).count() == 3
    # Importing the folder again changes nothing.
    before = snapshot()
    again = import_files([folder])
    assert not any(r.changed for r in again)
    assert snapshot() == before


# --- commands and admin ----------------------------------------------------------------------


def test_import_and_export_commands(db, tmp_path):
    folder = tmp_path / "posts"
    folder.mkdir()
    shutil.copy(FIXTURES / "en-sample.md", folder)
    shutil.copy(FIXTURES / "broken-bad-date.md", folder)
    out, err = io.StringIO(), io.StringIO()
    with pytest.raises(CommandError, match="1 post"):
        call_command("import_digest", str(folder), stdout=out, stderr=err)
    assert "en-sample.md: created" in out.getvalue()
    assert "broken-bad-date.md:3:" in err.getvalue()
    assert Digest.objects.count() == 1

    target = tmp_path / "out.md"
    call_command(
        "export_digest", "speech-driven-avatars", "2025-01-15", "-o", str(target), stderr=err
    )
    text = target.read_bytes().decode("utf-8")
    assert text.startswith("---\n") and "## Gesture Bench" in text
    with pytest.raises(CommandError, match="No digest"):
        call_command("export_digest", "speech-driven-avatars", "2025-01-16")
    with pytest.raises(CommandError, match="No such file"):
        call_command("import_digest", str(tmp_path / "missing.md"))


@pytest.fixture
def staff(db):
    return get_user_model().objects.create_superuser("editor", "editor@example.org", "pw")


def upload(name: str, data: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type="text/markdown")


def test_admin_upload_imports_posts_and_shows_results(staff):
    request = RequestFactory().post(
        "/admin/papers/digest/import/",
        {
            "files": [
                upload("en-sample.md", fixture_bytes("en-sample.md")),
                upload("broken-no-pdf-link.md", fixture_bytes("broken-no-pdf-link.md")),
            ]
        },
    )
    request.user = staff
    response = import_digest_view(request)
    html = response.rendered_content
    assert response.status_code == 200
    assert 'id="import-results"' in html
    assert "en-sample.md" in html and "broken-no-pdf-link.md:14:" in html
    assert Digest.objects.count() == 1


def test_admin_upload_rejects_non_markdown_and_undecodable_files(staff):
    for name, data, message in (
        ("notes.txt", b"hello", "not a Markdown"),
        ("bad.md", b"---\ntitle: \xff\n", "line 2: not UTF-8 text"),
    ):
        form = ImportDigestForm(files={"files": upload(name, data)}, data={})
        assert not form.is_valid()
        assert message in str(form.errors)
        request = RequestFactory().post(
            "/admin/papers/digest/import/", {"files": upload(name, data)}
        )
        request.user = staff
        response = import_digest_view(request)
        assert response.status_code == 200
        assert message in response.rendered_content
    assert not Digest.objects.exists()


def test_admin_view_needs_staff(db):
    from django.contrib.auth.models import AnonymousUser

    request = RequestFactory().get("/admin/papers/digest/import/")
    request.user = AnonymousUser()
    response = import_digest_view(request)
    assert response.status_code == 302


def test_admin_export_action(staff):
    import_post(fixture_bytes("en-sample.md"), "en-sample.md")
    import_post(fixture_bytes("zh-sample.md"), "zh-sample.md")
    request = RequestFactory().post("/admin/papers/digest/")
    request.user = staff
    one = export_digests_action(None, request, Digest.objects.filter(topic__slug="虚拟人_数字人"))
    assert one["Content-Type"].startswith("text/markdown")
    assert "attachment" in one["Content-Disposition"]
    assert one.content.decode("utf-8").startswith("---\ntitle: 虚拟人_数字人")
    both = export_digests_action(None, request, Digest.objects.all())
    assert both["Content-Type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(both.content)) as archive:
        names = sorted(archive.namelist())
        assert names == ["speech-driven-avatars-2025-01-15.md", "虚拟人_数字人-2025-02-03.md"]
        assert "## Voice2Face" in archive.read(names[1]).decode("utf-8")


def test_parsing_needs_no_django():
    """parse and mojibake are pure: importing them loads neither Django nor the models."""
    code = (
        "import sys, papers.markdown.parse\n"
        "loaded = [m for m in sys.modules if m.startswith(('django', 'papers.models'))]\n"
        "assert not loaded, loaded\n"
    )
    root = Path(__file__).resolve().parent.parent
    done = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
