"""The product as production runs it (tests/smoke/conftest.py), driven over HTTP on loopback like a user would."""

import json
import re
import socket
import subprocess
import threading
import time

import psycopg
import pytest
import requests

from tests.conftest import BROWSER_USER_AGENT
from tests.fakes.providers import Scripted
from tests.smoke.conftest import AGENT, MANAGER, database_recreate, wait_for

pytestmark = pytest.mark.smoke

CUSTOMER = "sam.smoke@example.com"


def _survey_email(product, address: str) -> dict:
    for recorded in product.fake.sendgrid():
        body = recorded.json()
        if body["personalizations"][0]["to"][0]["email"] == address:
            return body
    return {}


def _login(product, email: str, password: str) -> requests.Session:
    session = requests.Session()
    page = session.get(f"{product.base}/accounts/login/", timeout=10)
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    answer = session.post(
        f"{product.base}/accounts/login/",
        data={"csrfmiddlewaretoken": csrf, "username": email, "password": password},
        timeout=10,
        allow_redirects=False,
    )
    assert answer.status_code == 302, answer.text[:500]
    return session


def _metric(text: str, name: str, **labels) -> float | None:
    """The sample `name{labels}` of a Prometheus text exposition (labels in any order), else None."""
    for line in text.splitlines():
        sample, _, value = line.rpartition(" ")
        sample_name, _, sample_labels = sample.partition("{")
        if sample_name != name:
            continue
        found = dict(re.findall(r'(\w+)="([^"]*)"', sample_labels))
        if found == {k: str(v) for k, v in labels.items()}:
            return float(value)
    return None


def test_an_event_becomes_an_email_an_answer_a_case_and_a_counted_score(product):
    api = {"Authorization": f"Bearer {product.api_key}"}
    created = requests.post(
        f"{product.base}/api/events/",
        json={"type": "purchase", "external_id": "smoke-order-1", "contact": {"email": CUSTOMER, "name": "Sam"}},
        headers=api,
        timeout=10,
    )
    assert created.status_code == 201, created.text

    # The live beat claims the invitation, the live worker sends it through the SendGrid SDK to the fake.
    email = wait_for(lambda: _survey_email(product, CUSTOMER), timeout=60, what="the survey email at SendGrid")
    text = next(part["value"] for part in email["content"] if part["type"] == "text/plain")
    links = re.findall(re.escape(product.base) + r"(/s/[^/\s]+/)\?score=(\d+)", text)
    assert [int(score) for _, score in links] == list(range(11))

    respondent = requests.Session()
    # A phone's browser: the respondent page holds answers from HTTP libraries as a scanner's (surveys.scanners).
    respondent.headers["User-Agent"] = BROWSER_USER_AGENT
    path = links[2][0]
    page = respondent.get(f"{product.base}{path}?score=2", timeout=10)
    assert page.status_code == 200
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    answered = respondent.post(
        f"{product.base}{path}", data={"csrfmiddlewaretoken": csrf, "step": "score", "score": "2"}, timeout=10
    )
    assert answered.status_code == 200, answered.text[:500]

    # The worker opens the case (routing rule of team Care, least-open agent) and counts the answer.
    agent = _login(product, *AGENT)
    inbox = wait_for(
        lambda: (
            (page := agent.get(f"{product.base}/follow-ups/", timeout=10)).status_code == 200
            and re.search(r'href="(/follow-ups/\d+/)"', page.text)
        ),
        timeout=60,
        what="the case in the agent's inbox",
    )
    case = agent.get(f"{product.base}{inbox.group(1)}", timeout=10)
    assert case.status_code == 200
    assert CUSTOMER in case.text

    def delighted_metrics() -> dict:
        return requests.get(f"{product.base}/v1/metrics.json", auth=(product.api_key, ""), timeout=10).json()

    metrics = wait_for(
        lambda: (m := delighted_metrics()).get("response_count") and m,
        timeout=60,
        what="/v1/metrics to count the answer (announce_responses on the worker)",
    )
    assert (metrics["response_count"], metrics["detractor_count"], metrics["nps"]) == (1, 1, -100)

    # The funnel is recounted by the beat job refresh-funnel-rollups, run by the worker.
    manager = _login(product, *MANAGER)
    dashboard = wait_for(
        lambda: (
            (page := manager.get(f"{product.base}/dashboard/", timeout=10)).status_code == 200
            and re.search(r"<td>1</td><td>100(\.0)?%</td>", page.text)
            and page
        ),
        timeout=60,
        what="the dashboard's funnel to count the answer (refresh-funnel-rollups)",
    )
    assert re.search(r"Responses<strong>1</strong>", dashboard.text)
    assert re.search(r"Unhappy answers<strong>1</strong>", dashboard.text)


