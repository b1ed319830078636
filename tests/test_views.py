"""The public pages, against a real database: content, 404s, escaping, caching and query counts."""

import pytest
from django.core.cache import cache

from tests.factories import make_digest, make_figure, make_paper, make_summary, make_topic

CC_BY = "http://creativecommons.org/licenses/by/4.0/"
ARXIV_ONLY = "http://arxiv.org/licenses/nonexclusive-distrib/1.0/"


@pytest.fixture(autouse=True)
def _plain_static_and_empty_cache(settings):
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    cache.clear()
    yield
    cache.clear()


def test_smoke(client, db):
    topic = make_topic("Talking Head Generation")
    paper = make_paper(topic=topic, tags=["talking head"], license=CC_BY)
    make_summary(paper)
    make_figure(paper)
    make_digest(topic, [paper])
    for url in [
        "/",
        "/papers/",
        paper.get_absolute_url(),
        "/tags/",
        "/tags/talking-head/",
        topic.get_absolute_url(),
        "/topics/talking-head-generation/2024-10-12/",
        "/feed/",
        "/feed/atom/",
        "/sitemap.xml",
        "/robots.txt",
        "/healthz",
        "/source/",
    ]:
        response = client.get(url)
        assert response.status_code == 200, url
