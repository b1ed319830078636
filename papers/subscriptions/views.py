"""Pages for e-mail subscriptions: subscribe, confirm, manage, unsubscribe.

The pages reached from a mail are found by the subscriber's secret token (or a signed link) and
never show the address. Confirming and unsubscribing take a POST, so link scanners that fetch
every URL in a mail change nothing; mail programs' one-click unsubscribe POSTs without a CSRF token.

The subscribe form is also part of the cached topic and tag pages, which cannot carry a per-reader
CSRF token: the page's script fetches one from `subscribe_token` when the form is sent (readers
without scripts are linked to the form's own page, which carries it). A POST from another site
fails Django's CSRF check.
"""

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.middleware.csrf import get_token
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from papers import inputs, throttling
from papers.models import Frequency, Subscriber, Tag, Topic
from papers.subscriptions import services, tasks
from papers.subscriptions.forms import ManageForm, SubscribeForm

DONE_MESSAGES = {
    "confirmed": _("Your subscription is confirmed."),
    "updated": _("Your subscription was changed."),
    "removed": _("The subscription was removed."),
    "unsubscribed": _("You are unsubscribed from every mail."),
}


def _throttle_allows(kind: str, value: str) -> bool:
    return throttling.allows(f"subscribe:{kind}", value, settings.SUBSCRIBE_THROTTLE_PER_HOUR)


def _private(response: HttpResponse) -> HttpResponse:
    response["X-Robots-Tag"] = "noindex"
    response["Referrer-Policy"] = "no-referrer"
    return response


def _target(request: HttpRequest) -> tuple[Topic | None, Tag | None]:
    topic_slug, tag_slug = inputs.query_value(request, "topic"), inputs.query_value(request, "tag")
    if topic_slug and not tag_slug:
        return get_object_or_404(Topic, slug=topic_slug), None
    if tag_slug and not topic_slug:
        return None, get_object_or_404(Tag, slug=tag_slug)
    raise Http404("choose a topic or a tag")


@never_cache  # the form's page carries a per-reader CSRF token
@require_http_methods(["GET", "POST"])
def subscribe(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        topic, tag = _target(request)
        initial = {"topic": topic.slug if topic else "", "tag": tag.slug if tag else ""}
        context = {"form": SubscribeForm(initial=initial), "topic": topic, "tag": tag}
        return render(request, "subscriptions/subscribe.html", context)
    form = SubscribeForm(request.POST)
    if form.is_trap_filled():
        return redirect("subscriptions:subscribe_sent")
    if not _throttle_allows("client", throttling.client_address(request)):
        return render(request, "subscriptions/throttled.html", status=429)
    if not form.is_valid():
        context = {
            "form": form,
            "topic": form.cleaned_data.get("topic"),
            "tag": form.cleaned_data.get("tag"),
        }
        return render(request, "subscriptions/subscribe.html", context, status=400)
    email = Subscriber.normalize_email(form.cleaned_data["email"])
    if not _throttle_allows("address", email):
        return render(request, "subscriptions/throttled.html", status=429)
    frequency = form.cleaned_data["frequency"]
    subscription = services.subscribe(
        email, topic=form.cleaned_data["topic"], tag=form.cleaned_data["tag"], frequency=frequency
    )
    tasks.queue_confirmation_mail(subscription.pk, frequency)
    return redirect("subscriptions:subscribe_sent")


@never_cache
@require_http_methods(["GET"])
def subscribe_token(request: HttpRequest) -> JsonResponse:
    """A CSRF token (and its cookie) for the subscribe form of a cached page."""
    return JsonResponse({"token": get_token(request)})


def subscribe_sent(request: HttpRequest) -> HttpResponse:
    return render(request, "subscriptions/subscribe_sent.html")


@never_cache
@require_http_methods(["GET", "POST"])
def confirm(request: HttpRequest, value: str) -> HttpResponse:
    try:
        subscription, frequency = services.read_confirmation(value)
    except services.ConfirmationError as exc:
        response = render(
            request, "subscriptions/confirm_invalid.html", {"error": str(exc)}, status=400
        )
        return _private(response)
    if request.method == "POST":
        subscription = services.confirm(value)
        url = reverse("subscriptions:manage", args=[subscription.subscriber.token])
        return redirect(f"{url}?done=confirmed")
    context = {
        "subscription": subscription,
        "frequency_label": Frequency(frequency).label,
    }
    return _private(render(request, "subscriptions/confirm.html", context))


@never_cache
@require_http_methods(["GET", "POST"])
def manage(request: HttpRequest, token: str) -> HttpResponse:
    subscriber = get_object_or_404(Subscriber, token=token)
    if request.method == "POST":
        form = ManageForm(request.POST)
        if not form.is_valid():
            return _private(HttpResponse(status=400))
        action = form.cleaned_data["action"]
        if action == "delete":
            subscriber.delete()
            return _private(render(request, "subscriptions/deleted.html"))
        subscription = get_object_or_404(
            subscriber.subscriptions, pk=form.cleaned_data["subscription"]
        )
        if action == "remove":
            subscription.delete()
            done = "removed"
        else:
            if not form.cleaned_data["frequency"]:
                return _private(HttpResponse(status=400))
            subscription.frequency = form.cleaned_data["frequency"]
            subscription.save(update_fields=["frequency"])
            done = "updated"
        url = reverse("subscriptions:manage", args=[token])
        return redirect(f"{url}?done={done}")
    context = {
        "subscriber": subscriber,
        "subscriptions": subscriber.subscriptions.select_related("topic", "tag"),
        "done": DONE_MESSAGES.get(request.GET.get("done", "")),
        "frequencies": Frequency.choices,
    }
    return _private(render(request, "subscriptions/manage.html", context))


@csrf_exempt
@never_cache
@require_http_methods(["GET", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    """GET asks; POST (the page's button, or a mail program's one-click) unsubscribes at once."""
    subscriber = get_object_or_404(Subscriber, token=token)
    if request.method == "POST":
        services.unsubscribe(subscriber)
        context = {"subscriber": subscriber, "done": DONE_MESSAGES["unsubscribed"]}
        return _private(render(request, "subscriptions/unsubscribed.html", context))
    context = {"subscriber": subscriber, "count": subscriber.subscriptions.count()}
    return _private(render(request, "subscriptions/unsubscribe.html", context))
