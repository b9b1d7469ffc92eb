import base64
import json
import time

import pytest
import time_machine
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from django.test import override_settings
from twilio.request_validator import RequestValidator

from notifications.models import Channel, InboundSms, Message, ProviderEvent, Suppression
from notifications.services import unsubscribe_token_new
from notifications.signals import inbound_sms_received
from tests.factories import MessageFactory

pytestmark = pytest.mark.django_db

TWILIO_TOKEN = "twilio-test-token"


@pytest.fixture(scope="module")
def sendgrid_key():
    return ec.generate_private_key(ec.SECP256R1())


@pytest.fixture
def signed_sendgrid(client, sendgrid_key, settings):
    public = sendgrid_key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    settings.SENDGRID_WEBHOOK_PUBLIC_KEY = base64.b64encode(public).decode()

    def post(events, *, signature: str | None = None, timestamp: str | None = None):
        body = json.dumps(events)
        timestamp = str(int(time.time())) if timestamp is None else timestamp
        if signature is None:
            raw = sendgrid_key.sign((timestamp + body).encode(), ec.ECDSA(hashes.SHA256()))
            signature = base64.b64encode(raw).decode()
        headers = {
            "HTTP_X_TWILIO_EMAIL_EVENT_WEBHOOK_SIGNATURE": signature,
            "HTTP_X_TWILIO_EMAIL_EVENT_WEBHOOK_TIMESTAMP": timestamp,
        }
        return client.post("/webhooks/sendgrid/events/", body, content_type="application/json", **headers)

    return post


def _event(message: Message, kind: str, event_id: str, **extra) -> dict:
    return {
        "email": message.recipient,
        "timestamp": 1764000000,
        "event": kind,
        "sg_event_id": event_id,
        "sg_message_id": "sg0000000001.filter",
        "closeloop_message_id": str(message.public_id),
        **extra,
    }


def test_sendgrid_events_move_status_forward_only(signed_sendgrid):
    message = MessageFactory(status=Message.Status.SENT)
    response = signed_sendgrid([_event(message, "delivered", "e1"), _event(message, "processed", "e2")])
    assert response.status_code == 204
    message.refresh_from_db()
    assert message.status == Message.Status.DELIVERED
    assert ProviderEvent.objects.count() == 2


def test_sendgrid_duplicate_event_is_stored_once(signed_sendgrid):
    message = MessageFactory(status=Message.Status.SENT)
    signed_sendgrid([_event(message, "open", "e1")])
    signed_sendgrid([_event(message, "open", "e1")])
    assert ProviderEvent.objects.filter(provider="sendgrid", event_id="e1").count() == 1


@pytest.mark.parametrize(
    ("kind", "extra", "status", "reason"),
    [
        ("bounce", {"type": "bounce"}, Message.Status.BOUNCED, "bounce"),
        ("bounce", {"type": "blocked"}, Message.Status.BOUNCED, None),
        ("dropped", {"reason": "Bounced Address"}, Message.Status.FAILED, "dropped"),
        ("spamreport", {}, Message.Status.SENT, "spamreport"),
        ("unsubscribe", {}, Message.Status.SENT, "unsubscribe"),
        ("group_unsubscribe", {"asm_group_id": 1}, Message.Status.SENT, "unsubscribe"),
        ("deferred", {}, Message.Status.SENT, None),
        ("click", {"url": "http://x"}, Message.Status.SENT, None),
    ],
)
def test_sendgrid_events_suppress_and_cancel_pending(signed_sendgrid, kind, extra, status, reason):
    message = MessageFactory(status=Message.Status.SENT, recipient="ann@example.com")
    pending = MessageFactory(recipient="ann@example.com")
    signed_sendgrid([_event(message, kind, "e1", **extra)])
    message.refresh_from_db()
    pending.refresh_from_db()
    assert message.status == status
    assert list(Suppression.objects.values_list("reason", flat=True)) == ([reason] if reason else [])
    assert pending.status == (Message.Status.CANCELLED if reason else Message.Status.QUEUED)


