import pytest

from console.models import AuditEntry
from notifications.models import Message
from surveys.models import ApiKey, Contact, Response, Survey, TriggerRule
from surveys.services.api_keys import api_key_create
from tests.factories import ContactFactory, MessageFactory, ResponseFactory, SurveyFactory

pytestmark = pytest.mark.django_db


def test_admin_api_key_list_shows_last_used_and_revoke_action_revokes(client, manager, api_client):
    api_client.get("/api/trigger-rules/")
    api_key, _ = api_key_create(name="other")
    client.force_login(manager)

    page = client.get("/admin/surveys/apikey/")
    response = client.post(
        "/admin/surveys/apikey/", {"action": "revoke", "_selected_action": [api_key.pk]}, follow=True
    )

    assert page.status_code == 200
    assert "Last used at" in page.content.decode()
    assert response.status_code == 200
    api_key.refresh_from_db()
    assert api_key.revoked_at is not None
    assert ApiKey.objects.filter(revoked_at__isnull=True).count() == 1
    assert client.get("/admin/surveys/apikey/add/").status_code == 403


def test_admin_trigger_rule_rejects_bad_conditions(client, manager):
    client.force_login(manager)
    survey = SurveyFactory()

    response = client.post(
        "/admin/surveys/triggerrule/add/",
        {
            "event_type": "purchase",
            "survey": survey.pk,
            "channel": "email",
            "delay": "00:00:00",
            "conditions": '[{"property": "amount", "op": "near", "value": 3}]',
            "sample_rate": "1",
            "cancel_on_event_types": "[]",
            "match_property": "ticket_id",
            "is_active": "on",
        },
    )

    assert response.status_code == 200
    assert "Condition 1: op must be one of equals, in, exists, gt, gte, lt, lte." in response.content.decode()
    assert TriggerRule.objects.count() == 0


@pytest.mark.parametrize("who", ["anonymous", "agent", "other_agent"])
def test_admin_api_keys_are_for_staff_only(client, request, who):
    if who != "anonymous":
        client.force_login(request.getfixturevalue(who))

    response = client.get("/admin/surveys/apikey/")

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def _survey_form(**overrides) -> dict:
    return {
        "name": "After delivery",
        "kind": "nps",
        "product_name": "Acme",
        "default_locale": "en",
        "question_text": "{}",
        "low_label": "{}",
        "high_label": "{}",
        "thank_you_text": "{}",
        "is_active": "on",
        "questions-TOTAL_FORMS": "0",
        "questions-INITIAL_FORMS": "0",
        **overrides,
    }


@pytest.mark.parametrize(("days", "stored"), [("3", 3), ("27", 27), ("", None)])
def test_admin_survey_sets_reminder_after_days(client, manager, days, stored):
    client.force_login(manager)
    response = client.post("/admin/surveys/survey/add/", _survey_form(reminder_after_days=days))
    assert response.status_code == 302
    assert Survey.objects.get().reminder_after_days == stored


@pytest.mark.parametrize("days", ["0", "28", "400"])
def test_admin_survey_refuses_a_reminder_outside_the_link_lifetime(client, manager, days):
    client.force_login(manager)
    response = client.post("/admin/surveys/survey/add/", _survey_form(reminder_after_days=days))
    assert response.status_code == 200
    assert (
        "Give a number of days from 1 to 27, before survey links expire (INVITATION_EXPIRY_DAYS = 28), "
        "or leave it empty for no reminder."
    ) in response.content.decode()
    assert Survey.objects.count() == 0


def test_admin_survey_edits_the_reminder_of_an_existing_survey(client, manager):
    survey = SurveyFactory(reminder_after_days=None)
    client.force_login(manager)
    page = client.get(f"/admin/surveys/survey/{survey.pk}/change/")
    assert 'name="reminder_after_days"' in page.content.decode()
    response = client.post(
        f"/admin/surveys/survey/{survey.pk}/change/", _survey_form(name=survey.name, reminder_after_days="5")
    )
    assert response.status_code == 302
    survey.refresh_from_db()
    assert survey.reminder_after_days == 5


def test_admin_contact_delete_is_the_audited_hard_erasure(client, manager):
    contact = ContactFactory(email="ann@example.com")
    ResponseFactory(invitation__contact=contact, comment="Ann: too slow")
    MessageFactory(recipient="ann@example.com", body_text="Hi Ann")
    client.force_login(manager)

    deleted = client.post(f"/admin/surveys/contact/{contact.pk}/delete/", {"post": "yes"})

    assert deleted.status_code == 302
    assert not Contact.objects.exists() and not Response.objects.exists()
    assert Message.objects.get().body_text == ""
    entry = AuditEntry.objects.get()
    assert (entry.action, entry.actor, entry.changes["mode"]) == ("erased", manager, [None, "hard"])
