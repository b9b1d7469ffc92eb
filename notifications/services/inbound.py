"""A customer's SMS to us: STOP/START/HELP keywords are answered here; anything else is announced with
`inbound_sms_received` for the apps above, inside the transaction that stores it.

Stored and acted on in one transaction: if acting on it fails (a bug, the database gone mid-way), nothing of it
is kept and the webhook answers 500, so Twilio's retry of the same `MessageSid` is processed afresh instead of
being taken for a duplicate of an answer that was never recorded."""

from django.conf import settings
from django.db import IntegrityError, transaction

from notifications.models import Channel, InboundSms, Suppression
from notifications.selectors import sms_thread_of
from notifications.services.queue import message_queue
from notifications.services.suppressions import suppression_add, suppression_remove
from notifications.signals import inbound_sms_received
from notifications.sms_keywords import HELP, START, STOP, sms_keyword, sms_keyword_locale
from notifications.sms_text import gsm_safe
from notifications.wording import wording


def inbound_sms_receive(*, sid: str, phone: str, body: str) -> InboundSms | None:
    """Store an inbound SMS once per `MessageSid` and act on consent keywords.

    STOP-like replies suppress the number (and cancel its queued SMS), START-like ones lift
    that, HELP gets `SMS_HELP_TEXT` (unset: the help of `notifications.wording`, in French
    for AIDE; empty: no answer); anything else is announced with `inbound_sms_received`
    in the same transaction, for the apps that asked a question (their receivers' writes commit
    with it, or not at all), with the `thread` of the latest message we sent to the number (empty
    when it belongs to no conversation): a number an agent wrote to last is in that conversation.
    None for a provider retry of an SMS already processed.
    """
    keyword = sms_keyword(body) or ""
    try:
        with transaction.atomic():
            inbound = InboundSms.objects.create(provider_message_id=sid, phone=phone, body=body, keyword=keyword)
            if keyword == STOP:
                suppression_add(channel=Channel.SMS, recipient=phone, reason=Suppression.Reason.STOP, source="twilio")
            elif keyword == START:
                suppression_remove(channel=Channel.SMS, recipient=phone)
            elif keyword == HELP and settings.SMS_HELP_TEXT != "":
                help_text = settings.SMS_HELP_TEXT or wording(sms_keyword_locale(body))["sms_help"]
                message_queue(channel=Channel.SMS, recipient=phone, body_text=gsm_safe(help_text))
            else:
                thread = sms_thread_of(phone=phone)
                inbound_sms_received.send(
                    sender=InboundSms, inbound_id=inbound.id, phone=phone, body=body, thread=thread
                )
    except IntegrityError:
        if InboundSms.objects.filter(provider_message_id=sid).exists():
            return None  # a retry of an SMS already stored and processed
        raise
    return inbound
