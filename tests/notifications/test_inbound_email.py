"""Two-way email at the notifications seam: reply addresses, and SendGrid Inbound Parse posts coming back."""

import base64
import time
from datetime import timedelta

import pytest
from django.utils import timezone

from notifications.models import InboundEmail, ReplyAddress
from notifications.services.inbound_email import (
    inbound_email_receive,
    inbound_parse_fields,
    reply_address_for_thread,
)
from notifications.signals import inbound_email_received
from tests.fakes.inbound_parse import InboundSigner, inbound_parse_body, inbound_parse_form

pytestmark = pytest.mark.django_db
URL = "/webhooks/sendgrid/inbound/"


@pytest.fixture(scope="module")
def signer():
    return InboundSigner()


@pytest.fixture
def announced():
    received = []

    def listen(sender, **kwargs):
        received.append(kwargs)

    inbound_email_received.connect(listen, dispatch_uid="test-inbound-email")
    yield received
    inbound_email_received.disconnect(dispatch_uid="test-inbound-email")


@pytest.fixture
def signed_post(client, signer, settings):
    settings.SENDGRID_INBOUND_PUBLIC_KEY = signer.public_key
    settings.SENDGRID_INBOUND_AUTH = ""

    def post(form, *, timestamp=None, headers=None):
        content_type, body = inbound_parse_body(form)
        signed = headers if headers is not None else signer.headers(body, timestamp)
        return client.generic("POST", URL, body, content_type=content_type, headers=signed)

    return post


def test_reply_address_is_stable_per_thread_and_unguessable(settings):
    settings.INBOUND_EMAIL_DOMAIN = "reply.shop.test"
    first = reply_address_for_thread(thread="follow_up:12")
    again = reply_address_for_thread(thread="follow_up:12")
    other = reply_address_for_thread(thread="follow_up:13")

    assert first == again
    assert first != other
    local, domain = first.split("@")
    assert domain == "reply.shop.test"
    assert local.startswith("reply+") and len(local) == len("reply+") + 26
    assert ReplyAddress.objects.count() == 2


def test_inbound_parse_fields_prefers_the_envelope_and_reads_the_message_id():
    form = inbound_parse_form(to="reply+abc@x.test", sender="ana@example.com", text="Hi", message_id="<m1@mail>")
    parsed = inbound_parse_fields(form)
    assert (parsed.sender, parsed.recipients[0], parsed.message_id) == (
        "ana@example.com",
        "reply+abc@x.test",
        "<m1@mail>",
    )


def test_signed_inbound_email_to_a_reply_address_is_stored_trimmed_and_announced(
    signed_post, announced, django_capture_on_commit_callbacks
):
    address = reply_address_for_thread(thread="follow_up:7")
    text = "It arrived, thanks!\n\nOn Tue, 1 Dec 2026 at 10:02, Care <care@shop.test> wrote:\n> Sorry\n"
    with django_capture_on_commit_callbacks(execute=True):
        response = signed_post(inbound_parse_form(to=address, sender="ana@example.com", text=text, message_id="<a@b>"))

    assert response.status_code == 204
    inbound = InboundEmail.objects.get()
    assert (inbound.outcome, inbound.thread, inbound.reply, inbound.sender) == (
        "routed",
        "follow_up:7",
        "It arrived, thanks!",
        "ana@example.com",
    )
    assert [(call["thread"], call["email"], call["body"]) for call in announced] == [
        ("follow_up:7", "ana@example.com", "It arrived, thanks!")
    ]


