"""Every value intake stores and later renders is checked at the door: type, length and characters."""

import base64

import pytest
from rest_framework.test import APIClient

from surveys.models import Contact, Invitation
from surveys.services.api_keys import api_key_create
from tests.factories import SurveyFactory, TriggerRuleFactory

pytestmark = pytest.mark.django_db

BAD = [
    ("question_product_name", {"a": 1}, "Give a text."),
    ("question_product_name", ["x"], "Give a text."),
    ("question_product_name", "x" * 201, "Give a text of at most 200 characters."),
    ("question_product_name", "Acme\nBcc: x", "Control characters are not allowed."),
    ("locale", {"x": 1}, "Give a language code such as en or fr-CA."),
    ("locale", 12, "Give a language code such as en or fr-CA."),
    ("locale", "en<script>", "Give a language code such as en or fr-CA."),
    ("thank_you_message", {"a": 1}, "Give a text."),
]


@pytest.fixture
def survey():
    survey = SurveyFactory()
    TriggerRuleFactory(event_type="purchase", survey=survey)
    return survey


@pytest.fixture
def v1(survey):
    raw = api_key_create(name="v1", survey=survey)[1]
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Basic " + base64.b64encode(raw.encode()).decode())
    return client


@pytest.mark.parametrize(("name", "value", "message"), BAD)
def test_event_property_is_checked(api_client, survey, name, value, message):
    body = {"type": "purchase", "contact": {"email": "a@example.com"}, "properties": {name: value}}

    response = api_client.post("/api/events/", body, format="json")

    assert (response.status_code, response.json()["errors"]) == (400, {f"properties.{name}": [message]})
    assert Invitation.objects.count() == 0


@pytest.mark.parametrize(("name", "value", "message"), BAD)
def test_batch_item_property_is_checked_alone(api_client, survey, name, value, message):
    good = {"type": "purchase", "external_id": "1", "contact": {"email": "a@example.com"}}
    bad = {"type": "purchase", "external_id": "2", "contact": {"email": "b@example.com"}, "properties": {name: value}}

    response = api_client.post("/api/events/batch/", {"events": [good, bad]}, format="json")

    results = response.json()["results"]
    assert [item["status"] for item in results] == [201, 400]
    assert results[1]["errors"] == {f"properties.{name}": [message]}
    assert Invitation.objects.count() == 1


@pytest.mark.parametrize(("name", "value", "message"), BAD)
def test_delighted_person_property_is_checked(v1, name, value, message):
    response = v1.post("/v1/people.json", {"email": "a@example.com", "properties": {name: value}}, format="json")

    assert (response.status_code, response.json()["errors"]) == (422, {f"properties.{name}": [message]})
    assert Contact.objects.count() == 0


@pytest.mark.parametrize(("name", "value", "message"), BAD)
def test_autopilot_membership_property_is_checked(v1, name, value, message):
    response = v1.post(
        "/v1/autopilot/email/memberships.json",
        {"person_email": "a@example.com", "properties": {name: value}},
        format="json",
    )

    assert (response.status_code, response.json()["errors"]) == (422, {f"properties.{name}": [message]})
    assert Contact.objects.count() == 0


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("locale", "fr\u0007", "Give a language code such as en or fr-CA."),
        ("name", "Ana\u0000", "Null characters are not allowed."),
        ("name", "Ana\u001b[31m", "Control characters are not allowed."),
        ("email", "a" * 250 + "@example.com", "Ensure this field has no more than 254 characters."),
    ],
)
def test_contact_fields_are_checked(api_client, survey, field, value, message):
    body = {"type": "purchase", "contact": {"email": "a@example.com", field: value}}

    response = api_client.post("/api/events/", body, format="json")

    assert (response.status_code, response.json()["errors"]) == (400, {f"contact.{field}": [message]})


def test_delighted_email_over_254_characters_is_422(v1):
    response = v1.post("/v1/people.json", {"email": "a" * 250 + "@example.com"}, format="json")

    assert (response.status_code, response.json()["errors"]) == (
        422,
        {"email": ["Ensure this field has no more than 254 characters."]},
    )


def test_good_properties_are_kept(api_client, survey):
    body = {
        "type": "purchase",
        "contact": {"email": "a@example.com"},
        "properties": {
            "question_product_name": "Acme Pro",
            "locale": "fr-CA",
            "thank_you_message": "Merci !\nÀ bientôt",
        },
    }

    response = api_client.post("/api/events/", body, format="json")

    assert response.status_code == 201
    assert Invitation.objects.get().locale == "fr"
