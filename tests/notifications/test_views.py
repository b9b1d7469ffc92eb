import base64
import json
import time
from urllib.parse import urlencode

import pytest
import time_machine
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from django.db import connection
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext
from twilio.request_validator import RequestValidator

from notifications.models import Channel, InboundSms, Message, ProviderEvent, Suppression
from notifications.services.emails import unsubscribe_token_new
from notifications.signals import inbound_sms_received
from notifications.views import EMPTY_TWIML
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


def test_sendgrid_duplicate_event_is_answered_204_and_applied_once(signed_sendgrid):
    message = MessageFactory(status=Message.Status.SENT)
    first = signed_sendgrid([_event(message, "delivered", "e1"), _event(message, "open", "e2")])
    # SendGrid retries a batch it got no 2xx for: the same events again, as far as it knows.
    with CaptureQueriesContext(connection) as replay:
        again = signed_sendgrid([_event(message, "delivered", "e1"), _event(message, "open", "e2")])
    # A 2xx for the replay too, or SendGrid keeps retrying it for 24 hours.
    assert (first.status_code, again.status_code) == (204, 204)
    message.refresh_from_db()
    assert message.status == Message.Status.DELIVERED
    # The replay moves no status: the message row is not written again.
    assert [q["sql"] for q in replay if q["sql"].startswith('UPDATE "notifications_message"')] == []
    assert sorted(ProviderEvent.objects.values_list("event_id", "kind")) == [("e1", "delivered"), ("e2", "open")]


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


# A real SMS webhook Twilio sent, as published with its auth token in twilio-ruby's request validator spec:
# its parameters in the order Twilio posted them (not sorted), the old SmsSid names included.
TWILIO_CAPTURED_TOKEN = "2bd9e9638872de601313dc77410d3b23"
TWILIO_CAPTURED_SMS = [
    ("ToState", "CA"), ("FromState", "CA"), ("AccountSid", "ACba8bc05eacf94afdae398e642c9cc32d"),
    ("SmsMessageSid", "SM2003cbd5e6a3701999aa3e5f20ff2787"), ("Body", "Orly"), ("From", "+14159354345"),
    ("FromCity", "SAN FRANCISCO"), ("SmsStatus", "received"), ("FromZip", "94107"), ("FromCountry", "US"),
    ("To", "+14158141819"), ("ToCity", "SAN FRANCISCO"), ("ToZip", "94105"), ("ToCountry", "US"),
    ("ApiVersion", "2010-04-01"), ("SmsSid", "SM2003cbd5e6a3701999aa3e5f20ff2787"),
]  # fmt: skip
TWILIO_CAPTURED_SIGNATURE = "mxeiv65lEe0b8L6LdVw2jgJi8yw="


def _twilio_request(path: str, pairs: list[tuple[str, str]], signature: str):
    """A POST as Django gets it: the form body in the order given, the signature header."""
    from django.test import RequestFactory

    return RequestFactory().post(
        path, urlencode(pairs), content_type="application/x-www-form-urlencoded", HTTP_X_TWILIO_SIGNATURE=signature
    )


@pytest.mark.parametrize(
    ("site", "pairs", "valid"),
    [
        ("http://twiliotests.heroku.com", TWILIO_CAPTURED_SMS, True),
        # Parameters arrive in any order: the signature is over them sorted by name.
        ("http://twiliotests.heroku.com", sorted(TWILIO_CAPTURED_SMS, reverse=True), True),
        # One character changed in one parameter, or one parameter dropped: refused.
        (
            "http://twiliotests.heroku.com",
            [*TWILIO_CAPTURED_SMS[:4], ("Body", "Orlx"), *TWILIO_CAPTURED_SMS[5:]],
            False,
        ),
        ("http://twiliotests.heroku.com", TWILIO_CAPTURED_SMS[1:], False),
        # A parameter we do not know (Twilio adds some over time) is signed too: adding one breaks the signature.
        ("http://twiliotests.heroku.com", [*TWILIO_CAPTURED_SMS, ("NumMedia", "0")], False),
        # SITE_URL with another host or scheme than the one Twilio called: refused.
        ("https://twiliotests.heroku.com", TWILIO_CAPTURED_SMS, False),
    ],
)
def test_twilio_signature_of_a_captured_sms_webhook_through_our_check(site, pairs, valid):
    from notifications.views import _twilio_signature_ok

    request = _twilio_request("/validate/sms", pairs, TWILIO_CAPTURED_SIGNATURE)
    with override_settings(TWILIO_AUTH_TOKEN=TWILIO_CAPTURED_TOKEN, SITE_URL=site):
        assert _twilio_signature_ok(request) is valid


