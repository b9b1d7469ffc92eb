"""Email over SendGrid's v3 Mail Send API through the official `sendgrid` SDK.

Builds one request per message: its sender (an agent's name on their team's address) or
DEFAULT_FROM_EMAIL, its Reply-To, text and HTML parts, our opaque message id as the only
custom arg, click tracking off (survey links must stay ours), the message's own headers
(List-Unsubscribe). Classifies failures for the send service; never touches the database.

SendGrid has no "what became of this request?" lookup by our id, so a request that may have
been read stays `unknown` until its event webhook (`processed`, `delivered`...) settles it.

Each call runs under `PROVIDER_DEADLINE_SECONDS` from connect to the answer's last byte, and at most
`PROVIDER_MAX_RESPONSE_BYTES` of the answer is read (notifications/transports/deadline.py).
"""

import base64
import http.client
import os
import select
import socket
import threading
import time
from email.utils import parseaddr
from io import BytesIO
from urllib import error as urllib_error
from urllib.error import URLError
from urllib.parse import unquote, urlsplit
from urllib.request import getproxies, proxy_bypass

import python_http_client
from django.conf import settings
from python_http_client.exceptions import HTTPError, handle_error
from sendgrid import SendGridAPIClient

from notifications.models import Message
from notifications.transports import DeliveryError, SendResult
from notifications.transports.deadline import DeadlineExceeded, ResponseTooLarge, deadline, read_capped
from notifications.transports.deadline import current as current_deadline

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
    name, address = parseaddr(message.from_email or settings.DEFAULT_FROM_EMAIL)
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
    if message.reply_to:
        body["reply_to"] = {"email": message.reply_to}
    if message.headers:
        body["headers"] = dict(message.headers)
    return body


class RequestMayHaveBeenRead(Exception):
    """The whole request was written, then the answer failed (dropped, reset, timed out, garbled, cut off)."""

    def __init__(self, what: str) -> None:
        super().__init__(f"{what} after the request was written")


class KeptAliveClient(python_http_client.Client):
    """The SDK's HTTP client for one endpoint, sending over one kept-alive connection per thread.

    `python_http_client` builds a urllib opener and opens a new connection for every request
    (`Connection: close`). Here the SDK still builds each request (URL, headers with the key,
    JSON body) and turns error statuses into its exceptions; only the connection is kept. The
    proxy of the environment (`HTTPS_PROXY`, `HTTP_PROXY`, `NO_PROXY`) is read once, as urllib
    would read it per request.
    """

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self._target = urlsplit(self.host)
        proxy = getproxies().get(self._target.scheme)
        self._proxy = urlsplit(proxy) if proxy and not proxy_bypass(self._target.hostname) else None
        self._proxy_headers = {}
        if self._proxy is not None and self._proxy.username:
            credentials = f"{unquote(self._proxy.username)}:{unquote(self._proxy.password or '')}"
            self._proxy_headers["Proxy-Authorization"] = "Basic " + base64.b64encode(credentials.encode()).decode()
        self._local = threading.local()

    def _connection_new(self) -> http.client.HTTPConnection:
        https = self._target.scheme == "https"
        connection_class = http.client.HTTPSConnection if https else http.client.HTTPConnection
        if self._proxy is None:
            connection = connection_class(self._target.netloc, timeout=self.timeout)
        else:
            connection = connection_class(self._proxy.hostname, self._proxy.port, timeout=self.timeout)
            if https:
                connection.set_tunnel(self._target.hostname, self._target.port, headers=self._proxy_headers)
        # http.client opens its socket through this attribute: the running call's deadline watches it from then.
        connection._create_connection = _watched_create_connection
        return connection

    def _connection(self) -> http.client.HTTPConnection:
        connection = getattr(self._local, "connection", None)
        # A forked process inherits the forking thread's connection: that socket stays the parent's.
        if connection is None or self._local.pid != os.getpid():
            connection = self._local.connection = self._connection_new()
            self._local.pid = os.getpid()
        elif connection.sock is not None and select.select([connection.sock], [], [], 0)[0]:
            # An idle kept-alive socket with something to read was closed by the server: reconnect.
            connection.close()
        return connection

    def _make_request(self, opener, request, timeout=None):
        with deadline(settings.PROVIDER_DEADLINE_SECONDS) as call:
            connection = self._connection()
            status, reason, headers, body = self._exchange(connection, request, call)
        if call.fired:
            # The answer came whole just as the deadline shut the socket: keep it, not the dead connection.
            connection.close()
        if not 200 <= status < 300:
            raise handle_error(urllib_error.HTTPError(request.full_url, status, reason, headers, BytesIO(body)))
        return _ReadResponse(status, body, headers)

    def _exchange(self, connection: http.client.HTTPConnection, request, call) -> tuple[int, str, object, bytes]:
        """Send the request and read its whole answer (status, reason, headers, body) within the call's deadline."""
        # Through a proxy, plain HTTP names the whole URL to it (HTTPS goes through the tunnel instead).
        forward = self._proxy is not None and self._target.scheme == "http"
        try:
            if connection.sock is None:
                # Connected here rather than inside `request`: its socket is watched from the start (TLS handshake
                # and a proxy's CONNECT included) by `_watched_create_connection`.
                connection.connect()
            else:
                call.watch(connection.sock)
            connection.request(
                request.get_method(),
                request.full_url if forward else request.selector,
                body=request.data,
                headers={**dict(request.header_items()), **(self._proxy_headers if forward else {})},
            )
        except OSError as exc:
            connection.close()
            # As urllib: the provider did not get the whole request (the deadline may have cut the write).
            raise URLError(call.error() if call.fired else exc) from None
        try:
            response = connection.getresponse()
            body = read_capped(response.read, settings.PROVIDER_MAX_RESPONSE_BYTES)
            if call.fired:
                # A body without a length ends where the socket was shut down: it may be cut short.
                raise call.error()
        except ResponseTooLarge as exc:
            connection.close()
            raise RequestMayHaveBeenRead(str(exc)) from None
        except Exception as exc:
            # RemoteDisconnected, ConnectionResetError, TimeoutError, IncompleteRead, the deadline...: SendGrid had
            # the whole request and may have accepted it. Never to be told apart from "unreachable".
            connection.close()
            raise RequestMayHaveBeenRead(str(call.error()) if call.fired else type(exc).__name__) from None
        except BaseException:
            connection.close()
            raise
        return response.status, response.reason, response.msg, body


