"""`bin/closeloop`, run as `make run` runs it: gunicorn on the embedded default, background work in its process."""

import json
import os
import re
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.integration.conftest import wait_for

ROOT = Path(__file__).resolve().parents[2]
ENTRY = ROOT / "bin" / "closeloop"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def get(url: str, headers: dict | None = None) -> tuple[int, dict, bytes]:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def post_json(url: str, body: dict, headers: dict) -> tuple[int, bytes]:
    request = urllib.request.Request(
        url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json", **headers}, method="POST"
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status, response.read()


def entry_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "CELERY_BROKER_URL", "CACHE_URL")}
    env.pop("DJANGO_SETTINGS_MODULE", None)  # the entry point's own default (config.settings.local)
    return {**env, **extra}


@pytest.mark.parametrize("argv", [[], ["nonsense"], ["manage"]])
def test_entry_point_refuses_unknown_commands_with_its_usage(argv):
    result = subprocess.run([str(ENTRY), *argv], capture_output=True, text=True, timeout=30)

    assert result.returncode == 2
    assert result.stderr.strip() == "usage: bin/closeloop web|worker|beat|migrate|manage <command> [args…]"


@pytest.mark.parametrize("command", ["worker", "beat"])
def test_worker_and_beat_need_a_broker(command):
    result = subprocess.run([str(ENTRY), command], capture_output=True, text=True, timeout=30, env=entry_env())

    assert result.returncode == 2
    assert "set CELERY_BROKER_URL" in result.stderr


def test_make_run_serves_on_gunicorn_and_runs_background_work_in_process(tmp_path):
    port = free_port()
    log_path = tmp_path / "web.log"
    env = entry_env(
        PORT=str(port),
        DATABASE_URL=f"sqlite:///{tmp_path / 'closeloop.sqlite3'}",
        DISPATCH_INTERVAL_SECONDS="1",
        METRICS_TOKEN="metrics-test-token",
    )
    with open(log_path, "w") as log:
        web = subprocess.Popen([str(ENTRY), "web"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: _answers(f"{base}/healthz"), timeout=120, what="the web process to answer")

        # The event goes through the demo's trigger rule; the in-process beat dispatches it within a second
        # or two, and the console transport prints the survey email in the web process' output.
        status, _ = post_json(
            f"{base}/api/events/",
            {"type": "purchase", "contact": {"email": "make-run@example.com", "name": "Mia"}},
            {"Authorization": "Bearer cl_demo_key_for_local_use_only"},
        )
        assert status == 201
        wait_for(
            lambda: "----- email to make-run@example.com -----" in log_path.read_text(),
            timeout=30,
            what="the survey email on the console",
        )

        status, _, body = get(f"{base}/readyz")
        assert status == 200
        assert json.loads(body) == {
            "status": "ok",
            "database": "ok",
            "broker": "not configured",
            "migrations": "ok",
            "beat": "ok",
            "workers": "in-process",
        }

        status, headers, body = get(f"{base}/static/css/app.css", {"Accept-Encoding": "gzip"})
        assert status == 200
        assert headers["Content-Type"].startswith("text/css")

        status, headers, body = get(f"{base}/metrics", {"Authorization": "Bearer metrics-test-token"})
        assert status == 200
        text = body.decode()
        assert (
            'closeloop_http_request_duration_seconds_count{method="POST",route="/api/events/",status="201"} 1.0' in text
        )
        assert "closeloop_invitations_due 0.0" in text
    finally:
        web.send_signal(signal.SIGTERM)
        returncode = web.wait(timeout=60)
    output = log_path.read_text()
    assert returncode == 0
    assert re.search(r"Listening at: http://127\.0\.0\.1:\d+", output)
    assert "Using worker: gthread" in output
    assert "development server" not in output.lower()
    assert "runserver" not in output


def _answers(url: str) -> bool:
    try:
        return get(url)[0] == 200
    except OSError:
        time.sleep(0.2)
        return False
