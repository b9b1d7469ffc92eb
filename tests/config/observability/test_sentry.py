"""Sentry events leave without personal data (config/observability/sentry.py)."""

import gzip
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from config.observability.sentry import FILTERED, event_scrub


def test_scrub_drops_bodies_cookies_query_strings_and_identifying_headers():
    event = {
        "request": {
            "url": "https://closeloop.example/s/Zm9vYmFyYmF6/",
            "method": "POST",
            "data": {"score": "3", "comment": "call me on +33 6 12 34 56 78"},
            "cookies": {"sessionid": "abc"},
            "query_string": "score=3",
            "headers": {"Authorization": "Bearer cl_live_key", "User-Agent": "Mozilla", "Cookie": "sessionid=abc"},
        },
        "user": {"email": "ann@example.com"},
        "exception": {"values": [{"type": "ValueError", "value": "no contact ann@example.com / +33612345678"}]},
        "extra": {"api_key": "cl_live_key", "count": 3},
    }

    scrubbed = event_scrub(event)

    assert scrubbed["request"] == {
        "url": f"https://closeloop.example/s/{FILTERED}/",
        "method": "POST",
        "headers": {"User-Agent": "Mozilla"},
    }
    assert "user" not in scrubbed
    assert scrubbed["exception"]["values"][0]["value"] == f"no contact {FILTERED} / {FILTERED}"
    assert scrubbed["extra"] == {"api_key": FILTERED, "count": 3}


def test_timestamps_and_line_numbers_are_left_alone():
    event = {"timestamp": "2026-12-01T23:44:02.123Z", "lineno": 1234567890, "message": "job took 1234567 ms"}

    assert event_scrub(dict(event)) == event


class _SentryIngest(BaseHTTPRequestHandler):
    received: list[bytes] = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        if self.headers.get("Content-Encoding") == "gzip":
            body = gzip.decompress(body)
        self.received.append(body)
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def sentry_ingest():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _SentryIngest)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    _SentryIngest.received = []
    yield f"http://public@127.0.0.1:{server.server_address[1]}/1"
    server.shutdown()
    server.server_close()


def test_the_sdk_sends_scrubbed_events_to_the_dsn(sentry_ingest):
    import sentry_sdk

    from config.observability.sentry import sentry_init

    sentry_init(sentry_ingest, environment="test", release="r1", traces_sample_rate=0.0)
    try:
        try:
            raise RuntimeError("could not reach bob@example.com")
        except RuntimeError as error:
            sentry_sdk.capture_exception(error)
        sentry_sdk.flush(timeout=5)
    finally:
        sentry_sdk.get_client().close()
        sentry_sdk.init()  # back to a disabled client

    assert _SentryIngest.received, "the SDK sent nothing"
    payload = b"\n".join(_SentryIngest.received).decode()
    assert "bob@example.com" not in payload
    assert "could not reach [Filtered]" in payload
    events = [json.loads(line) for line in payload.splitlines() if line.startswith("{") and '"exception"' in line]
    assert events[0]["environment"] == "test"
