"""Every HTTP call Closeloop makes to an address a user typed (outgoing webhooks, Slack, Zendesk notes): one guard.

- Where: http(s) only; the host is resolved once and every address it resolves to must be public —
  not private, loopback, link-local, multicast or reserved, including the forms that embed an IPv4
  address in IPv6 (IPv4-mapped `::ffff:0:0/96`, NAT64 `64:ff9b::/96`, 6to4 `2002::/16`) — unless
  `WEBHOOKS_ALLOW_PRIVATE_ADDRESSES` is set; the connection is pinned to the checked address (a DNS
  answer that changes between check and connect cannot redirect it); no proxy from the environment;
  redirects are never followed.
- How long: `OUTBOUND_DEADLINE_SECONDS` for the whole call, connect to last byte; a receiver that
  drips its answer is cut off at the deadline (its socket is shut down), never holds a worker.
- How much: at most `OUTBOUND_MAX_RESPONSE_BYTES` of the answer is read; a larger one is an error.

It must not decide what to send or whether to retry: its callers do.
"""

import ipaddress
import socket
import threading
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

import requests
from django.conf import settings
from django.utils.translation import gettext as _
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import NewConnectionError
from urllib3.util import connection as urllib3_connection

NAT64 = ipaddress.ip_network("64:ff9b::/96")
CHUNK = 8192


class AddressRefused(Exception):
    """The URL is not one Closeloop may call."""


class OutboundError(requests.RequestException):
    """The call went over its deadline or its answer over the size cap (retried like a network error)."""


@dataclass(frozen=True)
class OutboundResponse:
    status_code: int
    body: bytes


def _target(url: str) -> tuple[str, str, int]:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise AddressRefused(_("Use an http:// or https:// URL with a host name."))
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as exc:
        raise AddressRefused(_("The URL's port is not a number from 1 to 65535.")) from exc
    return parts.scheme, parts.hostname, port


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 one stands for: IPv4-mapped, 6to4, NAT64 (well-known prefix)."""
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip in NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def address_refusal(address: str) -> str | None:
    """The address (or the IPv4 address it embeds) that may not be called, or None when it may."""
    ip = ipaddress.ip_address(address.split("%")[0])
    candidates = [ip]
    if isinstance(ip, ipaddress.IPv6Address) and (embedded := _embedded_ipv4(ip)) is not None:
        # The packet goes to the IPv4 address it embeds: that one decides (a NAT64 or 6to4 form of a public
        # address is fine, of loopback or a private network never).
        candidates = [embedded]
    for candidate in candidates:
        if not candidate.is_global or candidate.is_multicast or candidate.is_reserved or candidate.is_unspecified:
            return str(candidate)
    return None


def allowed_addresses(host: str, port: int) -> list[str]:
    """What `host` resolves to; refused when any address may not be called."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise AddressRefused(_("%(host)s does not resolve.") % {"host": host}) from exc
    addresses = list(dict.fromkeys(info[4][0] for info in infos))
    if settings.WEBHOOKS_ALLOW_PRIVATE_ADDRESSES:
        return addresses
    for address in addresses:
        if refused := address_refusal(address):
            raise AddressRefused(
                _("%(host)s resolves to %(address)s, a private, loopback or link-local address.")
                % {"host": host, "address": refused}
            )

    return addresses


def url_check(url: str) -> None:
    """Raise AddressRefused for a URL Closeloop may not call (for a form's or a service's field error)."""
    allowed_addresses(*_target(url)[1:])


class _Watchdog:
    """Shuts the call's sockets down at the deadline: a blocked read then ends at once, whatever it waits for."""

    def __init__(self, seconds: float) -> None:
        self.sockets: list[socket.socket] = []
        self.fired = False
        self._timer = threading.Timer(seconds, self._fire)
        self._timer.daemon = True

    def _fire(self) -> None:
        self.fired = True
        for sock in self.sockets:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def __enter__(self):
        self._timer.start()
        return self

    def __exit__(self, *exc) -> None:
        self._timer.cancel()


def _pinned_pool_classes(address: str, watchdog: _Watchdog) -> dict[str, type]:
    """Connection pools that connect to `address` whatever the host name resolves to by now.

    The Host header, TLS server name and certificate check still use the URL's host name.
    """

    def new_conn(connection):
        try:
            sock = urllib3_connection.create_connection(
                (address, connection.port),
                connection.timeout,
                source_address=connection.source_address,
                socket_options=connection.socket_options,
            )
        except OSError as exc:
            raise NewConnectionError(connection, f"Failed to connect to {address}: {exc}") from exc
        watchdog.sockets.append(sock)
        return sock

    http = type("PinnedHTTPConnection", (HTTPConnection,), {"_new_conn": new_conn})
    https = type("PinnedHTTPSConnection", (HTTPSConnection,), {"_new_conn": new_conn})
    return {
        "http": type("PinnedHTTPConnectionPool", (HTTPConnectionPool,), {"ConnectionCls": http}),
        "https": type("PinnedHTTPSConnectionPool", (HTTPSConnectionPool,), {"ConnectionCls": https}),
    }


class _PinnedAddressAdapter(HTTPAdapter):
    def __init__(self, address: str, watchdog: _Watchdog) -> None:
        self._pool_classes = _pinned_pool_classes(address, watchdog)
        super().__init__(max_retries=0)

    def init_poolmanager(self, *args, **kwargs) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = self._pool_classes


def outbound_post(url: str, body: bytes, headers: dict[str, str]) -> OutboundResponse:
    """POST `body` to a user-given URL under the guard, the deadline and the size cap (module docstring)."""
    return outbound_request("POST", url, body, headers)


def outbound_request(method: str, url: str, body: bytes, headers: dict[str, str]) -> OutboundResponse:
    """Send `body` with `method` (POST, PUT) to a user-given URL under the guard, the deadline and the size cap."""
    scheme, host, port = _target(url)
    address = allowed_addresses(host, port)[0]
    deadline = settings.OUTBOUND_DEADLINE_SECONDS
    cap = settings.OUTBOUND_MAX_RESPONSE_BYTES
    started = time.monotonic()
    with _Watchdog(deadline) as watchdog, requests.Session() as session:
        session.trust_env = False  # an environment proxy would connect on its own, past the address check
        session.mount(f"{scheme}://", _PinnedAddressAdapter(address, watchdog))
        timeout = min(settings.WEBHOOK_TIMEOUT_SECONDS, deadline)
        try:
            response = session.request(
                method, url, data=body, headers=headers, timeout=timeout, allow_redirects=False, stream=True
            )
            with response:
                declared = response.headers.get("Content-Length", "")
                if declared.isdigit() and int(declared) > cap:
                    raise OutboundError(f"The answer is larger than {cap} bytes.")
                received = bytearray()
                for chunk in response.iter_content(CHUNK):
                    received += chunk
                    if len(received) > cap:
                        raise OutboundError(f"The answer is larger than {cap} bytes.")
                    if time.monotonic() - started > deadline:
                        raise OutboundError(f"No complete answer within {deadline:g} s.")
        except requests.RequestException as exc:
            if watchdog.fired and not isinstance(exc, OutboundError):
                raise OutboundError(f"No complete answer within {deadline:g} s.") from exc
            raise
    if watchdog.fired:
        raise OutboundError(f"No complete answer within {deadline:g} s.")
    return OutboundResponse(status_code=response.status_code, body=bytes(received))