def test_twilio_signature_covers_unknown_parameters_twilio_sends():
    # Twilio signs every parameter it posts, including ones this version of Closeloop never reads.
    params = {"MessageSid": "SM1", "From": "+33612345678", "Body": "9", "NumSegments": "1", "AddOns": '{"a":1}'}
    signature = RequestValidator(TWILIO_TOKEN).compute_signature("https://surveys.example.com/webhooks/twilio/sms/",
                                                                 params)  # fmt: skip
    client = Client()
    with override_settings(TWILIO_AUTH_TOKEN=TWILIO_TOKEN, SITE_URL="https://surveys.example.com"):
        ok = client.post("/webhooks/twilio/sms/", params, HTTP_X_TWILIO_SIGNATURE=signature)
        stripped = {key: value for key, value in params.items() if key != "AddOns"}
        refused = client.post("/webhooks/twilio/sms/", stripped, HTTP_X_TWILIO_SIGNATURE=signature)
    assert (ok.status_code, refused.status_code) == (200, 403)


@pytest.mark.parametrize(
    ("site", "signed_url"),
    [
        # Twilio signs the URL as configured: with an explicit :443 when the console has one, without otherwise.
        ("https://surveys.example.com", "https://surveys.example.com:443/webhooks/twilio/sms/"),
        ("https://surveys.example.com:443", "https://surveys.example.com/webhooks/twilio/sms/"),
        ("https://surveys.example.com:443", "https://surveys.example.com:443/webhooks/twilio/sms/"),
    ],
)
def test_twilio_signature_accepts_the_default_https_port_written_or_not(site, signed_url):
    params = {"MessageSid": "SM1", "From": "+33612345678", "Body": "hello"}
    signature = RequestValidator(TWILIO_TOKEN).compute_signature(signed_url, params)
    with override_settings(TWILIO_AUTH_TOKEN=TWILIO_TOKEN, SITE_URL=site):
        response = Client().post("/webhooks/twilio/sms/", params, HTTP_X_TWILIO_SIGNATURE=signature)
    assert response.status_code == 200


# SendGrid's published Event Webhook example: its verification key, a signed "dropped" event and the signature
# (the body is the JSON array as SendGrid serialised it, followed by CRLF, which is signed too).
SENDGRID_DOC_KEY = (
    "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE83T4O/n84iotIvIW4mdBgQ/7dAfSmpqIM8kF9mN1flpV"
    "KS3GRqe62gw+2fNNRaINXvVpiglSI8eNEc6wEA3F+g=="
)
SENDGRID_DOC_SIGNATURE = (
    "MEUCIGHQVtGj+Y3LkG9fLcxf3qfI10QysgDWmMOVmxG0u6ZUAiEAyBiXDWzM+uOe5W0JuG+luQAbPIqHh89M15TluLtEZtM="
)
SENDGRID_DOC_TIMESTAMP = "1600112502"
SENDGRID_DOC_BODY = (
    json.dumps(
        [
            {
                "email": "hello@world.com",
                "event": "dropped",
                "reason": "Bounced Address",
                "sg_event_id": "ZHJvcC0xMDk5NDkxOS1MUnpYbF9OSFN0T0doUTRrb2ZTbV9BLTA",
                "sg_message_id": "LRzXl_NHStOGhQ4kofSm_A.filterdrecv-p3mdw1-756b745b58-kmzbl-18-5F5FC76C-9.0",
                "smtp-id": "<LRzXl_NHStOGhQ4kofSm_A@ismtpd0039p1iad1.sendgrid.net>",
                "timestamp": 1600112492,
            }
        ],
        sort_keys=True,
        separators=(",", ":"),
    )
    + "\r\n"
)


@pytest.mark.parametrize(
    ("body", "signature", "status"),
    [
        (SENDGRID_DOC_BODY, SENDGRID_DOC_SIGNATURE, 204),
        (SENDGRID_DOC_BODY.rstrip(), SENDGRID_DOC_SIGNATURE, 403),  # the trailing CRLF is signed
        (SENDGRID_DOC_BODY.replace("dropped", "dropped "), SENDGRID_DOC_SIGNATURE, 403),
    ],
)
def test_sendgrid_published_signature_example_through_our_webhook(client, settings, body, signature, status):
    settings.SENDGRID_WEBHOOK_PUBLIC_KEY = SENDGRID_DOC_KEY
    with time_machine.travel(int(SENDGRID_DOC_TIMESTAMP) + 10, tick=False):
        response = client.post(
            "/webhooks/sendgrid/events/",
            body,
            content_type="application/json",
            HTTP_X_TWILIO_EMAIL_EVENT_WEBHOOK_SIGNATURE=signature,
            HTTP_X_TWILIO_EMAIL_EVENT_WEBHOOK_TIMESTAMP=SENDGRID_DOC_TIMESTAMP,
        )
    assert response.status_code == status
    suppressed = list(Suppression.objects.values_list("channel", "recipient", "reason", "source"))
    assert suppressed == ([("email", "hello@world.com", "dropped", "sendgrid")] if status == 204 else [])


