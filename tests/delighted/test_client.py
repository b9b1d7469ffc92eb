"""The official `delighted` client (4.2.0), unchanged, against a live server: every call it offers."""

import pytest
import time_machine
from django.utils import timezone

from surveys.models import Contact, Invitation, Response
from tests.factories import ContactFactory, InvitationFactory, ResponseFactory


def test_client_person_create_schedules_survey_request(call, survey):
    person = call(
        """
        result = delighted.Person.create(email="ana@example.com", name="Ana", delay=3600,
            properties={"locale": "fr", "question_product_name": "Widget", "plan": "pro"})
        """
    )

    invitation = Invitation.objects.get()
    assert person["id"] == str(Contact.objects.get().pk)
    assert person["email"] == "ana@example.com"
    assert person["name"] == "Ana"
    assert person["survey_scheduled_at"] == int(invitation.scheduled_at.timestamp())
    assert invitation.survey == survey
    assert invitation.locale == "fr"
    assert invitation.properties["question_product_name"] == "Widget"
    assert (invitation.scheduled_at - invitation.created_at).total_seconds() == pytest.approx(3600, abs=5)


def test_client_person_create_send_false_only_upserts(call):
    person = call('result = delighted.Person.create(email="ana@example.com", send=False)')

    assert person["survey_scheduled_at"] is None
    assert Invitation.objects.count() == 0
    assert Contact.objects.get().email == "ana@example.com"


@time_machine.travel("2026-03-02 10:00:00+00:00")  # inside the SMS window in Paris
def test_client_person_create_by_sms(call):
    call('result = delighted.Person.create(channel="sms", phone_number="+33612345678")')

    invitation = Invitation.objects.get()
    assert invitation.channel == "sms"
    assert invitation.contact.phone == "+33612345678"


def test_client_person_create_invalid_is_422(call):
    error = call('result = delighted.Person.create(email="not-an-email")')

    assert error["error"] == "ResourceValidationError"
    assert error["status"] == 422
    assert error["body"]["errors"] == {"email": ["Enter a valid email address."]}


def test_client_bad_key_is_401(call):
    error = call('result = delighted.Person.create(email="ana@example.com")', key="cl_wrong")

    assert error["error"] == "AuthenticationError"
    assert error["status"] == 401
    assert Contact.objects.count() == 0


def test_client_people_list_pages_with_link_header(call, survey):
    contacts = [invitation.contact for invitation in InvitationFactory.create_batch(5, survey=survey)]
    InvitationFactory()  # invited to another survey: not the key's to list

    people = call("result = list(delighted.Person.list(per_page=2).auto_paging_iter())")

    assert [person["id"] for person in people] == [str(contact.pk) for contact in contacts]
    assert people[0]["email"] == contacts[0].email


def test_client_person_delete_by_id_email_and_phone(call):
    by_id = ContactFactory()
    ContactFactory(email="b@example.com")
    ContactFactory(phone="+14155550100")

    results = call(
        f"""
        result = [delighted.Person.delete(id={by_id.pk}), delighted.Person.delete(email="b@example.com"),
                  delighted.Person.delete(phone_number="+14155550100")]
        """
    )

    assert results == [{"ok": True}] * 3
    assert Contact.objects.count() == 0


def test_client_survey_request_delete_pending(call, survey):
    contact = ContactFactory(email="ana+1@example.com")
    pending = InvitationFactory(contact=contact, survey=survey, status=Invitation.Status.SCHEDULED)

    result = call('result = delighted.SurveyRequest.delete_pending(person_email="ana+1@example.com")')

    assert result == {"ok": True}
    pending.refresh_from_db()
    assert pending.status == Invitation.Status.CANCELLED


def test_client_survey_response_create_retrieve_update_list(call, survey):
    contact = ContactFactory(email="ana@example.com")

    created, retrieved, updated, listed = call(
        f"""
        created = delighted.SurveyResponse.create(person="{contact.pk}", score=9, comment="Lovely",
            person_properties={{"plan": "pro"}})
        retrieved = delighted.SurveyResponse.retrieve(created.id, expand=["person"])
        assert isinstance(retrieved.person, delighted.Person)
        retrieved.score = 3
        updated = retrieved.save()
        listed = delighted.SurveyResponse.all(per_page=10, order="desc", person_email="ana@example.com")
        result = [created, retrieved, updated, listed]
        """
    )

    response = Response.objects.get()
    assert created["score"] == 9
    assert created["comment"] == "Lovely"
    assert created["survey_type"] == "nps"
    assert created["person"] == str(contact.pk)
    assert created["person_properties"] == {"plan": "pro"}
    assert created["permalink"] == f"http://testserver/follow-ups/responses/{response.pk}/"
    assert retrieved["person"]["email"] == "ana@example.com"
    assert updated["score"] == 3
    assert response.score == 3
    assert response.comment == "Lovely"
    assert [item["id"] for item in listed] == [str(response.pk)]
    assert set(listed[0]) == {
        "id",
        "person",
        "survey_type",
        "score",
        "comment",
        "permalink",
        "created_at",
        "updated_at",
        "person_properties",
        "notes",
        "tags",
        "additional_answers",
    }


