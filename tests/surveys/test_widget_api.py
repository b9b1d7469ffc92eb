import re
from datetime import timedelta

import pytest
from django.test import override_settings
from django.utils import timezone

from feedback.models import FollowUp
from insights.models import ScoreRollup
from integrations.models import WebhookDelivery, WebhookSubscription
from surveys.models import Answer, Contact, Invitation, Question, Response
from surveys.services.publishable_keys import publishable_key_create, publishable_key_revoke
from surveys.tokens import invitation_token
from surveys.widget_api import SNIPPET
from tests.factories import ContactFactory, InvitationFactory, RoutingRuleFactory, SurveyFactory, TeamFactory

pytestmark = pytest.mark.django_db

ORIGIN = "https://app.shop.example"


@pytest.fixture
def key():
    survey = SurveyFactory(kind="nps", product_name="Acme")
    return publishable_key_create(name="App", survey=survey, allowed_origins=[ORIGIN])


def ask(client, key, origin=ORIGIN, **body):
    body.setdefault("visitor", "visitor-0001")
    return client.post(f"/web/v1/{key.key}/survey", body, content_type="application/json", HTTP_ORIGIN=origin)


def answer(client, key, origin=ORIGIN, **body):
    return client.post(f"/web/v1/{key.key}/answer", body, content_type="application/json", HTTP_ORIGIN=origin)


def test_the_snippet_is_plain_javascript_under_20_kb_loadable_from_any_site(client):
    response = client.get("/web/snippet.js")

    assert response.status_code == 200
    assert response["Content-Type"] == "text/javascript; charset=utf-8"
    assert response["Cross-Origin-Resource-Policy"] == "cross-origin"
    assert "Set-Cookie" not in response
    assert response.content == SNIPPET.read_bytes()
    assert len(response.content) < 20 * 1024


def test_the_snippet_requests_nothing_but_its_own_site():
    source = SNIPPET.read_text()

    # Every address it builds starts from the script's own origin: no other host, no cookie, no framework.
    assert re.search(r"https?:|//[a-z]", source.split("*/", 1)[1]) is None
    assert "document.cookie" not in source
    assert "import " not in source


def test_a_visitor_of_an_allowed_origin_gets_the_card_with_cors_headers(client, key):
    response = ask(client, key, email="Ann@Example.com", name="Ann", properties={"plan": "pro"})

    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == ORIGIN
    assert "Origin" in response["Vary"].split(", ")
    assert "Set-Cookie" not in response
    body = response.json()
    assert body["show"] is True
    assert body["next_after"] == 90 * 86400
    assert body["survey"]["question"] == "How likely are you to recommend Acme to a friend or colleague?"
    assert [item["score"] for item in body["survey"]["scores"]] == list(range(11))
    assert body["survey"]["scores"][0]["name"] == "0: Not at all likely"
    assert body["survey"]["color"] == "#1f4fd1"
    invitation = Invitation.objects.get()
    assert (invitation.channel, invitation.status, invitation.message_id) == ("web", "queued", None)
    assert invitation.contact.email == "ann@example.com"
    assert invitation.properties == {"plan": "pro"}


def test_the_preflight_of_an_allowed_origin_is_answered(client, key):
    response = client.options(f"/web/v1/{key.key}/survey", HTTP_ORIGIN=ORIGIN)

    assert response.status_code == 204
    assert response["Access-Control-Allow-Origin"] == ORIGIN
    assert response["Access-Control-Allow-Headers"] == "Content-Type"
    assert response["Access-Control-Allow-Methods"] == "POST, OPTIONS"


@pytest.mark.parametrize("origin", ["https://evil.example", "null", "", "http://app.shop.example"])
def test_an_origin_the_key_does_not_allow_gets_no_survey_and_no_cors_header(client, key, origin):
    response = ask(client, key, origin=origin)

    assert response.status_code == 403
    assert response.json() == {"message": "This site is not among the key's allowed origins.", "errors": {}}
    assert "Access-Control-Allow-Origin" not in response
    assert Invitation.objects.count() == 0


def test_the_preflight_of_a_refused_origin_is_refused(client, key):
    response = client.options(f"/web/v1/{key.key}/survey", HTTP_ORIGIN="https://evil.example")

    assert response.status_code == 403
    assert "Access-Control-Allow-Origin" not in response


