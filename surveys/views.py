"""The respondent's page `/s/<token>/`: GET and HEAD show and never record; POST records.

Steps, each saved as it is left: score → reason (`?step=comment`) → additional questions
(`?step=question&q=<id>`) → thank you (`?step=thanks`). An answer started on a survey's public link
(`surveys.link_views`) continues here; its reason step offers the "may we contact you?" email field, and a
kiosk's answer ends back at the kiosk's start instead of a thank-you of its own.
"""

import functools
import hashlib
import secrets
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.core import signing
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.http import HttpResponse, HttpResponseRedirect
from django.middleware.csrf import CsrfViewMiddleware, get_token
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.decorators import decorator_from_middleware
from django.utils.html import escape
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from surveys.branding import CACHE_KEY as BRANDING_CACHE_KEY
from surveys.branding import Brand, branding_for
from surveys.models import PUBLIC_CHANNELS, AnswerChannel, Invitation, Question, Response
from surveys.rate_limits import address_over_limit, address_over_limit_reading
from surveys.scales import pick_locale, score_buttons
from surveys.scanners import automatic_reason
from surveys.selectors import invitation_get_by_token, invitation_response, questions_for_response, survey_link_of
from surveys.services.links import kiosk_answer_end, link_contact_set
from surveys.services.responses import (
    PageOutcome,
    answer_save,
    response_comment,
    response_confirm,
    response_owned_by,
    response_submit_from_page,
)
from surveys.wording import WORDING, typeset

ANSWER_COOKIE = "cl_answer"  # the answering browser's proof, scoped to its link's path
CHANGE_SALT = "surveys.change-answer"
CHANGE_STEP_SECONDS = 3600

PRIVATE_HEADERS = {
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
    "X-Robots-Tag": "noindex, nofollow",
}


class _RespondentCsrf(CsrfViewMiddleware):
    """Django's CSRF check, token and all, accepting the `Origin: null` our own policy causes.

    The page is served with `Referrer-Policy: no-referrer` so the token in its URL never leaks;
    browsers then send `Origin: null` with its form posts, which the stock check refuses.
    The CSRF token of the form is still required.
    """

    def _origin_verified(self, request) -> bool:
        return request.META["HTTP_ORIGIN"] == "null" or super()._origin_verified(request)


def _page(request, template: str, context: dict, status: int = 200) -> HttpResponse:
    return _private(render(request, template, context, status=status))


def _private(response: HttpResponse) -> HttpResponse:
    for name, value in PRIVATE_HEADERS.items():
        response[name] = value
    return response


@dataclass(frozen=True, slots=True)
class _ScorePage:
    """Everything the score step (`respond.html`) shows but the request's secrets: the key of its HTML."""

    locale: str
    question: str
    buttons: tuple[tuple[int, str, str], ...]  # score, what it shows, its name
    low_label: str
    high_label: str
    symbols: bool
    brand: Brand
    selected: int | None
    auto_confirm: bool
    notice: str
    error: str
    changing: bool
    kiosk: bool
    kiosk_restart: str


# Where the request's secrets go in a score page's cached HTML: drawn per process, so no survey's wording can
# hold them.
_CSRF_SLOT = f"csrf-{secrets.token_hex(16)}"
_CHANGE_SLOT = f"change-{secrets.token_hex(16)}"


@functools.lru_cache(maxsize=1024)
def _score_page_html(page: _ScorePage) -> str:
    """The score step's HTML, built from `page` alone, once per process for each way it looks: a survey's pages
    differ only by the score a link picks, a notice or an error (a few dozen variants), while rendering the
    template was a quarter of the page's CPU."""
    return render_to_string(
        "surveys/respond.html",
        {
            "words": _words(page.locale),
            "locale": page.locale,
            "question": page.question,
            "buttons": [{"score": score, "shows": shows, "name": name} for score, shows, name in page.buttons],
            "low_label": page.low_label,
            "high_label": page.high_label,
            "symbols": page.symbols,
            "brand": page.brand,
            "selected": page.selected,
            "auto_confirm": page.auto_confirm,
            "notice": page.notice,
            "error": page.error,
            "change_token": _CHANGE_SLOT if page.changing else "",
            "kiosk": page.kiosk,
            "kiosk_restart": page.kiosk_restart,
            "csrf_token": _CSRF_SLOT,
        },
    )