@pytest.mark.parametrize(
    ("signature", "timestamp"),
    [("", None), ("bm90IGEgc2lnbmF0dXJl", None), ("%%%not-base64", None), (None, "")],
)
def test_sendgrid_bad_signature_is_403_and_stores_nothing(signed_sendgrid, signature, timestamp):
    message = MessageFactory(status=Message.Status.SENT)
    response = signed_sendgrid([_event(message, "bounce", "e1")], signature=signature, timestamp=timestamp)
    assert response.status_code == 403
    assert ProviderEvent.objects.count() == 0
    assert Suppression.objects.count() == 0
    assert Message.objects.get(id=message.id).status == Message.Status.SENT


def test_sendgrid_signature_over_another_body_is_403(signed_sendgrid, sendgrid_key, client):
    message = MessageFactory(status=Message.Status.SENT)
    raw = sendgrid_key.sign(f"{int(time.time())}[]".encode(), ec.ECDSA(hashes.SHA256()))
    response = signed_sendgrid([_event(message, "bounce", "e1")], signature=base64.b64encode(raw).decode())
    assert response.status_code == 403


@time_machine.travel("2026-11-24 12:00Z", tick=False)
@pytest.mark.parametrize(
    ("age", "status"),
    [(0, 204), (300, 204), (301, 403), (-300, 204), (-301, 403)],
)
def test_sendgrid_signed_timestamp_outside_the_tolerance_is_403(signed_sendgrid, age, status):
    message = MessageFactory(status=Message.Status.SENT)
    signed_at = str(int(time.time()) - age)
    response = signed_sendgrid([_event(message, "bounce", "e1", type="bounce")], timestamp=signed_at)
    assert response.status_code == status
    stored = 1 if status == 204 else 0
    assert (ProviderEvent.objects.count(), Suppression.objects.count()) == (stored, stored)


def test_sendgrid_captured_batch_replayed_later_is_403(signed_sendgrid, settings):
    settings.SENDGRID_WEBHOOK_TOLERANCE_SECONDS = 60
    message = MessageFactory(status=Message.Status.SENT)
    with time_machine.travel("2026-11-24 12:00Z", tick=False):
        signed_at = str(int(time.time()))
        assert signed_sendgrid([_event(message, "delivered", "e1")], timestamp=signed_at).status_code == 204
        assert signed_sendgrid([_event(message, "delivered", "e1")], timestamp=signed_at).status_code == 204
    with time_machine.travel("2026-11-24 12:01:01Z", tick=False):
        replayed = signed_sendgrid([_event(message, "delivered", "e1"), _event(message, "bounce", "e2")],
                                   timestamp=signed_at)  # fmt: skip
    assert replayed.status_code == 403
    assert list(ProviderEvent.objects.values_list("event_id", flat=True)) == ["e1"]
    assert Message.objects.get(id=message.id).status == Message.Status.DELIVERED


def test_sendgrid_signed_timestamp_that_is_not_a_number_is_403(signed_sendgrid):
    message = MessageFactory(status=Message.Status.SENT)
    response = signed_sendgrid([_event(message, "delivered", "e1")], timestamp="yesterday")
    assert response.status_code == 403
    assert ProviderEvent.objects.count() == 0


def test_sendgrid_without_configured_key_is_403(client, settings):
    settings.SENDGRID_WEBHOOK_PUBLIC_KEY = ""
    response = client.post(
        "/webhooks/sendgrid/events/", "[]", content_type="application/json",
        HTTP_X_TWILIO_EMAIL_EVENT_WEBHOOK_SIGNATURE="abc", HTTP_X_TWILIO_EMAIL_EVENT_WEBHOOK_TIMESTAMP="1",
    )  # fmt: skip
    assert response.status_code == 403


def test_sendgrid_signed_non_array_is_400(signed_sendgrid):
    assert signed_sendgrid({"event": "delivered"}).status_code == 400


def test_twilio_signature_published_test_vector():
    params = {"CallSid": "CA1234567890ABCDE", "Caller": "+12349013030", "Digits": "1234",
              "From": "+12349013030", "To": "+18005551212"}  # fmt: skip
    validator = RequestValidator("12345")
    url = "https://mycompany.com/myapp.php?foo=1&bar=2"
    assert validator.validate(url, params, "0/KCTR6DLpKmkAf8muzZqo1nDgQ=") is True


