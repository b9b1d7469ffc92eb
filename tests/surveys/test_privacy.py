"""A person's erasure and export (surveys/services/privacy.py), across every app.

The done-when test of issue 20: one person with every kind of data the product stores, erased, then every column
of every table of the database read for their email, phone and name; the rollups equal a recomputation before
and after, with answers kept as anonymous scores and with `hard`. Runs on SQLite and PostgreSQL alike.
"""

from datetime import timedelta

import pytest
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db import connection

from console.models import AuditEntry
from delighted.services import NoteData, autopilot_membership_add, response_annotate
from feedback.models import FollowUp, FollowUpEntry
from feedback.services.cases import follow_up_add_note
from feedback.services.conversation import follow_up_reply
from insights import analysis
from insights.models import FunnelRollup, ThemeCandidate, ThemeRollup
from insights.rollups import (
    _funnel_rows,
    full_loop_rollup_rows,
    full_score_rollup_rows,
    rollup_refresh_funnel,
    stored_loop_rollup_rows,
    stored_score_rollup_rows,
)
from insights.theme_rollups import full_theme_rollup_rows
from integrations.models import Connector, ConnectorDelivery, WebhookDelivery, WebhookSubscription, ZendeskNote
from notifications.models import (
    Channel,
    InboundSms,
    Message,
    ProviderEvent,
    Suppression,
    recipient_hashed,
)
from notifications.services.inbound import inbound_sms_receive
from notifications.services.inbound_email import ParsedInbound, inbound_email_receive
from notifications.services.provider_events import sendgrid_events_record
from notifications.services.suppressions import suppression_add
from surveys.models import Contact, Event, Invitation, Question, Response
from surveys.services.contacts import ContactData
from surveys.services.privacy import contact_erase, contact_export, contact_find
from surveys.services.responses import answer_save, response_submit
from surveys.tasks import dispatch_due_invitations
from tests.factories import MessageFactory, RoutingRuleFactory, SurveyFactory, TriggerRuleFactory

pytestmark = pytest.mark.django_db

NAME = "Quentin Erasmus-Dubreuil"
EMAIL = "quentin.erasmus@example.test"
PHONE = "+33612349876"
OTHER_EMAIL = "kept.customer@example.test"


@pytest.fixture(autouse=True)
def lexicon_only(settings):
    settings.INSIGHTS_EMBEDDER = "none"
    analysis.reset()
    yield
    analysis.reset()


@pytest.fixture(autouse=True)
def no_webhook_sends(monkeypatch):
    """Deliveries are recorded but never handed to a worker: nothing leaves the machine."""
    monkeypatch.setattr("integrations.webhooks._enqueue_on_commit", lambda ids: None)


