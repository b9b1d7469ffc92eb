"""Delighted's wire quirks over plain HTTP: auth forms, `.json` suffix, 422/401/429 bodies, 202 deletes."""

import base64
import json
from datetime import timedelta

import pytest
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rest_framework.test import APIClient

from surveys.models import Contact, Invitation, Response, Survey
from surveys.services.api_keys import api_key_create
from tests.factories import ContactFactory, InvitationFactory, ResponseFactory, SurveyFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def key():
    return api_key_create(name="delighted", survey=SurveyFactory())[1]


def basic(raw: str) -> str:
    return "Basic " + base64.b64encode(raw.encode()).decode()


@pytest.mark.parametrize("credentials", ["{key}", "{key}:", "{key}:ignored"])
def test_basic_auth_with_key_as_user_and_any_password(key, credentials):
    response = APIClient().get("/v1/people.json", HTTP_AUTHORIZATION=basic(credentials.format(key=key)))

    assert response.status_code == 200


def test_missing_or_wrong_key_is_401_json():
    missing = APIClient().get("/v1/people.json")
    wrong = APIClient().get("/v1/people.json", HTTP_AUTHORIZATION=basic("cl_nope"))
    garbled = APIClient().get("/v1/people.json", HTTP_AUTHORIZATION="Basic !!!")

    assert missing.status_code == wrong.status_code == garbled.status_code == 401
    assert missing["WWW-Authenticate"] == 'Basic realm="Closeloop"'
    assert wrong.json() == {"status": 401, "message": "Invalid API key.", "errors": {}}


def test_suffix_is_optional_and_unknown_params_ignored(key):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=basic(key))

    with_suffix = client.post("/v1/people.json", {"email": "a@example.com", "colour": "blue"}, format="json")
    without = client.post("/v1/people", {"email": "b@example.com"}, format="json")

    assert with_suffix.status_code == without.status_code == 200
    assert Contact.objects.count() == 2


def test_invalid_input_is_422_with_field_errors(key):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=basic(key))

    response = client.post("/v1/people.json", {"channel": "sms", "phone_number": "12"}, format="json")

    assert response.status_code == 422
    assert response.json() == {
        "status": 422,
        "message": "Invalid input.",
        "errors": {"phone_number": ["Enter a phone number in E.164 form, e.g. +14155550100."]},
    }
    assert Contact.objects.count() == 0


def test_person_properties_with_a_null_character_are_422(key):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=basic(key))

    response = client.post(
        "/v1/people.json", {"email": "a@example.com", "properties": {"plan": "pro\u0000"}}, format="json"
    )

    assert (response.status_code, response.json()["errors"]) == (
        422,
        {"properties": ["Null characters are not allowed."]},
    )
    assert Contact.objects.count() == 0


def test_people_filter_with_a_null_character_is_422_and_such_a_person_is_404(key):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=basic(key))

    listed = client.get("/v1/people.json?email=a%00b@example.com")
    deleted = client.delete("/v1/people/email:a%00b@example.com.json")

    assert (listed.status_code, listed.json()["errors"]) == (422, {"email": ["Null characters are not allowed."]})
    assert deleted.status_code == 404


def test_form_encoded_person_create_works(key):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=basic(key))

    response = client.post("/v1/people.json", {"email": "a@example.com", "send": "false"})

    assert response.status_code == 200
    assert Invitation.objects.count() == 0


def test_delete_answers_202_json_and_404_for_unknown(key):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=basic(key))
    contact = ContactFactory(email="ana@example.com")
    kept = ContactFactory(email="bob@example.com")
    ResponseFactory(invitation=InvitationFactory(contact=contact))
    ResponseFactory(invitation=InvitationFactory(contact=kept))

    deleted = client.delete("/v1/people/email%3Aana%40example.com.json")
    unknown = client.delete(f"/v1/people/{kept.pk + 100}.json")

    assert (deleted.status_code, deleted.json()) == (202, {"ok": True})
    # The person is gone with their invitations and answers; nobody else is touched.
    assert list(Contact.objects.values_list("email", flat=True)) == ["bob@example.com"]
    assert list(Response.objects.values_list("contact__email", flat=True)) == ["bob@example.com"]
    assert list(Invitation.objects.values_list("contact__email", flat=True)) == ["bob@example.com"]
    assert unknown.status_code == 404
    assert unknown.json()["status"] == 404
    assert Contact.objects.count() == 1


