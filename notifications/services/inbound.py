"""A customer's SMS or WhatsApp message to us: STOP/START/HELP keywords are answered here; anything else is
announced with `inbound_sms_received` for the apps above, inside the transaction that stores it.

Stored and acted on in one transaction: if acting on it fails (a bug, the database gone mid-way), nothing of it
is kept and the webhook answers 500, so Twilio's retry of the same `MessageSid` is processed afresh instead of
being taken for a duplicate of an answer that was never recorded. A WhatsApp message also opens (or extends)
the customer's 24-hour session, in which we may answer it freely (`whatsapp_session_closes_at`)."""

from django.conf import settings
from django.db import IntegrityError, transaction

from notifications.models import Channel, InboundSms, Suppression, recipient_normalize
from notifications.selectors import sms_thread_of
from notifications.services.queue import message_queue
from notifications.services.suppressions import suppression_add, suppression_remove
from notifications.signals import inbound_sms_received
from notifications.sms_keywords import HELP, START, STOP, sms_keyword, sms_keyword_locale
from notifications.sms_text import gsm_safe
from notifications.wording import wording


def inbound_sms_receive(
    *, sid: str, phone: str, body: str, channel: str = Channel.SMS, button_payload: str = ""
) -> InboundSms | None:
    """Store an inbound SMS or WhatsApp message once per `MessageSid` and act on consent keywords.

    STOP-like replies suppress the number on the channel they came by (and cancel its queued messages there),
    START-like ones lift that, HELP gets `SMS_HELP_TEXT` (unset: the help of `notifications.wording`, in French
    for AIDE; empty: no answer); anything else is announced with `inbound_sms_received` in the same
    transaction, for the apps that asked a question (their receivers' writes commit with it, or not at all),
    with the `thread` of the latest message we sent to the number on that channel (empty when it belongs to no
    conversation): a number an agent wrote to last is in that conversation. `button_payload` is the id of the
    WhatsApp quick-reply button the customer tapped (its text is the `body`): what the button means, a score or
    STOP, is read from it. None for a provider retry of a message already processed.
    """
    phone = recipient_normalize(channel=channel, recipient=phone)
    meaning = button_payload.strip() or body
    keyword = sms_keyword(meaning) or ""
    try:
        with transaction.atomic():
            inbound = InboundSms.objects.create(
                provider_message_id=sid, channel=channel, phone=phone, body=body, keyword=keyword
            )
            if keyword == STOP:
                suppression_add(channel=channel, recipient=phone, reason=Suppression.Reason.STOP, source="twilio")
            elif keyword == START:
                suppression_remove(channel=channel, recipient=phone)
            elif keyword == HELP and settings.SMS_HELP_TEXT != "":
                help_text = settings.SMS_HELP_TEXT or wording(sms_keyword_locale(meaning))["sms_help"]
                text = gsm_safe(help_text) if channel == Channel.SMS else help_text
                message_queue(channel=channel, recipient=phone, body_text=text)
            else:
                inbound_sms_received.send(
                    sender=InboundSms,
                    inbound_id=inbound.id,
                    phone=phone,
                    body=body,
                    thread=sms_thread_of(phone=phone, channel=channel),
                    channel=channel,
                    button_payload=button_payload.strip(),
                )
    except IntegrityError:
        if InboundSms.objects.filter(provider_message_id=sid).exists():
            return None  # a retry of an SMS already stored and processed
        raise
    return inbound