def _answer_everything(api_client, capture, *, email: str, phone: str, name: str, survey, sms_survey, question):
    """A person with every kind of data: events, email and SMS invitations and their messages, answers with
    comments and a free-text answer, a case with replies, notes and the customer's SMS and email, webhook
    deliveries, provider events, an opt-out, idempotency records, notes, Autopilot, admin history."""
    contact_json = {"email": email, "phone": phone, "name": name, "properties": {"plan": "pro", "nickname": name}}
    with capture(execute=True):
        for n, event_type in enumerate(["purchase", "delivery"]):
            created = api_client.post(
                "/api/events/",
                {
                    "type": event_type,
                    "external_id": f"{email}-{n}",
                    "contact": contact_json,
                    "properties": {"store": "Lyon", "buyer": name, "buyer_email": email},
                },
                format="json",
                HTTP_IDEMPOTENCY_KEY=f"key-{email}-{n}",
            )
            assert created.status_code == 201, created.json()
        assert dispatch_due_invitations() == 2
    contact = Contact.objects.get(email=email)
    email_invitation = Invitation.objects.get(contact=contact, channel=Channel.EMAIL)
    sms_invitation = Invitation.objects.get(contact=contact, channel=Channel.SMS)
    with capture(execute=True):
        response = response_submit(invitation=email_invitation, score=2, comment=f"I am {name}, the parcel came late")
        response_submit(invitation=sms_invitation, score=9, comment=f"Great delivery, call me on {phone}")
    answer_save(response=response, question=question, value=f"Write to {email}")
    with capture(execute=True):
        analysis.comments_analyse_pending()
    follow_up = FollowUp.objects.get(response=response)
    agent = follow_up.assignee
    with capture(execute=True):
        follow_up_add_note(follow_up=follow_up, author=agent, body=f"Spoke to {name} at {phone}")
        follow_up_reply(follow_up=follow_up, author=agent, body=f"Dear {name}, sorry", channel=Channel.EMAIL)
        follow_up_reply(follow_up=follow_up, author=agent, body=f"Hi {name}, we refunded you", channel=Channel.SMS)
        inbound_sms_receive(sid=f"SM-in-{phone}", phone=phone, body=f"Thanks, {name} here")
        reply_to = Message.objects.filter(thread=f"follow_up:{follow_up.pk}", channel=Channel.EMAIL).get().reply_to
        inbound_email_receive(
            parsed=ParsedInbound(
                sender=email, recipients=[reply_to], subject=f"Re: {name}", text=f"From {name}", message_id=f"<{email}>"
            )
        )
        sent = Message.objects.get(pk=email_invitation.message_id)
        sendgrid_events_record(
            events=[{"event": "open", "sg_event_id": f"open-{sent.pk}", "closeloop_message_id": str(sent.public_id)}]
        )
        suppression_add(channel=Channel.EMAIL, recipient=email, reason=Suppression.Reason.UNSUBSCRIBE, source="link")
    response_annotate(response=response, notes=[NoteData(text=f"{name} is a VIP", user_email="care@closeloop.test")])
    # WhatsApp both ways (the channel's own flows are tested in notifications).
    MessageFactory(channel=Channel.WHATSAPP, recipient=phone, body_text=f"Hello {name}", status=Message.Status.SENT)
    InboundSms.objects.create(provider_message_id=f"WA-{phone}", channel=Channel.WHATSAPP, phone=phone, body=name)
    # What a connector brought in about them and what went back to its Zendesk ticket.
    connector = Connector.objects.get_or_create(name="Zendesk", kind=Connector.Kind.ZENDESK)[0]
    ConnectorDelivery.objects.create(
        connector=connector,
        delivery_id=f"zd-{contact.pk}",
        status=ConnectorDelivery.Status.EVENT_CREATED,
        payload={"requester": {"email": email, "name": name}},
        detail=f"Became a support_ticket_solved event for {email}",
        event=Event.objects.filter(contact=contact).first(),
    )
    ZendeskNote.objects.create(
        connector=connector,
        response=response,
        ticket_id="42",
        body=f"{name} answered 2",
        next_attempt_at=response.confirmed_at,
    )
    autopilot_membership_add(
        survey=survey, channel=Channel.EMAIL, data=ContactData(email=email), properties={"name": name}
    )
    ThemeCandidate.objects.create(
        key_phrases=["parcel"],
        size=1,
        typical_response_ids=[response.pk],
        typical_comments=[response.comment],
        discovered_at=response.confirmed_at,
    )
    LogEntry.objects.create(
        user=agent,
        content_type=ContentType.objects.get_for_model(Contact),
        object_id=str(contact.pk),
        object_repr=str(contact),
        action_flag=CHANGE,
        change_message=f'[{{"changed": {{"fields": ["Name"]}}, "name": "{name}"}}]',
    )
    return contact