@pytest.fixture
def twilio_post(client):
    def post(path: str, params: dict, *, signature: str | None = None, site: str = "https://surveys.example.com"):
        with override_settings(TWILIO_AUTH_TOKEN=TWILIO_TOKEN, SITE_URL=site):
            if signature is None:
                signature = RequestValidator(TWILIO_TOKEN).compute_signature(f"{site}{path}", params)
            return client.post(path, params, HTTP_X_TWILIO_SIGNATURE=signature)

    return post


def test_twilio_status_callback_advances_and_dedupes(twilio_post):
    message = MessageFactory(channel=Channel.SMS, recipient="+33612345678", status=Message.Status.UNKNOWN)
    path = f"/webhooks/twilio/status/?m={message.public_id}"
    params = {"MessageSid": "SM1", "MessageStatus": "delivered", "AccountSid": "AC1"}
    assert twilio_post(path, params).status_code == 204
    assert twilio_post(path, params).status_code == 204
    twilio_post(path, {**params, "MessageStatus": "sent"})
    message.refresh_from_db()
    assert (message.status, message.provider_message_id) == (Message.Status.DELIVERED, "SM1")
    assert ProviderEvent.objects.filter(provider="twilio").count() == 2


def test_twilio_status_21610_suppresses_the_number(twilio_post):
    message = MessageFactory(channel=Channel.SMS, recipient="+33612345678", status=Message.Status.SENT)
    params = {"MessageSid": "SM1", "MessageStatus": "undelivered", "ErrorCode": "21610"}
    twilio_post(f"/webhooks/twilio/status/?m={message.public_id}", params)
    message.refresh_from_db()
    assert (message.status, message.last_error) == (Message.Status.UNDELIVERED, "Twilio error 21610")
    assert Suppression.objects.get().reason == "stop"


def test_twilio_bad_signature_is_403_and_changes_nothing(twilio_post):
    message = MessageFactory(channel=Channel.SMS, recipient="+33612345678", status=Message.Status.SENT)
    path = f"/webhooks/twilio/status/?m={message.public_id}"
    assert twilio_post(path, {"MessageSid": "SM1", "MessageStatus": "failed"}, signature="AAAA").status_code == 403
    assert twilio_post(path, {"MessageSid": "SM1", "MessageStatus": "failed"}, signature="").status_code == 403
    assert twilio_post("/webhooks/twilio/sms/", {"MessageSid": "SM2", "From": "+1", "Body": "STOP"},
                       signature="AAAA").status_code == 403  # fmt: skip
    assert Message.objects.get(id=message.id).status == Message.Status.SENT
    assert ProviderEvent.objects.count() == InboundSms.objects.count() == Suppression.objects.count() == 0


def test_twilio_signature_checked_against_site_url_not_host(client):
    # Behind a TLS proxy Django sees http://internal; Twilio signed the public https URL.
    params = {"MessageSid": "SM9", "From": "+33612345678", "Body": "hello"}
    signature = RequestValidator(TWILIO_TOKEN).compute_signature("https://surveys.example.com/webhooks/twilio/sms/",
                                                                 params)  # fmt: skip
    with override_settings(TWILIO_AUTH_TOKEN=TWILIO_TOKEN, SITE_URL="https://surveys.example.com"):
        ok = client.post("/webhooks/twilio/sms/", params, HTTP_X_TWILIO_SIGNATURE=signature, HTTP_HOST="internal:8000")
    assert ok.status_code == 200


def test_twilio_inbound_stop_suppresses_and_cancels_pending_sms(twilio_post):
    pending = MessageFactory(channel=Channel.SMS, recipient="+33612345678")
    email = MessageFactory(channel=Channel.EMAIL, recipient="ann@example.com")
    response = twilio_post("/webhooks/twilio/sms/", {"MessageSid": "SM1", "From": "+33612345678", "Body": "Stop"})
    assert response.status_code == 200
    assert response["Content-Type"] == "text/xml"
    assert Message.objects.get(id=pending.id).status == Message.Status.CANCELLED
    assert Message.objects.get(id=email.id).status == Message.Status.QUEUED
    assert Suppression.objects.get().recipient == "+33612345678"
    twilio_post("/webhooks/twilio/sms/", {"MessageSid": "SM2", "From": "+33612345678", "Body": "START"})
    assert Suppression.objects.count() == 0


