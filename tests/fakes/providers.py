"""A local fake SendGrid and fake Twilio: one threaded HTTP server on 127.0.0.1 that records every request.

The real SDKs are pointed at it (`SENDGRID_API_BASE_URL`, `TWILIO_API_BASE_URL`), so tests
assert on the HTTP bodies that crossed the wire. Responses are scripted per provider: by
default SendGrid answers 202 with an `X-Message-Id`, Twilio 201 with a message `sid`.

A scripted answer may also misbehave the way networks do: `drop="after_read"` reads the whole
request, accepts it (as a real provider would have) and closes the connection without a word;
`drop="before_read"` closes it before reading the body (the provider acted on nothing);
`delay` holds the answer (a hanging provider); `drip` sends the answer one byte every `drip` seconds
(each byte within a socket timeout, the whole far past any deadline); `body_size` answers a body of that
many bytes (`sent_bytes` counts what left before the client hung up); `stall` waits that long before
reading the request's body, then drops the connection. `accepted` counts, per Closeloop message id
(SendGrid's custom arg, Twilio's status callback `?m=`), the requests the provider acted on:
the truth a double send or a lost one is measured against. Twilio's Message fetch
(`GET .../Messages/<sid>.json`) answers from `twilio_statuses` (default `delivered`), after `get_delay` s.
Its deletion (`DELETE .../Messages/<sid>.json`) answers 204 and forgets the sid, 404 for a sid it does not
know, and 409 with Twilio's error 20009 for the sids in `twilio_busy` (not yet finalised); `deleted` lists
the sids deleted, in order.
"""

import itertools
import json
import socket
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, urlsplit

from tests.fakes.loopback import LoopbackServer


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    # The client's port: requests sent over one kept-alive connection share it.
    client_port: int = 0

    def json(self) -> dict:
        return json.loads(self.body)

    def form(self) -> dict[str, str]:
        return {key: values[0] for key, values in parse_qs(self.body.decode(), keep_blank_values=True).items()}

    def message_id(self) -> str:
        """The Closeloop message id this request carries ("" when none)."""
        if self.path.startswith("/v3/"):
            try:
                return str(self.json().get("custom_args", {}).get("closeloop_message_id", ""))
            except ValueError:
                return ""
        callback = self.form().get("StatusCallback", "")
        return parse_qs(urlsplit(callback).query).get("m", [""])[0]


@dataclass
class Scripted:
    status: int
    body: dict | None = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    # "after_read": accept the request, then close without answering; "before_read": close unread.
    drop: str = ""
    drip: float = 0.0
    body_size: int = 0
    stall: float = 0.0