def score_page(request, context: dict, status: int = 200) -> HttpResponse:
    """The score step of `context` (`survey_context`'s, with `selected` and what the step adds), with this
    request's CSRF token and change token put into its cached HTML."""
    page = _ScorePage(
        locale=context["locale"],
        question=context["question"],
        buttons=tuple((button["score"], button["shows"], button["name"]) for button in context["buttons"]),
        low_label=context["low_label"],
        high_label=context["high_label"],
        symbols=context["symbols"],
        brand=context["brand"],
        selected=context["selected"],
        auto_confirm=context.get("auto_confirm", False),
        notice=context.get("notice", ""),
        error=context.get("error", ""),
        changing=bool(context.get("change_token")),
        kiosk=context.get("kiosk", False),
        kiosk_restart=context.get("kiosk_restart", ""),
    )
    html = _score_page_html(page).replace(_CSRF_SLOT, get_token(request), 1)
    if page.changing:
        html = html.replace(_CHANGE_SLOT, escape(context["change_token"]), 1)
    return _private(HttpResponse(html, status=status))


def _rate_limited(request) -> bool:
    """Per client IP, per minute, across every respondent page: guessing tokens stays slow."""
    return address_over_limit(
        scope="respond",
        address=request.META.get("REMOTE_ADDR", ""),
        per_minute=settings.RESPONDENT_RATE_LIMIT_PER_MINUTE,
    )


def _rate_limited_reading_brands(request) -> tuple[bool, dict | None]:
    """`_rate_limited`, with the cached brands a page about to be shown needs (`branding_for`'s `cached`) read
    in the same cache round trip."""
    return address_over_limit_reading(
        scope="respond",
        address=request.META.get("REMOTE_ADDR", ""),
        per_minute=settings.RESPONDENT_RATE_LIMIT_PER_MINUTE,
        key=BRANDING_CACHE_KEY,
    )


def _parse_score(raw: str | None) -> int | None:
    try:
        return int(raw) if raw is not None else None
    except ValueError:
        return None


def _words(locale: str) -> dict[str, str]:
    return {key: typeset(value, locale) for key, value in WORDING[locale].items()}


def _visitor_locale(request) -> str:
    """Without a valid link there is no contact to ask: the browser's first language decides."""
    first = request.META.get("HTTP_ACCEPT_LANGUAGE", "").split(",")[0].split(";")[0].strip()
    return pick_locale(first)


def _not_found(request, locale: str = "") -> HttpResponse:
    locale = locale or _visitor_locale(request)
    return _page(request, "surveys/respond_not_found.html", {"words": _words(locale), "locale": locale}, 404)


def _too_many(request, locale: str, body: str = "too_many_body", retry_after: int = 60) -> HttpResponse:
    words = _words(locale)
    page = _page(request, "surveys/respond_too_many.html", {"words": words, "locale": locale, "body": words[body]}, 429)
    page["Retry-After"] = str(retry_after)
    return page


def kiosk_start_url(slug: str, locale: str) -> str:
    return f"/l/{slug}/?kiosk=1&lang={locale}"


def survey_context(survey, locale: str, product_name: str = "", brands: dict | None = None) -> dict:
    """What every step of the page shows: the wording, the brand (from `brands`, the cached brands when the
    caller read them), the question and its scale."""
    scale = survey.scale
    return {
        "words": _words(locale),
        "locale": locale,
        "brand": branding_for(survey.pk, brands),
        "survey": survey,
        "question": typeset(survey.question(locale, product_name), locale),
        "buttons": score_buttons(scale, locale, survey.end_labels(locale)),
        "low_label": survey.end_labels(locale)[0],
        "high_label": survey.end_labels(locale)[1],
        "symbols": bool(scale.symbols),
    }


