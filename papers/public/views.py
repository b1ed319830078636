"""The public site: digests, papers, tags, topics, figures, robots.txt and the health check."""

import datetime as dt
import functools
import hashlib
import mimetypes
from urllib.parse import urlencode

from django.conf import settings
from django.core.paginator import InvalidPage
from django.db import connection
from django.http import (
    FileResponse,
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseRedirect,
    JsonResponse,
)
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse, translate_url
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import (
    check_for_language,
    get_language,
    get_language_from_path,
    override,
)
from django.views.decorators.cache import never_cache
from django.views.decorators.http import condition, require_GET

from papers import authors, follows, health, inputs, search, selectors, throttling
from papers.models import ErrorReport, Figure, Status, split_arxiv_id
from papers.public.caching import cached_page
from papers.public.forms import ErrorReportForm
from papers.public.source import source_archive as built_source

PAPERS_PER_PAGE = 20
DIGESTS_PER_PAGE = 20
TAGS_PER_PAGE = 300
REPORTS_PER_HOUR = 5


def paginate(request: HttpRequest, items, per_page: int, count: int | None = None):
    """The requested page; a page number that is not a number or out of range answers 404.

    Give `count` when the number of items is already known, to spare the COUNT query.
    """
    paginator = selectors.IdPaginator(items, per_page, count)
    number = inputs.query_value(request, "page", "1")
    try:
        return paginator.page(number)
    except InvalidPage:
        raise Http404("No such page") from None


def summary_language() -> str:
    """The summary language that goes with the interface language (zh-hans -> zh)."""
    return "zh" if (get_language() or "").startswith("zh") else "en"


@cached_page
def home(request: HttpRequest) -> HttpResponse:
    digests = paginate(
        request,
        selectors.digests_for_listing().prefetch_related(selectors.digest_preview()),
        DIGESTS_PER_PAGE,
    )
    return render(request, "papers/home.html", {"page_obj": digests})


def canonical_follow(url_name: str):
    """Send a follow's URL with its parameters in another order (or spelling) to the one URL."""

    def decorator(view):
        @functools.wraps(view)
        def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            follow = follows.follow_of(request)
            given = [(k, v) for k, values in request.GET.lists() for v in values if k != "page"]
            if given != follow.pairs():
                return redirect(canonical_url(request, url_name, follow), permanent=True)
            return view(request, *args, **kwargs)

        return wrapper

    return decorator


@cached_page
@canonical_follow("papers:paper_list")
def paper_list(request: HttpRequest) -> HttpResponse:
    follow = follows.follow_of(request)
    papers = paginate(
        request, follows.apply(follow, selectors.papers_for_listing()), PAPERS_PER_PAGE
    )
    if follow.query:
        papers.object_list = list(papers.object_list)
        search.attach_snippets(papers.object_list, follow.query)
    context = {
        "page_obj": papers,
        "query": follow.query,
        "selected_tags": follow.tags,
        "follow": follow,
        "follow_title": follows.title(follow),
        "language": summary_language(),
    }
    return render(request, "papers/paper_list.html", context)


def canonical_url(request: HttpRequest, name: str, follow: follows.Follow) -> str:
    """The URL of `name` with the follow's parameters in their one order (and the page kept)."""
    pairs = follow.pairs()
    page = request.GET.get("page", "")
    if page.isdigit():
        pairs.append(("page", page))
    return reverse(name) + ("?" + urlencode(pairs) if pairs else "")


def _canonical_id(arxiv_id: str) -> tuple[str, int | None]:
    try:
        return split_arxiv_id(arxiv_id)
    except ValueError:
        raise Http404("Not an arXiv id") from None


@cached_page
def paper_detail(request: HttpRequest, arxiv_id: str) -> HttpResponse:
    bare_id, version = _canonical_id(arxiv_id)
    if bare_id != arxiv_id:
        return redirect("papers:paper_detail", bare_id, permanent=True)
    paper = selectors.published_paper(bare_id)
    language = summary_language()
    summaries = sorted(paper.summaries.all(), key=lambda s: (s.language != language, s.language))
    figures = paper.figure_list() if paper.content_allowed else []
    context = {
        "paper": paper,
        "summaries": summaries,
        "figures": figures,
        "cover": figures[0] if figures else None,
        "digests": paper.digests.all(),
        "tags": paper.tags.all(),
    }
    return render(request, "papers/paper_detail.html", context)


def client_hash(request: HttpRequest) -> str:
    address = throttling.client_address(request)
    return hashlib.sha256(f"{settings.SECRET_KEY}:{address}".encode()).hexdigest()