@pytest.fixture
def world(api_client, django_capture_on_commit_callbacks, manager, agent, settings):
    settings.DASHBOARD_BREAKDOWN_PROPERTIES = ["event:store", "contact:plan"]
    # Both surveys go at once, at any hour: contact pressure and the SMS window are not what is tested here.
    settings.FATIGUE_SURVEY_DAYS = settings.FATIGUE_GLOBAL_DAYS = 0
    settings.SMS_SEND_WINDOW = "00:00-23:59"
    survey = SurveyFactory(kind="nps", name="Purchase NPS")
    sms_survey = SurveyFactory(kind="nps", name="Delivery NPS")
    TriggerRuleFactory(event_type="purchase", survey=survey, channel="email")
    TriggerRuleFactory(event_type="delivery", survey=sms_survey, channel="sms")
    RoutingRuleFactory(team=agent.team)
    question = Question.objects.create(survey=survey, kind=Question.Kind.FREE_TEXT, text={"en": "Anything else?"})
    WebhookSubscription.objects.create(
        name="CRM", url="https://crm.example.test/hook", secret="s", events=list(WebhookSubscription.Event.values)
    )
    build = dict(survey=survey, sms_survey=sms_survey, question=question)
    person = _answer_everything(
        api_client, django_capture_on_commit_callbacks, email=EMAIL, phone=PHONE, name=NAME, **build
    )
    other = _answer_everything(
        api_client,
        django_capture_on_commit_callbacks,
        email=OTHER_EMAIL,
        phone="+33698765432",
        name="Kept Customer",
        **build,
    )
    rollup_refresh_funnel()
    return person, other


def _found_anywhere(needles: list[str]) -> list[tuple[str, str, str]]:
    """(table, column, needle) for every column of every table holding one of `needles` (any case)."""
    found = []
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            for column in connection.introspection.get_table_description(cursor, table):
                for needle in needles:
                    cursor.execute(
                        f"SELECT COUNT(*) FROM {quote(table)} WHERE LOWER(CAST({quote(column.name)} AS TEXT)) LIKE %s",
                        [f"%{needle.lower()}%"],
                    )
                    if cursor.fetchone()[0]:
                        found.append((table, column.name, needle))
    return found


def _theme_rows() -> dict:
    fields = ("day", "survey_id", "channel", "event_type", "theme", "score")
    return {tuple(r[:-1]): r[-1] for r in ThemeRollup.objects.filter(count__gt=0).values_list(*fields, "count")}


def _funnel(rows) -> dict:
    stages = ("scheduled", "sent", "delivered", "opened", "responded", "bounced", "opted_out", "throttled")
    return {
        (row.day, row.survey_id, row.channel, row.event_type): tuple(getattr(row, s) for s in stages)
        for row in rows
        if any(getattr(row, s) for s in stages)
    }


def _assert_rollups_equal_recomputation():
    assert stored_score_rollup_rows() == full_score_rollup_rows()
    assert stored_loop_rollup_rows() == full_loop_rollup_rows()
    assert _theme_rows() == full_theme_rollup_rows()
    assert _funnel(FunnelRollup.objects.all()) == _funnel(_funnel_rows(Invitation.objects.all()))


NEEDLES = [EMAIL, PHONE, PHONE.removeprefix("+"), NAME, "Erasmus"]


def test_the_world_holds_the_person_everywhere_before_erasure(world):
    person, _ = world
    tables = {table for table, _, _ in _found_anywhere(NEEDLES)}

    # The fixture is what the erasure is proved against: every kind of data named in issue 20 holds them.
    assert {
        "surveys_contact", "surveys_event", "surveys_invitation", "surveys_response", "surveys_answer",
        "surveys_responsenote", "surveys_idempotencykey", "notifications_message", "notifications_inboundsms",
        "notifications_inboundemail", "notifications_suppression", "feedback_followupentry",
        "feedback_webhookdelivery", "insights_themecandidate", "delighted_autopilotmembership", "django_admin_log",
    } <= tables  # fmt: skip
    assert ProviderEvent.objects.filter(message__recipient=EMAIL).exists()
    assert Response.objects.filter(contact=person).exclude(themes=[]).exists()
    _assert_rollups_equal_recomputation()