def test_inbound_retry_of_the_same_message_id_is_stored_and_announced_once(
    signed_post, announced, django_capture_on_commit_callbacks
):
    form = inbound_parse_form(
        to=reply_address_for_thread(thread="follow_up:7"), sender="ana@example.com", text="Hi", message_id="<same@x>"
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert signed_post(form).status_code == 204
        assert signed_post(form).status_code == 204
    assert InboundEmail.objects.count() == 1
    assert len(announced) == 1


def test_a_receiver_that_fails_leaves_nothing_stored_so_the_providers_retry_routes_the_email():
    form = inbound_parse_form(
        to=reply_address_for_thread(thread="follow_up:7"), sender="ana@example.com", text="Hi", message_id="<r@x>"
    )
    routed = []

    def flaky(sender, **kwargs):
        if not routed:
            routed.append("failed")
            raise RuntimeError("the case could not be written")
        routed.append(kwargs["thread"])

    inbound_email_received.connect(flaky, dispatch_uid="test-flaky-receiver")
    try:
        with pytest.raises(RuntimeError):
            inbound_email_receive(parsed=inbound_parse_fields(form))
        assert InboundEmail.objects.count() == 0  # the view answers 500: SendGrid posts it again
        inbound = inbound_email_receive(parsed=inbound_parse_fields(form))
    finally:
        inbound_email_received.disconnect(dispatch_uid="test-flaky-receiver")

    assert (inbound.outcome, routed) == ("routed", ["failed", "follow_up:7"])
    assert inbound_email_receive(parsed=inbound_parse_fields(form)) is None  # a later retry: stored once


def test_inbound_to_an_unknown_address_is_logged_stored_and_answers_nothing(
    signed_post, announced, outbox, caplog, django_capture_on_commit_callbacks
):
    form = inbound_parse_form(to="reply+aaaaaaaaaaaaaaaaaaaaaaaaaa@reply.test", sender="x@example.com", text="Hello?")
    with django_capture_on_commit_callbacks(execute=True):
        assert signed_post(form).status_code == 204
    assert InboundEmail.objects.get().outcome == "unknown"
    assert announced == [] and outbox == []
    assert "unknown reply address" in caplog.text
    assert "x@example.com" not in caplog.text


def test_inbound_to_an_expired_address_is_not_routed(
    signed_post, announced, settings, django_capture_on_commit_callbacks
):
    settings.REPLY_ADDRESS_EXPIRY_DAYS = 30
    address = reply_address_for_thread(thread="follow_up:7")
    ReplyAddress.objects.update(last_used_at=timezone.now() - timedelta(days=31))
    with django_capture_on_commit_callbacks(execute=True):
        assert signed_post(inbound_parse_form(to=address, sender="ana@example.com", text="Late")).status_code == 204
    assert InboundEmail.objects.get().outcome == "expired"
    assert announced == []


def test_inbound_with_a_bad_signature_is_403_and_stores_nothing(signed_post):
    form = inbound_parse_form(to=reply_address_for_thread(thread="t"), sender="ana@example.com", text="Hi")
    bad = {"X-Twilio-Email-Event-Webhook-Signature": base64.b64encode(b"nope").decode(),
           "X-Twilio-Email-Event-Webhook-Timestamp": str(int(time.time()))}  # fmt: skip
    assert signed_post(form, headers=bad).status_code == 403
    assert signed_post(form, headers={}).status_code == 403
    assert InboundEmail.objects.count() == 0


def test_inbound_signed_long_ago_is_403(signed_post):
    form = inbound_parse_form(to=reply_address_for_thread(thread="t"), sender="ana@example.com", text="Hi")
    assert signed_post(form, timestamp=str(int(time.time()) - 3600)).status_code == 403
    assert InboundEmail.objects.count() == 0


def test_inbound_signature_over_another_body_is_403(client, signer, settings):
    settings.SENDGRID_INBOUND_PUBLIC_KEY = signer.public_key
    content_type, body = inbound_parse_body(inbound_parse_form(to="reply+x@y", sender="a@b.c", text="original"))
    _, tampered = inbound_parse_body(inbound_parse_form(to="reply+x@y", sender="a@b.c", text="tampered"))
    response = client.generic("POST", URL, tampered, content_type=content_type, headers=signer.headers(body))
    assert response.status_code == 403


def test_inbound_with_basic_credentials(client, settings):
    settings.SENDGRID_INBOUND_PUBLIC_KEY = ""
    settings.SENDGRID_INBOUND_AUTH = "parse:s3cret"
    content_type, body = inbound_parse_body(
        inbound_parse_form(to=reply_address_for_thread(thread="t"), sender="ana@example.com", text="Hi")
    )

    def post(credentials: str | None):
        headers = {"Authorization": "Basic " + base64.b64encode(credentials.encode()).decode()} if credentials else {}
        return client.generic("POST", URL, body, content_type=content_type, headers=headers)

    assert post(None).status_code == 401
    assert post("parse:wrong").status_code == 401
    assert InboundEmail.objects.count() == 0
    assert post("parse:s3cret").status_code == 204
    assert InboundEmail.objects.get().outcome == "routed"


def test_inbound_with_nothing_configured_refuses_everything(client, settings):
    settings.SENDGRID_INBOUND_PUBLIC_KEY = ""
    settings.SENDGRID_INBOUND_AUTH = ""
    content_type, body = inbound_parse_body(inbound_parse_form(to="reply+x@y", sender="a@b.c", text="Hi"))
    assert client.generic("POST", URL, body, content_type=content_type).status_code == 403
    assert client.get(URL).status_code == 405
    assert InboundEmail.objects.count() == 0


def test_inbound_over_the_size_limit_is_413(signed_post, settings):
    settings.INBOUND_EMAIL_MAX_BYTES = 200
    form = inbound_parse_form(to="reply+x@y", sender="a@b.c", text="x" * 500)
    assert signed_post(form).status_code == 413
    assert InboundEmail.objects.count() == 0


def test_inbound_without_sender_is_400(signed_post):
    form = inbound_parse_form(to="reply+x@y", sender="", text="Hi")
    form["from"] = ""
    assert signed_post(form).status_code == 400