def test_rate_limit_is_429_with_integer_retry_after(key, settings):
    settings.API_RATE_LIMIT = "1/minute"
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=basic(key))

    client.get("/v1/people.json")
    limited = client.get("/v1/people.json")

    assert limited.status_code == 429
    assert limited.json()["status"] == 429
    assert 1 <= int(limited["Retry-After"]) <= 60


def test_scope_is_enforced(key):
    _, reader = api_key_create(name="reader", scopes=["responses:read"])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=basic(reader))

    response = client.post("/v1/people.json", {"email": "a@example.com"}, format="json")

    assert response.status_code == 403
    assert response.json() == {"status": 403, "message": "This API key lacks the events:write scope.", "errors": {}}


def test_bad_page_info_is_422(key):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=basic(key))

    response = client.get("/v1/people.json?page_info=garbage")

    assert response.status_code == 422
    assert response.json()["errors"] == {"page_info": ["Invalid cursor."]}


@pytest.mark.parametrize("count", [1, 20])
def test_people_list_query_count(key, django_assert_num_queries, count):
    from surveys.models import ApiKey
    from tests.factories import InvitationFactory

    InvitationFactory.create_batch(count, survey=ApiKey.objects.get(name="delighted").survey)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=basic(key))
    client.get("/v1/people.json")  # stamps the key's last use
    client.get("/v1/people.json")  # reads the stamped key once more, into the cache

    # The contacts, their last sends.
    with django_assert_num_queries(2):
        response = client.get("/v1/people.json?per_page=100")

    assert len(response.json()) == count


@pytest.mark.parametrize("count", [1, 20])
def test_survey_responses_list_query_count(key, django_assert_num_queries, count):
    from surveys.models import ApiKey
    from tests.factories import ResponseFactory

    survey = ApiKey.objects.get(name="delighted").survey
    from surveys.models import Answer, Question

    question = Question.objects.create(survey=survey, kind="free_text", text={"en": "Why?"})
    for response in ResponseFactory.create_batch(count, invitation__survey=survey):
        Answer.objects.create(response=response, question=question, value="Because")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=basic(key))
    client.get("/v1/survey_responses.json")
    client.get("/v1/survey_responses.json")  # the stamped key is cached from here on

    # The responses with their people, their answers, the answers' questions, their notes.
    with django_assert_num_queries(4):
        response = client.get("/v1/survey_responses.json?per_page=100&expand[]=person")

    assert len(response.json()) == count


def test_survey_response_carries_additional_answers_in_delighted_shape(key):
    from surveys.models import Answer, ApiKey, Question
    from tests.factories import ResponseFactory

    survey = ApiKey.objects.get(name="delighted").survey
    response = ResponseFactory(invitation__survey=survey, score=4)
    why = Question.objects.create(survey=survey, kind="free_text", text={"en": "Why?"})
    what = Question.objects.create(
        survey=survey, kind="select_many", text={"en": "What?"}, choices=[{"value": "price", "en": "Price"}]
    )
    Answer.objects.create(response=response, question=why, value="Too slow")
    Answer.objects.create(response=response, question=what, value=["price"])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=basic(key))

    body = client.get(f"/v1/survey_responses/{response.pk}.json").json()

    assert body["additional_answers"] == [
        {
            "id": str(response.answers.get(question=why).pk),
            "value": {"free_response": "Too slow"},
            "question": {"id": str(why.pk), "type": "free_response", "text": "Why?"},
        },
        {
            "id": str(response.answers.get(question=what).pk),
            "value": {"select_many": [{"id": "price", "text": "Price"}]},
            "question": {"id": str(what.pk), "type": "select_many", "text": "What?"},
        },
    ]


