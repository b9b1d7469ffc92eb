"""Prometheus metrics: what the processes count as they work, and what the database says at scrape time.

Counters and histograms live in `prometheus_client`; under gunicorn and Celery's prefork pool each
process writes its own file in `PROMETHEUS_MULTIPROC_DIR` (set by `bin/closeloop`) and a scrape sums
them. The database gauges are read when `/metrics` is scraped, each from an index on what is due or
pending (never a scan of history), and kept `METRICS_DB_CACHE_SECONDS` per process.
"""

import os
import threading
import time
from datetime import timedelta

from django.apps import apps
from django.conf import settings
from django.db.models import Count, Min, Q
from django.utils import timezone
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily

_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

REQUEST_DURATION = Histogram(
    "closeloop_http_request_duration_seconds",
    "Time to answer a request, by route (the URL pattern, never the path) and status.",
    ["method", "route", "status"],
    buckets=_LATENCY_BUCKETS,
)
TASK_DURATION = Histogram(
    "closeloop_task_duration_seconds",
    "Time a Celery task ran, by task and final state.",
    ["task", "state"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0),
)
TASK_FAILURES = Counter("closeloop_task_failures_total", "Celery tasks that raised, by task.", ["task"])
MESSAGES_SENT = Counter(
    "closeloop_message_sends_total",
    "Sends handed to a provider, by channel, provider and outcome (the new status, or retry).",
    ["channel", "provider", "outcome"],
)


def request_observe(method: str, route: str, status: int, seconds: float) -> None:
    REQUEST_DURATION.labels(method, route, str(status)).observe(seconds)


def task_observe(task: str, state: str, seconds: float) -> None:
    TASK_DURATION.labels(task, state).observe(seconds)
    if state == "FAILURE":
        TASK_FAILURES.labels(task).inc()


def provider_of(channel: str) -> str:
    """`sendgrid`, `twilio`, `console`, `locmem`: the transport's module name."""
    path = settings.NOTIFICATIONS_TRANSPORTS.get(channel, "")
    return path.rsplit(".", 2)[-2] if path.count(".") >= 2 else path or "none"


def message_send_observe(channel: str, outcome: str) -> None:
    MESSAGES_SENT.labels(channel, provider_of(channel), outcome).inc()


def _age(oldest, now) -> float:
    return max(0.0, (now - oldest).total_seconds()) if oldest else 0.0


def database_gauges() -> list[GaugeMetricFamily]:
    """The operator's gauges, read from the database now; each query runs on an index of what is pending."""
    now = timezone.now()
    families = []

    Invitation = apps.get_model("surveys", "Invitation")
    due = Invitation.objects.filter(status="scheduled", scheduled_at__lte=now).aggregate(
        n=Count("pk"), oldest=Min("scheduled_at")
    )
    families.append(
        GaugeMetricFamily("closeloop_invitations_due", "Invitations due and not yet claimed.", value=due["n"])
    )
    families.append(
        GaugeMetricFamily(
            "closeloop_invitations_due_oldest_seconds",
            "How long the oldest due, unclaimed invitation has waited (dispatcher lag).",
            value=_age(due["oldest"], now),
        )
    )

    EventBatch = apps.get_model("surveys", "EventBatch")
    staged = EventBatch.objects.exclude(status="expanded").aggregate(
        waiting=Count("pk", filter=Q(status="accepted")),
        oldest=Min("accepted_at", filter=Q(status="accepted")),
        failed=Count("pk", filter=Q(status="failed")),
    )
    families.append(
        GaugeMetricFamily(
            "closeloop_event_batches_waiting", "Staged event batches not yet expanded.", value=staged["waiting"]
        )
    )
    families.append(
        GaugeMetricFamily(
            "closeloop_event_batches_waiting_oldest_seconds",
            "How long the oldest staged event batch has waited for a worker.",
            value=_age(staged["oldest"], now),
        )
    )
    families.append(
        GaugeMetricFamily(
            "closeloop_event_batches_failed",
            "Staged event batches no worker could expand, kept 7 days.",
            value=staged["failed"],
        )
    )

    Message = apps.get_model("notifications", "Message")
    pending = GaugeMetricFamily(
        "closeloop_messages_pending",
        "Messages not settled yet (queued, sending, unknown), by status, channel and provider.",
        labels=["status", "channel", "provider"],
    )
    for row in (
        Message.objects.filter(status__in=["queued", "sending", "unknown"])
        .values("status", "channel")
        .annotate(n=Count("pk"))
        .order_by()
    ):
        pending.add_metric([row["status"], row["channel"], provider_of(row["channel"])], row["n"])
    families.append(pending)
    recent = GaugeMetricFamily(
        "closeloop_messages_last_hour",
        "Messages whose status changed in the last hour, by status, channel and provider.",
        labels=["status", "channel", "provider"],
    )
    for row in (
        Message.objects.filter(
            status__in=[s for s, _ in Message.Status.choices], updated_at__gte=now - timedelta(hours=1)
        )
        .values("status", "channel")
        .annotate(n=Count("pk"))
        .order_by()
    ):
        recent.add_metric([row["status"], row["channel"], provider_of(row["channel"])], row["n"])
    families.append(recent)

    WebhookDelivery = apps.get_model("integrations", "WebhookDelivery")
    webhooks = GaugeMetricFamily(
        "closeloop_webhook_deliveries",
        "Outgoing webhook deliveries pending, being sent, or failed for good.",
        labels=["status"],
    )
    counts = dict(
        WebhookDelivery.objects.filter(status__in=["pending", "sending", "failed"])
        .values_list("status")
        .annotate(n=Count("pk"))
        .order_by()
    )
    for status in ("pending", "sending", "failed"):
        webhooks.add_metric([status], counts.get(status, 0))
    families.append(webhooks)

    FollowUp = apps.get_model("feedback", "FollowUp")
    cases = FollowUp.objects.exclude(status="resolved").aggregate(
        open=Count("pk"), overdue=Count("pk", filter=Q(due_at__lt=now))
    )
    families.append(GaugeMetricFamily("closeloop_follow_ups_open", "Cases not resolved.", value=cases["open"]))
    families.append(
        GaugeMetricFamily("closeloop_follow_ups_overdue", "Cases not resolved past their SLA.", value=cases["overdue"])
    )

    families.append(_outbox_lag(now))
    return families


