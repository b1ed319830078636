"""The editors' admin fits the screen: on a 1280 px desktop and a 390 px phone, the pages an editor
works on never scroll sideways. Screenshots go to tests/artifacts/ for a person to look at."""

from pathlib import Path

import pytest
from django.urls import reverse

from papers.models import Status
from tests.factories import make_digest, make_figure, make_paper, make_summary, make_topic
from tests.test_admin import make_editor
from tests.waiting import wait_until

pytestmark = pytest.mark.browser

PASSWORD = "a long editor password"
ARTIFACTS = Path(__file__).parent / "artifacts"
WIDTHS = (1280, 390)
LONG_TITLE = (
    "Speech-driven portrait animation with diffusion transformers: identity-preserving "
    "talking heads from a single photograph and an audio track, at 60 frames per second"
)


@pytest.fixture
def desk(live_site, settings):
    """A day's work as the demo has it: long titles, many figures, lists in the summary."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    make_editor("layout-editor", PASSWORD)
    topic = make_topic(
        "Talking heads and audio-driven facial animation",
        query='abs:"talking head" OR abs:"audio-driven facial animation" OR ti:"lip sync"',
        categories="cs.CV cs.GR cs.SD eess.AS",
    )
    papers = [
        make_paper(
            topic=topic,
            status=Status.REVIEW,
            title=f"{LONG_TITLE} ({n})",
            tags=["talking head", "diffusion", f"lip sync {n}", "cs.CV"],
            affiliations=["Tsinghua University, Beijing", "Microsoft Research Asia"],
            license="http://creativecommons.org/licenses/by/4.0/",
            authors=[{"name": f"Author Number{i} Surname"} for i in range(12)],
        )
        for n in range(12)
    ]
    paper = papers[0]
    for order in range(1, 7):
        make_figure(
            paper,
            caption=f"Figure {order}: the pipeline, from audio features through the motion "
            "generator to the renderer, compared with three baselines on two benchmarks.",
        )
    summary = make_summary(
        paper,
        affiliations=["Tsinghua University", "Microsoft Research Asia"],
        keywords=["talking head", "diffusion transformer", "lip sync"],
        links=[{"label": "Code", "url": "https://github.com/example/very-long-repository-name"}],
        warnings=["written from the abstract alone: the PDF had no extractable text"],
        method_steps=["Encode the audio.", "Generate motion.", "Render the frames."],
    )
    for other in papers[1:4]:
        make_summary(other)
    digest = make_digest(topic, papers[:8], status=Status.DRAFT, title=LONG_TITLE)
    return {"topic": topic, "paper": paper, "summary": summary, "digest": digest}


def admin_pages(desk) -> dict[str, str]:
    return {
        "today": reverse("admin:papers_today"),
        "paper-list": reverse("admin:papers_paper_changelist"),
        "paper": reverse("admin:papers_paper_change", args=[desk["paper"].pk]),
        "summary-list": reverse("admin:papers_summary_changelist"),
        "summary": reverse("admin:papers_summary_change", args=[desk["summary"].pk]),
        "digest-list": reverse("admin:papers_digest_changelist"),
        "digest": reverse("admin:papers_digest_change", args=[desk["digest"].pk]),
        "topic": reverse("admin:papers_topic_change", args=[desk["topic"].pk]),
    }


def log_in(page, base: str) -> None:
    page.goto(base + "/admin/login/?next=/admin/")
    page.fill("#id_username", "layout-editor")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url(base + "/admin/")


def show_everything(page) -> None:
    """Open the collapsed sections and load the lazy images, so the screenshot shows it all."""
    page.evaluate(
        """() => {
            document.querySelectorAll("details").forEach(d => { d.open = true; });
            document.querySelectorAll("img[loading=lazy]").forEach(i => { i.loading = "eager"; });
        }"""
    )
    wait_until(page, "[...document.images].every(image => image.complete)")


@pytest.mark.parametrize("width", WIDTHS)
def test_admin_pages_never_scroll_sideways(browser, live_site, desk, width):
    ARTIFACTS.mkdir(exist_ok=True)
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    try:
        log_in(page, live_site.url)
        too_wide = {}
        for name, url in admin_pages(desk).items():
            page.goto(live_site.url + url)
            show_everything(page)
            page.screenshot(path=ARTIFACTS / f"admin-{name}-{width}.png", full_page=True)
            scroll_width, inner_width = page.evaluate(
                "[document.documentElement.scrollWidth, window.innerWidth]"
            )
            if scroll_width > inner_width:
                too_wide[name] = scroll_width
        assert too_wide == {}, f"pages wider than {width} px"
    finally:
        context.close()


def test_paper_titles_are_not_squeezed_in_the_list(page, live_site, desk):
    """A title takes at most two lines at 1280 px, and the list needs no sideways scrolling."""
    log_in(page, live_site.url)
    page.goto(live_site.url + reverse("admin:papers_paper_changelist"))
    title_lines = page.locator("#result_list td.field-short_title a").first.evaluate(
        """a => {
            const range = document.createRange();
            range.selectNodeContents(a.firstChild);
            return new Set([...range.getClientRects()].map(r => Math.round(r.top))).size;
        }"""
    )
    assert title_lines <= 2
    results = page.locator("#changelist .results")
    assert results.evaluate("r => r.scrollWidth <= r.clientWidth")


def test_lists_are_shown_as_lists_and_labels_are_unique(page, live_site, desk):
    log_in(page, live_site.url)
    page.goto(live_site.url + reverse("admin:papers_paper_change", args=[desk["paper"].pk]))
    content = page.inner_text("#content-main")
    assert "[]" not in content and '["' not in content
    assert "written from the abstract alone" in content
    labels = [
        text.strip().rstrip(":").casefold()
        for text in page.locator(
            "#content-main label, #content-main .readonly-label"
        ).all_inner_texts()
    ]
    assert labels.count("affiliations") <= 1
    assert page.input_value("textarea[name='summaries-0-keywords']") == (
        "talking head\ndiffusion transformer\nlip sync"
    )


def test_the_tag_widget_suggests_existing_tags(page, live_site, desk):
    log_in(page, live_site.url)
    page.goto(live_site.url + reverse("admin:papers_paper_change", args=[desk["paper"].pk]))
    chips = page.locator(".tag-editor .tag-chip")
    assert chips.count() == 4
    entry = page.locator(".tag-editor input.tag-entry")
    entry.fill("sync 1")
    suggestion = page.locator(".tag-editor .tag-suggestions [role=option]").first
    suggestion.wait_for()
    assert "lip sync 1" in suggestion.inner_text()
    suggested = page.locator(".tag-editor .tag-suggestions [role=option]").all_inner_texts()
    assert not any(text.startswith("lip sync 0") for text in suggested), "already on the paper"
    entry.fill("lip sy")
    page.locator(".tag-editor .tag-suggestions [role=option]", has_text="lip sync 5").click()
    entry.fill("brand new tag")
    entry.press("Enter")
    page.locator(".tag-chip", has_text="cs.CV").locator("button").click()
    page.click("input[name='_continue']")
    page.wait_for_selector(".messagelist .success")
    names = sorted(t.name for t in desk["paper"].tags.all())
    assert names == ["brand new tag", "diffusion", "lip sync 0", "lip sync 5", "talking head"]