ENDPOINTS = [
    ("get", "/v1/people.json"),
    ("post", "/v1/people.json"),
    ("delete", "/v1/people/email%3Aana%40example.com.json"),
    ("delete", "/v1/people/ana%40example.com/survey_requests/pending.json"),
    ("get", "/v1/survey_responses.json"),
    ("post", "/v1/survey_responses.json"),
    ("get", "/v1/survey_responses/1.json"),
    ("put", "/v1/survey_responses/1.json"),
    ("get", "/v1/unsubscribes.json"),
    ("post", "/v1/unsubscribes.json"),
    ("get", "/v1/bounces.json"),
    ("get", "/v1/autopilot/email.json"),
    ("get", "/v1/autopilot/sms/memberships.json"),
    ("post", "/v1/autopilot/email/memberships.json"),
    ("delete", "/v1/autopilot/sms/memberships.json"),
]
PARAM_NAMES = [
    "email", "phone_number", "name", "channel", "delay", "send", "last_sent_at", "properties", "person",
    "score", "comment", "person_email", "person_id", "person_phone_number", "per_page", "page", "page_info",
    "since", "until", "updated_since", "order", "trend", "expand", "person_properties",
]  # fmt: skip
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3),
    max_leaves=6,
)


@given(
    endpoint=st.sampled_from(ENDPOINTS),
    params=st.dictionaries(st.sampled_from(PARAM_NAMES), json_values, max_size=6),
)
@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_input_yields_5xx(key, endpoint, params):
    method, path = endpoint
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=basic(key))
    if method == "get":
        query = {k: v if isinstance(v, str) else json.dumps(v) for k, v in params.items()}
        response = client.get(path, query)
    else:
        response = getattr(client, method)(path, params, format="json")

    assert response.status_code < 500, (method, path, params, response.content[:300])
    assert response["Content-Type"] == "application/json"


@pytest.mark.parametrize("count", [1, 20])
def test_unsubscribes_list_query_count(key, django_assert_num_queries, count):
    from notifications.services.suppressions import suppression_add

    for n in range(count):
        ContactFactory(email=f"gone{n}@example.com")
        suppression_add(channel="email", recipient=f"gone{n}@example.com", reason="unsubscribe", source="test")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=basic(key))
    client.get("/v1/unsubscribes.json")
    client.get("/v1/unsubscribes.json")  # the stamped key is cached from here on

    # The suppressions, the people they belong to.
    with django_assert_num_queries(2):
        response = client.get("/v1/unsubscribes.json?per_page=100")

    assert len(response.json()) == count
    assert all(row["person_id"] for row in response.json())


@pytest.mark.parametrize("count", [1, 20])
def test_autopilot_memberships_list_query_count(key, django_assert_num_queries, count):
    from delighted.services import autopilot_membership_add
    from surveys.models import ApiKey
    from surveys.services.contacts import ContactData

    survey = ApiKey.objects.get(name="delighted").survey
    for n in range(count):
        autopilot_membership_add(survey=survey, channel="email", data=ContactData(email=f"m{n}@example.com"))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=basic(key))
    client.get("/v1/autopilot/email/memberships.json")
    client.get("/v1/autopilot/email/memberships.json")  # the stamped key is cached from here on

    # The memberships with their people.
    with django_assert_num_queries(1):
        response = client.get("/v1/autopilot/email/memberships.json?per_page=100")

    assert len(response.json()) == count


@pytest.fixture
def client_for(key):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=basic(key))
    return client


def test_person_create_email_update_changes_the_address_and_surveys_the_new_one(client_for):
    contact = ContactFactory(email="old@example.com")

    response = client_for.post(
        "/v1/people.json", {"email": "old@example.com", "email_update": "new@example.com"}, format="json"
    )

    assert response.status_code == 200
    assert response.json()["id"] == str(contact.pk)
    assert response.json()["email"] == "new@example.com"
    contact.refresh_from_db()
    assert contact.email == "new@example.com"
    assert Contact.objects.count() == 1
    assert Invitation.objects.get().contact == contact


