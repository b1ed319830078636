"""The site in a real browser (Debian's Chromium through Playwright): navigation, figures, math."""

import datetime as dt
from pathlib import Path

import pytest

from tests.factories import make_digest, make_figure, make_paper, make_summary, make_topic
from tests.waiting import wait_until

pytestmark = pytest.mark.browser


ARTIFACTS = Path(__file__).parent / "artifacts"
CC_BY = "http://creativecommons.org/licenses/by/4.0/"


@pytest.fixture
def site(live_site):
    topic = make_topic("Talking Head Generation", language="en")
    papers = []
    for n in range(3):
        paper = make_paper(
            topic=topic,
            title=f"Audio-driven heads with $\\alpha_{n}$-blending and $O(n^2)$ cost, part {n}",
            abstract="We render faces at $256 \\times 256$ in real time.\nIt works.",
            comment="11 pages, 5 figures",
            tags=["talking head", "cs.CV"],
            license=CC_BY,
        )
        make_summary(
            paper,
            tldr="A one-line summary of the paper.",
            title_translation="音频驱动的说话人头部",
            background="Talking heads are hard.",
            method="A diffusion model.",
            results="Its error falls as $E=mc^2$ per frame.",
        )
        make_figure(paper, caption="Figure 1: The pipeline of the method.")
        make_figure(paper, caption="Figure 2: Qualitative results.")
        papers.append(paper)
    digest = make_digest(topic, papers, date=dt.date(2024, 10, 12))
    return live_site.url, digest


def test_read_the_site(site, page):
    base, digest = site
    page.goto(base + "/")
    assert page.title() == "arXiv Daily Digest" or page.title()
    page.get_by_role("link", name="Tags", exact=True).click()
    page.get_by_role("link", name="talking head").first.click()
    assert page.url.endswith("/tags/talking-head/")
    assert page.locator("article.paper-item").count() == 3

    page.goto(base + "/")
    page.get_by_role("link", name="Talking Head Generation").first.click()
    assert page.url.endswith("/topics/talking-head-generation/2024-10-12/")

    # Math in titles and abstracts is typeset by the site's own KaTeX.
    page.wait_for_selector(".digest-paper h2 .katex")
    assert page.locator(".digest-paper .abstract .katex").count() == 3
    assert page.locator(".digest-paper .summary dd .katex").count() >= 3  # summaries' math too

    gallery = page.locator("details.figures").first
    image = gallery.locator("img").first
    assert not image.is_visible()
    gallery.locator("summary").click()
    image.wait_for(state="visible")
    assert image.get_attribute("alt") == "Figure 1: The pipeline of the method."
    wait_until(page, "document.querySelector('details.figures[open] img').naturalWidth > 0")

    # Click to enlarge, Escape to close.
    gallery.locator("a.figure-link").first.click()
    page.wait_for_selector("dialog.lightbox[open] img")
    page.keyboard.press("Escape")
    page.wait_for_selector("dialog.lightbox[open]", state="detached", timeout=2000)

    analysis = page.locator("details.analysis").first
    analysis.locator("summary").click()
    assert analysis.get_by_text("A diffusion model.").is_visible()

    ARTIFACTS.mkdir(exist_ok=True)
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=ARTIFACTS / "digest-desktop.png", full_page=False)
    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    page.wait_for_selector(".digest-paper h2 .katex")
    page.evaluate("window.scrollTo(0, 0)")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, "the digest page scrolls sideways on a phone"
    page.screenshot(path=ARTIFACTS / "digest-phone.png", full_page=False)


def test_keyboard_and_dark_mode(site, browser):
    base, digest = site
    context = browser.new_context(color_scheme="dark", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    try:
        page.goto(base + digest.get_absolute_url())
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.className") == "skip-link"
        background = page.evaluate("getComputedStyle(document.body).backgroundColor")
        assert background == "rgb(21, 23, 28)"
        page.wait_for_selector(".digest-paper h2 .katex")
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=ARTIFACTS / "digest-dark.png")
    finally:
        context.close()


def test_one_click_switches_the_language(site, page):
    base, digest = site
    page.goto(base + digest.get_absolute_url())
    assert page.locator("html").get_attribute("lang") == "en"
    page.get_by_role("link", name="简体中文").click()
    page.wait_for_url("**/zh-hans/topics/**")
    assert page.locator("html").get_attribute("lang") == "zh-hans"
    assert page.get_by_role("link", name="标签", exact=True).is_visible()
    page.locator("ul.languages a[lang=en]").click()
    page.wait_for_url(base + digest.get_absolute_url())
    assert page.locator("html").get_attribute("lang") == "en"


def test_subscribe_from_a_cached_topic_page(site, page):
    """The topic page is cached without a CSRF token; its script fetches one when the form is sent."""
    from papers.models import Subscriber

    base, digest = site
    url = base + digest.topic.get_absolute_url()
    page.goto(url)
    page.goto(url)  # the second answer comes from the page cache
    page.fill("#subscribe-email", "reader@example.org")
    page.get_by_role("button", name="Subscribe").click()
    page.wait_for_url("**/subscribe/sent/")
    assert Subscriber.objects.filter(email="reader@example.org").exists()
