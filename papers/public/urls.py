from django.urls import path, register_converter

import papers.inputs  # noqa: F401 - registers the <text:> converter
from papers.public import citing, feeds, views
from papers.public.caching import cached_page


class TextConverter:
    """A URL part kept as text; subclasses set the pattern, the views check the meaning."""

    regex = ""

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: object) -> str:
        return str(value)


class ArxivIdConverter(TextConverter):
    """New-style ids (2410.07757) and old-style ones with a slash (hep-th/9901001), version optional."""

    regex = r"(?:\d{4}\.\d{4,5}|[a-zA-Z][a-zA-Z.\-]*/\d{7})(?:v\d+)?"


class IsoDateConverter(TextConverter):
    """YYYY-MM-DD; the view checks that it is a real date."""

    regex = r"\d{4}-\d{2}-\d{2}"


class IsoWeekConverter(TextConverter):
    """An ISO week, `2024-W41`; the view checks that it exists."""

    regex = r"\d{4}-W\d{2}"


class CiteFormatConverter(TextConverter):
    """The citation file formats: BibTeX and RIS."""

    regex = r"bib|ris"


register_converter(ArxivIdConverter, "arxiv")
register_converter(CiteFormatConverter, "citefmt")
register_converter(IsoWeekConverter, "isoweek")
register_converter(IsoDateConverter, "isodate")

app_name = "papers"
urlpatterns = [
    path("", views.home, name="home"),
    path("papers/", views.paper_list, name="paper_list"),
    path("papers/cite.<citefmt:fmt>", citing.listing_citation, name="listing_citation"),
    path(
        "papers/<arxiv:arxiv_id>/cite.<citefmt:fmt>",
        citing.paper_citation,
        name="paper_citation",
    ),
    path("papers/<arxiv:arxiv_id>/", views.paper_detail, name="paper_detail"),
    path("papers/<arxiv:arxiv_id>/report/", views.paper_report, name="paper_report"),
    path("authors/<text:key>/", views.author_detail, name="author_detail"),
    path("tags/", views.tag_list, name="tag_list"),
    path("tags/<text:slug>/", views.tag_detail, name="tag_detail"),
    path("tags/<text:slug>/feed/", cached_page(feeds.TagFeed()), name="tag_feed"),
    path(
        "tags/<text:slug>/feed/atom/",
        cached_page(feeds.TagAtomFeed()),
        name="tag_feed_atom",
    ),
    path("topics/<text:slug>/", views.topic_detail, name="topic_detail"),
    path("topics/<text:slug>/feed/", cached_page(feeds.TopicFeed()), name="topic_feed"),
    path(
        "topics/<text:slug>/feed/atom/",
        cached_page(feeds.TopicAtomFeed()),
        name="topic_feed_atom",
    ),
    path("topics/<text:slug>/best/<isoweek:week>/", views.topic_best_of, name="topic_best_of"),
    path("topics/<text:slug>/picks/feed/", cached_page(feeds.PicksFeed()), name="picks_feed"),
    path("topics/<text:slug>/<isodate:date>/", views.digest_detail, name="digest_detail"),
    path(
        "topics/<text:slug>/<isodate:date>/cite.<citefmt:fmt>",
        citing.digest_citation,
        name="digest_citation",
    ),
    path(
        "feed/",
        cached_page(views.canonical_follow("papers:feed")(feeds.PaperFeed())),
        name="feed",
    ),
    path(
        "feed/atom/",
        cached_page(views.canonical_follow("papers:feed_atom")(feeds.PaperAtomFeed())),
        name="feed_atom",
    ),
    path("figures/<int:pk>/", views.figure_image, name="figure_image"),
    path("figures/<int:pk>/thumbnail/", views.figure_thumbnail, name="figure_thumbnail"),
    path("source/", views.source, name="source"),
    path("source/digest-site.tar.gz", views.source_archive, name="source_archive"),
    path("language/<text:code>/", views.set_language, name="set_language"),
]
