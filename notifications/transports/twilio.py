"""SMS over Twilio's Messages API through the official `twilio` SDK.

Each send asks for a status callback carrying our message id and a validity period, and
goes through a Messaging Service when one is set (else from a number). Classifies Twilio's
error codes for the send service (21610 = the number replied STOP); never touches the database.
"""

import os

import requests
from django.conf import settings
from requests.utils import get_environ_proxies
from twilio.base.exceptions import TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from notifications.models import Message
from notifications.transports import DeliveryError, SendResult

TWILIO_HOST = "https://api.twilio.com"
# The recipient has opted out (replied STOP): sending again is refused until they reply START.
OPTED_OUT_CODES = {21610}
# Codes Twilio documents as worth retrying (queue overflow, rate limits, service unavailable).
TRANSIENT_CODES = {20429, 20500, 20503, 30001, 30022}


class BaseUrlHttpClient(TwilioHttpClient):
    """Sends the SDK's requests to `TWILIO_API_BASE_URL` (a mock, a proxy) instead of api.twilio.com."""

    def __init__(self, base_url: str, **kwargs) -> None:
        super().__init__(**kwargs)
        self.base_url = base_url.rstrip("/")
        self.last_headers: dict = {}
        # `requests` reads the proxy and CA variables of the environment on every call, a scan of
        # os.environ that cost a third of the SDK's CPU per SMS; the host never changes, so read them once.
        self.proxy = get_environ_proxies(self.base_url)
        self.session.trust_env = False
        self.session.verify = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or True

    def request(self, method: str, url: str, *args, **kwargs):
        if url.startswith(TWILIO_HOST) and self.base_url != TWILIO_HOST:
            url = self.base_url + url[len(TWILIO_HOST) :]
        self.last_headers = {}
        response = super().request(method, url, *args, **kwargs)
        # Kept for a 429's Retry-After: the SDK's exception carries no headers.
        self.last_headers = response.headers or {}
        return response


def status_callback_url(message: Message) -> str:
    return f"{settings.SITE_URL}/webhooks/twilio/status/?m={message.public_id}"


class TwilioTransport:
    def __init__(self) -> None:
        self.http_client = BaseUrlHttpClient(settings.TWILIO_API_BASE_URL, timeout=settings.PROVIDER_TIMEOUT_SECONDS)
        self.client = Client(settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN, http_client=self.http_client)

    def send(self, message: Message) -> SendResult:
        sender = (
            {"messaging_service_sid": settings.TWILIO_MESSAGING_SERVICE_SID}
            if settings.TWILIO_MESSAGING_SERVICE_SID
            else {"from_": settings.TWILIO_FROM_NUMBER}
        )
        try:
            created = self.client.messages.create(
                to=message.recipient,
                body=message.body_text,
                status_callback=status_callback_url(message),
                validity_period=settings.SMS_VALIDITY_PERIOD_SECONDS,
                **sender,
            )
        except TwilioRestException as exc:
            raise self._classify(exc) from None
        except requests.exceptions.ConnectionError as exc:
            # Includes connect timeouts: nothing reached Twilio, so a retry cannot double.
            raise DeliveryError(f"Twilio unreachable: {type(exc).__name__}", permanent=False) from None
        except requests.exceptions.Timeout:
            # The request was written; Twilio may have queued it. The status callback will tell.
            raise DeliveryError("Twilio timed out after sending", permanent=False, unknown=True) from None
        return SendResult(provider_message_id=created.sid)

    def _classify(self, exc: TwilioRestException) -> DeliveryError:
        code = exc.code or 0
        reason = f"Twilio {exc.status} error {code}"
        if code in OPTED_OUT_CODES:
            return DeliveryError(reason, permanent=True, opted_out=True)
        if exc.status == 429 or code in TRANSIENT_CODES:
            retry_after = self.http_client.last_headers.get("Retry-After")
            return DeliveryError(reason, permanent=False, retry_after=float(retry_after) if retry_after else None)
        if exc.status >= 500:
            return DeliveryError(reason, permanent=False)
        # 21211 invalid number, 21614 not a mobile number, and every other 4xx: the same request fails again.
        return DeliveryError(reason, permanent=True)
