"""Faults injected into a running Closeloop: live workers on PostgreSQL and Redis, the real SDKs against a fake
provider. After each, every message went out exactly once or is honestly `failed`/`unknown`, every detractor answer
has exactly one case, the rollups equal a recomputation, and no event accepted with a 2xx is missing.

Run by `make chaos` (tests/chaos/run.py starts the PostgreSQL cluster and the Redis these tests break).
"""

import os
import signal
import threading
import time
from collections import Counter

import pytest
from django.db import connection, transaction
from rest_framework.test import APIClient

from feedback.models import FollowUp
from insights.rollups import (
    full_loop_rollup_rows,
    full_score_rollup_rows,
    stored_loop_rollup_rows,
    stored_score_rollup_rows,
)
from integrations.models import WebhookDelivery, WebhookSubscription
from notifications.models import Channel, Message
from notifications.services.queue import message_queue, messages_sent_in_batches
from surveys.models import Event, Invitation, Response, ResponseAnnouncement
from surveys.scoring import is_detractor
from surveys.services.api_keys import api_key_create
from surveys.services.responses import response_submit
from tests.chaos.conftest import WEBHOOK_SECRET
from tests.factories import (
    InvitationFactory,
    RoutingRuleFactory,
    SurveyFactory,
    TeamFactory,
    TriggerRuleFactory,
    UserFactory,
)
from tests.fakes.providers import Scripted
from tests.integration.conftest import wait_for

pytestmark = [pytest.mark.chaos, pytest.mark.django_db(transaction=True)]

# How long any wait may take: far beyond what a fault needs on an idle machine (each polls, and ends as soon as
# its condition holds), so that a loaded CI machine fails no fault for being slow.
DEADLINE = 300
RETRYABLE = {409, 429, *range(500, 600)}
SETTLED = (Message.Status.SENT, Message.Status.DELIVERED, Message.Status.UNKNOWN, Message.Status.FAILED)


# --- what is counted after every fault -------------------------------------------------------------------------


def _send_counts(fake_provider) -> dict[str, int]:
    """Sent (the provider acted on it), doubled (more than once), lost (our status and the provider disagree,
    or the message never settled), and the honest outcomes: unknown and failed."""
    accepted = Counter({key: n for key, n in fake_provider.accepted.items() if key})
    statuses = dict(Message.objects.values_list("public_id", "status"))
    statuses = {str(public_id): status for public_id, status in statuses.items()}
    said_sent = {key for key, status in statuses.items() if status in (Message.Status.SENT, Message.Status.DELIVERED)}
    said_not_sent = {key for key, status in statuses.items() if status in (Message.Status.FAILED,)}
    stuck = {key for key, status in statuses.items() if status in (Message.Status.QUEUED, Message.Status.SENDING)}
    lost = (said_sent - set(accepted)) | (said_not_sent & set(accepted)) | stuck
    return {
        "sent": len(accepted),
        "doubled": sum(1 for n in accepted.values() if n > 1),
        "lost": len(lost),
        "unknown": sum(1 for status in statuses.values() if status == Message.Status.UNKNOWN),
        "failed": len(said_not_sent),
    }


def _loop_counts() -> dict[str, int]:
    """Case errors (a detractor answer without exactly one case, or a case for an answer that is not one) and
    rollup drift (the sum of differences between the stored score and case rollups and a recomputation)."""
    cases = Counter(FollowUp.objects.values_list("response_id", flat=True))
    errors = 0
    for response in Response.objects.select_related("survey"):
        expected = 1 if is_detractor(response.survey.kind, response.score) else 0
        errors += abs(cases.get(response.pk, 0) - expected)
    full, stored = full_score_rollup_rows(), stored_score_rollup_rows()
    drift = sum(abs(full.get(key, 0) - stored.get(key, 0)) for key in set(full) | set(stored))
    full_loop, stored_loop = full_loop_rollup_rows(), stored_loop_rollup_rows()
    for key in set(full_loop) | set(stored_loop):
        zeros = (0,) * len(full_loop.get(key) or stored_loop[key])
        drift += sum(abs(a - b) for a, b in zip(full_loop.get(key, zeros), stored_loop.get(key, zeros), strict=True))
    return {"case errors": errors, "rollup drift": drift}