def test_erasure_leaves_no_trace_and_keeps_anonymous_scores(world):
    person, other = world
    scores = sorted(Response.objects.filter(contact=person).values_list("score", flat=True))
    other_before = _found_anywhere([OTHER_EMAIL, "Kept Customer"])

    result = contact_erase(contact=person, keep_out=True, actor_label="test")

    assert _found_anywhere(NEEDLES) == []
    _assert_rollups_equal_recomputation()
    # Their answers stay as anonymous scores on a contact that holds nothing but its id.
    contact = Contact.objects.get(pk=person.pk)
    assert (contact.email, contact.phone, contact.name, contact.properties) == ("", "", "", {})
    assert contact.erased_at is not None
    responses = Response.objects.filter(contact=person).order_by("score")
    assert [(r.score, r.comment, r.themes, r.language, r.tags) for r in responses] == [
        (score, "", [], "", []) for score in scores
    ]
    assert not Invitation.objects.filter(contact=person, expires_at__gt=result_time(contact)).exists()
    case = FollowUp.objects.get(response__contact=person)
    assert list(case.entries.exclude(body="").values_list("kind", flat=True)) == []
    assert case.entries.filter(kind=FollowUpEntry.Kind.NOTE, author__isnull=False).count() == 1
    assert set(WebhookDelivery.objects.filter(payload__erased=True).values_list("status", flat=True)) == {"failed"}
    # Nothing of the other customer was touched.
    assert _found_anywhere([OTHER_EMAIL, "Kept Customer"]) == other_before
    assert result.mode == "anonymised"
    assert result.rows["contacts"] == 1
    assert result.rows["answers kept as anonymous scores"] == 2
    # Their SMS and WhatsApp texts, their email into the case, the case's reply address.
    assert result.rows["inbound messages"] == 4
    assert result.rows["autopilot memberships"] == 1
    assert result.rows["idempotency records"] == 2
    entry = AuditEntry.objects.get(action="erased")
    assert (entry.object_type, entry.object_id, entry.actor_label) == ("contact", str(person.pk), "test")
    assert entry.changes["mode"] == [None, "anonymised"]
    assert entry.changes["messages"] == [None, result.rows["messages"]]


def result_time(contact):
    return contact.erased_at + timedelta(seconds=1)


def test_hard_erasure_deletes_the_answers_and_uncounts_them(world):
    person, other = world
    total_before = sum(stored_score_rollup_rows().values())

    result = contact_erase(contact=person, hard=True)

    assert _found_anywhere(NEEDLES) == []
    _assert_rollups_equal_recomputation()
    assert not Contact.objects.filter(pk=person.pk).exists()
    assert list(Response.objects.values_list("contact", flat=True)) == [other.pk, other.pk]
    assert list(FollowUp.objects.values_list("response__contact", flat=True)) == [other.pk]
    # Their two answers left the totals and both breakdowns they were counted in ("event:store", "contact:plan").
    assert sum(stored_score_rollup_rows().values()) == total_before - 2 * 3
    assert (result.contact_id, result.mode) == (person.pk, "hard")
    entry = AuditEntry.objects.get(action="erased")
    assert (entry.object_id, entry.changes["mode"]) == (str(person.pk), [None, "hard"])
    assert result.rows == {
        "Zendesk notes": 1,
        "admin history": 1,
        "answers to additional questions": 1,
        "autopilot memberships": 1,
        "case notes and replies": 7,
        "cases": 1,
        "connector deliveries": 1,
        "contacts": 1,
        "events": 2,
        "idempotency records": 2,
        "inbound messages": 4,
        "invitations": 2,
        "messages": 8,
        "response notes": 1,
        "responses": 2,
        "suppressions kept as hashes": 1,
        "theme discovery examples": 1,
        "webhook deliveries": 11,
    }


def test_erased_person_who_asked_is_never_surveyed_again_and_opt_outs_stay_hashed(world, api_client):
    person, _ = world

    contact_erase(contact=person, keep_out=True)

    hashed = {
        recipient_hashed(channel=Channel.EMAIL, recipient=EMAIL),
        recipient_hashed(channel=Channel.SMS, recipient=PHONE),
        recipient_hashed(channel=Channel.WHATSAPP, recipient=PHONE),
    }
    stored = set(Suppression.objects.filter(source="erasure").values_list("recipient", flat=True))
    assert stored == hashed
    assert Suppression.objects.get(recipient=recipient_hashed(channel=Channel.EMAIL, recipient=EMAIL)).reason == (
        "unsubscribe"  # their opt-out keeps its reason
    )
    again = api_client.post(
        "/api/events/",
        {"type": "purchase", "contact": {"email": EMAIL.upper(), "phone": PHONE}},
        format="json",
    )
    assert again.status_code == 201
    assert again.json()["scheduled"] == []
    assert [skip["reason"] for skip in again.json()["skipped"]] == ["opted_out"]


