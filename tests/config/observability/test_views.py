"""`/readyz` and `/metrics` (config/views.py, config/observability/readiness.py and metrics.py)."""

import time
from datetime import timedelta

import pytest
from django.utils import timezone

from config import inprocess
from config.observability import heartbeat, readiness
from surveys.models import EventBatch, Invitation, ResponseAnnouncement
from tests.factories import InvitationFactory, ResponseFactory


class FakeRedis:
    def __init__(self) -> None:
        self.values: dict[str, bytes] = {}

    def set(self, key, value, ex=None):
        self.values[key] = str(value).encode()

    def get(self, key):
        return self.values.get(key)

    def delete(self, key):
        self.values.pop(key, None)

    def scan_iter(self, match, count=None):
        prefix = match.rstrip("*")
        return [key for key in self.values if key.startswith(prefix)]

    def mget(self, keys):
        return [self.values.get(key) for key in keys]


@pytest.fixture
def broker_redis(settings, monkeypatch):
    """The broker's Redis as the heartbeats see it."""
    settings.BROKER_CONFIGURED = True
    fake = FakeRedis()
    monkeypatch.setattr(heartbeat, "redis_client", lambda: fake)
    monkeypatch.setattr("config.views._broker_status", lambda: "ok")
    return fake


@pytest.fixture
def fresh_readiness(monkeypatch):
    monkeypatch.setattr(readiness, "_migrations_applied", False)


@pytest.mark.django_db
def test_readyz_is_ok_with_a_fresh_beat_heartbeat_and_a_live_worker(client, broker_redis, fresh_readiness):
    heartbeat.beat_touch()
    heartbeat.worker_touch("celery@host-1")

    response = client.get("/readyz")

    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "database": "ok",
        "broker": "ok",
        "migrations": "ok",
        "beat": "ok",
        "workers": "ok",
    }


@pytest.mark.django_db
def test_readyz_is_503_when_beat_is_silent_for_a_minute_and_no_worker_lives(client, broker_redis, fresh_readiness):
    broker_redis.set(heartbeat.BEAT_KEY, time.time() - 61)
    broker_redis.set(heartbeat.WORKER_KEY_PREFIX + "celery@gone", time.time() - 61)

    response = client.get("/readyz")

    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "error"
    assert body["beat"] == "error: last heartbeat 61 s ago"
    assert body["workers"] == "error: no worker alive"
    assert body["database"] == "ok"


@pytest.mark.django_db
def test_readyz_is_503_without_any_beat_heartbeat(client, broker_redis, fresh_readiness):
    heartbeat.worker_touch("celery@host-1")

    body = client.get("/readyz").json()

    assert body["beat"] == "error: no heartbeat"
    assert body["workers"] == "ok"


@pytest.mark.django_db
def test_a_worker_that_stopped_cleanly_is_not_counted(broker_redis):
    heartbeat.worker_touch("celery@a")
    heartbeat.worker_touch("celery@b")
    heartbeat.worker_forget("celery@a")

    assert heartbeat.workers_alive() == 1


@pytest.mark.django_db
def test_readyz_reports_pending_migrations(client, broker_redis, fresh_readiness, monkeypatch):
    heartbeat.beat_touch()
    heartbeat.worker_touch("celery@host-1")
    monkeypatch.setattr(
        "django.db.migrations.executor.MigrationExecutor.migration_plan", lambda self, targets: [("m1", False)] * 2
    )

    response = client.get("/readyz")

    assert response.status_code == 503
    assert response.json()["migrations"] == "error: 2 pending"


@pytest.mark.django_db
def test_readyz_without_a_broker_reads_the_in_process_beat(client, settings, fresh_readiness, monkeypatch):
    settings.BROKER_CONFIGURED = False
    beat = inprocess.InProcessBeat()
    monkeypatch.setattr(inprocess, "current", beat)
    assert client.get("/readyz").json()["beat"] == "error: no heartbeat"

    beat.last_tick = time.time()
    monkeypatch.setattr(beat, "alive", lambda: True)
    response = client.get("/readyz")

    assert response.status_code == 200
    assert response.json()["beat"] == "ok"
    assert response.json()["workers"] == "in-process"
    assert response.json()["broker"] == "not configured"