def _assert_clean(entry) -> None:
    assert entry.failures() == {}, entry.line()


def _queue(count: int, *, prefix: str) -> None:
    """Queue `count` messages, half emails, half SMS, handed to workers in batches when the transaction commits."""
    with transaction.atomic(), messages_sent_in_batches():
        for i in range(count):
            if i % 2:
                message_queue(channel=Channel.SMS, recipient=f"+336{i:08d}", body_text=f"{prefix} {i}")
            else:
                message_queue(channel=Channel.EMAIL, recipient=f"{prefix}{i}@example.com", subject="s", body_text="b")


def _unsettled() -> int:
    return Message.objects.exclude(status__in=SETTLED).count()


def _children(pid: int) -> list[int]:
    with open(f"/proc/{pid}/task/{pid}/children") as children:
        return [int(child) for child in children.read().split()]


# --- the faults ----------------------------------------------------------------------------------------------


def test_sigkill_of_a_worker_during_2000_sends(chaos_workers, fake_provider, report, settings):
    sends = 2000
    settings.SEND_LEASE_SECONDS = 4  # as the workers': a message queued here is swept 4 s after its task was lost
    _queue(sends, prefix="kill")
    steady = chaos_workers("chaos-a", beat=True)
    doomed = chaos_workers("chaos-b")
    wait_for(lambda: sum(fake_provider.accepted.values()) >= sends // 4, timeout=DEADLINE, what="a quarter sent")
    # The whole worker dies at once, mid-send: its main process and its pool processes (its process group, so the
    # main process cannot replace a killed pool process first).
    pids = [*_children(doomed.pid), doomed.pid]
    at = sum(fake_provider.accepted.values())
    os.killpg(doomed.pid, signal.SIGKILL)
    doomed.wait(timeout=60)
    wait_for(lambda: _unsettled() == 0, timeout=DEADLINE, what="every message to settle after the kill")
    assert steady.poll() is None
    entry = report(
        "SIGKILL of a worker during 2,000 sends",
        f"2,000 sends (1,000 emails, 1,000 SMS) to two workers; SIGKILL of one ({len(pids)} processes) after {at}"
        " were accepted",
        **_send_counts(fake_provider),
        **_loop_counts(),
    )
    _assert_clean(entry)
    # A send cut between its claim and the provider's answer is `unknown`, at most one per killed pool process.
    assert entry.counted["unknown"] <= len(pids) - 1
    assert entry.counted["sent"] + entry.counted["unknown"] >= sends - entry.counted["failed"]


class Injection(threading.Thread):
    """A fault injected from a thread while the load goes on; `finish` waits for it and raises what it raised."""

    def __init__(self, inject) -> None:
        super().__init__(daemon=True)
        self.inject = inject
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            self.inject()
        except BaseException as exc:  # pytest.fail's Failed too: the test must fail, not the thread alone
            self.error = exc

    def finish(self) -> None:
        self.join(timeout=DEADLINE)
        assert not self.is_alive(), "the fault's injection did not end"
        if self.error is not None:
            raise self.error


def _answers_arrive(invitations: list[Invitation], ids: list[int], *, pause: float, during: Injection) -> None:
    """Submit one answer per invitation (scores 0-10 in turn), as the respondent page would, into `ids`; the
    fault starts after a third of them."""
    for i, invitation in enumerate(invitations):
        if i == len(invitations) // 3:
            during.start()
        ids.append(response_submit(invitation=invitation, score=i % 11).pk)
        time.sleep(pause)


def test_redis_stopped_for_20_seconds_while_answers_arrive(
    chaos_workers, servers, fake_provider, webhook_receiver, report
):
    survey = SurveyFactory(kind="nps")
    care = TeamFactory(name="Care")
    # Two agents: each case is assigned and its agent emailed, so the outage also strands messages to send.
    UserFactory.create_batch(2, team=care)
    RoutingRuleFactory(team=care)
    WebhookSubscription.objects.create(
        name="CRM", url=webhook_receiver.url, secret=WEBHOOK_SECRET, events=["survey_response.created"]
    )
    invitations = [InvitationFactory(survey=survey) for _ in range(120)]
    supervisor = chaos_workers("chaos-answers", beat=True, supervised=True)
    outage = {"seconds": 0.0, "answers": 0}
    ids: list[int] = []

    def stop_redis() -> None:
        started, before = time.monotonic(), len(ids)
        servers.redis_stop()
        time.sleep(20)
        servers.redis_start()
        outage["seconds"], outage["answers"] = time.monotonic() - started, len(ids) - before

    stopper = Injection(stop_redis)
    _answers_arrive(invitations, ids, pause=0.25, during=stopper)
    stopper.finish()

    detractors = sum(1 for i in range(len(ids)) if i % 11 <= 6)
    wait_for(
        lambda: not ResponseAnnouncement.objects.filter(announced_at__isnull=True).exists(),
        timeout=DEADLINE,
        what="every answer to be announced",
    )
    wait_for(
        lambda: (
            not WebhookDelivery.objects.exclude(status=WebhookDelivery.Status.DELIVERED).exists()
            and WebhookDelivery.objects.count() >= len(ids)
        ),
        timeout=DEADLINE,
        what="every webhook to be delivered",
    )
    wait_for(
        lambda: Message.objects.count() >= detractors and _unsettled() == 0,
        timeout=DEADLINE,
        what="every agent's email to be sent",
    )
    received = Counter(
        post.json()["event_data"]["id"]
        for post in webhook_receiver.received
        if post.json()["event_type"] == "survey_response.created"
    )
    event_ids = Counter(WebhookDelivery.objects.values_list("payload__event_data__id", flat=True))
    entry = report(
        "Redis stopped for 20 s while answers arrive",
        f"Redis shut down (nothing saved: queued tasks lost) for {outage['seconds']:.0f} s while"
        f" {outage['answers']} of {len(ids)} answers arrived (one every 0.25 s, each case emailed to its agent);"
        f" the worker exited {supervisor.restarts} time(s) and was started again",
        **_send_counts(fake_provider),
        **_loop_counts(),
        cases=FollowUp.objects.count(),
        answers_lost=len(set(ids) - set(Response.objects.values_list("pk", flat=True))),
        webhooks_doubled=sum(1 for n in event_ids.values() if n > 1),
        webhooks_missing=len({str(pk) for pk in ids} - {str(key) for key in received}),
    )
    _assert_clean(entry)
    assert entry.counted["cases"] == detractors
    assert entry.counted["sent"] == detractors  # one email per case, to its assignee
    assert all(post.signature_valid for post in webhook_receiver.received)


def test_postgresql_restarted_during_intake(chaos_workers, servers, fake_provider, report, settings):
    # A request cut off by the restart cannot release its Idempotency-Key: the retry gets 409 until the claim's
    # lease ends (the request time limit plus a margin in production; as short as the workers' here).
    settings.IDEMPOTENCY_LEASE_SECONDS = 5
    TriggerRuleFactory(event_type="purchase", survey=SurveyFactory())
    _, raw_key = api_key_create(name="chaos intake")
    chaos_workers("chaos-intake", beat=True)
    events = 90
    accepted, answers, away = [], Counter(), {}

    def restart() -> None:
        away["seconds"] = servers.postgres_restart(down_for=3.0)

    restarter = Injection(restart)
    client = APIClient(raise_request_exception=False)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw_key}")
    for i in range(events):
        if i == events // 3:
            restarter.start()
        body = {"type": "purchase", "external_id": f"order-{i}", "contact": {"email": f"buyer{i}@example.com"}}
        # As a client does: the same request with the same key until a 2xx, whatever else it is told.
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            try:
                status = client.post("/api/events/", body, format="json", HTTP_IDEMPOTENCY_KEY=f"key-{i}").status_code
            except Exception as exc:  # the test client's own database use may fail too, mid-restart
                status = type(exc).__name__
            answers[status] += 1
            if status in (200, 201):
                accepted.append(body["external_id"])
                break
            connection.close()  # as a web server does after a request whose connection broke
            time.sleep(0.3)
        time.sleep(0.1)
    restarter.finish()
    connection.close()

    wait_for(lambda: Invitation.objects.filter(status=Invitation.Status.QUEUED).count() >= events, timeout=DEADLINE,
             what="every invitation to be dispatched")  # fmt: skip
    wait_for(lambda: _unsettled() == 0, timeout=DEADLINE, what="every message to settle")
    stored = Counter(Event.objects.values_list("external_id", flat=True))
    invitations = Counter(Invitation.objects.values_list("event__external_id", flat=True))
    refused = {status: n for status, n in answers.items() if status not in (200, 201)}
    entry = report(
        "PostgreSQL restarted during intake",
        f"PostgreSQL stopped (fast: connections cut) after {events // 3} of {events} events and started again,"
        f" away {away.get('seconds', 0):.1f} s; each event posted with its Idempotency-Key until a 2xx,"
        f" the client was told {refused or 'nothing else'}",
        **_send_counts(fake_provider),
        **_loop_counts(),
        accepted=len(accepted),
        events_doubled=sum(1 for n in stored.values() if n > 1) + sum(1 for n in invitations.values() if n > 1),
        events_lost=len(set(accepted) - set(stored)),
    )
    _assert_clean(entry)
    assert entry.counted["accepted"] == events
    # What the client was told instead of a 2xx is something to retry (5xx; 409 while the cut-off request's key
    # is leased), never a final 4xx that would make it drop the event.
    final = {status: n for status, n in refused.items() if isinstance(status, int) and status not in RETRYABLE}
    assert final == {}, entry.line()
    # Every accepted event's one invitation went out once (or honestly failed or unknown).
    # An `unknown` message may also have reached the provider (the restart cut the write of its outcome), so it
    # can count in both; none is missing and none went twice (`lost` and `doubled` are zero above).
    assert entry.counted["sent"] + entry.counted["unknown"] + entry.counted["failed"] >= events
    assert entry.counted["sent"] + entry.counted["failed"] <= events