def test_a_dump_of_the_live_database_restores_into_a_fresh_one(product, tmp_path):
    """The backup procedure of docs/operations.md: pg_dump while the product runs, pg_restore elsewhere."""
    dump = tmp_path / "closeloop.dump"
    subprocess.run(
        ["pg_dump", "--format=custom", "--no-owner", f"--file={dump}", product.database_url], check=True, timeout=120
    )
    restored = product.database_url.rsplit("/", 1)[0] + "/" + product.database_url.rsplit("/", 1)[1] + "_restored"
    database_recreate(restored)
    subprocess.run(["pg_restore", "--no-owner", f"--dbname={restored}", str(dump)], check=True, timeout=120)

    counts = (
        "SELECT (SELECT count(*) FROM surveys_response), (SELECT count(*) FROM surveys_invitation),"
        " (SELECT count(*) FROM django_migrations), (SELECT max(id) FROM surveys_response)"
    )
    with psycopg.connect(restored) as connection:
        copy = connection.execute(counts).fetchall()
    assert copy == product.sql(counts)
    assert copy[0][0] == 1


def test_the_live_worker_knows_every_task_sent_or_scheduled(product):
    from tests.config.test_task_registration import beat_task_names, sent_task_names

    out = product.run("manage", "shell", "-c", REGISTERED)
    registered = set(json.loads(out.strip().splitlines()[-1]))

    assert set(sent_task_names()) - registered == set()
    assert beat_task_names() - registered == set()


REGISTERED = """
import json
from config.celery_app import app
replies = app.control.inspect(timeout=5).registered() or {}
print(json.dumps(sorted({name.split(" ")[0] for names in replies.values() for name in names})))
"""


def test_readiness_and_metrics_of_web_and_worker(product):
    ready = requests.get(f"{product.base}/readyz", timeout=10)
    assert ready.status_code == 200
    assert ready.json() == {
        "status": "ok",
        "database": "ok",
        "broker": "ok",
        "migrations": "ok",
        "beat": "ok",
        "workers": "ok",
    }

    token = {"Authorization": "Bearer smoke-metrics-token"}
    assert requests.get(f"{product.base}/metrics", timeout=10).status_code == 401
    web = requests.get(f"{product.base}/metrics", headers=token, timeout=10).text
    assert (
        _metric(web, "closeloop_http_request_duration_seconds_count", method="POST", route="/api/events/", status="201")
        == 1
    )
    assert _metric(web, "closeloop_follow_ups_open") == 1
    assert _metric(web, "closeloop_invitations_due") == 0
    assert _metric(web, "closeloop_workers_alive") == 1
    assert 0 <= _metric(web, "closeloop_beat_heartbeat_age_seconds") < 60

    worker = requests.get(product.worker_metrics, headers=token, timeout=10).text
    # The survey email and the case's arrival email to its agent: each send the fake SendGrid received, counted.
    sent = _metric(worker, "closeloop_message_sends_total", channel="email", provider="sendgrid", outcome="sent")
    assert sent == len(product.fake.sendgrid()) == 2
    counted = [line for line in worker.splitlines() if line.startswith("closeloop_task_duration_seconds_count{")]
    assert any(
        'task="surveys.tasks.dispatch_due_invitations"' in line and 'state="SUCCESS"' in line for line in counted
    )
    assert any(".announce_responses" in line and 'state="SUCCESS"' in line for line in counted)

    # Every line the processes wrote is JSON with a request id; a request's lines carry its own.
    for name in ("web", "worker"):
        for line in product.log(name).splitlines():
            assert "request_id" in json.loads(line), line
    assert any(json.loads(line).get("route") == "/api/events/" for line in product.log("web").splitlines())


def test_sigterm_lets_requests_and_tasks_in_flight_finish(product):
    # A request in flight: its body arrives slowly, so the web worker is inside the view when SIGTERM lands.
    body = json.dumps(
        {"type": "purchase", "external_id": "smoke-order-2", "contact": {"email": "late@example.com", "name": "Lee"}}
    ).encode()
    head = (
        f"POST /api/events/ HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {product.api_key}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    ).encode()
    port = int(product.base.rsplit(":", 1)[1])
    connection = socket.create_connection(("127.0.0.1", port), timeout=30)
    connection.sendall(head + body[:10])
    time.sleep(1.0)

    # A task in flight: the fake SendGrid holds the next send for three seconds.
    product.fake.script["sendgrid"].append(Scripted(202, None, {"X-Message-Id": "sg-slow"}, delay=3.0))
    web_stopped = threading.Thread(target=product.stop, args=("web",))
    web_stopped.start()
    time.sleep(1.0)
    connection.sendall(body[10:])
    answer = b""
    while chunk := connection.recv(65536):
        answer += chunk
    connection.close()
    web_stopped.join(timeout=60)
    assert answer.startswith(b"HTTP/1.1 201"), answer[:300]
    assert product.processes["web"].returncode == 0

    # The invitation that request scheduled is sent by the worker and held at the fake: stop the worker then.
    wait_for(lambda: _survey_email(product, "late@example.com"), timeout=60, what="the slow send to reach SendGrid")
    assert product.stop("worker") == 0
    assert product.sql(
        "SELECT status, provider_message_id FROM notifications_message WHERE recipient = %s", "late@example.com"
    ) == [("sent", "sg-slow")]
    assert product.stop("beat") == 0
