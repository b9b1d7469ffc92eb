"""The WhatsApp loop through HTTP and the real `twilio` SDK, against the local fake Twilio: an event asks by
WhatsApp with the approved template, the customer taps a quick-reply score, writes the reason, an agent answers
on the case inside the 24-hour session and is refused after it, STOP keeps the number off WhatsApp."""

import json
from datetime import timedelta

import pytest
import time_machine
from django.test import override_settings
from django.utils import timezone
from twilio.request_validator import RequestValidator

from feedback.models import FollowUp, FollowUpEntry
from notifications.models import Channel, InboundSms, Message, Suppression
from surveys.models import Invitation, Response, TriggerRule
from surveys.tasks import dispatch_due_invitations
from surveys.tokens import invitation_token
from tests.factories import RoutingRuleFactory, TriggerRuleFactory
from tests.fakes.providers import FakeProviders, Scripted

pytestmark = pytest.mark.django_db

SITE = "https://surveys.example.com"
TOKEN = "twilio-test-token"
ACCOUNT = "AC" + "0" * 32
CONTENT_SID = "HX" + "b" * 32
SENDER = "+15005550006"
PHONE = "+33612345678"


@pytest.fixture
def fake_twilio():
    fake = FakeProviders().start()
    # Quiet hours apply to WhatsApp as to SMS: the test runs at 11:00 in Paris, inside the window.
    clock = time_machine.travel("2026-12-02 10:00:00+00:00", tick=True)
    clock.start()
    with override_settings(
        SITE_URL=SITE,
        TWILIO_API_BASE_URL=fake.url,
        TWILIO_ACCOUNT_SID=ACCOUNT,
        TWILIO_AUTH_TOKEN=TOKEN,
        TWILIO_WHATSAPP_FROM=SENDER,
        TWILIO_WHATSAPP_CONTENT_SID=CONTENT_SID,
        TWILIO_WHATSAPP_CONTENT_VARIABLES=["question", "link"],
        NOTIFICATIONS_TRANSPORTS={
            "email": "notifications.transports.locmem.LocmemTransport",
            "sms": "notifications.transports.twilio.TwilioTransport",
            "whatsapp": "notifications.transports.whatsapp.TwilioWhatsAppTransport",
        },
    ):
        yield fake
    clock.stop()
    fake.stop()


@pytest.fixture
def whatsapp_in(client, django_capture_on_commit_callbacks):
    """Twilio posting a customer's WhatsApp message to the webhook, signed as Twilio signs it."""
    sids = iter(range(1, 1000))

    def post(params: dict, *, path: str = "/webhooks/twilio/whatsapp/"):
        params = {"MessageSid": f"SMin{next(sids):04d}", "From": f"whatsapp:{PHONE}", "To": f"whatsapp:{SENDER}",
                  "AccountSid": ACCOUNT, **params}  # fmt: skip
        signature = RequestValidator(TOKEN).compute_signature(f"{SITE}{path}", params)
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(path, params, HTTP_X_TWILIO_SIGNATURE=signature)

    return post


def _event(api_client, django_capture_on_commit_callbacks) -> Invitation:
    created = api_client.post(
        "/api/events/",
        {"type": "delivered", "external_id": "order-7", "contact": {"phone": PHONE, "name": "Ana", "locale": "en"}},
        format="json",
    )
    assert created.status_code == 201, created.content
    assert created.json()["scheduled"][0]["channel"] == "whatsapp"
    with django_capture_on_commit_callbacks(execute=True):
        assert dispatch_due_invitations() == 1
    return Invitation.objects.get()


def _sent(fake) -> list[dict]:
    return [request.form() for request in fake.twilio()]


