import base64
import logging
import socket
import time

import pytest
import time_machine
from django.test import override_settings

from notifications.models import Channel, Message, Suppression
from notifications.services.sending import message_send
from notifications.transports import DeliveryError
from notifications.transports import sendgrid as sendgrid_transport
from notifications.transports.sendgrid import SendGridTransport, retry_after_from
from notifications.transports.twilio import TwilioTransport
from notifications.transports.whatsapp import TwilioWhatsAppTransport
from surveys.models import Branding, Invitation
from surveys.services.dispatch import invitations_dispatch_due
from surveys.tokens import invitation_token
from tests.factories import ContactFactory, InvitationFactory, MessageFactory
from tests.fakes.providers import Scripted

pytestmark = pytest.mark.django_db


def _dispatch(django_capture_on_commit_callbacks) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        invitations_dispatch_due()


def test_sendgrid_survey_email_body_through_the_sdk(fake_providers, django_capture_on_commit_callbacks):
    invitation = InvitationFactory(
        status=Invitation.Status.SCHEDULED, contact=ContactFactory(email="ann@example.com", name="Ann")
    )
    _dispatch(django_capture_on_commit_callbacks)
    [request] = fake_providers.sendgrid()
    assert request.headers["Authorization"] == "Bearer SG.test-key-not-secret"
    body = request.json()
    message = Message.objects.get()
    token = invitation_token(invitation.public_id)
    assert body["personalizations"] == [{"to": [{"email": "ann@example.com"}]}]
    assert body["from"] == {"email": "surveys@acme.test", "name": "Acme Surveys"}
    assert body["subject"] == "Acme: a quick question"
    assert [part["type"] for part in body["content"]] == ["text/plain", "text/html"]
    html = body["content"][1]["value"]
    for score in range(11):
        assert f'href="http://testserver/s/{token}/?score={score}"' in html
    assert body["custom_args"] == {"closeloop_message_id": str(message.public_id)}
    assert body["tracking_settings"] == {"click_tracking": {"enable": False, "enable_text": False}}
    unsubscribe = body["headers"]["List-Unsubscribe"]
    assert (
        unsubscribe.startswith("<http://testserver/u/") and ", <mailto:unsubscribe@closeloop.localhost?" in unsubscribe
    )
    assert body["headers"]["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert "ann@example.com" not in unsubscribe
    message_url = unsubscribe[1 : unsubscribe.index(">")]
    assert message_url in body["content"][0]["value"]
    assert (message.status, message.provider_message_id) == (Message.Status.SENT, "sg0000000001")


def test_sendgrid_email_carries_the_brand_s_sender_and_reply_to(fake_providers, django_capture_on_commit_callbacks):
    Branding.objects.create(sender_name="Acme Care", sender_email="care@acme.test", reply_to="help@acme.test")
    InvitationFactory(status=Invitation.Status.SCHEDULED, contact=ContactFactory(email="ann@example.com"))
    _dispatch(django_capture_on_commit_callbacks)
    body = fake_providers.sendgrid()[0].json()
    assert body["from"] == {"email": "care@acme.test", "name": "Acme Care"}
    assert body["reply_to"] == {"email": "help@acme.test"}


def test_sendgrid_500_is_retried_and_400_fails(fake_providers):
    fake_providers.script["sendgrid"] += [Scripted(500, {"errors": []}), Scripted(400, {"errors": [{"message": "x"}]})]
    first = MessageFactory()
    from notifications.services.sending import TransientDeliveryError

    with pytest.raises(TransientDeliveryError):
        message_send(message_id=first.id)
    assert Message.objects.get(id=first.id).status == Message.Status.QUEUED
    assert message_send(message_id=first.id).status == Message.Status.FAILED
    assert Message.objects.get(id=first.id).last_error.startswith("SendGrid 400")
    assert len(fake_providers.sendgrid()) == 2


@time_machine.travel("2026-11-02 10:00:00Z", tick=False)
def test_sendgrid_429_retries_after_the_reset_header(fake_providers):
    reset = int(time.time()) + 30
    fake_providers.script["sendgrid"].append(Scripted(429, {"errors": []}, {"X-RateLimit-Reset": str(reset)}))
    from notifications.services.sending import TransientDeliveryError

    with pytest.raises(TransientDeliveryError) as raised:
        message_send(message_id=MessageFactory().id)
    assert raised.value.retry_after == 30


def test_sendgrid_sends_over_one_kept_alive_connection(fake_providers):
    for _ in range(3):
        message_send(message_id=MessageFactory().id)
    assert len({request.client_port for request in fake_providers.sendgrid()}) == 1


def test_sendgrid_reconnects_after_the_server_closed_the_connection(fake_providers):
    fake_providers.script["sendgrid"].append(Scripted(202, None, {"X-Message-Id": "sg1", "Connection": "close"}))
    first, second = MessageFactory(), MessageFactory()
    assert message_send(message_id=first.id).status == Message.Status.SENT
    assert message_send(message_id=second.id).status == Message.Status.SENT
    first_port, second_port = (request.client_port for request in fake_providers.sendgrid())
    assert first_port != second_port


def test_sendgrid_reconnects_when_the_server_dropped_the_idle_connection(fake_providers):
    fake_providers.server.RequestHandlerClass.timeout = 0.1  # the server closes connections idle this long
    assert message_send(message_id=MessageFactory().id).status == Message.Status.SENT
    time.sleep(0.5)
    assert message_send(message_id=MessageFactory().id).status == Message.Status.SENT
    first_port, second_port = (request.client_port for request in fake_providers.sendgrid())
    assert first_port != second_port


def test_sendgrid_opens_its_own_connection_in_a_forked_process(fake_providers, monkeypatch):
    assert message_send(message_id=MessageFactory().id).status == Message.Status.SENT
    monkeypatch.setattr(sendgrid_transport.os, "getpid", lambda: -1)  # as in a pool process forked after a send
    assert message_send(message_id=MessageFactory().id).status == Message.Status.SENT
    first_port, second_port = (request.client_port for request in fake_providers.sendgrid())
    assert first_port != second_port


def test_sendgrid_goes_through_the_proxy_of_the_environment(fake_providers, monkeypatch, settings):
    monkeypatch.setenv("HTTP_PROXY", fake_providers.url)
    settings.SENDGRID_API_BASE_URL = "http://api.sendgrid.example"
    message = message_send(message_id=MessageFactory(recipient="ann@example.com").id)
    [request] = fake_providers.requests
    assert request.path == "http://api.sendgrid.example/v3/mail/send"
    assert request.headers["Authorization"] == "Bearer SG.test-key-not-secret"
    assert request.json()["personalizations"] == [{"to": [{"email": "ann@example.com"}]}]
    assert message.status == Message.Status.SENT


def test_sendgrid_skips_the_proxy_for_hosts_in_no_proxy(fake_providers, monkeypatch):
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    assert message_send(message_id=MessageFactory().id).status == Message.Status.SENT
    assert len(fake_providers.sendgrid()) == 1


def test_retry_after_from_headers():
    assert retry_after_from({"Retry-After": "12"}) == 12.0
    assert retry_after_from({"Retry-After": "soon"}) is None
    assert retry_after_from({}) is None
    assert retry_after_from(None) is None


@override_settings(PROVIDER_TIMEOUT_SECONDS=0.2)
def test_sendgrid_timeout_after_sending_marks_unknown_and_never_resends(fake_providers):
    fake_providers.script["sendgrid"].append(Scripted(202, None, {}, delay=1.0))
    message = MessageFactory()
    assert message_send(message_id=message.id).status == Message.Status.UNKNOWN
    assert message_send(message_id=message.id) is None
    assert len(fake_providers.sendgrid()) == 1


@time_machine.travel("2026-11-02 10:00Z", tick=False)
def test_twilio_survey_sms_body_through_the_sdk(fake_providers, django_capture_on_commit_callbacks):
    invitation = InvitationFactory(
        status=Invitation.Status.SCHEDULED,
        channel=Channel.SMS,
        locale="fr",
        contact=ContactFactory(email="", phone="+33612345678", locale="fr"),
    )
    _dispatch(django_capture_on_commit_callbacks)
    [request] = fake_providers.twilio()
    assert request.path == f"/2010-04-01/Accounts/AC{'0' * 32}/Messages.json"
    expected_auth = base64.b64encode(f"AC{'0' * 32}:twilio-test-token".encode()).decode()
    assert request.headers["Authorization"] == f"Basic {expected_auth}"
    form = request.form()
    message = Message.objects.get()
    assert form["To"] == "+33612345678"
    assert form["From"] == "+15005550006"
    assert form["StatusCallback"] == f"http://testserver/webhooks/twilio/status/?m={message.public_id}"
    assert form["ValidityPeriod"] == "14400"
    assert f"http://testserver/s/{invitation_token(invitation.public_id)}/" in form["Body"]
    assert "0-10" in form["Body"]
    assert "STOP" in form["Body"]
    assert message.provider_message_id == "SM" + "1".zfill(32)


def test_twilio_goes_through_the_proxy_of_the_environment(fake_providers, monkeypatch, settings):
    # The proxy variables are read once per transport, not per call: they must still be honoured.
    monkeypatch.setenv("HTTP_PROXY", fake_providers.url)
    settings.TWILIO_API_BASE_URL = "http://api.twilio.example"
    message_send(message_id=MessageFactory(channel=Channel.SMS, recipient="+33612345678").id)
    [request] = fake_providers.twilio()
    assert request.path == f"http://api.twilio.example/2010-04-01/Accounts/AC{'0' * 32}/Messages.json"
    assert request.form()["To"] == "+33612345678"


def test_twilio_skips_the_proxy_for_hosts_in_no_proxy(fake_providers, monkeypatch):
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    message = message_send(message_id=MessageFactory(channel=Channel.SMS, recipient="+33612345678").id)
    assert message.status == Message.Status.SENT
    assert len(fake_providers.twilio()) == 1


@override_settings(TWILIO_MESSAGING_SERVICE_SID="MG" + "1" * 32)
def test_twilio_uses_the_messaging_service_when_set(fake_providers):
    message_send(message_id=MessageFactory(channel=Channel.SMS, recipient="+33612345678").id)
    form = fake_providers.twilio()[0].form()
    assert form["MessagingServiceSid"] == "MG" + "1" * 32
    assert "From" not in form


@pytest.mark.parametrize(
    ("code", "status", "suppressed"),
    [
        (21610, Message.Status.FAILED, True),
        (21211, Message.Status.FAILED, False),
        (21614, Message.Status.FAILED, False),
    ],
)
def test_twilio_permanent_error_codes_fail_without_retry(fake_providers, code, status, suppressed):
    fake_providers.script["twilio"].append(Scripted(400, {"code": code, "message": "no", "status": 400}))
    message = MessageFactory(channel=Channel.SMS, recipient="+33612345678")
    result = message_send(message_id=message.id)
    assert (result.status, result.last_error) == (status, f"Twilio 400 error {code}")
    assert Suppression.objects.filter(recipient="+33612345678", reason="stop").exists() is suppressed
    assert len(fake_providers.twilio()) == 1


def test_twilio_429_retries_after_its_header(fake_providers):
    fake_providers.script["twilio"].append(
        Scripted(429, {"code": 20429, "message": "Too Many Requests", "status": 429}, {"Retry-After": "3"})
    )
    from notifications.services.sending import TransientDeliveryError

    with pytest.raises(TransientDeliveryError) as raised:
        message_send(message_id=MessageFactory(channel=Channel.SMS, recipient="+33612345678").id)
    assert raised.value.retry_after == 3.0


def test_no_log_line_carries_secrets_addresses_or_tokens(fake_providers, caplog, django_capture_on_commit_callbacks):
    caplog.set_level(logging.DEBUG)
    with time_machine.travel("2026-11-02 10:00Z", tick=False):
        InvitationFactory(status=Invitation.Status.SCHEDULED, contact=ContactFactory(email="secret.ann@example.com"))
        sms = InvitationFactory(
            status=Invitation.Status.SCHEDULED,
            channel=Channel.SMS,
            contact=ContactFactory(email="", phone="+33699887766"),
        )
        _dispatch(django_capture_on_commit_callbacks)
    fake_providers.script["twilio"].append(Scripted(400, {"code": 21610, "message": "+33611112222", "status": 400}))
    message_send(message_id=MessageFactory(channel=Channel.SMS, recipient="+33611112222").id)
    assert len(fake_providers.requests) == 3
    logged = "\n".join(record.getMessage() for record in caplog.records)
    token = invitation_token(sms.public_id)
    for secret in (
        "SG.test-key-not-secret",
        "twilio-test-token",
        "secret.ann@example.com",
        "+33699887766",
        "+33611112222",
        token,
        "/u/",
    ):
        assert secret not in logged


# --- may the provider have read it? Connect errors retry, anything after the write is `unknown` ------------------


def _closed_port_url() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{probe.getsockname()[1]}"


def _email() -> Message:
    return MessageFactory(channel=Channel.EMAIL, recipient="ann@example.com")


def _sms() -> Message:
    return MessageFactory(channel=Channel.SMS, recipient="+33612345678")


@pytest.mark.parametrize(("transport", "make"), [(SendGridTransport, _email), (TwilioTransport, _sms)])
def test_a_connection_dropped_after_the_provider_read_the_request_is_unknown(fake_providers, transport, make):
    provider = "sendgrid" if transport is SendGridTransport else "twilio"
    fake_providers.script[provider].append(Scripted(202, drop="after_read"))
    with pytest.raises(DeliveryError) as raised:
        transport().send(make())
    assert (raised.value.unknown, raised.value.permanent) == (True, False)
    assert sum(fake_providers.accepted.values()) == 1


@pytest.mark.parametrize(("transport", "make"), [(SendGridTransport, _email), (TwilioTransport, _sms)])
def test_a_connection_dropped_before_the_request_was_read_is_retried(fake_providers, transport, make):
    provider = "sendgrid" if transport is SendGridTransport else "twilio"
    fake_providers.script[provider].append(Scripted(202, drop="before_read"))
    with pytest.raises(DeliveryError) as raised:
        transport().send(make())
    # The server closed before reading: the client may still have written the request into the socket
    # buffer, so the transport cannot prove it did not leave; what it must never do is call it sent.
    assert raised.value.permanent is False
    assert sum(fake_providers.accepted.values()) == 0


@pytest.mark.parametrize(("transport", "make"), [(SendGridTransport, _email), (TwilioTransport, _sms)])
def test_a_refused_connection_is_retried_not_unknown(transport, make, settings):
    settings.SENDGRID_API_BASE_URL = settings.TWILIO_API_BASE_URL = _closed_port_url()
    settings.SENDGRID_API_KEY, settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN = "SG.k", "AC" + "0" * 32, "t"
    settings.TWILIO_FROM_NUMBER = "+15005550006"
    with pytest.raises(DeliveryError) as raised:
        transport().send(make())
    assert (raised.value.unknown, raised.value.permanent) == (False, False)
    assert "unreachable" in str(raised.value)


@override_settings(PROVIDER_TIMEOUT_SECONDS=0.3)
def test_a_hanging_twilio_is_unknown_after_the_read_timeout_and_never_resent(fake_providers):
    fake_providers.script["twilio"].append(Scripted(201, {"sid": "SM" + "9" * 32, "status": "queued"}, delay=2.0))
    message = _sms()
    started = time.monotonic()
    result = message_send(message_id=message.id)
    assert time.monotonic() - started < 1.5
    assert result.status == Message.Status.UNKNOWN
    assert message_send(message_id=message.id) is None
    assert len(fake_providers.twilio()) == 1


def test_twilio_connection_aborted_after_the_write_is_not_mistaken_for_unreachable(fake_providers):
    # requests reports it as ConnectionError(ProtocolError('Connection aborted.', RemoteDisconnected(...))),
    # the very class a refused connection gets: only the write record tells them apart.
    fake_providers.script["twilio"].append(Scripted(201, drop="after_read"))
    transport = TwilioTransport()
    with pytest.raises(DeliveryError) as raised:
        transport.send(_sms())
    assert raised.value.unknown is True
    assert str(raised.value) == "Twilio outcome unknown: ConnectionError after the request was written"
    # The next send on the same client connects afresh and goes through.
    assert transport.send(_sms()).provider_message_id.startswith("SM")


@pytest.mark.parametrize("code", [21211, 21614, 21635])
def test_twilio_unreachable_number_codes_are_permanent_and_unreachable(fake_providers, code):
    fake_providers.script["twilio"].append(Scripted(400, {"code": code, "message": "no", "status": 400}))
    with pytest.raises(DeliveryError) as raised:
        TwilioTransport().send(_sms())
    assert (raised.value.permanent, raised.value.unreachable, raised.value.opted_out) == (True, True, False)


def test_twilio_status_lookup_fetches_the_message_by_sid(fake_providers):
    fake_providers.twilio_statuses["SM" + "1" * 32] = ("undelivered", "30006")
    assert TwilioTransport().status("SM" + "1" * 32) == ("undelivered", "30006")
    (lookup,) = [r for r in fake_providers.requests if r.method == "GET"]
    assert lookup.path == f"/2010-04-01/Accounts/AC{'0' * 32}/Messages/SM{'1' * 32}.json"


def test_twilio_send_passes_a_shortened_validity_period(fake_providers):
    message = _sms()
    message.validity_seconds = 600
    TwilioTransport().send(message)
    assert fake_providers.twilio()[0].form()["ValidityPeriod"] == "600"


# --- the whole call within PROVIDER_DEADLINE_SECONDS, at most PROVIDER_MAX_RESPONSE_BYTES of its answer ------------

PROVIDERS = [("sendgrid", "SendGrid", _email), ("twilio", "Twilio", _sms)]


@pytest.mark.parametrize(("provider", "name", "make"), PROVIDERS)
@override_settings(PROVIDER_TIMEOUT_SECONDS=2.0, PROVIDER_DEADLINE_SECONDS=0.5)
def test_a_provider_dripping_its_answer_is_cut_at_the_deadline_and_unknown(fake_providers, provider, name, make):
    # A byte every 100 ms never trips the 2 s socket timeout; the answer would take ~13 s in all. (The bounds on
    # time are loose: the machine running the tests may be busy.)
    fake_providers.script[provider].append(Scripted(202, {"sid": "SM" + "9" * 32}, {"X-Message-Id": "sg9"}, drip=0.1))
    message = make()
    started = time.monotonic()
    result = message_send(message_id=message.id)
    assert time.monotonic() - started < 5
    assert (result.status, result.last_error) == (
        Message.Status.UNKNOWN,
        f"{name} outcome unknown: no complete answer within 0.5 s after the request was written",
    )
    assert message_send(message_id=message.id) is None
    assert sum(fake_providers.accepted.values()) == 1
    # The cut connection is not reused: the next send connects afresh and goes out.
    assert message_send(message_id=make().id).status == Message.Status.SENT


@pytest.mark.parametrize(("provider", "name", "make"), PROVIDERS)
@override_settings(PROVIDER_MAX_RESPONSE_BYTES=65536)
def test_an_oversized_answer_is_cut_off_and_unknown(fake_providers, provider, name, make):
    size = 50 * 1024 * 1024
    fake_providers.script[provider].append(Scripted(202, body_size=size))
    message = make()
    result = message_send(message_id=message.id)
    assert (result.status, result.last_error) == (
        Message.Status.UNKNOWN,
        f"{name} outcome unknown: an answer larger than 65536 bytes after the request was written",
    )
    # The client hung up: the provider could not write the rest (socket buffers hold a few MB at most).
    assert fake_providers.answered.wait(5)
    assert fake_providers.sent_bytes < size / 5
    assert message_send(message_id=message.id) is None
    assert message_send(message_id=make().id).status == Message.Status.SENT


@pytest.mark.parametrize(("provider", "name", "make"), PROVIDERS)
@override_settings(PROVIDER_TIMEOUT_SECONDS=5.0, PROVIDER_DEADLINE_SECONDS=0.5)
def test_a_request_cut_by_the_deadline_while_being_written_is_retried(fake_providers, provider, name, make):
    # The provider never reads the body: a 24 MB request fills the socket buffers and the write blocks until the
    # deadline. The request never arrived whole, so a retry cannot double it. (Encoding 24 MB takes a second or
    # more of CPU on a busy machine: the bound on time only shows the stall was not waited out.)
    fake_providers.script[provider].append(Scripted(202, stall=30.0))
    message = make()
    Message.objects.filter(id=message.id).update(body_text="x" * (24 * 1024 * 1024))
    from notifications.services.sending import TransientDeliveryError

    started = time.monotonic()
    with pytest.raises(TransientDeliveryError):
        message_send(message_id=message.id)
    assert time.monotonic() - started < 15
    message.refresh_from_db()
    unreachable = "SendGrid unreachable" if provider == "sendgrid" else "Twilio unreachable while sending"
    assert (message.status, message.last_error) == (
        Message.Status.QUEUED,
        f"{unreachable}: no complete answer within 0.5 s",
    )
    assert sum(fake_providers.accepted.values()) == 0


@override_settings(PROVIDER_TIMEOUT_SECONDS=2.0, PROVIDER_DEADLINE_SECONDS=0.5)
def test_a_twilio_status_lookup_is_cut_at_the_deadline(fake_providers):
    fake_providers.twilio_statuses["SM" + "1" * 32] = ("delivered", "")
    fake_providers.get_delay = 20.0
    started = time.monotonic()
    with pytest.raises(DeliveryError) as raised:
        TwilioTransport().status("SM" + "1" * 32)
    assert time.monotonic() - started < 5
    assert str(raised.value) == "Twilio status lookup failed: no complete answer within 0.5 s"
    assert raised.value.unknown is False


WHATSAPP = {"TWILIO_WHATSAPP_FROM": "+15005550006"}


@override_settings(**WHATSAPP)
def test_whatsapp_template_goes_with_its_content_sid_and_variables_not_a_body(fake_providers):
    message = MessageFactory(
        channel=Channel.WHATSAPP,
        recipient="+33612345678",
        body_text="How likely...? Reply 0-10",
        template={"content_sid": "HX" + "c" * 32, "variables": {"1": "Comment était-ce ?", "2": "https://x.test/s/t/"}},
    )
    TwilioWhatsAppTransport().send(message)
    form = fake_providers.twilio()[0].form()
    assert (form["To"], form["From"], form["ContentSid"]) == (
        "whatsapp:+33612345678",
        "whatsapp:+15005550006",
        "HX" + "c" * 32,
    )
    # JSON as Twilio reads it: the French question keeps its accents.
    assert form["ContentVariables"] == '{"1": "Comment était-ce ?", "2": "https://x.test/s/t/"}'
    assert "Body" not in form
    assert form["StatusCallback"] == f"http://testserver/webhooks/twilio/status/?m={message.public_id}"


@override_settings(**WHATSAPP)
def test_whatsapp_free_form_message_goes_as_a_body(fake_providers):
    TwilioWhatsAppTransport().send(MessageFactory(channel=Channel.WHATSAPP, recipient="+33612345678", body_text="Hi"))
    form = fake_providers.twilio()[0].form()
    assert (form["To"], form["Body"], "ContentSid" in form) == ("whatsapp:+33612345678", "Hi", False)


@pytest.mark.parametrize(
    ("code", "permanent", "unreachable", "reason"),
    [
        (
            63016,
            True,
            False,
            "Twilio 400 error 63016: outside the customer's 24-hour WhatsApp session, only an approved template may"
            " be sent",
        ),
        (63003, True, True, "Twilio 400 error 63003: the number is not on WhatsApp"),
        (63018, False, False, "Twilio 400 error 63018"),
        (21211, True, True, "Twilio 400 error 21211"),
    ],
)
@override_settings(**WHATSAPP)
def test_whatsapp_error_codes_are_classified(fake_providers, code, permanent, unreachable, reason):
    fake_providers.script["twilio"].append(Scripted(400, {"code": code, "message": "no", "status": 400}))
    with pytest.raises(DeliveryError) as raised:
        TwilioWhatsAppTransport().send(MessageFactory(channel=Channel.WHATSAPP, recipient="+33612345678"))
    assert (str(raised.value), raised.value.permanent, raised.value.unreachable) == (reason, permanent, unreachable)


@override_settings(**WHATSAPP)
def test_a_number_not_on_whatsapp_is_kept_off_whatsapp_but_not_off_sms(fake_providers):
    fake_providers.script["twilio"].append(Scripted(400, {"code": 63003, "message": "no", "status": 400}))
    message = MessageFactory(channel=Channel.WHATSAPP, recipient="+33612345678")
    with override_settings(
        NOTIFICATIONS_TRANSPORTS={"whatsapp": "notifications.transports.whatsapp.TwilioWhatsAppTransport"}
    ):
        assert message_send(message_id=message.id).status == Message.Status.FAILED
    assert list(Suppression.objects.values_list("channel", "recipient", "reason")) == [
        ("whatsapp", "+33612345678", "bounce")
    ]


@override_settings(PROVIDER_TIMEOUT_SECONDS=2.0, PROVIDER_DEADLINE_SECONDS=0.5, **WHATSAPP)
def test_a_whatsapp_send_dripping_its_answer_is_cut_at_the_deadline_and_unknown(fake_providers):
    fake_providers.script["twilio"].append(Scripted(201, {"sid": "SM" + "9" * 32}, drip=0.1))
    with pytest.raises(DeliveryError) as raised:
        TwilioWhatsAppTransport().send(MessageFactory(channel=Channel.WHATSAPP, recipient="+33612345678"))
    assert (str(raised.value), raised.value.unknown) == (
        "Twilio outcome unknown: no complete answer within 0.5 s after the request was written",
        True,
    )
