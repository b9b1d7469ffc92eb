"""A local webhook receiver: a threaded HTTP server on 127.0.0.1 that checks each POST's signature.

It checks as docs/integrations.md tells receivers to: the POST is genuine when any of the header's
comma-separated signatures is its own (there are two while a rotated secret's grace lasts).

Answers are scripted (`statuses`, first one first; 200 once they run out), so a test can make
deliveries fail and watch them retried.
"""

import hashlib
import hmac
import json
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler

from tests.fakes.loopback import LoopbackServer


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    signature_valid: bool

    def json(self) -> dict:
        return json.loads(self.body)


class WebhookReceiver(LoopbackServer):
    def __init__(self, secret: str) -> None:
        self.secret = secret
        self.received: list[Received] = []
        self.statuses: list[int] = []
        self._lock = threading.Lock()
        super().__init__()
        self.url = f"{self.url}/hooks/closeloop"

    def _handler(self):
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                expected = "sha256=" + hmac.new(receiver.secret.encode(), body, hashlib.sha256).hexdigest()
                signatures = self.headers.get("X-Delighted-Webhook-Signature", "").split(",")
                valid = any(hmac.compare_digest(signature.strip(), expected) for signature in signatures)
                with receiver._lock:
                    receiver.received.append(Received(self.path, dict(self.headers), body, valid))
                    status = receiver.statuses.pop(0) if receiver.statuses else 200
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args) -> None:
                pass

        return Handler
