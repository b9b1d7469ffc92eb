"""What each scope of a `/v1/` key may read and write: a write never answers more than the key may read,
erasing a person needs `admin` and is audited, and no parameter widens a key's survey binding."""

import base64

import pytest
from rest_framework.test import APIClient

from delighted.models import AuditEntry
from surveys.models import Contact, Response
from surveys.services.api_keys import api_key_create
from tests.factories import ContactFactory, InvitationFactory, ResponseFactory, SurveyFactory

pytestmark = pytest.mark.django_db


def client_for(raw: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Basic " + base64.b64encode(raw.encode()).decode())
    return client


@pytest.fixture
def survey():
    return SurveyFactory(kind="nps")


@pytest.fixture
def writer(survey):
    return client_for(api_key_create(name="writer", scopes=["events:write"], survey=survey)[1])


@pytest.fixture
def answer(survey):
    return ResponseFactory(
        invitation__survey=survey,
        invitation__contact=ContactFactory(email="ana@example.com", name="Ana Secret", phone="+33612345678"),
        score=3,
        comment="My private reason",
    )


def test_write_only_key_put_with_empty_body_reads_nothing_of_the_response(writer, answer):
    response = writer.put(f"/v1/survey_responses/{answer.pk}.json", {}, format="json")

    assert response.status_code == 200
    assert response.json() == {"id": str(answer.pk), "person": str(answer.contact_id), "survey_type": "nps"}


def test_write_only_key_put_answers_what_it_wrote(writer, answer):
    response = writer.put(f"/v1/survey_responses/{answer.pk}.json", {"score": 9}, format="json")

    assert response.json() == {
        "id": str(answer.pk),
        "person": str(answer.contact_id),
        "survey_type": "nps",
        "score": 9,
    }
    assert Response.objects.get().score == 9


def test_reader_key_put_answers_the_whole_response(survey, answer):
    client = client_for(api_key_create(name="both", scopes=["events:write", "responses:read"], survey=survey)[1])

    body = client.put(f"/v1/survey_responses/{answer.pk}.json", {}, format="json").json()

    assert body["comment"] == "My private reason"
    assert body["person"]["name"] == "Ana Secret"


def test_write_only_key_person_create_does_not_reveal_the_stored_name_or_phone(writer, answer):
    response = writer.post("/v1/people.json", {"email": "ana@example.com", "send": False}, format="json")

    body = response.json()
    assert response.status_code == 200
    assert (body["id"], body["email"], body["name"], body["phone_number"]) == (
        str(answer.contact_id),
        "ana@example.com",
        None,
        None,
    )


@pytest.mark.parametrize("scopes", [["events:write"], ["events:write", "responses:read"]])
def test_person_delete_without_admin_scope_is_403_and_erases_nothing(survey, answer, scopes):
    client = client_for(api_key_create(name="k", scopes=scopes, survey=survey)[1])

    response = client.delete(f"/v1/people/{answer.contact_id}.json")

    assert response.status_code == 403
    assert response.json() == {"status": 403, "message": "This API key lacks the admin scope.", "errors": {}}
    assert Contact.objects.filter(pk=answer.contact_id).exists()
    assert AuditEntry.objects.count() == 0


def test_person_delete_with_admin_scope_erases_and_is_audited(survey, answer):
    api_key, raw = api_key_create(name="ops", scopes=["admin"], survey=survey)

    response = client_for(raw).delete(f"/v1/people/{answer.contact_id}.json")

    assert response.status_code == 202
    assert not Contact.objects.filter(pk=answer.contact_id).exists()
    entry = AuditEntry.objects.get()
    assert (entry.action, entry.subject, entry.api_key_id, entry.api_key_name) == (
        "person.erase",
        f"person {answer.contact_id}",
        api_key.pk,
        "ops",
    )


def test_trend_never_widens_a_keys_survey_binding(answer):
    other_survey = SurveyFactory(kind="nps")
    bound = client_for(api_key_create(name="bound", scopes=["responses:read"], survey=other_survey)[1])
    unbound = client_for(api_key_create(name="unbound", scopes=["responses:read"])[1])

    assert bound.get(f"/v1/survey_responses.json?trend={answer.survey_id}").json() == []
    assert unbound.get(f"/v1/survey_responses.json?trend={answer.survey_id}").json() == []


def test_trend_equal_to_the_keys_survey_lists_it(survey, answer):
    reader = client_for(api_key_create(name="r", scopes=["responses:read"], survey=survey)[1])

    listed = reader.get(f"/v1/survey_responses.json?trend={survey.pk}").json()

    assert [item["id"] for item in listed] == [str(answer.pk)]


def test_people_list_holds_only_people_invited_to_the_keys_survey(survey, answer):
    InvitationFactory(contact=ContactFactory(email="elsewhere@example.com"))
    ContactFactory(email="never-invited@example.com")
    reader = client_for(api_key_create(name="r", scopes=["responses:read"], survey=survey)[1])
    unbound = client_for(api_key_create(name="u", scopes=["responses:read"])[1])

    assert [p["email"] for p in reader.get("/v1/people.json").json()] == ["ana@example.com"]
    assert unbound.get("/v1/people.json").json() == []


def test_people_list_needs_responses_read(writer, answer):
    response = writer.get("/v1/people.json")

    assert response.status_code == 403


def test_a_held_answer_is_in_no_list_until_confirmed(survey, answer):
    answer.held_reason = "scanner_user_agent"
    answer.save()
    reader = client_for(api_key_create(name="r", scopes=["responses:read"], survey=survey)[1])

    assert reader.get("/v1/survey_responses.json").json() == []
    assert reader.get(f"/v1/survey_responses/{answer.pk}.json").status_code == 404
