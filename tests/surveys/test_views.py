import hashlib
import os
import re
import uuid

import pytest
import time_machine
from django.core.cache import caches
from django.db import connection
from django.shortcuts import render
from django.test import Client
from django.utils import timezone
from django.utils.html import escape

from surveys import views
from surveys.branding import branding_forget
from surveys.models import Answer, Branding, Invitation, Question, Response
from surveys.signals import response_submitted
from surveys.tokens import invitation_token
from tests.factories import ContactFactory, InvitationFactory, ResponseFactory, SurveyFactory, SurveyLinkFactory

pytestmark = pytest.mark.django_db

NOW = "2026-03-02 10:00:00+00:00"


@pytest.fixture
def invitation():
    return InvitationFactory(survey=SurveyFactory(kind="nps", product_name="Acme"))


def url(invitation: Invitation) -> str:
    return f"/s/{invitation_token(invitation.public_id)}/"


@pytest.fixture
def announced():
    calls = []

    def listener(sender, response_id, created, **kwargs):
        calls.append((response_id, created))

    response_submitted.connect(listener)
    yield calls
    response_submitted.disconnect(listener)


def test_survey_respond_get_with_score_records_nothing(client, invitation):
    page = client.get(url(invitation) + "?score=9")

    assert page.status_code == 200
    assert Response.objects.count() == 0
    assert 'value="9" aria-label="9" checked' in page.content.decode()
    assert "data-auto-confirm" in page.content.decode()


def test_survey_respond_head_records_nothing(client, invitation):
    page = client.head(url(invitation) + "?score=3")

    assert page.status_code == 200
    assert Response.objects.count() == 0


def test_survey_respond_walking_every_score_link_records_nothing(client, invitation):
    for score in range(0, 11):
        client.get(url(invitation) + f"?score={score}")
        client.head(url(invitation) + f"?score={score}")

    assert Response.objects.count() == 0


