"""WhatsApp over Twilio's Messages API through the official `twilio` SDK, beside the SMS transport.

A message that opens a conversation carries an approved Content template (`Message.template`: `content_sid`
and the `content_variables` that fill it); anything else is a free-form `body`, which WhatsApp delivers only
within 24 hours of the customer's last message (Twilio's error 63016 otherwise). Both go from
`whatsapp:<TWILIO_WHATSAPP_FROM>` to `whatsapp:<the customer's number>`, ask for the same status callback as
an SMS, and share the SMS transport's connection handling: a request that may have reached Twilio is
`unknown`, never resent. Never touches the database.
"""

import json

import requests
from django.conf import settings
from twilio.base.exceptions import TwilioRestException

from notifications.models import Message
from notifications.transports import DeliveryError, SendResult
from notifications.transports.twilio import CUT_SHORT, TwilioTransport, _failure, _seconds, status_callback_url

ADDRESS_PREFIX = "whatsapp:"
# Twilio refuses a free-form message outside the customer's 24-hour session: only a template may go.
SESSION_CLOSED_CODES = {63016}
# The number has no WhatsApp account (63003: the channel could not find the To address): kept off WhatsApp.
NOT_ON_WHATSAPP_CODES = {63003}
# WhatsApp's own throughput limit for the sender (63018): worth a retry after a wait.
WHATSAPP_TRANSIENT_CODES = {63018}


def whatsapp_address(phone: str) -> str:
    return phone if phone.startswith(ADDRESS_PREFIX) else f"{ADDRESS_PREFIX}{phone}"


class TwilioWhatsAppTransport(TwilioTransport):
    def send(self, message: Message) -> SendResult:
        template = message.template or {}
        if template.get("content_sid"):
            content = {"content_sid": template["content_sid"]}
            if template.get("variables"):
                content["content_variables"] = json.dumps(template["variables"], ensure_ascii=False)
        else:
            content = {"body": message.body_text}
        validity_period = getattr(message, "validity_seconds", None)
        try:
            created = self.client.messages.create(
                to=whatsapp_address(message.recipient),
                from_=whatsapp_address(settings.TWILIO_WHATSAPP_FROM),
                status_callback=status_callback_url(message),
                validity_period=validity_period or settings.SMS_VALIDITY_PERIOD_SECONDS,
                **content,
            )
        except TwilioRestException as exc:
            raise self._classify(exc) from None
        except (requests.RequestException, *CUT_SHORT) as exc:
            raise _failure(exc, doing="sending") from None
        return SendResult(provider_message_id=created.sid)

    def _classify(self, exc: TwilioRestException) -> DeliveryError:
        code = exc.code or 0
        if code in SESSION_CLOSED_CODES:
            return DeliveryError(
                f"Twilio {exc.status} error {code}: outside the customer's 24-hour WhatsApp session,"
                " only an approved template may be sent",
                permanent=True,
            )
        if code in NOT_ON_WHATSAPP_CODES:
            return DeliveryError(f"Twilio {exc.status} error {code}: the number is not on WhatsApp", permanent=True,
                                 unreachable=True)  # fmt: skip
        if code in WHATSAPP_TRANSIENT_CODES:
            retry_after = self.http_client.last_headers.get("Retry-After")
            reason = f"Twilio {exc.status} error {code}"
            return DeliveryError(reason, permanent=False, retry_after=_seconds(retry_after))
        return super()._classify(exc)