def test_sendgrid_published_signature_example_is_refused_once_too_old(client, settings):
    settings.SENDGRID_WEBHOOK_PUBLIC_KEY = SENDGRID_DOC_KEY
    response = client.post(
        "/webhooks/sendgrid/events/",
        SENDGRID_DOC_BODY,
        content_type="application/json",
        HTTP_X_TWILIO_EMAIL_EVENT_WEBHOOK_SIGNATURE=SENDGRID_DOC_SIGNATURE,
        HTTP_X_TWILIO_EMAIL_EVENT_WEBHOOK_TIMESTAMP=SENDGRID_DOC_TIMESTAMP,
    )
    assert response.status_code == 403
    assert Suppression.objects.count() == 0


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
            first = twilio_post("/webhooks/twilio/sms/", params)
            retry = twilio_post("/webhooks/twilio/sms/", params)
    finally:
        inbound_sms_received.disconnect(dispatch_uid="test-inbound")
    # Twilio's retry of a processed SMS gets the same empty TwiML 200, so it stops, and changes nothing.
    assert (first.status_code, retry.status_code) == (200, 200)
    assert first.content == retry.content == EMPTY_TWIML.encode()
    assert received == [("+33612345678", "the parcel was late")]
    assert list(InboundSms.objects.values_list("provider_message_id", "keyword")) == [("SM1", "")]


def test_twilio_inbound_sms_whose_processing_fails_is_kept_for_twilios_retry(twilio_post, client):
    calls = {"n": 0}

    def fail_first(**kwargs):
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("the database went away mid-way")

    inbound_sms_received.connect(fail_first, weak=False, dispatch_uid="test-inbound-fails")
    client.raise_request_exception = False
    try:
        params = {"MessageSid": "SM7", "From": "+33612345678", "Body": "9"}
        failed = twilio_post("/webhooks/twilio/sms/", params)
        # Nothing of it was kept, so Twilio's retry is processed afresh instead of being taken for a duplicate.
        assert (failed.status_code, InboundSms.objects.count()) == (500, 0)
        retried = twilio_post("/webhooks/twilio/sms/", params)
    finally:
        inbound_sms_received.disconnect(dispatch_uid="test-inbound-fails")
    assert (retried.status_code, calls["n"]) == (200, 2)
    assert InboundSms.objects.get().provider_message_id == "SM7"


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


def test_twilio_status_callback_of_a_whatsapp_message_read_is_delivered(twilio_post):
    message = MessageFactory(channel=Channel.WHATSAPP, recipient="+33612345678", status=Message.Status.SENT)
    params = {"MessageSid": "SM1", "MessageStatus": "read", "ChannelPrefix": "whatsapp"}
    assert twilio_post(f"/webhooks/twilio/status/?m={message.public_id}", params).status_code == 204
    message.refresh_from_db()
    assert message.status == Message.Status.DELIVERED


def test_twilio_status_63016_fails_a_whatsapp_message_outside_the_session(twilio_post):
    message = MessageFactory(channel=Channel.WHATSAPP, recipient="+33612345678", status=Message.Status.SENT)
    params = {"MessageSid": "SM1", "MessageStatus": "failed", "ErrorCode": "63016"}
    twilio_post(f"/webhooks/twilio/status/?m={message.public_id}", params)
    message.refresh_from_db()
    assert (message.status, message.last_error) == (Message.Status.FAILED, "Twilio error 63016")
    assert not Suppression.objects.exists()


def test_whatsapp_inbound_is_stored_on_its_channel_and_announced_with_the_button(twilio_post):
    heard = []

    def listener(sender, **kwargs):
        heard.append(kwargs)

    inbound_sms_received.connect(listener)
    try:
        params = {"MessageSid": "SM5", "From": "whatsapp:+33612345678", "Body": "Great", "ButtonText": "Great",
                  "ButtonPayload": "9"}  # fmt: skip
        assert twilio_post("/webhooks/twilio/whatsapp/", params).content.decode() == EMPTY_TWIML
    finally:
        inbound_sms_received.disconnect(listener)
    inbound = InboundSms.objects.get()
    assert (inbound.channel, inbound.phone, inbound.body) == ("whatsapp", "+33612345678", "Great")
    assert [(k["phone"], k["channel"], k["body"], k["button_payload"]) for k in heard] == [
        ("+33612345678", "whatsapp", "Great", "9")
    ]


def test_whatsapp_inbound_with_a_bad_signature_is_403_and_stores_nothing(twilio_post):
    params = {"MessageSid": "SM6", "From": "whatsapp:+33612345678", "Body": "STOP"}
    assert twilio_post("/webhooks/twilio/whatsapp/", params, signature="AAAA").status_code == 403
    assert InboundSms.objects.count() == Suppression.objects.count() == 0


def test_whatsapp_start_lifts_only_the_whatsapp_opt_out(twilio_post):
    twilio_post("/webhooks/twilio/sms/", {"MessageSid": "SM7", "From": "+33612345678", "Body": "STOP"})
    twilio_post("/webhooks/twilio/whatsapp/", {"MessageSid": "SM8", "From": "whatsapp:+33612345678", "Body": "STOP"})
    twilio_post("/webhooks/twilio/whatsapp/", {"MessageSid": "SM9", "From": "whatsapp:+33612345678", "Body": "START"})
    assert list(Suppression.objects.values_list("channel", flat=True)) == ["sms"]