def test_person_create_phone_number_update_changes_the_phone(client_for):
    contact = ContactFactory(email="ana@example.com", phone="+33612345678")

    response = client_for.post(
        "/v1/people.json",
        {"channel": "sms", "phone_number": "+33612345678", "phone_number_update": "+33 6 98 76 54 32", "send": False},
        format="json",
    )

    assert response.status_code == 200
    contact.refresh_from_db()
    assert contact.phone == "+33698765432"
    assert response.json()["phone_number"] == "+33698765432"


def test_person_create_address_update_of_unknown_person_creates_them_with_the_new_address(client_for):
    response = client_for.post(
        "/v1/people.json", {"email": "old@example.com", "email_update": "new@example.com", "send": False}, format="json"
    )

    assert response.status_code == 200
    assert list(Contact.objects.values_list("email", flat=True)) == ["new@example.com"]


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        (
            {"email": "old@example.com", "email_update": "Taken@Example.com"},
            {"email_update": ["Another person already has this email."]},
        ),
        (
            {"email": "old@example.com", "phone_number_update": "+33611111111", "send": False},
            {"phone_number_update": ["Another person already has this phone number."]},
        ),
        (
            {"email": "old@example.com", "email_update": "not-an-email"},
            {"email_update": ["Enter a valid email address."]},
        ),
        (
            {"email": "old@example.com", "phone_number_update": "12"},
            {"phone_number_update": ["Enter a phone number in E.164 form, e.g. +14155550100."]},
        ),
        (
            {"email_update": "new@example.com", "name": "Ana"},
            {"email_update": ["Give the person's current email or phone_number too."]},
        ),
    ],
)
def test_person_create_address_update_conflicts_and_invalid_values_are_422(client_for, body, errors):
    ContactFactory(email="old@example.com", phone="+33612345678")
    ContactFactory(email="taken@example.com", phone="+33611111111")

    response = client_for.post("/v1/people.json", body, format="json")

    assert response.status_code == 422
    assert response.json()["errors"] == errors
    assert set(Contact.objects.values_list("email", "phone")) == {
        ("old@example.com", "+33612345678"),
        ("taken@example.com", "+33611111111"),
    }
    assert Invitation.objects.count() == 0


@pytest.mark.parametrize("link", ["javascript:alert(1)", "data:text/html,hi", "ftp://example.com/x", "not a url", 12])
def test_person_create_thank_you_link_must_be_http_or_https(client_for, link):
    response = client_for.post(
        "/v1/people.json", {"email": "ana@example.com", "properties": {"thank_you_link_url": link}}, format="json"
    )

    assert response.status_code == 422
    assert response.json()["errors"] == {"properties.thank_you_link_url": ["Enter an http:// or https:// address."]}
    assert Contact.objects.count() == 0


def test_person_create_keeps_thank_you_message_and_link_on_the_invitation(client_for):
    properties = {"thank_you_message": "Thanks, Ana", "thank_you_link_url": "https://shop.example/next"}

    response = client_for.post("/v1/people.json", {"email": "ana@example.com", "properties": properties}, format="json")

    assert response.status_code == 200
    assert Invitation.objects.get().properties == properties


def _response_for(key_survey, **kwargs):
    from tests.factories import ResponseFactory

    return ResponseFactory(invitation__survey=key_survey, **kwargs)