def test_erasure_without_keep_out_lets_them_be_surveyed_again(world, api_client):
    person, _ = world

    contact_erase(contact=person)

    # Their email opt-out is kept (hashed); their phone had none, so a new SMS survey may go.
    assert Suppression.objects.filter(source="erasure").count() == 1
    again = api_client.post("/api/events/", {"type": "delivery", "contact": {"phone": PHONE}}, format="json")
    assert [item["channel"] for item in again.json()["scheduled"]] == ["sms"]


def test_export_holds_everything_stored_about_the_person_and_is_audited(world, manager):
    person, _ = world

    data = contact_export(contact=person, actor=manager)

    assert data["format"] == "closeloop.contact-export/1"
    assert (data["contact"]["email"], data["contact"]["phone"], data["contact"]["name"]) == (EMAIL, PHONE, NAME)
    assert [event["type"] for event in data["events"]] == ["purchase", "delivery"]
    assert sorted(invitation["channel"] for invitation in data["invitations"]) == ["email", "sms"]
    assert sorted(response["score"] for response in data["responses"]) == [2, 9]
    assert any(answer["value"] == f"Write to {EMAIL}" for r in data["responses"] for answer in r["answers"])
    assert [note["text"] for r in data["responses"] for note in r["notes"]] == [f"{NAME} is a VIP"]
    assert {m["channel"] for m in data["messages"]} == {"email", "sms", "whatsapp"}
    assert [(sms["channel"], sms["body"]) for sms in data["inbound_sms"]] == [
        ("sms", f"Thanks, {NAME} here"),
        ("whatsapp", NAME),
    ]
    assert [email["text"] for email in data["inbound_emails"]] == [f"From {NAME}"]
    assert [s["reason"] for s in data["suppressions"]] == ["unsubscribe"]
    assert [entry["body"] for entry in data["cases"][0]["thread"] if entry["by"] == "customer"] == [
        f"Thanks, {NAME} here",
        f"From {NAME}",
    ]
    assert {d["event_type"] for d in data["webhook_deliveries"]} >= {"survey_response.created", "follow_up.created"}
    assert [m["properties"] for m in data["autopilot_memberships"]] == [{"name": NAME}]
    assert [d["payload"] for d in data["connector_deliveries"]] == [{"requester": {"email": EMAIL, "name": NAME}}]
    assert [note["body"] for note in data["zendesk_notes"]] == [f"{NAME} answered 2"]
    entry = AuditEntry.objects.get(action="exported")
    assert (entry.actor, entry.object_id) == (manager, str(person.pk))
    assert entry.changes["responses"] == [None, 2]
    assert NAME not in str(entry.changes) and EMAIL not in str(entry.changes)


def test_contact_find_by_email_phone_and_id(world):
    person, _ = world

    assert contact_find(email=EMAIL.upper()) == person
    assert contact_find(phone="+33 6 12 34 98 76") == person
    assert contact_find(contact_id=person.pk) == person
    assert contact_find(email="nobody@example.test") is None


def test_a_failing_app_rolls_the_whole_erasure_back(world, monkeypatch):
    person, _ = world

    def broken(**kwargs):
        raise RuntimeError("webhooks down")

    monkeypatch.setattr("integrations.receivers.integrations_erase", broken)
    with pytest.raises(RuntimeError):
        contact_erase(contact=person)

    assert Contact.objects.get(pk=person.pk).email == EMAIL
    assert Message.objects.filter(recipient=EMAIL).exists()
    assert FollowUpEntry.objects.filter(body__contains=NAME).exists()
    assert not AuditEntry.objects.filter(action="erased").exists()
