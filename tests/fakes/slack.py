"""A local Slack Web API: `conversations.list` paged by cursor as Slack pages it, and `chat.postMessage`.

Answers as Slack does: HTTP 200 with `{"ok": true, ...}`, or `{"ok": false, "error": "invalid_auth"}` for a token
it does not know and `channel_not_found` for a channel it does not list; the last page's
`response_metadata.next_cursor` is "". Records every call (method, token, form or JSON body).
"""

import base64
import json
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs

from tests.fakes.loopback import LoopbackServer

TOKEN = "xoxb-fake-token-for-tests"


@dataclass
class Call:
    method: str
    token: str
    body: dict


class FakeSlack(LoopbackServer):
    def __init__(self, channels: list[dict]) -> None:
        self.channels = channels
        self.calls: list[Call] = []
        self._lock = threading.Lock()
        super().__init__()
        self.api_url = f"{self.url}/api"

    def posted(self) -> list[dict]:
        return [call.body for call in self.calls if call.method == "chat.postMessage"]

    def _answer(self, method: str, body: dict, token: str) -> dict:
        if token != TOKEN:
            return {"ok": False, "error": "invalid_auth"}
        if method == "conversations.list":
            start = int(base64.b64decode(body.get("cursor", "") or "MA==").decode())
            limit = int(body.get("limit", 100))
            page = self.channels[start : start + limit]
            following = start + limit
            cursor = base64.b64encode(str(following).encode()).decode() if following < len(self.channels) else ""
            return {"ok": True, "channels": page, "response_metadata": {"next_cursor": cursor}}
        if method == "chat.postMessage":
            if body.get("channel") not in {channel["id"] for channel in self.channels}:
                return {"ok": False, "error": "channel_not_found"}
            return {"ok": True, "channel": body["channel"], "ts": "1700000000.000100"}
        return {"ok": False, "error": "unknown_method"}

    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length", 0))).decode()
                if self.headers.get("Content-Type", "").startswith("application/json"):
                    body = json.loads(raw)
                else:
                    body = {key: values[0] for key, values in parse_qs(raw).items()}
                method = self.path.rsplit("/", 1)[-1]
                token = self.headers.get("Authorization", "").removeprefix("Bearer ")
                with fake._lock:
                    fake.calls.append(Call(method, token, body))
                answer = json.dumps(fake._answer(method, body, token)).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args) -> None:
                pass

        return Handler


def slack_channel(number: int, name: str, *, private: bool = False) -> dict:
    """A channel as conversations.list lists it (the fields Closeloop reads, and some it does not)."""
    return {
        "id": f"C{number:08d}",
        "name": name,
        "is_channel": True,
        "is_private": private,
        "is_archived": False,
        "is_member": True,
        "num_members": 4,
        "topic": {"value": "", "creator": "", "last_set": 0},
    }
