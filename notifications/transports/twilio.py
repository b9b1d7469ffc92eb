"""SMS over Twilio's Messages API through the official `twilio` SDK.

Each send asks for a status callback carrying our message id and a validity period, and
goes through a Messaging Service when one is set (else from a number). Classifies Twilio's
error codes for the send service (21610 = the number replied STOP; 21211, 21614, 21635 =
the number can never get an SMS), and looks a message's status up by its sid for the
reconciler of `unknown` sends, and deletes Twilio's copy of an erased person's SMS. Never touches the database.

Whether a failed request may have reached Twilio is read off the connection itself: `requests`
reports a refused connection and a connection dropped after the request was read alike
(`ConnectionError`, the second wrapping urllib3's `ProtocolError('Connection aborted.')`), so
each connection records whether the whole request was written.

Each call runs under `PROVIDER_DEADLINE_SECONDS` from connect to the answer's last byte, and at most
`PROVIDER_MAX_RESPONSE_BYTES` of the answer is read (notifications/transports/deadline.py): the SDK's
`HttpClient` still builds, sends and parses every request; the adapter under it watches the sockets and
reads the body.
"""

import os
import threading

import requests
from django.conf import settings
from requests.adapters import HTTPAdapter
from requests.utils import get_environ_proxies
from twilio.base.exceptions import TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from notifications.models import Message
from notifications.transports import DeliveryError, SendResult
from notifications.transports.deadline import DeadlineExceeded, ResponseTooLarge, deadline, read_capped
from notifications.transports.deadline import current as current_deadline

TWILIO_HOST = "https://api.twilio.com"
# The recipient has opted out (replied STOP): sending again is refused until they reply START.
OPTED_OUT_CODES = {21610}
# The number can never receive an SMS: invalid (21211), not a mobile number (21614), a landline (21635),
# a landline or unreachable carrier (30006, reported in status callbacks). Kept off like a bounced address.
UNREACHABLE_CODES = {21211, 21614, 21635, 30006}
# Codes Twilio documents as worth retrying (queue overflow, rate limits, service unavailable).
TRANSIENT_CODES = {20429, 20500, 20503, 30001, 30022}
# "Cannot delete this resource before it is complete": a message is deletable once Twilio has finalised it.
STILL_PROCESSING_CODES = {20009}

# Whether the current thread's last request went out whole: set by the connection, read by the transport.
_written = threading.local()


def _request_written() -> bool:
    return getattr(_written, "flag", False)


class _WriteTracking:
    """A urllib3 connection that records when a request has been written in full (headers and body), and whose
    socket the running call's deadline watches (from the moment it is opened, or when a kept one is reused)."""

    def _new_conn(self):
        sock = super()._new_conn()
        if (call := current_deadline()) is not None:
            call.watch(sock)
        return sock

    def request(self, *args, **kwargs):
        _written.flag = False
        if self.sock is not None and (call := current_deadline()) is not None:
            call.watch(self.sock)
        super().request(*args, **kwargs)
        _written.flag = True


class _TrackedHTTPConnection(_WriteTracking, HTTPConnection):
    pass


class _TrackedHTTPSConnection(_WriteTracking, HTTPSConnection):
    pass


class _WriteTrackingAdapter(HTTPAdapter):
    _pool_classes = {
        "http": type("TrackedHTTPConnectionPool", (HTTPConnectionPool,), {"ConnectionCls": _TrackedHTTPConnection}),
        "https": type("TrackedHTTPSConnectionPool", (HTTPSConnectionPool,), {"ConnectionCls": _TrackedHTTPSConnection}),
    }

    def init_poolmanager(self, *args, **kwargs) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = self._pool_classes

    def send(self, request, stream=False, **kwargs):
        """Send as requests does, reading the body here: chunk by chunk, at most `PROVIDER_MAX_RESPONSE_BYTES`."""
        response = super().send(request, stream=True, **kwargs)
        try:
            # Decoded as `Response.content` would (gzip): the cap is on what is held in memory.
            body = read_capped(
                lambda size: response.raw.read(size, decode_content=True), settings.PROVIDER_MAX_RESPONSE_BYTES
            )
        except ResponseTooLarge:
            response.close()  # closes the connection too: the rest of the answer is never read
            raise
        except Exception as exc:
            response.close()
            raise requests.ConnectionError(exc, request=request) from exc
        # What `Response.content` would have read, for the SDK's `response.text`.
        response._content, response._content_consumed = body, True
        response.raw.release_conn()
        return response


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
        # No automatic retries (urllib3 would resend a request Twilio may have read), and a record of writes.
        adapter = _WriteTrackingAdapter(pool_maxsize=min(32, (os.cpu_count() or 1) + 4), max_retries=0)
        self.session.mount("https://", adapter)
        self.session.mount("http://", adapter)

    def request(self, method: str, url: str, *args, **kwargs):
        if url.startswith(TWILIO_HOST) and self.base_url != TWILIO_HOST:
            url = self.base_url + url[len(TWILIO_HOST) :]
        self.last_headers = {}
        _written.flag = False
        with deadline(settings.PROVIDER_DEADLINE_SECONDS) as call:
            try:
                response = super().request(method, url, *args, **kwargs)
            except requests.RequestException as exc:
                if call.fired:
                    raise call.error() from exc
                raise
        if call.fired:
            # A body without a length ends where the socket was shut down: it may be cut short.
            raise call.error()
        # Kept for a 429's Retry-After: the SDK's exception carries no headers.
        self.last_headers = response.headers or {}
        return response


