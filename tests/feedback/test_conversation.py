"""A case as a conversation: replies both ways on email and SMS, snooze, bulk changes, canned replies."""

from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from feedback.models import FollowUp, FollowUpEntry
from feedback.selectors import follow_up_list
from feedback.services.cases import follow_up_set_status
from feedback.services.conversation import (
    canned_reply_render,
    canned_reply_save,
    fill_placeholders,
    follow_up_customer_message,
    follow_up_reply,
    follow_up_reply_channels,
    follow_up_snooze,
    follow_ups_bulk_change,
)
from notifications.models import InboundSms, Message, ReplyAddress
from notifications.services.inbound import inbound_sms_receive
from surveys.models import Response
from tests.factories import (
    ContactFactory,
    EventFactory,
    FollowUpFactory,
    InvitationFactory,
    ResponseFactory,
    TeamFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db
PHONE = "+33612345678"


@pytest.fixture
def care():
    return TeamFactory(name="Care", reply_from_email="care@shop.test", time_zone="Europe/Paris")


@pytest.fixture
def marie(care):
    return UserFactory(email="marie@shop.test", first_name="Marie", last_name="Dupont", team=care)


@pytest.fixture
def sms_case(care, marie):
    """Ana answered 2 to an SMS survey whose link is still open; Marie works her case."""
    contact = ContactFactory(name="Ana Lima", email="ana@example.com", phone=PHONE, locale="fr")
    invitation = InvitationFactory(contact=contact, channel="sms", locale="fr")
    return FollowUpFactory(team=care, assignee=marie, response=ResponseFactory(invitation=invitation, score=2))


def test_reply_by_email_carries_the_agents_name_the_team_address_and_the_case_reply_to(
    sms_case, marie, outbox, django_capture_on_commit_callbacks, settings
):
    settings.INBOUND_EMAIL_DOMAIN = "reply.shop.test"
    with django_capture_on_commit_callbacks(execute=True):
        entry = follow_up_reply(follow_up=sms_case, author=marie, body="Bonjour Ana", channel="email")

    token = ReplyAddress.objects.get(thread=f"follow_up:{sms_case.pk}").token
    [sent] = outbox
    assert (sent.channel, sent.recipient, sent.from_email, sent.reply_to, sent.thread) == (
        "email",
        "ana@example.com",
        '"Marie Dupont (Care)" <care@shop.test>',
        f"reply+{token}@reply.shop.test",
        f"follow_up:{sms_case.pk}",
    )
    assert sent.subject == "À propos de votre avis sur Acme"
    assert (entry.kind, entry.channel, entry.author) == ("reply", "email", marie)
    sms_case.refresh_from_db()
    assert sms_case.status == FollowUp.Status.WAITING


def test_reply_defaults_to_the_channel_the_customer_answered_on(sms_case, marie):
    entry = follow_up_reply(follow_up=sms_case, author=marie, body="Bonjour")
    assert (entry.channel, entry.message.recipient, entry.message.thread) == ("sms", PHONE, f"follow_up:{sms_case.pk}")


def test_a_web_widget_answer_is_replied_to_by_email(care, marie):
    contact = ContactFactory(email="ana@example.com", phone=PHONE)
    case = FollowUpFactory(
        team=care, response=ResponseFactory(invitation=InvitationFactory(contact=contact, channel="web"))
    )

    entry = follow_up_reply(follow_up=case, author=marie, body="Hello Ana")

    assert (entry.channel, entry.message.recipient) == ("email", "ana@example.com")


@pytest.mark.parametrize(
    ("channel", "body", "field"),
    [("fax", "Hello", "channel"), ("email", "   ", "body"), ("sms", "x" * 1601, "body")],
)
def test_reply_refuses_bad_input_and_sends_nothing(sms_case, marie, channel, body, field):
    with pytest.raises(ValidationError) as caught:
        follow_up_reply(follow_up=sms_case, author=marie, body=body, channel=channel)
    assert list(caught.value.message_dict) == [field]
    assert Message.objects.count() == 0


def test_reply_by_email_without_an_address_is_refused(care, marie):
    case = FollowUpFactory(team=care, response=ResponseFactory(invitation__contact=ContactFactory(email="")))
    with pytest.raises(ValidationError) as caught:
        follow_up_reply(follow_up=case, author=marie, body="Hello", channel="email")
    assert caught.value.message_dict == {"channel": ["The customer cannot be contacted by email: no email address."]}


def test_customer_sms_before_any_agent_reply_is_a_survey_answer(sms_case, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        inbound_sms_receive(sid="SM1", phone=PHONE, body="3")

    assert Response.objects.get(pk=sms_case.response_id).score == 3
    assert not sms_case.entries.filter(kind=FollowUpEntry.Kind.CUSTOMER_REPLY).exists()


def test_customer_sms_after_an_agent_wrote_goes_to_the_case_and_never_changes_the_score(
    sms_case, marie, outbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        follow_up_reply(follow_up=sms_case, author=marie, body="Can I call you at 3?", channel="sms")
    outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        inbound_sms_receive(sid="SM2", phone=PHONE, body="3")

    assert Response.objects.get(pk=sms_case.response_id).score == 2
    entry = sms_case.entries.get(kind=FollowUpEntry.Kind.CUSTOMER_REPLY)
    assert (entry.body, entry.channel) == ("3", "sms")
    sms_case.refresh_from_db()
    assert sms_case.status == FollowUp.Status.IN_PROGRESS
    # No survey prompt went back; the assignee heard about it.
    assert [(sent.channel, sent.recipient) for sent in outbox] == [("email", "marie@shop.test")]


def test_a_later_survey_sms_takes_the_number_back_from_the_conversation(
    sms_case, marie, django_capture_on_commit_callbacks
):
    follow_up_reply(follow_up=sms_case, author=marie, body="Hello", channel="sms")
    later = InvitationFactory(contact=sms_case.response.contact, channel="sms")
    Message.objects.create(channel="sms", recipient=PHONE, body_text="How likely...?")
    with django_capture_on_commit_callbacks(execute=True):
        inbound_sms_receive(sid="SM3", phone=PHONE, body="9")

    assert Response.objects.get(invitation=later).score == 9
    assert not sms_case.entries.filter(kind=FollowUpEntry.Kind.CUSTOMER_REPLY).exists()


def test_customer_message_newer_than_the_resolution_reopens_and_notifies(
    sms_case, outbox, django_capture_on_commit_callbacks
):
    resolved_at = timezone.now() - timedelta(hours=1)
    FollowUp.objects.filter(pk=sms_case.pk).update(status="resolved", resolved_at=resolved_at, outcome="recovered")
    with django_capture_on_commit_callbacks(execute=True):
        follow_up_customer_message(follow_up_id=sms_case.pk, channel="email", body="Still broken")

    sms_case.refresh_from_db()
    assert (sms_case.status, sms_case.resolved_at, sms_case.outcome) == ("in_progress", None, "")
    assert list(sms_case.entries.values_list("kind", flat=True)) == ["customer", "reopened"]
    assert [sent.recipient for sent in outbox] == ["marie@shop.test"]
    assert "reopened" in outbox[0].subject + outbox[0].body_text


def test_customer_message_older_than_the_resolution_does_not_reopen(sms_case):
    FollowUp.objects.filter(pk=sms_case.pk).update(status="resolved", resolved_at=timezone.now(), outcome="recovered")
    follow_up_customer_message(
        follow_up_id=sms_case.pk, channel="email", body="Thanks", received_at=timezone.now() - timedelta(minutes=5)
    )
    sms_case.refresh_from_db()
    assert sms_case.status == "resolved"
    assert sms_case.entries.get().kind == "customer"


def test_choosing_the_status_the_case_has_is_not_an_error(sms_case, marie):
    follow_up_set_status(follow_up=sms_case, actor=marie, status="new")
    sms_case.refresh_from_db()
    assert sms_case.status == "new"
    assert not sms_case.entries.exists()


def test_snooze_hides_from_work_until_the_team_opens_and_the_customer_wakes_it(sms_case, marie):
    until = timezone.now().date() + timedelta(days=2)
    follow_up_snooze(follow_up=sms_case, actor=marie, until=until)

    sms_case.refresh_from_db()
    local = sms_case.snoozed_until.astimezone(__import__("zoneinfo").ZoneInfo("Europe/Paris"))
    assert (local.date(), local.hour) == (until, 9)
    assert list(follow_up_list(user=marie)) == []
    assert list(follow_up_list(user=marie, view="snoozed")) == [sms_case]

    follow_up_customer_message(follow_up_id=sms_case.pk, channel="sms", body="Any news?")
    sms_case.refresh_from_db()
    assert sms_case.snoozed_until is None
    assert list(follow_up_list(user=marie)) == [sms_case]


@pytest.mark.parametrize("days", [0, -1, 400])
def test_snooze_needs_a_day_after_today_within_a_year(sms_case, marie, days):
    with pytest.raises(ValidationError):
        follow_up_snooze(follow_up=sms_case, actor=marie, until=date.today() + timedelta(days=days))


def test_bulk_change_claims_each_case_and_reports_refusals(care, marie):
    colleague_team = TeamFactory(name="Billing")
    mine = FollowUpFactory(team=care)
    other = FollowUpFactory(team=care)
    theirs = FollowUpFactory(team=colleague_team)

    changed, refused = follow_ups_bulk_change(actor=marie, follow_ups=[mine, other, theirs], action="claim")

    assert changed == 2
    assert refused == [f"#{theirs.pk}: marie@shop.test is not in team Billing."]
    assert set(FollowUp.objects.filter(assignee=marie)) == {mine, other}


def test_fill_placeholders_keeps_unknown_ones_for_the_agent_to_see():
    assert fill_placeholders("Hi {first_name}, order {order_id} {missing}", {"first_name": "Ana", "order_id": 42}) == (
        "Hi Ana, order 42 {missing}"
    )


def test_canned_reply_fills_names_and_event_properties(care, sms_case):
    event = EventFactory(contact=sms_case.response.contact, external_id="A-1042", properties={"store": "Lyon"})
    sms_case.response.invitation.event = event
    sms_case.response.invitation.save()
    canned = canned_reply_save(
        team=care, locale="fr", title="Retard", body="Bonjour {first_name}, commande {order_id} ({store})."
    )
    assert canned_reply_render(canned=canned, follow_up=sms_case) == "Bonjour Ana, commande A-1042 (Lyon)."


def test_canned_reply_save_refuses_a_duplicate_title_and_bad_locale(care):
    canned_reply_save(team=care, locale="en", title="Late", body="Sorry")
    with pytest.raises(ValidationError) as caught:
        canned_reply_save(team=care, locale="de", title="late", body="")
    assert set(caught.value.message_dict) == {"locale", "body"}
    with pytest.raises(ValidationError) as caught:
        canned_reply_save(team=care, locale="en", title="LATE", body="Again")
    assert caught.value.message_dict == {"title": ["Team Care already has a en reply titled LATE."]}


@pytest.fixture
def whatsapp_case(care, marie):
    """Ana answered 2 to a WhatsApp survey and wrote her reason there an hour ago: her session is open."""
    contact = ContactFactory(name="Ana Lima", email="", phone=PHONE, locale="fr")
    invitation = InvitationFactory(contact=contact, channel="whatsapp", locale="fr")
    InboundSms.objects.create(provider_message_id="SM1", channel="whatsapp", phone=PHONE, body="Colis en retard")
    InboundSms.objects.filter(provider_message_id="SM1").update(received_at=timezone.now() - timedelta(hours=1))
    return FollowUpFactory(team=care, assignee=marie, response=ResponseFactory(invitation=invitation, score=2))


def test_reply_on_whatsapp_inside_the_session_goes_free_form_on_the_case_thread(
    whatsapp_case, marie, outbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        entry = follow_up_reply(follow_up=whatsapp_case, author=marie, body="Bonjour Ana, nous regardons.")
    [sent] = outbox
    assert (sent.channel, sent.recipient, sent.body_text, sent.template, sent.thread) == (
        "whatsapp", PHONE, "Bonjour Ana, nous regardons.", {}, f"follow_up:{whatsapp_case.pk}"
    )  # fmt: skip
    assert entry.channel == "whatsapp"


def test_reply_channels_list_whatsapp_first_and_say_when_its_session_closed(whatsapp_case):
    assert [(c["channel"], c["problem"]) for c in follow_up_reply_channels(whatsapp_case)] == [
        ("whatsapp", ""), ("email", "no email address"), ("sms", "")
    ]  # fmt: skip
    InboundSms.objects.update(received_at=timezone.now() - timedelta(hours=25))
    closed = (
        "no open WhatsApp session: WhatsApp accepts a reply only within 24 hours of the customer's last WhatsApp"
        " message"
    )
    assert follow_up_reply_channels(whatsapp_case)[0] == {
        "channel": "whatsapp", "label": "WhatsApp", "address": PHONE, "problem": closed
    }  # fmt: skip
    with pytest.raises(ValidationError) as refused:
        follow_up_reply(follow_up=whatsapp_case, author=None, body="Bonjour")
    assert refused.value.message_dict == {"channel": [f"The customer cannot be contacted by whatsapp: {closed}."]}
    assert not Message.objects.exists()


def test_a_whatsapp_message_of_the_customer_goes_to_their_case_on_whatsapp(whatsapp_case, marie, outbox):
    follow_up_reply(follow_up=whatsapp_case, author=marie, body="Bonjour Ana")
    inbound_sms_receive(sid="SM2", phone=PHONE, body="Merci, reçu aujourd'hui", channel="whatsapp")
    entry = FollowUpEntry.objects.filter(follow_up=whatsapp_case, kind=FollowUpEntry.Kind.CUSTOMER_REPLY).get()
    assert (entry.channel, entry.body) == ("whatsapp", "Merci, reçu aujourd'hui")
    # The same words by SMS belong to no WhatsApp conversation.
    inbound_sms_receive(sid="SM3", phone=PHONE, body="Et par SMS", channel="sms")
    assert FollowUpEntry.objects.filter(kind=FollowUpEntry.Kind.CUSTOMER_REPLY).count() == 1
