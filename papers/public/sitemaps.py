from django.contrib.sitemaps import Sitemap
from django.urls import reverse

from papers import selectors
from papers.models import Digest, Paper, Status, Topic


class StaticSitemap(Sitemap):
    changefreq = "daily"
    priority = 0.6

    def items(self) -> list[str]:
        return ["papers:home", "papers:paper_list", "papers:tag_list"]

    def location(self, name: str) -> str:
        return reverse(name)


class PaperSitemap(Sitemap):
    changefreq = "weekly"
    priority = 0.8
    limit = 5000

    def items(self):
        return (
            Paper.objects.published().order_by("-published", "-id").only("arxiv_id", "updated_at")
        )

    def lastmod(self, paper: Paper):
        return paper.updated_at


class DigestSitemap(Sitemap):
    changefreq = "weekly"
    priority = 0.7
    limit = 5000

    def items(self):
        return Digest.objects.published().select_related("topic").order_by("-date", "topic__name")

    def lastmod(self, digest: Digest):
        return digest.updated_at


class TopicSitemap(Sitemap):
    changefreq = "daily"
    priority = 0.6

    def items(self):
        return Topic.objects.filter(digests__status=Status.PUBLISHED).distinct().order_by("name")

    def lastmod(self, topic: Topic):
        return topic.updated_at


class TagSitemap(Sitemap):
    changefreq = "weekly"
    priority = 0.4
    limit = 5000

    def items(self):
        return selectors.tags_with_counts()


SITEMAPS = {
    "pages": StaticSitemap,
    "papers": PaperSitemap,
    "digests": DigestSitemap,
    "topics": TopicSitemap,
    "tags": TagSitemap,
}