@time_machine.travel(NOW, tick=False)
def test_survey_respond_post_records_one_response_and_asks_reason(
    client, invitation, announced, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        page = client.post(url(invitation), {"score": "9"})

    assert page.status_code == 302
    assert page["Location"] == url(invitation) + "?step=comment"
    response = Response.objects.get()
    assert (response.invitation, response.score, response.confirmed_at) == (invitation, 9, timezone.now())
    assert announced == [(response.pk, True)]


def test_survey_respond_second_post_changes_the_same_response(
    client, invitation, announced, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        client.post(url(invitation), {"score": "9"})
    with time_machine.travel(timezone.now() + timezone.timedelta(minutes=2)):
        with django_capture_on_commit_callbacks(execute=True):
            client.post(url(invitation), {"score": "4"})

    response = Response.objects.get()
    assert response.score == 4
    assert announced == [(response.pk, True), (response.pk, False)]


def test_survey_respond_same_score_twice_announces_once(
    client, invitation, announced, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        client.post(url(invitation), {"score": "9"})
        client.post(url(invitation), {"score": "9"})

    assert Response.objects.get().score == 9
    assert len(announced) == 1


def test_survey_respond_scanner_burst_of_scores_records_nothing(client, invitation):
    with time_machine.travel(NOW) as traveller:
        for score in range(0, 11):
            client.post(url(invitation), {"score": str(score)})
            traveller.shift(0.3)

    assert Response.objects.count() == 0


def test_survey_respond_scanner_burst_restores_earlier_answer(client, invitation):
    ResponseFactory(invitation=invitation, score=8)
    with time_machine.travel(NOW) as traveller:
        for score in (0, 1, 2, 3):
            client.post(url(invitation), {"score": str(score)})
            traveller.shift(0.5)

    assert Response.objects.get().score == 8


def test_survey_respond_quick_single_correction_is_kept(client, invitation):
    with time_machine.travel(NOW) as traveller:
        client.post(url(invitation), {"score": "3"})
        traveller.shift(2)
        client.post(url(invitation), {"score": "7"})

    assert Response.objects.get().score == 7


def test_survey_respond_link_records_again_after_scanner_quietens(client, invitation):
    with time_machine.travel(NOW) as traveller:
        for score in (0, 1, 2):
            client.post(url(invitation), {"score": str(score)})
        traveller.shift(30)
        client.post(url(invitation), {"score": "9"})

    assert Response.objects.get().score == 9


def test_survey_respond_comment_saves_and_goes_to_thanks(client, invitation):
    client.post(url(invitation), {"score": "3"})

    page = client.post(url(invitation), {"step": "comment", "comment": "  Late delivery  "})

    assert page["Location"] == url(invitation) + "?step=thanks"
    assert Response.objects.get().comment == "Late delivery"


def test_survey_respond_comment_without_score_stores_nothing(client, invitation):
    page = client.post(url(invitation), {"step": "comment", "comment": "hi"})

    assert page.status_code == 302
    assert Response.objects.count() == 0


@pytest.mark.parametrize("score", ["11", "-1", "abc", ""])
def test_survey_respond_out_of_scale_is_400_and_stores_nothing(client, invitation, score):
    page = client.post(url(invitation), {"score": score})

    assert page.status_code == 400
    assert "Choose a score from 0 to 10." in page.content.decode()
    assert Response.objects.count() == 0


@pytest.mark.parametrize(
    "kind,outside", [("csat", "0"), ("csat", "6"), ("ces", "8"), ("five_star", "0"), ("thumbs", "2")]
)
def test_survey_respond_out_of_scale_per_kind(client, kind, outside):
    invitation = InvitationFactory(survey=SurveyFactory(kind=kind))

    page = client.post(url(invitation), {"score": outside})

    assert page.status_code == 400
    assert Response.objects.count() == 0


def test_survey_respond_thumbs_shows_thumbs_named_yes_and_no(client):
    invitation = InvitationFactory(survey=SurveyFactory(kind="thumbs"))

    html = client.get(url(invitation)).content.decode()

    assert 'aria-label="No"><span aria-hidden="true">\N{THUMBS DOWN SIGN} No</span>' in html
    assert 'aria-label="Yes"><span aria-hidden="true">\N{THUMBS UP SIGN} Yes</span>' in html
    assert 'class="ends"' not in html


@pytest.mark.parametrize(
    "status,expires_in_days",
    [(Invitation.Status.CANCELLED, 5), (Invitation.Status.EXPIRED, 5), (Invitation.Status.QUEUED, -1)],
)
def test_survey_respond_closed_invitation_is_the_friendly_404(client, status, expires_in_days):
    invitation = InvitationFactory(status=status, expires_at=timezone.now() + timezone.timedelta(days=expires_in_days))

    for page in (client.get(url(invitation) + "?score=9"), client.post(url(invitation), {"score": "9"})):
        assert page.status_code == 404
        assert "This survey link is not available" in page.content.decode()
    assert Response.objects.count() == 0


@pytest.mark.parametrize("token", ["0" * 64, "not-a-token", "x" * 200, "%00"])
def test_survey_respond_unknown_or_malformed_token_is_the_friendly_404(client, token):
    page = client.get(f"/s/{token}/")

    assert page.status_code == 404
    assert "This survey link is not available" in page.content.decode()


def test_survey_respond_changing_after_expiry_is_404(client, invitation):
    client.post(url(invitation), {"score": "9"})
    with time_machine.travel(invitation.expires_at + timezone.timedelta(seconds=1)):
        page = client.post(url(invitation), {"score": "2"})

    assert page.status_code == 404
    assert Response.objects.get().score == 9


@pytest.mark.parametrize("step", ["", "?step=comment", "?step=thanks"])
def test_survey_respond_private_headers(client, invitation, step):
    ResponseFactory(invitation=invitation, score=9)

    page = client.get(url(invitation) + step)

    assert page.status_code == 200
    assert page["Referrer-Policy"] == "no-referrer"
    assert page["Cache-Control"] == "no-store"
    assert page["X-Robots-Tag"] == "noindex, nofollow"


def test_survey_respond_not_found_has_private_headers(client):
    page = client.get("/s/unknown/")

    assert (page["Referrer-Policy"], page["Cache-Control"], page["X-Robots-Tag"]) == (
        "no-referrer",
        "no-store",
        "noindex, nofollow",
    )


def test_survey_respond_post_without_csrf_token_is_refused(invitation):
    strict = Client(enforce_csrf_checks=True)

    page = strict.post(url(invitation), {"score": "9"})

    assert page.status_code == 403
    assert Response.objects.count() == 0


def test_survey_respond_post_with_csrf_token_from_the_page_records(invitation):
    strict = Client(enforce_csrf_checks=True)
    strict.get(url(invitation))

    page = strict.post(url(invitation), {"score": "9", "csrfmiddlewaretoken": strict.cookies["csrftoken"].value})

    assert page.status_code == 302
    assert Response.objects.get().score == 9


def test_survey_respond_rate_limited_per_client_ip(client, invitation, settings):
    settings.RESPONDENT_RATE_LIMIT_PER_MINUTE = 3
    for _ in range(3):
        assert client.get(url(invitation), REMOTE_ADDR="10.0.0.1").status_code == 200

    limited = client.post(url(invitation), {"score": "9"}, REMOTE_ADDR="10.0.0.1")

    assert limited.status_code == 429
    assert limited["Retry-After"] == "60"
    assert Response.objects.count() == 0
    assert client.get(url(invitation), REMOTE_ADDR="10.0.0.2").status_code == 200


def test_survey_respond_rate_limit_resets_after_a_minute(client, invitation, settings):
    settings.RESPONDENT_RATE_LIMIT_PER_MINUTE = 1
    with time_machine.travel(NOW) as traveller:
        client.get(url(invitation))
        assert client.get(url(invitation)).status_code == 429
        traveller.shift(61)
        assert client.get(url(invitation)).status_code == 200


BROWSER = "Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0"


@pytest.mark.parametrize("answered", [False, True])
def test_survey_respond_page_reads_the_database_once(client, invitation, answered, django_assert_num_queries):
    if answered:
        ResponseFactory(invitation=invitation, score=7)
    client.get(url(invitation))  # the branding, cached for every page after the first

    with django_assert_num_queries(1):  # the invitation, its survey and its response, in one statement
        page = client.get(url(invitation))

    assert page.status_code == 200
    assert ('value="7" aria-label="7" checked' in page.content.decode()) is answered


@pytest.mark.skipif(
    not os.environ.get("CELERY_BROKER_URL", "").startswith("redis://"), reason="needs a Redis (CELERY_BROKER_URL)"
)
def test_survey_respond_page_counts_its_rate_and_reads_the_brand_in_one_redis_round_trip(
    client, invitation, settings, redis_round_trips
):
    settings.CACHES = {
        "default": {
            "BACKEND": "config.cache.RedisCache",
            "LOCATION": os.environ["CELERY_BROKER_URL"],
            "KEY_PREFIX": f"test-page-{uuid.uuid4().hex}",
        }
    }
    settings.RESPONDENT_RATE_LIMIT_PER_MINUTE = 3
    Branding.objects.create(survey=None, brand_color="#7a1f5c")
    redis = caches["default"]._cache.get_client(write=True)
    client.get(url(invitation))  # the brand, cached for every page after the first

    with redis_round_trips(redis) as sent:
        pages = [client.get(url(invitation)) for _ in range(3)]

    assert [page.status_code for page in pages] == [200, 200, 429]
    assert len(sent) == 3  # one round trip per page: the count and the brand together
    assert "#7a1f5c" in pages[1].content.decode()


def test_survey_respond_answer_writes_in_one_transaction_and_announces_once(
    client, invitation, announced, django_assert_num_queries, django_capture_on_commit_callbacks
):
    client.get(url(invitation))

    # read the invitation; then, in one transaction: lock it, read its response, insert the response and its
    # announcement (one statement on PostgreSQL; the savepoint and its release stand for BEGIN and COMMIT inside
    # the test's transaction)
    inserts = 1 if connection.vendor == "postgresql" else 2
    with django_assert_num_queries(5 + inserts), django_capture_on_commit_callbacks() as published:
        page = client.post(url(invitation), {"score": "9"}, HTTP_USER_AGENT=BROWSER)

    assert page.status_code == 302
    assert len(published) == 1  # one task for the broker, after commit
    published[0]()
    assert announced == [(Response.objects.get().pk, True)]


@pytest.mark.parametrize(
    "contact_locale,properties,expected",
    [
        ("fr", {}, "Quelle est la probabilité que vous recommandiez Acme à un ami ou un collègue\N{NO-BREAK SPACE}?"),
        ("en", {}, "How likely are you to recommend Acme to a friend or colleague?"),
        ("de", {}, "How likely are you to recommend Acme to a friend or colleague?"),
        ("fr", {"question_product_name": "la livraison"}, "recommandiez la livraison à un ami"),
    ],
)
def test_survey_respond_question_in_the_invitation_locale(client, contact_locale, properties, expected):
    invitation = InvitationFactory(
        contact=ContactFactory(locale=contact_locale),
        locale=contact_locale,
        properties=properties,
        survey=SurveyFactory(kind="nps", product_name="Acme"),
    )

    html = client.get(url(invitation)).content.decode()

    assert expected in html
    assert f'<html lang="{"fr" if contact_locale == "fr" else "en"}">' in html


def test_survey_respond_thanks_shows_message_and_link(client):
    survey = SurveyFactory(thank_you_text={"en": "Merci Ana !"}, thank_you_link_url="https://example.com/shop")
    invitation = InvitationFactory(survey=survey)
    ResponseFactory(invitation=invitation, score=9)

    html = client.get(url(invitation) + "?step=thanks").content.decode()

    assert "<h1>Merci Ana !</h1>" in html
    assert 'href="https://example.com/shop"' in html


def test_survey_respond_thanks_prefers_the_invitation_message_and_link(client):
    survey = SurveyFactory(
        thank_you_text={"en": "Thanks from the survey"}, thank_you_link_url="https://example.com/survey"
    )
    invitation = InvitationFactory(
        survey=survey,
        properties={"thank_you_message": "Thanks for your order", "thank_you_link_url": "https://shop.example/next"},
    )
    ResponseFactory(invitation=invitation, score=9)

    html = client.get(url(invitation) + "?step=thanks").content.decode()

    assert "<h1>Thanks for your order</h1>" in html
    assert 'href="https://shop.example/next"' in html
    assert "Thanks from the survey" not in html
    assert "https://example.com/survey" not in html


def test_survey_respond_thanks_falls_back_to_the_survey_per_value(client):
    survey = SurveyFactory(
        thank_you_text={"en": "Thanks from the survey"}, thank_you_link_url="https://example.com/survey"
    )
    invitation = InvitationFactory(survey=survey, properties={"thank_you_link_url": "https://shop.example/next"})
    ResponseFactory(invitation=invitation, score=9)

    html = client.get(url(invitation) + "?step=thanks").content.decode()

    assert "<h1>Thanks from the survey</h1>" in html
    assert 'href="https://shop.example/next"' in html


@pytest.mark.parametrize("link", ["javascript:alert(1)", "JavaScript:alert(1)", "data:text/html,hi", "//evil.example"])
def test_survey_respond_thanks_never_links_outside_http(client, link):
    invitation = InvitationFactory(properties={"thank_you_link_url": link})
    ResponseFactory(invitation=invitation, score=9)

    html = client.get(url(invitation) + "?step=thanks").content.decode()

    assert 'class="button"' not in html
    assert "alert(1)" not in html
    assert "evil.example" not in html


def _questions(survey):
    return [
        Question.objects.create(
            survey=survey, position=1, kind="free_text", text={"en": "What went wrong?"}, show_if_score_max=6
        ),
        Question.objects.create(
            survey=survey,
            position=2,
            kind="select_many",
            text={"en": "Which parts?", "fr": "Quelles parties ?"},
            choices=[{"value": "price", "en": "Price", "fr": "Prix"}, {"value": "speed", "en": "Speed"}],
        ),
        Question.objects.create(survey=survey, position=3, kind="scale", text={"en": "Rate support"}, scale_max=5),
    ]


def test_survey_respond_detractor_is_asked_every_question_in_order(client, invitation):
    wrong, parts, support = _questions(invitation.survey)
    client.post(url(invitation), {"score": "3"})

    after_comment = client.post(url(invitation), {"step": "comment", "comment": "slow"})
    after_wrong = client.post(url(invitation), {"step": "question", "q": wrong.pk, "value": "Broken box"})
    after_parts = client.post(url(invitation), {"step": "question", "q": parts.pk, "value": ["price", "speed"]})
    after_support = client.post(url(invitation), {"step": "question", "q": support.pk, "value": "2"})

    assert after_comment["Location"] == url(invitation) + f"?step=question&q={wrong.pk}"
    assert after_wrong["Location"] == url(invitation) + f"?step=question&q={parts.pk}"
    assert after_parts["Location"] == url(invitation) + f"?step=question&q={support.pk}"
    assert after_support["Location"] == url(invitation) + "?step=thanks"
    assert {a.question_id: a.value for a in Answer.objects.all()} == {
        wrong.pk: "Broken box",
        parts.pk: ["price", "speed"],
        support.pk: "2",
    }


def test_survey_respond_promoter_skips_questions_for_detractors(client, invitation):
    wrong, parts, _ = _questions(invitation.survey)
    client.post(url(invitation), {"score": "10"})

    after_comment = client.post(url(invitation), {"step": "comment", "comment": ""})
    refused = client.post(url(invitation), {"step": "question", "q": wrong.pk, "value": "sneaky"})

    assert after_comment["Location"] == url(invitation) + f"?step=question&q={parts.pk}"
    assert refused["Location"] == url(invitation) + f"?step=question&q={parts.pk}"
    assert Answer.objects.count() == 0


def test_survey_respond_question_page_in_french_with_saved_choices(client):
    invitation = InvitationFactory(locale="fr", contact=ContactFactory(locale="fr"))
    _, parts, _ = _questions(invitation.survey)
    client.post(url(invitation), {"score": "9"})
    client.post(url(invitation), {"step": "question", "q": parts.pk, "value": ["price"]})

    html = client.get(url(invitation) + f"?step=question&q={parts.pk}").content.decode()

    assert "<legend><h1>Quelles parties\N{NO-BREAK SPACE}?</h1></legend>" in html
    assert 'value="price" checked> Prix' in html
    assert 'value="speed"> Speed' in html
    assert "Question 1 sur 2" in html


@pytest.mark.parametrize("value", ["cheap", ["price", "nope"]])
def test_survey_respond_invalid_choice_is_400_and_stores_nothing(client, invitation, value):
    _, parts, _ = _questions(invitation.survey)
    client.post(url(invitation), {"score": "9"})

    page = client.post(url(invitation), {"step": "question", "q": parts.pk, "value": value})

    assert page.status_code == 400
    assert "Choose among the options shown." in page.content.decode()
    assert Answer.objects.count() == 0


def test_survey_respond_out_of_range_scale_answer_is_400(client, invitation):
    _, _, support = _questions(invitation.survey)
    client.post(url(invitation), {"score": "9"})

    page = client.post(url(invitation), {"step": "question", "q": support.pk, "value": "6"})

    assert page.status_code == 400
    assert "Choose a number from 1 to 5." in page.content.decode()
    assert Answer.objects.count() == 0


@pytest.mark.parametrize("kind", ["nps", "csat", "ces", "five_star", "thumbs"])
@pytest.mark.parametrize("locale", ["en", "fr"])
def test_survey_respond_every_step_weighs_under_20_kb(client, kind, locale):
    """The page is self-contained (inline CSS and JS, no third-party resource): the HTML is everything it loads."""
    invitation = InvitationFactory(locale=locale, survey=SurveyFactory(kind=kind))
    _questions(invitation.survey)
    ResponseFactory(invitation=invitation, score=invitation.survey.scale.low)
    question = invitation.survey.questions.get(position=2)

    for step in ("", "?step=comment", f"?step=question&q={question.pk}", "?step=thanks"):
        html = client.get(url(invitation) + step).content.decode()
        assert len(html.encode()) < 20 * 1024
        assert "http://" not in html.replace("http://testserver", "")
        assert 'src="' not in html
        assert '<link rel="stylesheet"' not in html


def _form_token(page) -> str:
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.content.decode()).group(1)


def test_survey_respond_page_gives_each_request_its_own_csrf_token_and_the_post_takes_it(invitation):
    strict = Client(enforce_csrf_checks=True)
    first, second = _form_token(strict.get(url(invitation))), _form_token(strict.get(url(invitation)))

    refused = strict.post(url(invitation), {"score": "9", "csrfmiddlewaretoken": first[:-1]}, HTTP_ORIGIN="null")
    accepted = strict.post(url(invitation), {"score": "9", "csrfmiddlewaretoken": second}, HTTP_ORIGIN="null")

    assert first != second  # masked anew for each page, as Django's own tag does
    assert (refused.status_code, accepted.status_code) == (403, 302)
    assert Response.objects.get().score == 9


@pytest.fixture
def score_pages(monkeypatch):
    """Every score step served: the request, the context it was built from, and the page."""
    served, build = [], views.score_page

    def spy(request, context, status=200):
        served.append((request, context, page := build(request, context, status)))
        return page

    monkeypatch.setattr("surveys.views.score_page", spy)
    monkeypatch.setattr("surveys.link_views.score_page", spy)
    return served


# The request's secrets, the only part of a score page that is not the same for everyone shown the same step.
SECRETS = re.compile(r'(name="(?:csrfmiddlewaretoken|change)" value=")[^"]+"')


def test_survey_respond_score_page_from_its_cache_is_the_template_rendered_for_the_request(client, score_pages):
    nps = InvitationFactory(survey=SurveyFactory(kind="nps", product_name="Acme"))
    thumbs = InvitationFactory(survey=SurveyFactory(kind="thumbs"), locale="fr")
    answered = InvitationFactory(survey=SurveyFactory(kind="csat"))
    ResponseFactory(invitation=answered, score=2)
    Branding.objects.create(survey=None, brand_color="#7a1f5c", logo_url="https://cdn.example/logo.png")
    link = SurveyLinkFactory(slug="store-7", survey=nps.survey, kiosk_enabled=True)

    for path in (url(nps), url(nps) + "?score=9", url(nps), url(thumbs) + "?score=0", url(answered) + "?step=change"):
        assert client.get(path).status_code == 200
    assert client.post(url(nps), {"score": "11"}).status_code == 400
    assert client.get(f"/l/{link.slug}/?kiosk=1").status_code == 200

    assert len(score_pages) == 7
    for request, context, page in score_pages:
        drawn = render(request, "surveys/respond.html", context, status=page.status_code)
        assert SECRETS.sub(r"\1", page.content.decode()) == SECRETS.sub(r"\1", drawn.content.decode())
    html = [page.content.decode() for _, _, page in score_pages]
    assert html[0] != html[1] and SECRETS.sub("", html[0]) == SECRETS.sub("", html[2])  # the link's score, cached
    assert "\N{THUMBS DOWN SIGN} Non" in html[3] and 'name="change"' in html[4]
    assert "#7a1f5c" in html[0] and 'class="kiosk"' in html[6]


def test_survey_respond_page_shows_an_edited_question_and_brand_at_once(client, invitation):
    client.get(url(invitation))
    invitation.survey.question_text = {"en": "Would you tell a friend about {product}?"}
    invitation.survey.save()
    Branding.objects.create(survey=invitation.survey, brand_color="#0b6b2b")
    branding_forget()

    html = client.get(url(invitation)).content.decode()

    assert "Would you tell a friend about Acme?" in html
    assert "#0b6b2b" in html


def test_survey_respond_accepts_the_null_origin_its_referrer_policy_causes(invitation):
    strict = Client(enforce_csrf_checks=True)
    strict.get(url(invitation))
    token = strict.cookies["csrftoken"].value

    refused = strict.post(url(invitation), {"score": "9"}, HTTP_ORIGIN="null")
    accepted = strict.post(url(invitation), {"score": "9", "csrfmiddlewaretoken": token}, HTTP_ORIGIN="null")

    assert (refused.status_code, accepted.status_code) == (403, 302)
    assert Response.objects.get().score == 9


def test_survey_respond_refuses_a_foreign_origin(invitation):
    strict = Client(enforce_csrf_checks=True)
    strict.get(url(invitation))
    token = strict.cookies["csrftoken"].value

    page = strict.post(url(invitation), {"score": "9", "csrfmiddlewaretoken": token}, HTTP_ORIGIN="https://evil.test")

    assert page.status_code == 403
    assert Response.objects.count() == 0


def test_survey_respond_link_token_has_256_bits_and_only_its_hash_is_stored(invitation):
    token = invitation_token(invitation.public_id)

    # 64 lower-case hex digits are 256 bits; the token is the invitation's own (another invitation, another token)
    # and stable (a reminder re-renders the same link), and the row keeps only its SHA-256.
    assert re.fullmatch(r"[0-9a-f]{64}", token)
    assert token == invitation_token(invitation.public_id)
    assert token != invitation_token(uuid.uuid4())
    assert invitation.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert not Invitation.objects.filter(token_hash=token).exists()


@pytest.mark.parametrize("count", [1, 20])
def test_survey_respond_question_page_queries_do_not_grow_with_questions(
    client, invitation, count, django_assert_num_queries
):
    questions = [
        Question.objects.create(survey=invitation.survey, position=n, kind="free_text", text={"en": f"Q{n}"})
        for n in range(count)
    ]
    ResponseFactory(invitation=invitation, score=9)

    # invitation with its response, branding (cached for a minute; each test starts with an empty cache),
    # questions (for the page and its progress), answer given
    with django_assert_num_queries(5):
        page = client.get(url(invitation) + f"?step=question&q={questions[-1].pk}")

    assert page.status_code == 200
    assert f"Question {count} of {count}" in page.content.decode()


@pytest.mark.parametrize(
    "accept,title",
    [
        ("fr-FR,fr;q=0.9,en;q=0.8", "Ce lien de questionnaire n'est pas disponible"),
        ("de-DE,de;q=0.9", "This survey link is not available"),
        ("", "This survey link is not available"),
    ],
)
def test_survey_respond_not_found_speaks_the_browser_language(client, accept, title):
    page = client.get("/s/unknown/", HTTP_ACCEPT_LANGUAGE=accept)

    assert page.status_code == 404
    assert f"<h1>{escape(title)}</h1>" in page.content.decode()


def test_survey_respond_fix_check_yes_asks_no_reason(client):
    invitation = InvitationFactory(survey=SurveyFactory(kind="thumbs", is_fix_check=True))
    page = client.post(url(invitation), {"score": "1"})
    assert page["Location"] == url(invitation) + "?step=thanks"
    assert Response.objects.get(invitation=invitation).score == 1


def test_survey_respond_fix_check_no_asks_what_is_still_not_fixed(client):
    invitation = InvitationFactory(survey=SurveyFactory(kind="thumbs", is_fix_check=True), locale="fr")
    page = client.post(url(invitation), {"score": "0"})
    assert page["Location"] == url(invitation) + "?step=comment"
    html = client.get(page["Location"]).content.decode()
    assert escape("Qu'est-ce qui n'est toujours pas réglé ?") in html
    assert "raison principale" not in html


def _conditional_questions(survey):
    """What went wrong (options) → "How slow?" only for slow; then yes/no → "What was missing?" only for no."""
    wrong = Question.objects.create(
        survey=survey, position=0, kind="select_one", text={"en": "What went wrong?"},
        choices=[{"value": "slow", "en": "Too slow"}, {"value": "rude", "en": "Rude"}],
    )  # fmt: skip
    how_slow = Question.objects.create(
        survey=survey, position=1, kind="free_text", text={"en": "How slow?"},
        show_if_answer={"question": 0, "values": ["slow"]},
    )  # fmt: skip
    complete = Question.objects.create(survey=survey, position=2, kind="yes_no", text={"en": "Was it complete?"})
    missing = Question.objects.create(
        survey=survey, position=3, kind="free_text", text={"en": "What was missing?"},
        show_if_answer={"question": 2, "values": ["no"]},
    )  # fmt: skip
    return wrong, how_slow, complete, missing


def test_survey_respond_asks_a_question_only_when_an_earlier_answer_is_one_of_its_condition(client, invitation):
    wrong, how_slow, complete, missing = _conditional_questions(invitation.survey)
    client.post(url(invitation), {"score": "3"})
    client.post(url(invitation), {"step": "comment", "comment": ""})

    after_slow = client.post(url(invitation), {"step": "question", "q": wrong.pk, "value": "slow"})
    after_how_slow = client.post(url(invitation), {"step": "question", "q": how_slow.pk, "value": "Two weeks"})
    yes_no_page = client.get(url(invitation) + f"?step=question&q={complete.pk}").content.decode()
    after_yes = client.post(url(invitation), {"step": "question", "q": complete.pk, "value": "yes"})

    assert after_slow["Location"] == url(invitation) + f"?step=question&q={how_slow.pk}"
    assert after_how_slow["Location"] == url(invitation) + f"?step=question&q={complete.pk}"
    assert 'type="radio" name="value" value="yes"> Yes' in yes_no_page
    assert 'type="radio" name="value" value="no"> No' in yes_no_page
    assert "Question 3 of 3" in yes_no_page  # "What was missing?" is not asked (yet)
    assert after_yes["Location"] == url(invitation) + "?step=thanks"

    # Changing an earlier answer changes what follows it; a question whose condition fails is refused.
    after_rude = client.post(url(invitation), {"step": "question", "q": wrong.pk, "value": "rude"})
    after_no = client.post(url(invitation), {"step": "question", "q": complete.pk, "value": "no"})
    refused = client.post(url(invitation), {"step": "question", "q": how_slow.pk, "value": "sneaky"})
    assert after_rude["Location"] == url(invitation) + f"?step=question&q={complete.pk}"
    assert after_no["Location"] == url(invitation) + f"?step=question&q={missing.pk}"
    assert refused["Location"] == url(invitation) + f"?step=question&q={wrong.pk}"
    assert Answer.objects.get(question=how_slow).value == "Two weeks"


def test_survey_respond_skipped_question_asks_none_of_those_that_depend_on_it(client, invitation):
    wrong, _, complete, _ = _conditional_questions(invitation.survey)
    client.post(url(invitation), {"score": "3"})
    client.post(url(invitation), {"step": "comment", "comment": ""})

    skipped = client.post(url(invitation), {"step": "question", "q": wrong.pk})

    assert skipped["Location"] == url(invitation) + f"?step=question&q={complete.pk}"


def test_survey_respond_score_buttons_are_each_pages_own(client):
    """The buttons are rendered once per process for each way they look: a page never shows another's."""
    own = InvitationFactory(survey=SurveyFactory(kind="nps", low_label={"en": "Never"}, high_label={"en": "Surely"}))
    plain = InvitationFactory(survey=SurveyFactory(kind="csat"))
    ResponseFactory(invitation=own, score=7)

    first = client.get(url(own)).content.decode()
    error = client.post(url(own), {"score": "42"}, HTTP_USER_AGENT=BROWSER).content.decode()
    second = client.get(url(plain)).content.decode()

    assert 'aria-label="0: Never"' in first and 'aria-label="10: Surely"' in first
    assert 'value="7" aria-label="7" checked>' in first and "aria-describedby" not in first
    assert error.count('aria-describedby="score-error"') == 11 and " checked" not in error
    assert 'aria-label="1: Very dissatisfied"' in second and 'aria-label="5: Very satisfied"' in second
    assert "Never" not in second and " checked" not in second