def test_an_unknown_or_revoked_key_is_a_404(client, key):
    publishable_key_revoke(publishable_key=key)

    assert ask(client, key).status_code == 404
    assert client.post("/web/v1/pk_nope/survey", {}, content_type="application/json").status_code == 404
    assert client.post("/web/v1/" + "k" * 300 + "/survey", {}, content_type="application/json").status_code == 404


@override_settings(WEB_WIDGET_RATE_LIMIT_PER_MINUTE=3)
def test_an_address_asking_too_often_is_told_to_wait(client, key):
    statuses = [ask(client, key, visitor=f"visitor-{n:04d}").status_code for n in range(4)]

    assert statuses == [200, 200, 200, 429]
    assert ask(client, key)["Retry-After"] == "60"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"email": "not an email"}, "email"),
        ({"visitor": "x"}, "visitor"),
        ({"visitor": None}, "visitor"),
        ({"createdAt": "yesterday"}, "createdAt"),
        ({"sampleFactor": 2}, "sampleFactor"),
        ({"recurringPeriod": "soon"}, "recurringPeriod"),
        ({"recurringPeriod": True}, "recurringPeriod"),
        ({"initialDelay": -1}, "initialDelay"),
        ({"properties": ["a"]}, "properties"),
        ({"properties": {"a": {"b": 1}}}, "properties"),
        ({"properties": {"locale": 3}}, "properties"),
        ({"properties": {"a": "\x00"}}, "properties"),
    ],
)
def test_bad_options_are_a_400_naming_the_field_and_write_nothing(client, key, body, field):
    response = ask(client, key, **body)

    assert response.status_code == 400
    assert response["Access-Control-Allow-Origin"] == ORIGIN
    assert list(response.json()["errors"]) == [field]
    assert Invitation.objects.count() == 0
    assert Contact.objects.count() == 0


def test_a_second_call_for_the_same_person_does_not_show_again(client, key):
    assert ask(client, key, email="ann@example.com").json()["show"] is True

    assert ask(client, key, email="ann@example.com").json() == {"show": False, "reason": "recently_asked"}
    assert ask(client, key, visitor="visitor-0002").json()["show"] is True


def test_recurring_period_false_asks_once_and_reports_it(client, key):
    body = ask(client, key, recurringPeriod=False).json()

    assert body["next_after"] is None


def test_locale_and_question_product_name_shape_the_card(client, key):
    body = ask(client, key, properties={"locale": "fr-CA", "questionProductName": "la Classique"}).json()

    assert body["survey"]["locale"] == "fr"
    assert body["survey"]["question"] == (
        "Quelle est la probabilité que vous recommandiez la Classique à un ami ou un collègue\N{NO-BREAK SPACE}?"
    )
    assert body["survey"]["words"]["close"] == "Fermer le questionnaire"
    assert Invitation.objects.get().properties == {"question_product_name": "la Classique"}


def test_a_detractor_answer_opens_a_case_counts_and_sends_webhooks_like_any_answer(
    client, key, django_capture_on_commit_callbacks
):
    RoutingRuleFactory(team=TeamFactory(name="Care"))
    WebhookSubscription.objects.create(
        name="CRM", url="https://hooks.example/cl", secret="s" * 32, events=["survey_response.created"]
    )
    token = ask(client, key, email="ann@example.com").json()["token"]

    with django_capture_on_commit_callbacks(execute=True):
        response = answer(client, key, token=token, score=3)

    assert response.status_code == 200
    assert response.json() == {"recorded": True, "score": 3, "ask_reason": True, "questions": []}
    stored = Response.objects.get()
    assert (stored.score, stored.invitation.channel, stored.contact.email) == (3, "web", "ann@example.com")
    assert FollowUp.objects.get().response == stored
    assert ScoreRollup.objects.filter(channel="web", score=3, dimension="").get().count == 1
    assert WebhookDelivery.objects.filter(event_type="survey_response.created").count() == 1


