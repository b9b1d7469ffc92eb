"""A local fake SendGrid and fake Twilio: one threaded HTTP server on 127.0.0.1 that records every request.

The real SDKs are pointed at it (`SENDGRID_API_BASE_URL`, `TWILIO_API_BASE_URL`), so tests
assert on the HTTP bodies that crossed the wire. Responses are scripted per provider: by
default SendGrid answers 202 with an `X-Message-Id`, Twilio 201 with a message `sid`.
"""

import itertools
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs


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


@dataclass
class Scripted:
    status: int
    body: dict | None = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


class FakeProviders:
    def __init__(self, *, record: bool = True) -> None:
        self.requests: list[Recorded] = []
        self.script: dict[str, list[Scripted]] = {"sendgrid": [], "twilio": []}
        self.record = record
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self) -> "FakeProviders":
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def sendgrid(self) -> list[Recorded]:
        return [r for r in self.requests if r.path == "/v3/mail/send"]

    def twilio(self) -> list[Recorded]:
        return [r for r in self.requests if r.path.endswith("/Messages.json")]

    def _answer(self, recorded: Recorded) -> Scripted:
        provider = "sendgrid" if recorded.path.startswith("/v3/") else "twilio"
        with self._lock:
            if self.record:
                self.requests.append(recorded)
            if self.script[provider]:
                return self.script[provider].pop(0)
            n = next(self._ids)
        if provider == "sendgrid":
            return Scripted(202, None, {"X-Message-Id": f"sg{n:010d}"})
        return Scripted(201, {"sid": f"SM{n:032d}", "status": "queued"})

    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Headers and body leave in separate writes; with Nagle on, the client's delayed ACK adds 40 ms.
            disable_nagle_algorithm = True

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                if len(body) < length:
                    # The client died between the headers and the body: a provider acts on no half request.
                    self.close_connection = True
                    return
                answer = fake._answer(Recorded("POST", self.path, dict(self.headers), body, self.client_address[1]))
                if answer.delay:
                    time.sleep(answer.delay)
                payload = json.dumps(answer.body).encode() if answer.body is not None else b""
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

            def log_message(self, format: str, *args) -> None:
                pass

        return Handler