def _public_context(invitation: Invitation) -> dict:
    """An answer given on a public link: whether to offer the contact field, and a kiosk's start to return to."""
    if invitation.channel not in PUBLIC_CHANNELS:
        return {}
    link = survey_link_of(survey_id=invitation.survey_id)
    context = {"ask_contact": bool(link and link.ask_contact and not invitation.contact.email)}
    if invitation.channel == AnswerChannel.KIOSK and link is not None:
        context["kiosk_restart"] = kiosk_start_url(link.slug, pick_locale(invitation.locale))
    return context


def _invitation_context(invitation: Invitation, brands: dict | None = None) -> dict:
    locale = pick_locale(invitation.locale)
    product_name = invitation.properties.get("question_product_name", "")
    return {
        **survey_context(invitation.survey, locale, product_name, brands),
        **_public_context(invitation),
    }


@csrf_exempt  # replaced by the stricter-than-nothing check just below, not dropped
@decorator_from_middleware(_RespondentCsrf)
@require_http_methods(["GET", "HEAD", "POST"])
def survey_respond(request, token: str) -> HttpResponse:
    step = (request.POST if request.method == "POST" else request.GET).get("step", "")
    # A score's page, wording and brand are built only if it has to be shown again (an error); any other
    # request shows a page, whose brand comes with the rate limit's count.
    scoring = request.method == "POST" and step not in ("comment", "question")
    over, brands = (_rate_limited(request), None) if scoring else _rate_limited_reading_brands(request)
    if over:
        return _too_many(request, _visitor_locale(request))
    invitation = invitation_get_by_token(token=token)
    if invitation is None:
        return _not_found(request)
    if scoring:
        return _save_score(request, invitation)
    locale = pick_locale(invitation.locale)
    scale = invitation.survey.scale
    context = _invitation_context(invitation, brands)
    current = invitation_response(invitation)
    if request.method == "POST":
        return _save_step(request, current, step, context)
    if current and step == "change":
        return _change_page(request, current, context)
    if current and step == "thanks":
        return _page(request, "surveys/respond_thanks.html", {**context, **_thanks(invitation), "response": current})
    if current and step == "comment":
        prompt = invitation.survey.reason_prompt(locale)
        return _page(request, "surveys/respond_comment.html", {**context, "response": current, "prompt": prompt})
    if current and step == "question":
        return _question_page(request, current, context)
    linked_score = _parse_score(request.GET.get("score"))
    valid_link = linked_score in scale.scores
    selected = linked_score if valid_link else (current.score if current else None)
    # Only a score arriving from the email link confirms itself; a revisit waits for a tap.
    auto_confirm = valid_link and not (current and current.score == linked_score)
    return score_page(request, {**context, "selected": selected, "auto_confirm": auto_confirm})


def _safe_link(url: object) -> str:
    """Only http(s) addresses become a link: a stored `javascript:` URL must never run on our page."""
    return url if isinstance(url, str) and urlsplit(url).scheme.lower() in ("http", "https") else ""


def _thanks(invitation: Invitation) -> dict:
    """The thank-you message and link: the invitation's own (given with the event or Delighted's
    `properties`) win over the survey's."""
    properties, survey = invitation.properties, invitation.survey
    return {
        "thank_you_message": properties.get("thank_you_message") or survey.thank_you(invitation.locale),
        "thank_you_link_url": _safe_link(properties.get("thank_you_link_url") or survey.thank_you_link_url),
    }


def _score_error(request, context: dict, message: str) -> HttpResponse:
    return score_page(request, {**context, "selected": None, "error": message}, 400)


