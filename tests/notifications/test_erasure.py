"""A person's erasure in notifications (notifications/services/erasure.py): messages, inbound SMS and emails,
suppressions kept as keyed hashes, and Twilio's copies deleted through the real SDK against the local fake."""

import pytest
from django.test import override_settings

from notifications.models import (
    Channel,
    InboundEmail,
    InboundSms,
    Message,
    ProviderEvent,
    Suppression,
    recipient_hashed,
)
from notifications.selectors import (
    recipient_is_contactable,
    recipients_suppressed,
    suppression_list,
)
from notifications.services.erasure import (
    inbound_erase,
    messages_erase,
    provider_copies_delete,
    provider_copies_delete_now,
    suppressions_erase,
)
from notifications.services.inbound import inbound_sms_receive
from notifications.services.queue import message_queue
from notifications.services.sending import message_send
from notifications.services.suppressions import suppression_add, suppression_remove
from notifications.tasks import delete_provider_copies
from tests.factories import MessageFactory

pytestmark = pytest.mark.django_db

PHONE = "+33612349876"
ACCOUNT = "AC" + "0" * 32


def _sent_sms(fake_providers, capture) -> Message:
    with capture(execute=True):
        message = message_queue(channel=Channel.SMS, recipient=PHONE, body_text="Hi Ann, how did we do?")
    message.refresh_from_db()
    assert message.status == Message.Status.SENT
    return message


def test_erasure_deletes_the_sms_both_ways_at_twilio_through_the_sdk(
    fake_providers, django_capture_on_commit_callbacks
):
    sent = _sent_sms(fake_providers, django_capture_on_commit_callbacks)
    fake_providers.twilio_statuses["SM" + "9" * 32] = ("received", "")
    inbound_sms_receive(sid="SM" + "9" * 32, phone=PHONE, body="It was fine, Ann")

    with django_capture_on_commit_callbacks(execute=True):
        erased, sent_sids = messages_erase(recipients=[(Channel.SMS, PHONE)])
        deleted, received_sids = inbound_erase(phones=[PHONE])
        provider_copies_delete(sids=sent_sids + received_sids)

    assert (erased, deleted) == (1, 1)
    assert sent_sids == [sent.provider_message_id]
    assert sorted(fake_providers.deleted) == sorted([sent.provider_message_id, "SM" + "9" * 32])
    deletions = [r for r in fake_providers.requests if r.method == "DELETE"]
    assert sorted(r.path for r in deletions) == sorted(
        f"/2010-04-01/Accounts/{ACCOUNT}/Messages/{sid}.json" for sid in [*sent_sids, "SM" + "9" * 32]
    )
    sent.refresh_from_db()
    assert (sent.recipient, sent.recipient_key, sent.body_text, sent.provider_message_id) == ("", "", "", "")
    assert sent.status == Message.Status.SENT  # the funnel still counts it as sent
    assert not InboundSms.objects.exists()


def test_a_message_twilio_still_processes_is_tried_again_and_an_unknown_one_is_done(fake_providers):
    fake_providers.twilio_statuses["SMbusy"] = ("sending", "")
    fake_providers.twilio_busy.add("SMbusy")

    assert provider_copies_delete_now(sids=["SMbusy", "SMgone"]) == ["SMbusy"]

    fake_providers.twilio_busy.clear()
    assert provider_copies_delete_now(sids=["SMbusy"]) == []
    assert fake_providers.deleted == ["SMbusy"]


@override_settings(NOTIFICATIONS_TRANSPORTS={"email": "notifications.transports.locmem.LocmemTransport",
                                             "sms": "notifications.transports.locmem.LocmemTransport"})  # fmt: skip
def test_a_transport_without_a_provider_keeps_no_copy_to_delete():
    assert provider_copies_delete_now(sids=["SM1"]) == []


def test_messages_erase_blanks_what_names_the_person_and_keeps_what_the_funnel_counts():
    message = MessageFactory(
        recipient="Ann@Example.com",
        subject="Ann, a question",
        body_html="<p>Ann</p>",
        headers={"List-Unsubscribe": "<mailto:x>"},
        status=Message.Status.DELIVERED,
        provider_message_id="sg123",
        unsubscribe_hash="h" * 64,
        thread="follow_up:3",
    )
    ProviderEvent.objects.create(provider="sendgrid", event_id="e1", kind="open", message=message)
    notice = MessageFactory(recipient="agent@closeloop.test", subject="[Closeloop] New: case #3 (NPS, score 2)")
    kept = MessageFactory(recipient="other@example.com", subject="[Closeloop] New: case #31 (NPS, score 2)")

    count, sids = messages_erase(recipients=[(Channel.EMAIL, "ann@example.com")], subjects=[": case #3 ("])

    assert (count, sids) == (2, [])
    message.refresh_from_db()
    assert (message.recipient, message.subject, message.body_text, message.body_html, message.headers) == (
        "", "", "", "", {}
    )  # fmt: skip
    assert (message.status, message.thread, message.events.get().kind) == ("delivered", "follow_up:3", "open")
    notice.refresh_from_db()
    assert notice.body_text == ""
    kept.refresh_from_db()
    assert kept.subject == "[Closeloop] New: case #31 (NPS, score 2)"


