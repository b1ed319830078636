"""The Content-Security-Policy in a real browser (Debian's Chromium): the site's own pages, KaTeX
included, and the editors' admin run with no violation."""

import datetime as dt

import pytest
from django.urls import reverse

from tests.factories import make_digest, make_figure, make_paper, make_summary, make_topic
from tests.test_admin import make_editor
from tests.waiting import wait_until

pytestmark = pytest.mark.browser


PASSWORD = "a long editor password"
CC_BY = "http://creativecommons.org/licenses/by/4.0/"
# Recorded before any page script runs; the browser fires this event for every blocked resource.
LISTEN = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", function (event) {
  window.__violations.push(event.violatedDirective + " " + event.blockedURI);
});
"""


@pytest.fixture
def site(live_site, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    make_editor("csp-editor", PASSWORD)
    topic = make_topic("Talking Head Generation")
    paper = make_paper(
        topic=topic,
        title="Heads with $\\alpha$-blending and $O(n^2)$ cost",
        abstract="We render faces at $256 \\times 256$ in real time.",
        tags=["talking head"],
        license=CC_BY,
    )
    summary = make_summary(paper, tldr="A summary with $x^2$.")
    make_figure(paper, caption="Figure 1: The pipeline.")
    digest = make_digest(topic, [paper], date=dt.date(2024, 10, 12))
    return {"topic": topic, "paper": paper, "summary": summary, "digest": digest}


def visit(page, url: str, violations: list[str]) -> None:
    response = page.goto(url)
    assert response.status == 200, url
    assert "script-src 'self'" in response.headers.get("content-security-policy", ""), url
    page.wait_for_load_state("load")
    found = page.evaluate("window.__violations")
    violations += [f"{url}: {v}" for v in found]


def test_pages_and_admin_run_under_the_policy(page, live_site, site):
    base = live_site.url
    console: list[str] = []
    page.on(
        "console",
        lambda message: (
            console.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    page.add_init_script(LISTEN)
    violations: list[str] = []

    digest_url = base + site["digest"].get_absolute_url()
    visit(page, digest_url, violations)
    page.wait_for_selector(".digest-paper h2 .katex")  # KaTeX ran, from the site itself
    page.locator("details.figures summary").first.click()
    wait_until(page, "document.querySelector('details.figures[open] img').naturalWidth > 0")
    for url in ["/", "/papers/", site["paper"].get_absolute_url(), "/tags/", "/source/"]:
        visit(page, base + url, violations)

    page.goto(base + "/admin/login/?next=/admin/")
    page.fill("#id_username", "csp-editor")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url(base + "/admin/")
    for url in [
        "/admin/",
        reverse("admin:papers_today"),
        reverse("admin:papers_paper_changelist"),
        reverse("admin:papers_paper_change", args=[site["paper"].pk]),
        reverse("admin:papers_summary_change", args=[site["summary"].pk]),
        reverse("admin:papers_summary_compare", args=[site["summary"].pk]),
        reverse("admin:papers_digest_change", args=[site["digest"].pk]),
        reverse("admin:papers_digest_preview", args=[site["digest"].pk]),
        reverse("admin:papers_topic_change", args=[site["topic"].pk]),
    ]:
        visit(page, base + url, violations)

    assert violations == []
    assert console == []