@pytest.mark.django_db
def test_metrics_are_404_until_a_token_is_set(client, settings):
    settings.METRICS_TOKEN = ""

    assert client.get("/metrics").status_code == 404


@pytest.mark.django_db
@pytest.mark.parametrize("authorization", [None, "Bearer wrong", "metrics-token"])
def test_metrics_need_the_token_as_a_bearer(client, settings, authorization):
    settings.METRICS_TOKEN = "metrics-token"
    headers = {"HTTP_AUTHORIZATION": authorization} if authorization else {}

    response = client.get("/metrics", **headers)

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Bearer"


@pytest.mark.django_db
def test_metrics_count_requests_by_route_and_read_what_is_due(client, settings, broker_redis):
    settings.METRICS_TOKEN = "metrics-token"
    settings.METRICS_DB_CACHE_SECONDS = 0
    now = timezone.now()
    InvitationFactory(status=Invitation.Status.SCHEDULED, scheduled_at=now - timedelta(seconds=90))
    InvitationFactory(status=Invitation.Status.SCHEDULED, scheduled_at=now + timedelta(hours=1))
    InvitationFactory(status=Invitation.Status.QUEUED, scheduled_at=now - timedelta(hours=1))
    heartbeat.worker_touch("celery@host-1")
    client.get("/s/not-a-token/")

    response = client.get("/metrics", HTTP_AUTHORIZATION="Bearer metrics-token")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain; version=0.0.4")
    text = response.content.decode()
    lines = set(text.splitlines())
    assert "closeloop_invitations_due 1.0" in lines
    oldest = next(line for line in lines if line.startswith("closeloop_invitations_due_oldest_seconds "))
    assert 90 <= float(oldest.split()[1]) < 120
    assert "closeloop_workers_alive 1.0" in lines
    assert "closeloop_beat_heartbeat_age_seconds -1.0" in lines
    assert any(
        line.startswith(
            'closeloop_http_request_duration_seconds_count{method="GET",route="/s/<str:token>/",status="404"}'
        )
        for line in lines
    ), "the route is the pattern, never the token"
    assert "not-a-token" not in text
    for family in ("closeloop_follow_ups_open", "closeloop_follow_ups_overdue", "closeloop_outbox_lag_seconds"):
        assert f"{family} 0.0" in lines


@pytest.mark.django_db
def test_metrics_outbox_lag_is_the_oldest_answer_not_yet_announced(client, settings):
    settings.METRICS_TOKEN = "metrics-token"
    settings.METRICS_DB_CACHE_SECONDS = 0
    now = timezone.now()
    # A changed answer (no new tally would show it), waiting 150 s; an older one already announced.
    waiting = ResponseAnnouncement.objects.create(response=ResponseFactory(), created=False, changed=["score"])
    done = ResponseAnnouncement.objects.create(response=ResponseFactory(), created=True, announced_at=now)
    ResponseAnnouncement.objects.filter(pk=waiting.pk).update(created_at=now - timedelta(seconds=150))
    ResponseAnnouncement.objects.filter(pk=done.pk).update(created_at=now - timedelta(hours=1))

    lines = client.get("/metrics", HTTP_AUTHORIZATION="Bearer metrics-token").content.decode().splitlines()

    lag = next(line for line in lines if line.startswith("closeloop_outbox_lag_seconds "))
    assert 150 <= float(lag.split()[1]) < 180


@pytest.mark.django_db
def test_metrics_read_the_staged_event_batches_waiting_and_failed(client, settings, api_key):
    settings.METRICS_TOKEN = "metrics-token"
    settings.METRICS_DB_CACHE_SECONDS = 0
    now = timezone.now()
    for status, age in [("accepted", 200), ("accepted", 5), ("failed", 900), ("expanded", 900)]:
        EventBatch.objects.create(
            api_key=api_key[0], size=1, events=[], status=status, accepted_at=now - timedelta(seconds=age)
        )

    lines = client.get("/metrics", HTTP_AUTHORIZATION="Bearer metrics-token").content.decode().splitlines()

    assert "closeloop_event_batches_waiting 2.0" in lines
    assert "closeloop_event_batches_failed 1.0" in lines
    oldest = next(line for line in lines if line.startswith("closeloop_event_batches_waiting_oldest_seconds "))
    assert 200 <= float(oldest.split()[1]) < 230
