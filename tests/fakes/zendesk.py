"""A local Zendesk: a threaded HTTP server on 127.0.0.1 that takes `PUT /api/v2/tickets/<id>.json` as Zendesk's
Tickets API does and `GET /api/v2/users/me.json` as its Users API does (the anonymous user, with a 200, for bad
credentials), checks the API-token credentials (`{email}/token:{token}`, HTTP Basic) and records each call.

Answers are scripted (`statuses`, first one first), then 200 with the ticket; a wrong credential is a 401
with Zendesk's error body, an unknown ticket (not in `tickets`) a 404.
"""

import base64
import json
import re
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler

from tests.fakes.loopback import LoopbackServer

TICKET_PATH = re.compile(r"^/api/v2/tickets/(\d+)\.json$")


@dataclass
class Call:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> dict:
        return json.loads(self.body)


class FakeZendesk(LoopbackServer):
    def __init__(self, email: str, token: str, tickets: set[str]) -> None:
        self.email = email
        self.credentials = "Basic " + base64.b64encode(f"{email}/token:{token}".encode()).decode()
        self.tickets = tickets
        self.calls: list[Call] = []
        self.statuses: list[int] = []
        self._lock = threading.Lock()
        super().__init__()

    def _handler(self):
        zendesk = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self, status: int, document: dict) -> None:
                body = json.dumps(document).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:
                with zendesk._lock:
                    zendesk.calls.append(Call("GET", self.path, dict(self.headers), b""))
                if self.path != "/api/v2/users/me.json":
                    return self._answer(404, {"error": "InvalidEndpoint"})
                if self.headers.get("Authorization") != zendesk.credentials:
                    # As Zendesk does: bad credentials on /users/me get the anonymous user, with a 200.
                    return self._answer(200, {"user": {"id": None, "name": "Anonymous user", "role": "end-user"}})
                return self._answer(
                    200, {"user": {"id": 1, "name": "Ada Agent", "email": zendesk.email, "role": "agent"}}
                )

            def do_PUT(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with zendesk._lock:
                    zendesk.calls.append(Call("PUT", self.path, dict(self.headers), body))
                    scripted = zendesk.statuses.pop(0) if zendesk.statuses else None
                if scripted is not None:
                    return self._answer(scripted, {"error": "scripted"})
                if self.headers.get("Authorization") != zendesk.credentials:
                    return self._answer(401, {"error": "Couldn't authenticate you"})
                match = TICKET_PATH.match(self.path)
                if not match or match.group(1) not in zendesk.tickets:
                    return self._answer(404, {"error": "RecordNotFound", "description": "Not found"})
                comment = json.loads(body)["ticket"]["comment"]
                return self._answer(200, {"ticket": {"id": int(match.group(1))}, "audit": {"events": [comment]}})

            def log_message(self, format: str, *args) -> None:
                pass

        return Handler