def _client(request) -> str:
    """Who is posting, as far as a page can tell: address and user agent (hashed, never stored)."""
    seen = f"{request.META.get('REMOTE_ADDR', '')}|{request.META.get('HTTP_USER_AGENT', '')}"
    return hashlib.sha256(seen.encode()).hexdigest()[:32]


def _change_allowed(request, invitation: Invitation) -> bool:
    """A POST of the "change my answer" step's form: its signed nonce, good once and for an hour."""
    raw = request.POST.get("change", "")
    if not raw:
        return False
    try:
        nonce = signing.loads(raw, salt=f"{CHANGE_SALT}:{invitation.pk}", max_age=CHANGE_STEP_SECONDS)
    except signing.BadSignature:
        return False
    return cache.add(f"surveys:change-used:{nonce}", 1, timeout=CHANGE_STEP_SECONDS)


def _with_owner_cookie(request, page: HttpResponse, outcome: PageOutcome, invitation: Invitation) -> HttpResponse:
    if outcome.browser_token:
        page.set_cookie(
            ANSWER_COOKIE,
            outcome.browser_token,
            max_age=max(int((invitation.expires_at - timezone.now()).total_seconds()), 0),
            path=request.path,
            secure=request.is_secure(),
            httponly=True,
            samesite="Lax",
        )
    return page


def _save_score(request, invitation: Invitation) -> HttpResponse:
    scale = invitation.survey.scale
    score = _parse_score(request.POST.get("score"))
    if score is None or score not in scale.scores:
        context = _invitation_context(invitation)
        return _score_error(request, context, context["words"]["score_error"].format(low=scale.low, high=scale.high))
    try:
        outcome = response_submit_from_page(
            invitation=invitation,
            score=score,
            browser_token=request.COOKIES.get(ANSWER_COOKIE, ""),
            user_agent=request.META.get("HTTP_USER_AGENT", ""),
            client=_client(request),
            auto_confirm=request.POST.get("auto") == "1",
            change=_change_allowed(request, invitation),
        )
    except ValidationError:
        context = _invitation_context(invitation)
        return _score_error(request, context, context["words"]["closed"])
    if outcome.change_step:
        return HttpResponseRedirect(f"{request.path}?step=change")
    if not outcome.recorded:
        return HttpResponseRedirect(request.path)
    page = step_after_score(request.path, outcome.response, invitation)
    return _with_owner_cookie(request, page, outcome, invitation)


def step_after_score(path: str, response: Response, invitation: Invitation) -> HttpResponse:
    """The reason step, or (a "did we fix it?" yes asks no reason) the first additional question or the end."""
    if not invitation.survey.asks_reason(response.score):
        questions = questions_for_response(response=response)
        return _step_redirect(invitation, _next_step(path, questions, None))
    return HttpResponseRedirect(f"{path}?step=comment")


def _step_redirect(invitation: Invitation, url: str) -> HttpResponse:
    """Go to the next step; a kiosk's answer that reached its thank-you ends there, and the kiosk thanks and
    starts again for the next person."""
    if url.endswith("?step=thanks") and invitation.channel == AnswerChannel.KIOSK:
        link = survey_link_of(survey_id=invitation.survey_id)
        if link is not None:
            kiosk_answer_end(invitation=invitation)
            return HttpResponseRedirect(kiosk_start_url(link.slug, pick_locale(invitation.locale)) + "&step=thanks")
    return HttpResponseRedirect(url)


def _change_page(request, current: Response, context: dict) -> HttpResponse:
    """The explicit "change my answer" step: the answer stands until a person picks a score here and taps."""
    nonce = secrets.token_urlsafe(16)
    words = context["words"]
    return score_page(
        request,
        {
            **context,
            "selected": None,
            "auto_confirm": False,
            "change_token": signing.dumps(nonce, salt=f"{CHANGE_SALT}:{current.invitation_id}"),
            "notice": words["already_answered"].format(score=current.score) + " " + words["change_prompt"],
        },
    )