def _outbox_lag(now) -> GaugeMetricFamily:
    """Age of the oldest answer the apps above have not yet acted on: the outbox's oldest unmarked row (its
    partial index holds only those), whether its task is on its way, was lost, or its receivers keep failing."""
    ResponseAnnouncement = apps.get_model("surveys", "ResponseAnnouncement")
    oldest = ResponseAnnouncement.objects.filter(announced_at__isnull=True).aggregate(oldest=Min("created_at"))
    return GaugeMetricFamily(
        "closeloop_outbox_lag_seconds",
        "Age of the oldest answer not yet announced to cases, rollups and webhooks (the outbox's oldest row).",
        value=_age(oldest["oldest"], now),
    )


class DatabaseCollector:
    """Collects `database_gauges()`, at most once per `METRICS_DB_CACHE_SECONDS` in this process."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._at = 0.0
        self._families: list = []

    def collect(self):
        with self._lock:
            if time.monotonic() - self._at >= settings.METRICS_DB_CACHE_SECONDS:
                self._families = database_gauges()
                self._at = time.monotonic()
            return list(self._families)


_database_collector = DatabaseCollector()


def heartbeat_gauges() -> list[GaugeMetricFamily]:
    from config.observability import heartbeat

    beat_age = heartbeat.beat_age()
    return [
        GaugeMetricFamily(
            "closeloop_beat_heartbeat_age_seconds",
            "Seconds since the scheduler last ticked (-1: never seen).",
            value=-1 if beat_age is None else beat_age,
        ),
        GaugeMetricFamily(
            "closeloop_workers_alive",
            "Celery workers whose heartbeat is younger than a minute.",
            value=heartbeat.workers_alive(),
        ),
    ]


class HeartbeatCollector:
    def collect(self):
        return heartbeat_gauges()


class _ProcessRegistry:
    """This process' own metrics (when not under a multi-process server)."""

    def collect(self):
        from prometheus_client import REGISTRY

        return REGISTRY.collect()


def exposition() -> bytes:
    """The text a scrape gets: this host's processes (summed over `PROMETHEUS_MULTIPROC_DIR`) and the database."""
    registry = CollectorRegistry(auto_describe=False)
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.MultiProcessCollector(registry)
    else:
        registry.register(_ProcessRegistry())
    registry.register(_database_collector)
    registry.register(HeartbeatCollector())
    return generate_latest(registry)
