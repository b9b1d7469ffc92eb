"""A total deadline and a size cap on the answer, for every SendGrid and Twilio SDK call.

The SDKs' `timeout` bounds each socket operation, never the call: a provider (or a proxy in
between) that drips its answer a byte at a time, or never finishes its headers, would hold a
worker for as long as it likes, and one that sends a huge body would have it read into memory.

Each call runs inside `deadline(seconds)`: the sockets it uses are handed to `watch()` (a
duplicate is kept, so a socket later wrapped in TLS is still reached), and one watchdog thread
per process shuts them down when the time is up, so whatever the call is blocked in (connect,
TLS handshake, write, headers, body) ends at once with an error. The transports read answers
with `read_capped`, which stops past `PROVIDER_MAX_RESPONSE_BYTES`. Whether the cut call may
have been read by the provider is the transport's to decide (notifications/transports/__init__.py).

One thread for the process, not a timer per call: a `threading.Timer` costs a thread start per
send, a tenth of a send's CPU at the throughput the workers are held to.
"""

import heapq
import itertools
import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

# Bytes asked of the socket at a time while reading an answer.
CHUNK = 8192


class DeadlineExceeded(Exception):
    """The call had no complete answer within its deadline."""


class ResponseTooLarge(Exception):
    """The answer was larger than the cap; the rest was left unread."""


class Deadline:
    """One call's deadline: the sockets it watches are shut down when it fires."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.expires = time.monotonic() + seconds
        self.fired = False
        self.done = False
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()

    def watch(self, sock: socket.socket | None) -> None:
        """Shut `sock` down at the deadline (at once when it has passed)."""
        if sock is None:
            return
        try:
            # The duplicate reaches the same connection whatever becomes of `sock` (wrapped in TLS, closed).
            duplicate = sock.dup()
        except OSError:
            return
        with self._lock:
            if not self.fired:
                self._sockets.append(duplicate)
                return
        _shutdown(duplicate)

    def fire(self) -> None:
        with self._lock:
            if self.done:
                return
            self.fired = True
            sockets, self._sockets = self._sockets, []
        for sock in sockets:
            _shutdown(sock)

    def close(self) -> None:
        with self._lock:
            self.done = True
            sockets, self._sockets = self._sockets, []
        for sock in sockets:
            sock.close()

    def error(self) -> DeadlineExceeded:
        return DeadlineExceeded(f"no complete answer within {self.seconds:g} s")


def _shutdown(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass  # already closed by its owner, or not connected yet
    sock.close()


class _Watchdog:
    """Fires each armed deadline when it expires; one daemon thread, started on first use."""

    def __init__(self) -> None:
        self._armed: list[tuple[float, int, Deadline]] = []
        self._order = itertools.count()
        self._wake = threading.Condition()
        self._thread = threading.Thread(target=self._run, name="provider-deadline", daemon=True)
        self._thread.start()

    def arm(self, call: Deadline) -> None:
        with self._wake:
            heapq.heappush(self._armed, (call.expires, next(self._order), call))
            if self._armed[0][2] is call:
                self._wake.notify()

    def disarm(self, call: Deadline) -> None:
        call.close()
        with self._wake:
            # Calls end in about the order they start: dropping the finished ones at the top keeps the heap
            # short and spares the thread waking up for them.
            while self._armed and self._armed[0][2].done:
                heapq.heappop(self._armed)

    def _run(self) -> None:
        while True:
            with self._wake:
                while not self._armed:
                    self._wake.wait()
                expires, _, call = self._armed[0]
                wait = expires - time.monotonic()
                if wait > 0:
                    self._wake.wait(wait)
                    continue
                heapq.heappop(self._armed)
            call.fire()


_watchdog: _Watchdog | None = None
_watchdog_pid = 0
_watchdog_lock = threading.Lock()
_current = threading.local()


def _the_watchdog() -> _Watchdog:
    global _watchdog, _watchdog_pid
    # A forked pool process inherits the object but not its thread: it starts its own.
    if _watchdog is None or _watchdog_pid != os.getpid():
        with _watchdog_lock:
            if _watchdog is None or _watchdog_pid != os.getpid():
                _watchdog, _watchdog_pid = _Watchdog(), os.getpid()
    return _watchdog


@contextmanager
def deadline(seconds: float) -> Iterator[Deadline]:
    """Run a call under a deadline of `seconds`; connections opened or reused in it call `current().watch`."""
    call = Deadline(seconds)
    watchdog = _the_watchdog()
    watchdog.arm(call)
    outer = getattr(_current, "call", None)
    _current.call = call
    try:
        yield call
    finally:
        _current.call = outer
        watchdog.disarm(call)


def current() -> Deadline | None:
    """The deadline of the call running in this thread, if any."""
    return getattr(_current, "call", None)


def read_capped(read: Callable[[int], bytes], cap: int) -> bytes:
    """Read an answer's body chunk by chunk with `read(n)`; ResponseTooLarge once it passes `cap` bytes."""
    body = bytearray()
    while chunk := read(CHUNK):
        body += chunk
        if len(body) > cap:
            raise ResponseTooLarge(f"an answer larger than {cap} bytes")
    return bytes(body)
