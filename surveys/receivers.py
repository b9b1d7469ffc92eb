"""Answers by SMS and WhatsApp: a reply to a survey message records the score, then the reason, then says thanks.

Listens to `notifications.inbound_sms_received` (keywords like STOP never arrive here; messages that belong
to a conversation an app above holds with the number are not answers) and
records through `surveys.services.responses`; every answer back is a Message via `message_queue`, on the
channel the customer wrote on (a WhatsApp answer comes inside the session the customer's message opened).
"""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.dispatch import receiver

from notifications.models import Channel
from notifications.services.queue import message_queue
from notifications.signals import inbound_sms_received
from notifications.sms_keywords import sms_number
from notifications.sms_text import gsm_safe
from surveys.models import Invitation, Response
from surveys.scales import pick_locale
from surveys.services.responses import invitation_is_open, response_comment, response_submit
from surveys.wording import WORDING


def latest_open_sms_invitation(phone: str, channel: str = Channel.SMS) -> Invitation | None:
    candidates = (
        Invitation.objects.filter(channel=channel, contact__phone=phone, status=Invitation.Status.QUEUED)
        .select_related("survey", "contact")
        .order_by("-scheduled_at", "-id")[:5]
    )
    return next((invitation for invitation in candidates if invitation_is_open(invitation)), None)


def _text(channel: str, text: str) -> str:
    # An SMS is kept to the GSM alphabet (one segment costs less); WhatsApp carries any character.
    return gsm_safe(text) if channel == Channel.SMS else text


@receiver(inbound_sms_received, dispatch_uid="surveys-sms-reply")
def sms_reply_record(
    *, inbound_id: int, phone: str, body: str, thread: str = "", channel: str = Channel.SMS, button_payload: str = "",
    **kwargs,
) -> None:  # fmt: skip
    if thread:
        # The number is talking with someone (an agent, on a case) since our last question: its messages answer
        # them, and never change a score.
        return
    invitation = latest_open_sms_invitation(phone, channel)
    if invitation is None:
        return
    words = WORDING[pick_locale(invitation.locale)]
    response = Response.objects.filter(invitation=invitation).first()
    # A tapped quick-reply button says what it means in its id; its text is only what the customer saw.
    number = sms_number(button_payload) if button_payload else sms_number(body)
    with transaction.atomic():
        if number is not None and number in invitation.survey.scale.scores:
            try:
                response_submit(invitation=invitation, score=number)
            except ValidationError:
                return
            survey = invitation.survey
            if (response is None or not response.comment) and survey.asks_reason(number):
                prompt = survey.reason_prompt(invitation.locale)
                message_queue(channel=channel, recipient=phone, body_text=_text(channel, prompt))
        elif response is not None and not response.comment and body.strip() and not button_payload:
            response_comment(response=response, comment=body)
            message_queue(channel=channel, recipient=phone, body_text=_text(channel, words["thanks"]))