def test_a_whatsapp_survey_is_answered_by_quick_reply_and_reason_and_the_agent_replies_in_the_session(
    fake_twilio, api_client, whatsapp_in, agent, django_capture_on_commit_callbacks
):
    TriggerRuleFactory(event_type="delivered", survey__kind="nps", channel=TriggerRule.ChannelChoice.WHATSAPP)
    RoutingRuleFactory(team=agent.team)
    invitation = _event(api_client, django_capture_on_commit_callbacks)

    [template] = _sent(fake_twilio)
    link = f"{SITE}/s/{invitation_token(invitation.public_id)}/"
    question = "How likely are you to recommend Acme to a friend or colleague?"
    assert template["To"] == f"whatsapp:{PHONE}"
    assert template["From"] == f"whatsapp:{SENDER}"
    assert template["ContentSid"] == CONTENT_SID
    assert json.loads(template["ContentVariables"]) == {"1": question, "2": link}
    assert "Body" not in template
    message = Message.objects.get()
    assert template["StatusCallback"] == f"{SITE}/webhooks/twilio/status/?m={message.public_id}"
    assert (message.channel, message.status, message.template["content_sid"]) == ("whatsapp", "sent", CONTENT_SID)

    # The customer taps the template's "3" quick-reply button: its id is the score, its text what they saw.
    assert (
        whatsapp_in({"Body": "3 - Not likely", "ButtonText": "3 - Not likely", "ButtonPayload": "3"}).status_code == 200
    )
    response = Response.objects.get()
    assert (response.score, response.comment) == (3, "")
    prompt = _sent(fake_twilio)[-1]
    # Inside the session the customer's message opened: a free-form message, no template.
    assert (prompt["To"], prompt["Body"], "ContentSid" in prompt) == (
        f"whatsapp:{PHONE}",
        "What is the main reason for your score?",
        False,
    )

    whatsapp_in({"Body": "The parcel came late and nobody answered the phone."})
    response.refresh_from_db()
    assert response.comment == "The parcel came late and nobody answered the phone."
    assert _sent(fake_twilio)[-1]["Body"] == "Thank you for your feedback!"
    assert InboundSms.objects.filter(channel=Channel.WHATSAPP).count() == 2

    follow_up = FollowUp.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        replied = api_client.post(
            f"/api/follow-ups/{follow_up.pk}/replies/", {"text": "Sorry Ana, we are on it."}, format="json"
        )
    assert replied.status_code == 201, replied.content
    assert replied.json()["channel"] == "whatsapp"
    reply = _sent(fake_twilio)[-1]
    assert (reply["To"], reply["Body"]) == (f"whatsapp:{PHONE}", "Sorry Ana, we are on it.")

    # The customer's answer on WhatsApp goes to the case, not to the survey.
    whatsapp_in({"Body": "Thanks, it arrived today."})
    assert (
        FollowUpEntry.objects.filter(follow_up=follow_up, kind=FollowUpEntry.Kind.CUSTOMER_REPLY, channel="whatsapp")
        .values_list("body", flat=True)
        .get()
        == "Thanks, it arrived today."
    )
    assert Response.objects.get().comment == "The parcel came late and nobody answered the phone."

    # A day and a minute after the customer's last message the session is closed: the reply is refused, unsent.
    sends = len(fake_twilio.twilio())
    with time_machine.travel(timezone.now() + timedelta(hours=24, minutes=1)):
        refused = api_client.post(
            f"/api/follow-ups/{follow_up.pk}/replies/", {"text": "Anything else?", "channel": "whatsapp"}, format="json"
        )
    assert refused.status_code == 422
    assert refused.json()["errors"] == {
        "channel": [
            "The customer cannot be contacted by whatsapp: no open WhatsApp session: WhatsApp accepts a reply only"
            " within 24 hours of the customer's last WhatsApp message."
        ]
    }
    assert len(fake_twilio.twilio()) == sends


def test_stop_on_whatsapp_keeps_the_number_off_whatsapp_only(
    fake_twilio, api_client, whatsapp_in, django_capture_on_commit_callbacks
):
    TriggerRuleFactory(event_type="delivered", survey__kind="nps", channel=TriggerRule.ChannelChoice.WHATSAPP)
    _event(api_client, django_capture_on_commit_callbacks)

    # STOP as a quick-reply button of the template (its id says it) or typed: the same opt-out.
    whatsapp_in({"Body": "Stop these messages", "ButtonText": "Stop these messages", "ButtonPayload": "STOP"})

    assert list(Suppression.objects.values_list("channel", "recipient", "reason")) == [
        ("whatsapp", PHONE, Suppression.Reason.STOP)
    ]
    assert InboundSms.objects.get().keyword == "stop"
    assert not Response.objects.exists()
    # Nothing answers a STOP on WhatsApp (Twilio's SMS opt-out reply has no WhatsApp twin), and nothing asks again.
    assert len(fake_twilio.twilio()) == 1
    second = api_client.post(
        "/api/events/", {"type": "delivered", "external_id": "order-8", "contact": {"phone": PHONE}}, format="json"
    )
    assert second.json()["skipped"] == [{"trigger_rule": TriggerRule.objects.get().pk, "reason": "opted_out"}]


def test_a_free_form_message_twilio_refuses_outside_the_session_fails_without_retry(fake_twilio, whatsapp_in):
    from notifications.services.queue import message_queue
    from notifications.services.sending import message_send

    whatsapp_in({"Body": "Hello?"})
    fake_twilio.script["twilio"].append(
        Scripted(400, {"code": 63016, "message": "Failed to send freeform message", "status": 400})
    )
    message = message_queue(channel=Channel.WHATSAPP, recipient=PHONE, body_text="Late answer")
    message_send(message_id=message.id)

    message.refresh_from_db()
    assert message.status == Message.Status.FAILED
    assert message.last_error == (
        "Twilio 400 error 63016: outside the customer's 24-hour WhatsApp session, only an approved template may be sent"
    )
    assert len(fake_twilio.twilio()) == 1