def paper_report(request: HttpRequest, arxiv_id: str) -> HttpResponse:
    """A short form to report a mistake in a paper's summary; reports go to the editors."""
    bare_id, _version = _canonical_id(arxiv_id)
    paper = get_object_or_404(
        selectors.Paper.objects.published().prefetch_related("summaries"), arxiv_id=bare_id
    )
    if request.method == "POST":
        form = ErrorReportForm(request.POST)
        if form.is_trap_filled():
            # Robots get the same answer as people, and nothing is stored.
            return redirect(reverse("papers:paper_report", args=[paper.arxiv_id]) + "?sent=1")
        if form.is_valid():
            address = throttling.client_address(request)
            if not throttling.allows("report", address, REPORTS_PER_HOUR):
                return render(
                    request, "papers/report.html", {"paper": paper, "limited": True}, status=429
                )
            ErrorReport.objects.create(
                paper=paper,
                summary=paper.summary_for(summary_language()),
                message=form.cleaned_data["message"],
                contact=form.cleaned_data["contact"],
                client_hash=client_hash(request),
            )
            return redirect(reverse("papers:paper_report", args=[paper.arxiv_id]) + "?sent=1")
        status = 400
    else:
        form = ErrorReportForm()
        status = 200
    context = {"paper": paper, "form": form, "sent": request.GET.get("sent") == "1"}
    return render(request, "papers/report.html", context, status=status)


@cached_page
def tag_list(request: HttpRequest) -> HttpResponse:
    tags = paginate(request, selectors.tags_with_counts(), TAGS_PER_PAGE)
    context = {"page_obj": tags, "cloud": selectors.cloud_weights(list(tags.object_list))}
    return render(request, "papers/tag_list.html", context)


@cached_page
def tag_detail(request: HttpRequest, slug: str) -> HttpResponse:
    tag = get_object_or_404(selectors.Tag, slug=slug, blocked=False)
    if tag.merged_into_id:  # an editor merged or renamed it: its old address leads on
        return redirect(get_object_or_404(selectors.Tag, pk=tag.merged_into_id), permanent=True)
    papers = paginate(
        request,
        selectors.filter_papers([tag], ""),
        PAPERS_PER_PAGE,
        count=selectors.tag_paper_count(tag),
    )
    context = {"tag": tag, "page_obj": papers, "language": summary_language()}
    return render(request, "papers/tag_detail.html", context)


@cached_page
def author_detail(request: HttpRequest, key: str) -> HttpResponse:
    canonical = authors.canonical_key(key)
    if canonical != key:
        return redirect("papers:author_detail", canonical, permanent=True)
    name = authors.display_name(key)
    if not name:
        raise Http404("No such author")
    papers = paginate(
        request, authors.papers_by(key, selectors.papers_for_listing()), PAPERS_PER_PAGE
    )
    context = {"key": key, "name": name, "page_obj": papers, "language": summary_language()}
    return render(request, "papers/author_detail.html", context)


@cached_page
def topic_detail(request: HttpRequest, slug: str) -> HttpResponse:
    topic = selectors.topic_by_slug(slug)
    digests = paginate(request, selectors.topic_digests(topic), DIGESTS_PER_PAGE)
    latest_pick = selectors.topic_picks(topic).values_list("digest__date", flat=True).first()
    context = {
        "topic": topic,
        "page_obj": digests,
        "best_week": "{}-W{:02d}".format(*latest_pick.isocalendar()[:2]) if latest_pick else "",
    }
    return render(request, "papers/topic_detail.html", context)


@cached_page
def topic_best_of(request: HttpRequest, slug: str, week: str) -> HttpResponse:
    """The editors' picks of one ISO week of a topic's digests, with their reasons."""
    topic = selectors.topic_by_slug(slug)
    monday, next_monday = selectors.week_of(week)
    picks = list(
        selectors.topic_picks(topic).filter(digest__date__gte=monday, digest__date__lt=next_monday)
    )
    for entry in picks:
        entry.summary = entry.paper.summary_for(topic.language)
    previous, following = monday - dt.timedelta(days=7), next_monday
    context = {
        "topic": topic,
        "week": week,
        "monday": monday,
        "sunday": next_monday - dt.timedelta(days=1),
        "picks": picks,
        "previous_week": "{}-W{:02d}".format(*previous.isocalendar()[:2]),
        "next_week": "{}-W{:02d}".format(*following.isocalendar()[:2]),
    }
    return render(request, "papers/topic_best_of.html", context)