def test_a_queued_message_erased_before_its_send_is_cancelled_not_sent(outbox):
    message = MessageFactory(recipient="ann@example.com")

    messages_erase(message_ids=[message.pk])

    assert message_send(message_id=message.pk).status == Message.Status.CANCELLED
    assert outbox == []


def test_inbound_erase_takes_the_emails_from_them_and_into_their_threads():
    InboundEmail.objects.create(sender="ann@example.com", recipient="r@x", text="Ann here", outcome="unknown")
    InboundEmail.objects.create(sender="b@example.com", recipient="r@x", text="on her case", thread="follow_up:3",
                                outcome="routed")  # fmt: skip
    other = InboundEmail.objects.create(sender="b@example.com", recipient="r@x", text="other", outcome="unknown")

    deleted, sids = inbound_erase(emails=["ANN@example.com"], threads=["follow_up:3"])

    assert (deleted, sids) == (2, [])
    assert list(InboundEmail.objects.all()) == [other]


def test_an_opt_out_is_kept_as_a_keyed_hash_that_still_blocks_the_address():
    suppression_add(
        channel=Channel.EMAIL, recipient="Ann@example.com", reason=Suppression.Reason.UNSUBSCRIBE, source="link"
    )

    assert (
        suppressions_erase(recipients=[(Channel.EMAIL, "ann@example.com"), (Channel.SMS, PHONE)], keep_out=False) == 1
    )

    hashed = recipient_hashed(channel=Channel.EMAIL, recipient="ann@example.com")
    assert list(Suppression.objects.values_list("recipient", "reason", "source")) == [
        (hashed, "unsubscribe", "erasure")
    ]
    assert hashed.startswith("hmac:") and len(hashed) == 5 + 64
    assert not recipient_is_contactable(channel=Channel.EMAIL, recipient=" ANN@example.com")
    assert recipient_is_contactable(channel=Channel.SMS, recipient=PHONE)
    assert recipients_suppressed(recipients=[(Channel.EMAIL, "Ann@Example.com"), (Channel.SMS, PHONE)]) == {
        (Channel.EMAIL, "Ann@Example.com")
    }
    assert list(suppression_list()) == []  # a hash is nobody's address to list


def test_keep_out_hashes_every_address_and_a_new_consent_lifts_it():
    assert suppressions_erase(recipients=[(Channel.EMAIL, "ann@example.com"), (Channel.SMS, PHONE)], keep_out=True) == 2

    assert set(Suppression.objects.values_list("channel", "reason")) == {("email", "erasure"), ("sms", "erasure")}
    assert not recipient_is_contactable(channel=Channel.SMS, recipient=PHONE)
    assert suppression_remove(channel=Channel.SMS, recipient=PHONE)  # they texted START: their new consent
    assert recipient_is_contactable(channel=Channel.SMS, recipient=PHONE)


def test_the_hash_is_keyed(settings):
    settings.ERASURE_HASH_KEY = "one key"
    first = recipient_hashed(channel=Channel.EMAIL, recipient="ann@example.com")
    settings.ERASURE_HASH_KEY = "another key"

    assert recipient_hashed(channel=Channel.EMAIL, recipient="ann@example.com") != first
    assert recipient_hashed(channel=Channel.EMAIL, recipient="Ann@Example.com ") == recipient_hashed(
        channel=Channel.EMAIL, recipient="ann@example.com"
    )
    assert recipient_hashed(channel=Channel.SMS, recipient="ann@example.com") != recipient_hashed(
        channel=Channel.EMAIL, recipient="ann@example.com"
    )


def test_copies_twilio_keeps_refusing_are_logged_by_id_for_an_operator(fake_providers, caplog):
    fake_providers.twilio_statuses["SMbusy"] = ("sending", "")
    fake_providers.twilio_busy.add("SMbusy")

    delete_provider_copies.delay(["SMbusy"])  # eager here: no later retry to wait for

    [record] = [r for r in caplog.records if r.name == "notifications.tasks"]
    assert record.getMessage() == "1 SMS of an erased person are still at Twilio: SMbusy"
    assert fake_providers.deleted == []


def test_the_hash_is_the_one_already_stored_for_erased_people(settings):
    import hashlib
    import hmac

    from django.utils.crypto import salted_hmac

    settings.ERASURE_HASH_KEY = ""
    derived = salted_hmac("closeloop.erasure", b"email:ann@example.com", algorithm="sha256").hexdigest()
    assert recipient_hashed(channel=Channel.EMAIL, recipient="Ann@example.com") == "hmac:" + derived

    settings.ERASURE_HASH_KEY = "a key"
    keyed = hmac.new(b"a key", b"sms:+33612345678", hashlib.sha256).hexdigest()
    assert recipient_hashed(channel=Channel.SMS, recipient="+33 6 12 34 56 78") == "hmac:" + keyed