class FakeProviders(LoopbackServer):
    def __init__(self, *, record: bool = True) -> None:
        self.requests: list[Recorded] = []
        self.script: dict[str, list[Scripted]] = {"sendgrid": [], "twilio": []}
        # Answers for every request once the script is spent (e.g. a provider down for a while); None = normal.
        self.default: dict[str, Scripted | None] = {"sendgrid": None, "twilio": None}
        # Or a function of (request number, provider) giving each answer (None = normal): a provider that
        # misbehaves on a pattern, the same in every run.
        self.policy = None
        self.record = record
        self.accepted: Counter[str] = Counter()
        # Bytes of `body_size` answers written so far, and set when such an answer's handler is done.
        self.sent_bytes = 0
        self.answered = threading.Event()
        # Seconds Twilio's Message fetch waits before answering (a hanging lookup).
        self.get_delay = 0.0
        self.twilio_statuses: dict[str, tuple[str, str]] = {}
        self.sids: dict[str, str] = {}
        self.twilio_busy: set[str] = set()
        self.deleted: list[str] = []
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        super().__init__()

    def sendgrid(self) -> list[Recorded]:
        return [r for r in self.requests if r.path == "/v3/mail/send"]

    def twilio(self) -> list[Recorded]:
        return [r for r in self.requests if r.path.endswith("/Messages.json")]

    def doubled(self) -> dict[str, int]:
        """Message ids the providers acted on more than once, with how many times."""
        with self._lock:
            return {message_id: n for message_id, n in self.accepted.items() if n > 1}

    def _plan(self, provider: str) -> tuple[int, Scripted | None]:
        """The request's number and its scripted answer (None: a normal one), decided before reading it."""
        with self._lock:
            n = next(self._ids)
            if self.script[provider]:
                return n, self.script[provider].pop(0)
            if self.default[provider] is not None:
                return n, self.default[provider]
        return n, self.policy(n, provider) if self.policy is not None else None

    def _answer(self, recorded: Recorded, n: int, answer: Scripted | None) -> Scripted:
        provider = "sendgrid" if recorded.path.startswith("/v3/") else "twilio"
        accepted = answer is None or (200 <= answer.status < 300) or answer.drop == "after_read"
        with self._lock:
            if self.record:
                self.requests.append(recorded)
            if accepted:
                self.accepted[recorded.message_id()] += 1
                if provider == "twilio":
                    self.sids[f"SM{n:032d}"] = recorded.message_id()
        if answer is not None:
            return answer
        if provider == "sendgrid":
            return Scripted(202, None, {"X-Message-Id": f"sg{n:010d}"})
        return Scripted(201, {"sid": f"SM{n:032d}", "status": "queued"})

    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Headers and body leave in separate writes; with Nagle on, the client's delayed ACK adds 40 ms.
            disable_nagle_algorithm = True

            def _drop(self) -> None:
                self.close_connection = True
                try:
                    self.connection.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

            def do_GET(self) -> None:
                # Twilio's Message fetch: /2010-04-01/Accounts/<AC>/Messages/<SM>.json
                sid = self.path.rsplit("/", 1)[-1].removesuffix(".json")
                if fake.record:
                    with fake._lock:
                        recorded = Recorded("GET", self.path, dict(self.headers), b"", self.client_address[1])
                        fake.requests.append(recorded)
                time.sleep(fake.get_delay)
                status, error_code = fake.twilio_statuses.get(sid, ("delivered", ""))
                payload = json.dumps(
                    {"sid": sid, "status": status, "error_code": int(error_code) if error_code else None}
                ).encode()
                self.send_response(200 if sid in fake.sids or sid in fake.twilio_statuses else 404)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def do_DELETE(self) -> None:
                sid = self.path.rsplit("/", 1)[-1].removesuffix(".json")
                with fake._lock:
                    if fake.record:
                        fake.requests.append(
                            Recorded("DELETE", self.path, dict(self.headers), b"", self.client_address[1])
                        )
                    if sid in fake.twilio_busy:
                        status, error = (
                            409,
                            {
                                "code": 20009,
                                "message": "Cannot delete this resource before it is complete",
                                "status": 409,
                            },
                        )
                    elif fake.sids.pop(sid, None) is not None or fake.twilio_statuses.pop(sid, None) is not None:
                        status, error = 204, None
                        fake.deleted.append(sid)
                    else:
                        status, error = (
                            404,
                            {"code": 20404, "message": "The requested resource was not found", "status": 404},
                        )
                payload = json.dumps(error).encode() if error else b""
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                n, planned = fake._plan("sendgrid" if self.path.startswith("/v3/") else "twilio")
                if planned is not None and planned.stall:
                    time.sleep(planned.stall)
                    self._drop()
                    return
                if planned is not None and planned.drop == "before_read":
                    self._drop()
                    return
                body = self.rfile.read(length)
                if len(body) < length:
                    # The client died between the headers and the body: a provider acts on no half request.
                    self.close_connection = True
                    return
                recorded = Recorded("POST", self.path, dict(self.headers), body, self.client_address[1])
                answer = fake._answer(recorded, n, planned)
                if answer.delay:
                    time.sleep(answer.delay)
                if answer.drop == "after_read":
                    self._drop()
                    return
                if answer.body_size:
                    self._huge(answer)
                    return
                payload = json.dumps(answer.body).encode() if answer.body is not None else b""
                if answer.drip:
                    self._drip(answer, payload)
                    return
                try:
                    self.send_response(answer.status)
                    for name, value in answer.headers.items():
                        self.send_header(name, value)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def _drip(self, answer: Scripted, payload: bytes) -> None:
                self.close_connection = True
                head = f"HTTP/1.1 {answer.status} Scripted\r\nContent-Type: application/json\r\n"
                for name, value in answer.headers.items():
                    head += f"{name}: {value}\r\n"
                answer_bytes = f"{head}Content-Length: {len(payload)}\r\n\r\n".encode() + payload
                try:
                    for byte in answer_bytes:
                        self.wfile.write(bytes([byte]))
                        time.sleep(answer.drip)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def _huge(self, answer: Scripted) -> None:
                self.close_connection = True
                chunk = b"x" * 65536
                try:
                    self.send_response(answer.status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(answer.body_size))
                    self.end_headers()
                    while fake.sent_bytes < answer.body_size:
                        self.wfile.write(chunk[: answer.body_size - fake.sent_bytes])
                        fake.sent_bytes += min(len(chunk), answer.body_size - fake.sent_bytes)
                except (BrokenPipeError, ConnectionResetError):
                    pass
                finally:
                    fake.answered.set()

            def log_message(self, format: str, *args) -> None:
                pass

        return Handler
