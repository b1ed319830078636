"""BibTeX and RIS for a paper, a digest and any paper listing (a follow, as on `/papers/`)."""

from django.http import Http404, HttpRequest, HttpResponse

from papers import citations, follows, selectors
from papers.models import split_arxiv_id

FORMATS = {
    "bib": ("application/x-bibtex; charset=utf-8", citations.bibtex),
    "ris": ("application/x-research-info-systems; charset=utf-8", citations.ris),
}
MAX_LISTING = 200  # papers in one listing's file: the newest (or best matching) first


def _answer(papers, fmt: str, filename: str) -> HttpResponse:
    content_type, render = FORMATS[fmt]
    response = HttpResponse(render(papers), content_type=content_type)
    response["Content-Disposition"] = f'inline; filename="{filename}.{fmt}"'
    return response


def paper_citation(request: HttpRequest, arxiv_id: str, fmt: str) -> HttpResponse:
    try:
        bare_id, _version = split_arxiv_id(arxiv_id)
    except ValueError:
        raise Http404("Not an arXiv id") from None
    paper = selectors.published_paper(bare_id)
    return _answer([paper], fmt, bare_id.replace("/", "-"))


def digest_citation(request: HttpRequest, slug: str, date: str, fmt: str) -> HttpResponse:
    digest = selectors.published_digest(slug, date)
    papers = [entry.paper for entry in digest.entries.all()]
    return _answer(papers, fmt, f"{digest.topic.slug}-{digest.date:%Y-%m-%d}")


def listing_citation(request: HttpRequest, fmt: str) -> HttpResponse:
    follow = follows.follow_of(request)
    papers = follows.apply(follow, selectors.papers_for_listing())[:MAX_LISTING]
    return _answer(list(papers), fmt, "papers")