def test_the_reason_and_additional_answers_follow_the_score(client, key):
    question = Question.objects.create(
        survey=key.survey,
        kind="select_many",
        text={"en": "Which parts?"},
        choices=[{"value": "price", "en": "Price"}, {"value": "delivery", "en": "Delivery"}],
        show_if_score_max=6,
    )
    token = ask(client, key).json()["token"]
    questions = answer(client, key, token=token, score=2).json()["questions"]

    assert questions == [
        {
            "id": question.pk,
            "kind": "select_many",
            "text": "Which parts?",
            "choices": [{"value": "price", "label": "Price"}, {"value": "delivery", "label": "Delivery"}],
            "scale_max": 5,
            "show_if": None,
        }
    ]
    assert answer(client, key, token=token, comment="Too slow").json() == {"recorded": True}
    assert answer(client, key, token=token, question=question.pk, value=["delivery"]).status_code == 200
    assert Response.objects.get().comment == "Too slow"
    assert Answer.objects.get().value == ["delivery"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"score": 11}, "score"),
        ({"score": 3, "comment": "both"}, "non_field_errors"),
        ({}, "non_field_errors"),
        ({"question": 1}, "value"),
        ({"comment": "a\x00b"}, "comment"),
    ],
)
def test_bad_answers_are_a_400_naming_the_field(client, key, body, field):
    token = ask(client, key).json()["token"]

    response = answer(client, key, token=token, **body)

    assert response.status_code == 400
    assert list(response.json()["errors"]) == [field]
    assert Response.objects.count() == 0


def test_a_reason_before_a_score_or_a_question_not_asked_is_refused(client, key):
    token = ask(client, key).json()["token"]

    assert answer(client, key, token=token, comment="hi").json()["errors"] == {"score": ["Give the score first."]}
    answer(client, key, token=token, score=10)
    other = Question.objects.create(survey=key.survey, kind="free_text", text={"en": "Why?"}, show_if_score_max=6)
    refused = answer(client, key, token=token, question=other.pk, value=["x"])
    assert refused.json()["errors"] == {"question": ["This question is not asked for this score and these answers."]}


def test_a_question_asked_after_an_earlier_answer_carries_its_condition_and_waits_for_that_answer(client, key):
    complete = Question.objects.create(survey=key.survey, position=0, kind="yes_no", text={"en": "Complete?"})
    missing = Question.objects.create(
        survey=key.survey, position=1, kind="free_text", text={"en": "What was missing?"},
        show_if_answer={"question": 0, "values": ["no"]},
    )  # fmt: skip
    token = ask(client, key).json()["token"]

    questions = answer(client, key, token=token, score=2).json()["questions"]
    refused = answer(client, key, token=token, question=missing.pk, value=["the lid"])
    answer(client, key, token=token, question=complete.pk, value=["no"])
    accepted = answer(client, key, token=token, question=missing.pk, value=["the lid"])

    assert [(q["id"], q["choices"], q["show_if"]) for q in questions] == [
        (complete.pk, [{"value": "yes", "label": "Yes"}, {"value": "no", "label": "No"}], None),
        (missing.pk, [], {"question": complete.pk, "values": ["no"]}),
    ]
    assert refused.json()["errors"] == {"question": ["This question is not asked for this score and these answers."]}
    assert accepted.status_code == 200
    assert Answer.objects.get(question=missing).value == "the lid"


def test_a_token_of_another_channel_key_or_an_expired_card_is_refused(client, key):
    email_invitation = InvitationFactory(survey=key.survey)
    other_key = publishable_key_create(name="Other", survey=SurveyFactory(), allowed_origins=[ORIGIN])
    token = ask(client, key).json()["token"]

    for used_key, used_token in (
        (key, invitation_token(email_invitation.public_id)),
        (other_key, token),
        (key, "not-a-token"),
    ):
        refused = answer(client, used_key, token=used_token, score=9)
        assert refused.status_code == 400
        assert list(refused.json()["errors"]) == ["token"]
    Invitation.objects.filter(channel="web").update(expires_at=timezone.now() - timedelta(seconds=1))
    assert list(answer(client, key, token=token, score=9).json()["errors"]) == ["token"]
    assert Response.objects.count() == 0


def test_a_known_contact_is_not_renamed_from_the_page(client, key):
    ContactFactory(email="ann@example.com", name="Ann Real", properties={"tier": "gold"})

    ask(client, key, email="ann@example.com", name="Mallory", properties={"tier": "free"})

    contact = Contact.objects.get()
    assert (contact.name, contact.properties) == ("Ann Real", {"tier": "gold"})
