"""Email over SendGrid's v3 Mail Send API through the official `sendgrid` SDK.

Builds one request per message: text and HTML parts, our opaque message id as the only
custom arg, click tracking off (survey links must stay ours), the message's own headers
(List-Unsubscribe). Classifies failures for the send service; never touches the database.
"""

import time
from email.utils import parseaddr
from urllib.error import URLError

from django.conf import settings
from python_http_client.exceptions import HTTPError
from sendgrid import SendGridAPIClient

from notifications.models import Message
from notifications.transports import DeliveryError, SendResult

# Our id in SendGrid's event webhooks: `custom_args` come back as top-level keys of each event.
MESSAGE_ID_ARG = "closeloop_message_id"


def retry_after_from(headers) -> float | None:
    """Seconds to wait from a 429's `Retry-After` or SendGrid's `X-RateLimit-Reset` (epoch seconds)."""
    if headers is None:
        return None
    if value := headers.get("Retry-After"):
        try:
            return float(value)
        except ValueError:
            return None
    if value := headers.get("X-RateLimit-Reset"):
        try:
            return max(0.0, float(value) - time.time())
        except ValueError:
            return None
    return None


def mail_body(message: Message) -> dict:
    name, address = parseaddr(settings.DEFAULT_FROM_EMAIL)
    content = [{"type": "text/plain", "value": message.body_text}]
    if message.body_html:
        content.append({"type": "text/html", "value": message.body_html})
    body = {
        "personalizations": [{"to": [{"email": message.recipient}]}],
        "from": {"email": address, **({"name": name} if name else {})},
        "subject": message.subject,
        "content": content,
        "custom_args": {MESSAGE_ID_ARG: str(message.public_id)},
        "tracking_settings": {"click_tracking": {"enable": False, "enable_text": False}},
    }
    if message.headers:
        body["headers"] = dict(message.headers)
    return body


class SendGridTransport:
    def __init__(self) -> None:
        self.client = SendGridAPIClient(settings.SENDGRID_API_KEY, host=settings.SENDGRID_API_BASE_URL)
        # The SDK waits forever by default; its per-endpoint clients inherit this timeout.
        self.client.client.timeout = settings.PROVIDER_TIMEOUT_SECONDS

    def send(self, message: Message) -> SendResult:
        try:
            response = self.client.send(mail_body(message))
        except HTTPError as exc:
            raise self._classify(exc) from None
        except TimeoutError as exc:
            # The request was written; SendGrid may have accepted it. Webhooks will tell.
            raise DeliveryError(f"SendGrid timed out after sending: {exc}", permanent=False, unknown=True) from None
        except (URLError, ConnectionError) as exc:
            raise DeliveryError(f"SendGrid unreachable: {type(exc).__name__}", permanent=False) from None
        return SendResult(provider_message_id=response.headers.get("X-Message-Id", ""))

    @staticmethod
    def _classify(exc: HTTPError) -> DeliveryError:
        status = exc.status_code
        if status == 429:
            return DeliveryError("SendGrid 429", permanent=False, retry_after=retry_after_from(exc.headers))
        if status >= 500:
            return DeliveryError(f"SendGrid {status}", permanent=False)
        # 400 (bad address, bad body), 401/403 (key): retrying the same request cannot succeed.
        return DeliveryError(f"SendGrid {status}: {exc.body[:300]!r}", permanent=True)