def _watched_create_connection(*args, **kwargs) -> socket.socket:
    """`socket.create_connection` whose socket the running call's deadline watches as soon as it exists."""
    sock = socket.create_connection(*args, **kwargs)
    if (call := current_deadline()) is not None:
        call.watch(sock)
    return sock


class _ReadResponse:
    """A response already read off the kept-alive connection, in the shape the SDK's `Response` reads."""

    def __init__(self, status: int, body: bytes, headers) -> None:
        self.status, self.body, self.headers = status, body, headers

    def getcode(self) -> int:
        return self.status

    def read(self) -> bytes:
        return self.body

    def info(self):
        return self.headers


class SendGridTransport:
    def __init__(self) -> None:
        sdk = SendGridAPIClient(settings.SENDGRID_API_KEY, host=settings.SENDGRID_API_BASE_URL)
        # Mail Send, built once with the SDK's headers; the SDK waits forever unless given a timeout (each socket
        # operation's; the whole call's is the deadline).
        self.mail_send = KeptAliveClient(
            host=sdk.client.host,
            request_headers=sdk.client.request_headers,
            version=3,
            url_path=["mail", "send"],
            timeout=settings.PROVIDER_TIMEOUT_SECONDS,
        )

    def send(self, message: Message) -> SendResult:
        try:
            response = self.mail_send.post(request_body=mail_body(message))
        except HTTPError as exc:
            raise self._classify(exc) from None
        except RequestMayHaveBeenRead as exc:
            # Written in full; SendGrid may have accepted it. Its event webhook will tell, a resend could double.
            raise DeliveryError(f"SendGrid outcome unknown: {exc}", permanent=False, unknown=True) from None
        except (URLError, OSError) as exc:
            # Connecting or writing failed: SendGrid never had the whole request, so a retry cannot double.
            cause = exc.reason if isinstance(exc, URLError) else exc
            what = str(cause) if isinstance(cause, DeadlineExceeded) else type(exc).__name__
            raise DeliveryError(f"SendGrid unreachable: {what}", permanent=False) from None
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