def status_callback_url(message: Message) -> str:
    return f"{settings.SITE_URL}/webhooks/twilio/status/?m={message.public_id}"


# What cut a call short, besides the network's errors: the deadline, the size cap.
CUT_SHORT = (DeadlineExceeded, ResponseTooLarge)


def _failure(exc: Exception, *, doing: str) -> DeliveryError:
    what = str(exc) if isinstance(exc, CUT_SHORT) else type(exc).__name__
    if _request_written():
        # Read timeout, RemoteDisconnected, ConnectionResetError, the deadline or an oversized answer after the
        # write: Twilio may have queued it.
        return DeliveryError(
            f"Twilio outcome unknown: {what} after the request was written", permanent=False, unknown=True
        )
    # Refused, connect timeout, DNS, reset or the deadline while writing: Twilio never had the whole request.
    return DeliveryError(f"Twilio unreachable while {doing}: {what}", permanent=False)


class TwilioTransport:
    def __init__(self) -> None:
        self.http_client = BaseUrlHttpClient(settings.TWILIO_API_BASE_URL, timeout=settings.PROVIDER_TIMEOUT_SECONDS)
        self.client = Client(settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN, http_client=self.http_client)

    def send(self, message: Message) -> SendResult:
        """Create the message at Twilio; the send sets `validity_seconds` when quiet hours shorten how long
        Twilio may keep trying (never past the window's end)."""
        validity_period = getattr(message, "validity_seconds", None)
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
                validity_period=validity_period or settings.SMS_VALIDITY_PERIOD_SECONDS,
                **sender,
            )
        except TwilioRestException as exc:
            raise self._classify(exc) from None
        except (requests.RequestException, *CUT_SHORT) as exc:
            raise _failure(exc, doing="sending") from None
        return SendResult(provider_message_id=created.sid)

    def status(self, provider_message_id: str) -> tuple[str, str]:
        """Twilio's status of a message (`messages(sid).fetch()`) and its error code, "" when none."""
        try:
            fetched = self.client.messages(provider_message_id).fetch()
        except TwilioRestException as exc:
            raise self._classify(exc) from None
        except (requests.RequestException, *CUT_SHORT) as exc:
            # A GET changes nothing at Twilio: asking again later is always safe.
            what = str(exc) if isinstance(exc, CUT_SHORT) else type(exc).__name__
            raise DeliveryError(f"Twilio status lookup failed: {what}", permanent=False) from None
        return str(fetched.status or ""), str(fetched.error_code or "")

    def delete(self, provider_message_id: str) -> None:
        """Delete Twilio's copy of a message, sent or received (`messages(sid).delete()`, a DELETE answered 204).

        A message Twilio does not know (404: deleted already) is done. Twilio refuses to delete one it has not
        finished processing (error 20009, e.g. still awaiting the carrier's receipt): a transient error, to be
        tried again minutes later, as is any 429, 5xx or network failure (a DELETE may be repeated safely)."""
        try:
            self.client.messages(provider_message_id).delete()
        except TwilioRestException as exc:
            if exc.status == 404:
                return
            if exc.code in STILL_PROCESSING_CODES or exc.status == 429 or exc.status >= 500:
                raise DeliveryError(f"Twilio {exc.status} error {exc.code or 0}", permanent=False) from None
            raise DeliveryError(f"Twilio {exc.status} error {exc.code or 0}", permanent=True) from None
        except requests.RequestException as exc:
            raise DeliveryError(f"Twilio deletion failed: {type(exc).__name__}", permanent=False) from None

    def _classify(self, exc: TwilioRestException) -> DeliveryError:
        code = exc.code or 0
        reason = f"Twilio {exc.status} error {code}"
        if code in OPTED_OUT_CODES:
            return DeliveryError(reason, permanent=True, opted_out=True)
        if code in UNREACHABLE_CODES:
            return DeliveryError(reason, permanent=True, unreachable=True)
        if exc.status == 429 or code in TRANSIENT_CODES:
            retry_after = self.http_client.last_headers.get("Retry-After")
            return DeliveryError(reason, permanent=False, retry_after=_seconds(retry_after))
        if exc.status >= 500:
            return DeliveryError(reason, permanent=False)
        # Every other 4xx (bad sender, bad body, auth): the same request fails again.
        return DeliveryError(reason, permanent=True)


def _seconds(value: str | None) -> float | None:
    try:
        return float(value) if value else None
    except ValueError:
        return None