def test_twilio_inbound_help_answers_help_text(twilio_post, outbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        twilio_post("/webhooks/twilio/sms/", {"MessageSid": "SM1", "From": "+33612345678", "Body": "HELP"})
    assert [(entry.recipient, entry.body_text) for entry in outbox] == [
        ("+33612345678", "Closeloop surveys: reply with a number to answer. Reply STOP to opt out.")
    ]


def test_twilio_inbound_aide_answers_the_help_text_in_french(twilio_post, outbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        twilio_post("/webhooks/twilio/sms/", {"MessageSid": "SM1", "From": "+33612345678", "Body": "Aide"})
    assert [entry.body_text for entry in outbox] == [
        "Questionnaires Closeloop : répondez par un chiffre pour donner votre note. STOP pour ne plus recevoir."
    ]


@pytest.mark.parametrize(("setting", "answers"), [("", []), ("Text ACME for help", ["Text ACME for help"])])
def test_twilio_inbound_help_follows_sms_help_text(
    twilio_post, outbox, django_capture_on_commit_callbacks, settings, setting, answers
):
    settings.SMS_HELP_TEXT = setting
    with django_capture_on_commit_callbacks(execute=True):
        twilio_post("/webhooks/twilio/sms/", {"MessageSid": "SM1", "From": "+33612345678", "Body": "AIDE"})
    assert [entry.body_text for entry in outbox] == answers


def test_twilio_inbound_reply_is_stored_once_and_announced(twilio_post, django_capture_on_commit_callbacks):
    received = []
    inbound_sms_received.connect(lambda **kw: received.append((kw["phone"], kw["body"])), weak=False,
                                 dispatch_uid="test-inbound")  # fmt: skip
    try:
        params = {"MessageSid": "SM1", "From": "+33612345678", "Body": "the parcel was late"}
        with django_capture_on_commit_callbacks(execute=True):
            twilio_post("/webhooks/twilio/sms/", params)
            twilio_post("/webhooks/twilio/sms/", params)
    finally:
        inbound_sms_received.disconnect(dispatch_uid="test-inbound")
    assert received == [("+33612345678", "the parcel was late")]
    assert InboundSms.objects.get().keyword == ""


def test_unsubscribe_get_confirms_and_records_nothing(client):
    token, token_hash = unsubscribe_token_new()
    MessageFactory(recipient="ann@example.com", unsubscribe_hash=token_hash, status=Message.Status.SENT)
    response = client.get(f"/u/{token}/")
    assert response.status_code == 200
    assert b'<form method="post">' in response.content
    assert b"ann@example.com" not in response.content
    assert Suppression.objects.count() == 0


def test_unsubscribe_one_click_post_without_csrf_suppresses(client):
    token, token_hash = unsubscribe_token_new()
    MessageFactory(recipient="ann@example.com", unsubscribe_hash=token_hash, status=Message.Status.SENT)
    pending = MessageFactory(recipient="ann@example.com")
    from django.test import Client

    response = Client(enforce_csrf_checks=True).post(
        f"/u/{token}/", "List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 200
    assert (Suppression.objects.get().recipient, Suppression.objects.get().source) == ("ann@example.com", "link")
    assert Message.objects.get(id=pending.id).status == Message.Status.CANCELLED


def test_unsubscribe_unknown_token_is_404(client):
    assert client.get("/u/nope/").status_code == 404
    assert client.post("/u/nope/").status_code == 404
    assert Suppression.objects.count() == 0


def test_unsubscribe_page_speaks_french_to_a_french_browser(client):
    token, token_hash = unsubscribe_token_new()
    MessageFactory(recipient="zoe@example.com", unsubscribe_hash=token_hash, status=Message.Status.SENT)
    page = client.get(f"/u/{token}/", HTTP_ACCEPT_LANGUAGE="fr-FR,fr;q=0.9").content.decode()
    assert "Ne plus recevoir ces questionnaires à cette adresse ?" in page
    assert ">Me désinscrire</button>" in page
    done = client.post(f"/u/{token}/", HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert "Vous êtes désinscrit. Vous ne recevrez plus ces questionnaires." in done
