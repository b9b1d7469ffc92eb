"""A survey's public link `/l/<slug>/` (a shared URL, a QR code on a receipt or a table) and its kiosk mode
`/l/<slug>/?kiosk=1`, and the link's QR codes `/l/<slug>/qr.svg` and `qr.png`.

The link's page asks the score; the answer then goes on on the respondent's page of the invitation that holds
it (`surveys.views`): reason, "may we contact you?", additional questions, thank-you. One answer per browser
(a cookie on the link's path leads it back to its answer), unless in kiosk mode; new answers are limited per
address either way. GET and HEAD never record.
"""

from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.utils import timezone
from django.utils.decorators import decorator_from_middleware
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods

from surveys.models import SurveyLink
from surveys.qr import qr_png, qr_svg
from surveys.rate_limits import address_over_hourly_limit
from surveys.scales import SUPPORTED_LOCALES
from surveys.selectors import invitation_get_by_token, survey_link_get, survey_link_urls
from surveys.services.links import link_answer_start
from surveys.tokens import invitation_token
from surveys.views import (
    ANSWER_COOKIE,
    _client,
    _not_found,
    _page,
    _parse_score,
    _rate_limited,
    _rate_limited_reading_brands,
    _RespondentCsrf,
    _too_many,
    _visitor_locale,
    kiosk_start_url,
    score_page,
    step_after_score,
    survey_context,
)

LINK_COOKIE = "cl_link"  # this browser's answer on the link, scoped to the link's path
LINK_COOKIE_SALT = "surveys.link-answer"
QR_CACHE_SECONDS = 3600


def _locale(request) -> str:
    """`?lang=fr` (a kiosk set up for one language), else the browser's first language."""
    lang = request.GET.get("lang", "")
    return lang if lang in SUPPORTED_LOCALES else _visitor_locale(request)


def _earlier_answer(request) -> str:
    """The invitation token of this browser's open answer on the link, or ""."""
    try:
        token = signing.loads(request.COOKIES.get(LINK_COOKIE, ""), salt=LINK_COOKIE_SALT)
    except signing.BadSignature:
        return ""
    return token if isinstance(token, str) and invitation_get_by_token(token=token) is not None else ""


def _closed(link: SurveyLink, kiosk: bool) -> bool:
    return not (link.is_enabled and link.survey.is_active) or (kiosk and not link.kiosk_enabled)


@csrf_exempt  # replaced by the respondent page's check just below, not dropped
@decorator_from_middleware(_RespondentCsrf)
@require_http_methods(["GET", "HEAD", "POST"])
def link_respond(request, slug: str) -> HttpResponse:
    over, brands = _rate_limited_reading_brands(request)
    if over:
        return _too_many(request, _locale(request))
    link = survey_link_get(slug=slug)
    locale = _locale(request)
    if link is None or link.survey.is_fix_check:
        return _not_found(request, locale)
    kiosk = request.GET.get("kiosk") == "1"
    context = {**survey_context(link.survey, locale, brands=brands), "kiosk": kiosk}
    if _closed(link, kiosk):
        return _page(request, "surveys/link_closed.html", context, 410)
    if kiosk and request.GET.get("step") == "thanks":
        survey = link.survey
        thanks = {"thank_you_message": survey.thank_you(locale), "kiosk_restart": kiosk_start_url(slug, locale)}
        return _page(request, "surveys/respond_thanks.html", {**context, **thanks})
    if not kiosk and (token := _earlier_answer(request)):
        # One answer per browser: it goes back to its own answer, where it may change it.
        return HttpResponseRedirect(f"/s/{token}/")
    if request.method != "POST":
        return score_page(request, {**context, "selected": None, "auto_confirm": False})
    return _answer_start(request, link, kiosk, locale, context)


def _answer_start(request, link: SurveyLink, kiosk: bool, locale: str, context: dict) -> HttpResponse:
    scale = link.survey.scale
    score = _parse_score(request.POST.get("score"))
    if score is None or score not in scale.scores:
        error = context["words"]["score_error"].format(low=scale.low, high=scale.high)
        return score_page(request, {**context, "selected": None, "error": error}, 400)
    limit = settings.KIOSK_ANSWERS_PER_HOUR if kiosk else settings.LINK_ANSWERS_PER_HOUR
    address = request.META.get("REMOTE_ADDR", "")
    if address_over_hourly_limit(scope=f"link-{link.pk}", address=address, per_hour=limit):
        return _too_many(request, locale, body="too_many_answers_body", retry_after=3600)
    try:
        invitation, outcome = link_answer_start(
            link=link,
            score=score,
            kiosk=kiosk,
            locale=locale,
            user_agent=request.META.get("HTTP_USER_AGENT", ""),
            client=_client(request),
        )
    except ValidationError:
        return _page(request, "surveys/link_closed.html", context, 410)
    token = invitation_token(invitation.public_id)
    path = f"/s/{token}/"
    page = step_after_score(path, outcome.response, invitation)
    lasts = max(int((invitation.expires_at - timezone.now()).total_seconds()), 0)
    cookie = {"max_age": lasts, "secure": request.is_secure(), "httponly": True, "samesite": "Lax"}
    # The answer's own steps recognise the browser that gave it (as for an emailed link)...
    page.set_cookie(ANSWER_COOKIE, outcome.browser_token, path=path, **cookie)
    if not kiosk:
        # ...and the link sends this browser back to that answer instead of taking a second one.
        page.set_cookie(LINK_COOKIE, signing.dumps(token, salt=LINK_COOKIE_SALT), path=request.path, **cookie)
    return page


def _qr_answer(body: bytes, content_type: str, slug: str, extension: str, request) -> HttpResponse:
    page = HttpResponse(body, content_type=content_type)
    page["Cache-Control"] = f"public, max-age={QR_CACHE_SECONDS}"
    disposition = "attachment" if request.GET.get("download") == "1" else "inline"
    page["Content-Disposition"] = f'{disposition}; filename="survey-{slug}.{extension}"'
    return page


def _qr_link(slug: str) -> SurveyLink:
    link = survey_link_get(slug=slug)
    if link is None or link.survey.is_fix_check:
        raise Http404("no such survey link")
    return link


def _qr_too_many() -> HttpResponse:
    return HttpResponse("Too many requests: try again in a minute.", status=429, headers={"Retry-After": "60"},
                        content_type="text/plain")  # fmt: skip


@require_GET
def link_qr_svg(request, slug: str) -> HttpResponse:
    """The link's QR code as SVG: sharp at any print size."""
    if _rate_limited(request):
        return _qr_too_many()
    url = survey_link_urls(_qr_link(slug))["url"]
    return _qr_answer(qr_svg(url, title=f"QR code of {url}"), "image/svg+xml", slug, "svg", request)


@require_GET
def link_qr_png(request, slug: str) -> HttpResponse:
    """The link's QR code as PNG, for tools that take no SVG."""
    if _rate_limited(request):
        return _qr_too_many()
    return _qr_answer(qr_png(survey_link_urls(_qr_link(slug))["url"]), "image/png", slug, "png", request)
