"""No log line names an answer or unsubscribe token, whichever logger writes it: gunicorn's access and error
lines (an operator may turn the access log on) and any logger of the app, Django's or not."""

import logging
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from gunicorn.config import Config

from config.observability.gunicorn_logger import TokenScrubbingLogger
from config.observability.logging import RequestIdFilter

TOKEN = "a" * 64
ROOT = Path(__file__).resolve().parents[3]


def test_gunicorn_access_atoms_carry_no_token():
    logger = TokenScrubbingLogger(Config())

    class Response:
        status = "200 OK"
        sent = 10
        headers = []

    class Request:
        headers = []

    environ = {
        "REQUEST_METHOD": "POST",
        "RAW_URI": f"/s/{TOKEN}/?score=9",
        "PATH_INFO": f"/u/{TOKEN}/",
        "QUERY_STRING": "score=9",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_REFERER": f"https://cl.example/s/{TOKEN}/",
        "REMOTE_ADDR": "127.0.0.1",
    }
    from datetime import timedelta

    atoms = logger.atoms(Response(), Request(), environ, timedelta(seconds=0.01))

    assert TOKEN not in repr(atoms)
    assert atoms["r"] == "POST /s/<token>/?score=9 HTTP/1.1"
    assert atoms["U"] == "/u/<token>/"


def test_any_logger_line_has_its_token_paths_scrubbed():
    record = logging.LogRecord("closeloop.anything", logging.INFO, __file__, 1, "sent %s", (f"/s/{TOKEN}/",), None)
    record_msg = logging.LogRecord("celery", logging.INFO, __file__, 1, f"link http://x/u/{TOKEN}/ done", None, None)

    RequestIdFilter().filter(record)
    RequestIdFilter().filter(record_msg)

    assert record.getMessage() == "sent /s/<token>/"
    assert record_msg.getMessage() == "link http://x/u/<token>/ done"


def test_a_real_gunicorn_with_its_access_log_on_logs_no_token(tmp_path):
    """The installed logger class, in the real server, on a free loopback port."""
    log = tmp_path / "access.log"
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "-c",
            str(ROOT / "config" / "gunicorn.conf.py"),
            "--bind",
            "127.0.0.1:0",
            "--access-logfile",
            str(log),
            "--error-logfile",
            str(tmp_path / "error.log"),
            "tests.fakes.token_echo_app:app",
        ],
        cwd=ROOT,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)},
    )
    try:
        port = None
        deadline = time.monotonic() + 30
        while port is None and time.monotonic() < deadline:
            time.sleep(0.2)
            text = (tmp_path / "error.log").read_text() if (tmp_path / "error.log").exists() else ""
            for line in text.splitlines():
                if "Listening at: http://127.0.0.1:" in line:
                    port = int(line.rsplit(":", 1)[1].split()[0])
        assert port, (tmp_path / "error.log").read_text()
        urllib.request.urlopen(f"http://127.0.0.1:{port}/s/{TOKEN}/?score=9", timeout=10).read()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and "GET" not in (log.read_text() if log.exists() else ""):
            time.sleep(0.2)
    finally:
        server.terminate()
        server.wait(timeout=30)

    assert "GET /s/<token>/?score=9" in log.read_text()
    assert TOKEN not in log.read_text()


def test_password_reset_links_are_scrubbed_too():
    record = logging.LogRecord(
        "django.request", logging.WARNING, __file__, 1, "Not Found: %s", ("/accounts/reset/MQ/cx1-abc123/",), None
    )

    RequestIdFilter().filter(record)

    assert record.getMessage() == "Not Found: /accounts/reset/<uid>/<token>/"