def _owner(request, response: Response) -> bool:
    return response_owned_by(response=response, browser_token=request.COOKIES.get(ANSWER_COOKIE, ""))


def _next_step(path: str, questions: list[Question], after: Question | None) -> str:
    if after is not None:
        questions = questions[questions.index(after) + 1 :]
    return f"{path}?step=question&q={questions[0].pk}" if questions else f"{path}?step=thanks"


def _asked_question(questions: list[Question], raw_id: str | None) -> Question | None:
    question_id = _parse_score(raw_id)
    return next((question for question in questions if question.pk == question_id), None)


def _save_step(request, current: Response | None, step: str, context: dict) -> HttpResponse:
    if current is None:
        return HttpResponseRedirect(request.path)
    if not _owner(request, current):
        # Only the answering browser adds to its answer; another client goes through the change step.
        return HttpResponseRedirect(f"{request.path}?step=change")
    if current.held_reason and not automatic_reason(
        user_agent=request.META.get("HTTP_USER_AGENT", ""),
        seconds_since_sent=None,
        auto_confirm=False,
        in_burst=False,
        delivery_seconds=0,
    ):
        # Its browser went on to the next step: a person, not a scanner, gave the held answer.
        current = response_confirm(response=current)
    questions = questions_for_response(response=current)
    invitation = current.invitation
    if step == "comment":
        return _save_comment(request, current, questions, context)
    question = _asked_question(questions, request.POST.get("q"))
    if question is None:
        return _step_redirect(invitation, _next_step(request.path, questions, None))
    try:
        answer_save(response=current, question=question, value=request.POST.getlist("value"))
    except ValidationError as exc:
        return _question_page(request, current, context, question=question, error=" ".join(exc.messages))
    # This answer may open or close the questions that follow it.
    return _step_redirect(invitation, _next_step(request.path, questions_for_response(response=current), question))


def _save_comment(request, current: Response, questions: list[Question], context: dict) -> HttpResponse:
    """The reason, and on a public link the email of a respondent who may be contacted (checked first: a bad
    address saves neither, and the page says which field to fix)."""
    comment = request.POST.get("comment", "")
    email = request.POST.get("contact_email", "") if context.get("ask_contact") else ""
    words = context["words"]
    errors = {}
    if "\x00" in comment:
        errors["error"] = words["text_error"]
    elif email.strip():
        try:
            link_contact_set(response=current, email=email)
        except ValidationError:
            errors["contact_error"] = words["contact_error"]
    if errors:
        prompt = current.survey.reason_prompt(context["locale"])
        page_context = {**context, "response": current, "prompt": prompt, "comment": comment,
                        "contact_email": email, **errors}  # fmt: skip
        return _page(request, "surveys/respond_comment.html", page_context, 400)
    response_comment(response=current, comment=comment)
    return _step_redirect(current.invitation, _next_step(request.path, questions, None))


def _question_page(
    request, response: Response, context: dict, question: Question | None = None, error: str = ""
) -> HttpResponse:
    questions = questions_for_response(response=response)
    question = _asked_question(questions, str(question.pk) if question else request.GET.get("q"))
    if question is None:
        return HttpResponseRedirect(_next_step(request.path, questions, None))
    answer = response.answers.filter(question=question).first()
    given = answer.value if answer else ""
    locale = context["locale"]
    question_context = {
        "item": question,
        "text": typeset(question.text_in(locale), locale),
        "choices": [
            {"value": value, "label": label, "checked": value in (given if isinstance(given, list) else [given])}
            for value, label in question.choice_labels(locale)
        ],
        "scale": [str(n) for n in range(1, question.scale_max + 1)],
        "given": given,
        "progress": context["words"]["question_of"].format(n=questions.index(question) + 1, total=len(questions)),
        "skip_url": _next_step(request.path, questions, question),
        "error": error,
    }
    return _page(request, "surveys/respond_question.html", {**context, **question_context}, 400 if error else 200)