@cached_page
def digest_detail(request: HttpRequest, slug: str, date: str) -> HttpResponse:
    digest = selectors.published_digest(slug, date)
    context = selectors.digest_page(digest, digest.entries.all())
    context["cover"] = selectors.digest_cover(digest)
    return render(request, "papers/digest_detail.html", context)


def _figure_response(request: HttpRequest, pk: int, thumbnail: bool) -> HttpResponse:
    figure = get_object_or_404(Figure.objects.select_related("paper"), pk=pk)
    paper = figure.paper
    public = paper.status == Status.PUBLISHED and paper.content_allowed and not figure.hidden
    if not public and not (request.user.is_authenticated and request.user.is_staff):
        raise Http404("No such figure")
    file = figure.thumbnail if thumbnail and figure.thumbnail else figure.image
    if not file:
        raise Http404("No such figure")
    try:
        handle = file.open("rb")
    except FileNotFoundError:
        raise Http404("No such figure") from None
    content_type = mimetypes.guess_type(file.name)[0] or "application/octet-stream"
    response = FileResponse(handle, content_type=content_type)
    if public:
        response.headers["Cache-Control"] = "public, max-age=2592000"
    else:
        response.headers["Cache-Control"] = "private, no-store"
    return response


@require_GET
def figure_image(request: HttpRequest, pk: int) -> HttpResponse:
    return _figure_response(request, pk, thumbnail=False)


@require_GET
def figure_thumbnail(request: HttpRequest, pk: int) -> HttpResponse:
    return _figure_response(request, pk, thumbnail=True)


@require_GET
def robots_txt(request: HttpRequest) -> HttpResponse:
    lines = [
        "User-agent: *",
        "Disallow: /admin/",
        "Disallow: /papers/*/report/",
        "Disallow: /*?q=",
        "Disallow: /*&q=",
        f"Sitemap: {request.build_absolute_uri('/sitemap.xml')}",
        "",
    ]
    return HttpResponse("\n".join(lines), content_type="text/plain; charset=utf-8")


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    checks: dict[str, str] = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        checks["database"] = "ok"
    except Exception as exc:  # noqa: BLE001 - any failure means "down"
        checks["database"] = f"error: {type(exc).__name__}"
    if settings.REDIS_URL:
        import redis

        try:
            client = redis.Redis.from_url(
                settings.REDIS_URL, socket_connect_timeout=2, socket_timeout=2
            )
            client.ping()
            checks["redis"] = "ok"
        except Exception as exc:  # noqa: BLE001
            checks["redis"] = f"error: {type(exc).__name__}"
    healthy = all(value == "ok" for value in checks.values())
    body = {"status": "ok" if healthy else "error", "checks": checks}
    if checks["database"] == "ok":
        body["pipeline"] = pipeline_status()
    # The site answers whatever the pipeline's state: it does not take it out of service.
    return JsonResponse(body, status=200 if healthy else 503)


def pipeline_status() -> dict:
    """Each active topic's pipeline health; "attention" when one failed or stalled."""
    topics = health.pipeline_health(timezone.now())
    attention = any(value in health.ATTENTION for value in topics.values())
    return {"status": "attention" if attention else "ok", "topics": topics}


@cached_page
def source(request: HttpRequest) -> HttpResponse:
    return render(request, "source.html", {"year": dt.date.today().year})


def _source_etag(request: HttpRequest) -> str:
    return built_source().digest[:32]


@require_GET
@condition(etag_func=_source_etag)
def source_archive(request: HttpRequest) -> FileResponse:
    """The archive built once per deployment; a browser that has it gets 304."""
    response = FileResponse(
        open(built_source().path, "rb"),  # noqa: SIM115 - closed by the response
        as_attachment=True,
        filename="digest-site.tar.gz",
        content_type="application/gzip",
    )
    response.headers["Cache-Control"] = "public, max-age=86400"
    return response


def url_in_language(url: str, code: str) -> str:
    """The same page in another language: `/papers/?q=x` in zh-hans is `/zh-hans/papers/?q=x`."""
    source = get_language_from_path(url.split("?")[0]) or settings.LANGUAGE_CODE
    with override(source):
        return translate_url(url, code)


@require_GET
def set_language(request: HttpRequest, code: str) -> HttpResponse:
    """Switch the interface language with a plain link (no form, so pages stay cacheable)."""
    if not check_for_language(code) or code not in dict(settings.LANGUAGES):
        raise Http404("No such language")
    target = inputs.query_value(request, "next", "/")
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = "/"
    response = HttpResponseRedirect(url_in_language(target, code))
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        code,
        max_age=365 * 24 * 60 * 60,
        samesite="Lax",
        secure=settings.SESSION_COOKIE_SECURE,
    )
    return response