def test_survey_response_update_sets_tags_and_adds_notes(client_for):
    from surveys.models import ApiKey, ResponseNote

    response = _response_for(ApiKey.objects.get(name="delighted").survey, score=3)
    earlier = ResponseNote.objects.create(response=response, text="Called her", user_email="agent@example.com")

    updated = client_for.put(
        f"/v1/survey_responses/{response.pk}.json",
        {
            "score": 3,
            "tags": ["pricing", " pricing ", "delivery"],
            "notes": [
                {"id": str(earlier.pk), "text": "rewritten", "user_email": None, "created_at": 0},
                "Refund sent",
                {"text": "Follow up next week", "user_email": "lead@example.com"},
            ],
        },
        format="json",
    )

    assert updated.status_code == 200
    body = updated.json()
    assert body["tags"] == ["pricing", "delivery"]
    assert [(note["text"], note["user_email"]) for note in body["notes"]] == [
        ("Called her", "agent@example.com"),
        ("Refund sent", None),
        ("Follow up next week", "lead@example.com"),
    ]
    assert body["notes"][0] == {
        "id": str(earlier.pk),
        "text": "Called her",
        "user_email": "agent@example.com",
        "created_at": int(earlier.created_at.timestamp()),
    }
    response.refresh_from_db()
    assert response.tags == ["pricing", "delivery"]
    assert response.score == 3


def test_survey_response_tags_and_notes_on_an_expired_link(client_for):
    from surveys.models import ApiKey

    response = _response_for(
        ApiKey.objects.get(name="delighted").survey, score=9, invitation__expires_at=timezone.now()
    )

    updated = client_for.put(
        f"/v1/survey_responses/{response.pk}.json", {"score": 9, "tags": ["vip"], "notes": ["Happy"]}, format="json"
    )

    assert updated.status_code == 200
    assert updated.json()["tags"] == ["vip"]
    assert [note["text"] for note in updated.json()["notes"]] == ["Happy"]


@pytest.mark.parametrize(
    ("notes", "errors"),
    [
        ([{"id": "999999", "text": "x"}], {"notes": ["No note with id 999999 on this response."]}),
        (["  "], {"notes.0.text": ["A new note needs a text."]}),
        ([{"text": "x", "user_email": "nope"}], {"notes.0.user_email": ["Enter a valid email address."]}),
        ([42], {"notes.0.non_field_errors": ["Invalid data. Expected a dictionary, but got int."]}),
    ],
)
def test_survey_response_bad_notes_are_422_and_change_nothing(client_for, notes, errors):
    from surveys.models import ApiKey, ResponseNote

    response = _response_for(ApiKey.objects.get(name="delighted").survey, score=3)

    updated = client_for.put(
        f"/v1/survey_responses/{response.pk}.json", {"tags": ["kept-out"], "notes": notes}, format="json"
    )

    assert updated.status_code == 422
    assert updated.json()["errors"] == errors
    response.refresh_from_db()
    assert response.tags == []
    assert ResponseNote.objects.count() == 0


def test_survey_response_create_takes_tags_and_notes(client_for):
    contact = ContactFactory()

    created = client_for.post(
        "/v1/survey_responses.json",
        {"person": str(contact.pk), "score": 2, "tags": ["billing"], "notes": ["Imported from Delighted"]},
        format="json",
    )

    assert created.status_code == 201
    assert created.json()["tags"] == ["billing"]
    assert [note["text"] for note in created.json()["notes"]] == ["Imported from Delighted"]


def test_person_create_weighs_last_sent_at_against_the_surveys_own_windows(client_for, settings):
    settings.FATIGUE_SURVEY_DAYS = settings.FATIGUE_GLOBAL_DAYS = 30
    five_days_ago = int(timezone.now().timestamp()) - 5 * 86400
    body = {"email": "ana@example.com", "last_sent_at": five_days_ago}

    assert client_for.post("/v1/people.json", body, format="json").json()["survey_scheduled_at"] is None
    Invitation.objects.all().delete()
    survey = Survey.objects.get()
    survey.fatigue_survey_days, survey.fatigue_global_days, survey.link_expiry_days = 3, 0, 4
    survey.save()
    response = client_for.post("/v1/people.json", body, format="json")

    assert response.json()["survey_scheduled_at"] is not None
    invitation = Invitation.objects.get()
    assert invitation.expires_at == invitation.scheduled_at + timedelta(days=4)