def test_client_survey_responses_list_filters(call, survey):
    now = timezone.now()
    old = ResponseFactory(invitation__survey=survey, score=10, confirmed_at=now - timezone.timedelta(days=10))
    new = ResponseFactory(invitation__survey=survey, score=2, confirmed_at=now)
    ResponseFactory(score=5)  # another survey: not this key's project
    since = int((now - timezone.timedelta(days=1)).timestamp())

    pages = call(
        f"""
        ids = lambda items: [item.id for item in items]
        result = [ids(delighted.SurveyResponse.all()), ids(delighted.SurveyResponse.all(order="desc")),
                  ids(delighted.SurveyResponse.all(since={since})),
                  ids(delighted.SurveyResponse.all(per_page=1, page=2)),
                  ids(delighted.SurveyResponse.all(trend={survey.pk}, until={since}))]
        """
    )

    assert pages == [
        [str(old.pk), str(new.pk)],
        [str(new.pk), str(old.pk)],
        [str(new.pk)],
        [str(new.pk)],
        [str(old.pk)],
    ]


def test_client_autopilot_configuration(call):
    email, sms = call(
        """
        result = [delighted.AutopilotConfiguration.retrieve("email"), delighted.AutopilotConfiguration.retrieve("sms")]
        """
    )

    assert email["platform_id"] == "email"
    assert email["active"] is True
    assert email["frequency"] == 90 * 86400
    assert sms["platform_id"] == "sms"


def test_client_autopilot_memberships_add_list_delete(call, survey):
    added, sms_added, listed, deleted, after = call(
        """
        email = delighted.AutopilotMembership.forEmail()
        sms = delighted.AutopilotMembership.forSms()
        added = email.create(person_email="ana@example.com", properties={"plan": "pro"})
        sms_added = sms.create(person_phone_number="+33612345678")
        email.create(person_email="bo@example.com")
        listed = list(email.list(per_page=1).auto_paging_iter())
        deleted = email.delete(person_email="ana@example.com")
        after = list(email.list().auto_paging_iter())
        result = [added, sms_added, listed, deleted, after]
        """
    )

    assert added["person"]["email"] == "ana@example.com"
    assert added["properties"] == {"plan": "pro"}
    assert sms_added["person"]["phone_number"] == "+33612345678"
    assert [item["person"]["email"] for item in listed] == ["ana@example.com", "bo@example.com"]
    assert listed[0]["next_survey_request"]["properties"] == {"plan": "pro"}
    assert deleted["person"]["email"] == "ana@example.com"
    assert [item["person"]["email"] for item in after] == ["bo@example.com"]
    # Each new member is surveyed at once, through intake.
    assert sorted(Invitation.objects.values_list("channel", flat=True)) == ["email", "email", "sms"]


def test_client_unsubscribes_create_and_list_and_bounces_list(call):
    from notifications.services.suppressions import suppression_add

    contact = ContactFactory(email="ana@example.com", name="Ana")
    suppression_add(channel="email", recipient="gone@example.com", reason="bounce", source="sendgrid")

    created, unsubscribes, bounces = call(
        """
        created = delighted.Unsubscribe.create(person_email="ana@example.com")
        result = [created, delighted.Unsubscribe.all(), delighted.Bounce.all(per_page=5)]
        """
    )

    assert created == {"ok": True}
    assert [(u["person_id"], u["email"], u["name"]) for u in unsubscribes] == [
        (str(contact.pk), "ana@example.com", "Ana")
    ]
    assert isinstance(unsubscribes[0]["unsubscribed_at"], int)
    assert [(b["person_id"], b["email"]) for b in bounces] == [(None, "gone@example.com")]
    assert isinstance(bounces[0]["bounced_at"], int)


def test_client_survey_response_tags_and_notes_round_trip(call, survey):
    response = ResponseFactory(invitation__survey=survey, score=4)

    saved, listed = call(
        f"""
        found = delighted.SurveyResponse.retrieve("{response.pk}", expand=["person"])
        found.tags = found.tags + ["pricing"]
        found.notes = found.notes + [{{"text": "Called back, refund sent"}}]
        saved = found.save()
        listed = delighted.SurveyResponse.all()
        result = [saved, listed]
        """
    )

    assert saved["tags"] == ["pricing"]
    assert [note["text"] for note in saved["notes"]] == ["Called back, refund sent"]
    assert listed[0]["tags"] == ["pricing"]
    assert listed[0]["notes"] == saved["notes"]
    response.refresh_from_db()
    assert (response.tags, response.notes.get().text, response.score) == (["pricing"], "Called back, refund sent", 4)


def test_client_person_create_email_update(call):
    contact = ContactFactory(email="old@example.com")

    person = call('result = delighted.Person.create(email="old@example.com", email_update="new@example.com")')

    assert person["id"] == str(contact.pk)
    assert person["email"] == "new@example.com"
    assert Invitation.objects.get().contact_id == contact.pk