def _misbehaving(n: int, provider: str) -> Scripted | None:
    """Every tenth request in a fixed pattern: 429 with Retry-After, 503, dropped after reading, hanging."""
    kind = n % 10
    if kind == 1:
        body = {"code": 20429, "message": "Too Many Requests", "status": 429} if provider == "twilio" else None
        return Scripted(429, body, {"Retry-After": "1"})
    if kind == 3:
        return Scripted(503, {"code": 20503, "message": "Unavailable", "status": 503} if provider == "twilio" else None)
    if kind == 5:
        return Scripted(202 if provider == "sendgrid" else 201, drop="after_read")
    if kind == 7:
        sid = {"sid": f"SM{n:032d}", "status": "queued"} if provider == "twilio" else None
        return Scripted(202 if provider == "sendgrid" else 201, sid, {"X-Message-Id": f"sg{n}"}, delay=2.5)
    return None


def test_a_provider_answering_429_and_5xx_dropping_connections_and_hanging(
    chaos_workers, fake_provider, report, settings
):
    sends = 400
    settings.SEND_LEASE_SECONDS = 4
    fake_provider.policy = _misbehaving
    _queue(sends, prefix="flaky")
    chaos_workers("chaos-flaky", beat=True)
    wait_for(lambda: _unsettled() == 0, timeout=DEADLINE, what="every message to settle")
    posts = sum(1 for request in fake_provider.requests if request.method == "POST")
    entry = report(
        "A provider answering 429 and 5xx, dropping connections after reading, hanging",
        f"{sends} sends; of every 10 requests one 429 (Retry-After 1 s), one 503, one dropped after reading,"
        f" one answered after 2.5 s (timeout 1 s): {posts} requests in all",
        **_send_counts(fake_provider),
        **_loop_counts(),
    )
    _assert_clean(entry)
    # Dropped and hung requests were read: their messages are `unknown`, never resent, and the provider has them.
    assert entry.counted["unknown"] > 0
    # Every message reached the provider once (sent or unknown), or failed after its retries without reaching it.
    assert entry.counted["sent"] + entry.counted["failed"] == sends
