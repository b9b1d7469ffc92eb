"""The retention purge on millions of rows while sends, provider webhooks and intake run beside it.

    .venv/bin/python bench/retention.py                              # 1M messages and 1M provider events
    BENCH_RETENTION_ROWS=10000000 BENCH_PURGE_MAX_SECONDS=300 .venv/bin/python bench/retention.py

A PostgreSQL database (BENCH_RETENTION_DB, `cl_retention_bench`, on BENCH_POSTGRES_URL) is created and
migrated, then filled by `INSERT ... SELECT generate_series` (rows copied from a template the ORM wrote, so every
column is what the application writes: the product's NPS invitation email, with a recipient, provider id,
unsubscribe hash and public id of its own): ROWS messages spread over 180 days (half older than the 90 days of
RETENTION_MESSAGE_BODIES_DAYS) and ROWS provider events spread over 60 days (half older than the 30 days of
RETENTION_PROVIDER_EVENTS_DAYS; a third are SendGrid opens, which stay), each pointing at a message. The fill is
set-up, not measured: the two tables' unique and foreign-key constraints and secondary indexes are dropped
before it and built again after it from their definitions, and the bench stops unless they then read exactly
as the migrations made them (see `fill`).

The load, in BENCH_LOAD_THREADS threads (4), goes through the product's services: queue and send an email (insert,
claim, locmem transport, record), record SendGrid events about random messages of the whole history (old ones
included: their rows are the ones the purge locks), ingest an event and receive an inbound SMS. Every SQL statement
of the load is timed (a Django execute wrapper in each thread), and a sampler reads pg_stat_activity every 100 ms
for the longest lock wait of the database. The floor is the same load for BENCH_LOAD_SECONDS (the purge's budget,
else 20) without the purge; then the purge (`purge_expired`, the beat job's code with the settings' batches, batch
time and duty; no time budget unless BENCH_PURGE_MAX_SECONDS, as the beat job has one) runs while the load runs.
Printed: fill time, the purge's time, rests and rows per kind, its longest batch (the longest any row stayed
locked) and the smallest size slow batches brought it down to, the load's operations per second, its longest
statement and the longest lock wait seen, floor and during the purge. Targets: no statement of the load waits more
than 1 s, and the load keeps at least half the floor's throughput. The database is dropped at the end.
"""

import os
import random
import sys
import threading
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.bulk import copy_rows, fast_fill, recreate  # noqa: E402

SERVER = os.environ.get("BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432").rstrip("/")
DATABASE = os.environ.get("BENCH_RETENTION_DB", "cl_retention_bench")
ROWS = int(os.environ.get("BENCH_RETENTION_ROWS", "1000000"))
LOAD_THREADS = int(os.environ.get("BENCH_LOAD_THREADS", "4"))
# A time budget for the purge (as the beat job has one), when purging everything would take too long to wait for.
PURGE_MAX_SECONDS = float(os.environ["BENCH_PURGE_MAX_SECONDS"]) if os.environ.get("BENCH_PURGE_MAX_SECONDS") else None
# The floor runs as long as the purge's budget: the longest statement of two windows of the same length compares
# (on a shared machine, a longer window meets more of the other tenants' disk flushes).
LOAD_SECONDS = float(os.environ.get("BENCH_LOAD_SECONDS", PURGE_MAX_SECONDS or 20))
MAX_WAIT_SECONDS = 1.0
MIN_THROUGHPUT_RATIO = 0.5
HOT_TABLES = ["notifications_message", "notifications_providerevent"]
FILL_CHUNK = 250_000
FILL_WORKERS = int(os.environ.get("BENCH_FILL_WORKERS", "2"))
BODY = "Bonjour Jeanne, how likely are you to recommend Acme to a friend? " * 6


def invitation_email() -> tuple[str, str, str]:
    """The product's NPS invitation email (surveys/invitation_email), eleven buttons: a message as the purge finds
    it (its HTML, 5 KB, is stored compressed)."""
    from types import SimpleNamespace

    from notifications.services.emails import email_render

    link = "https://feedback.acme.example/r/8f3a9c2e4b7d1f6a0e5c3b9d2a7f4e1c/"
    return email_render(
        template="surveys/invitation_email",
        context={
            "subject": "Une question rapide sur Acme",
            "locale": "fr",
            "intro": "Bonjour Jeanne,",
            "question": "Quelle est la probabilité que vous recommandiez Acme à un ami ?",
            "buttons": [{"url": f"{link}?score={n}", "name": str(n), "shows": str(n)} for n in range(11)],
            "end_labels": True,
            "low_label": "Pas du tout probable",
            "high_label": "Très probable",
            "outro": "Une seule touche suffit.",
            "unsubscribe_url": "https://feedback.acme.example/u/Zx8YqL2mN4pR7sT1vW3/",
            "unsubscribe_label": "Se désabonner",
            "brand": SimpleNamespace(color="#0a7d5a", logo_url="", sender_name="Acme", footer="Acme SAS, Paris"),
        },
    )


def fill() -> tuple[int, int]:
    """ROWS messages and ROWS provider events; returns the first and last message id.

    Set-up, not what is measured, so it takes bench/bulk.py's fast road (secondary indexes and constraints
    dropped, then built again and checked against the migrations) in BENCH_FILL_WORKERS connections (2).
    """
    from django.utils import timezone

    from notifications.models import Message, ProviderEvent

    subject, text, html = invitation_email()
    template = Message.objects.create(
        channel="email",
        recipient="jeanne@example.com",
        subject=subject,
        body_text=text,
        body_html=html,
        headers={"List-Unsubscribe": "<https://feedback.acme.example/u/Zx8YqL2mN4pR7sT1vW3/>"},
        status="delivered",
        sent_at=timezone.now(),
    )
    event = ProviderEvent.objects.create(provider="sendgrid", event_id="template", kind="delivered", message=template)
    # Rows arrive in time order, as in production: the oldest are the first written (and stored together).
    message_age = f"now() - interval '1 hour' - interval '180 days' * ({ROWS} - g.n) / {ROWS}"
    event_age = f"now() - interval '1 hour' - interval '60 days' * ({ROWS} - g.n) / {ROWS}"
    # What differs from one message to the next in the product: the indexes the purge's updates write to.
    recipient = "'customer' || g.n %% 200000 || '@example.com'"
    # Message n gets id first + n - 1 whichever worker writes it, so that ids follow time as the sequence would.
    first = template.id + 1

    def write(cursor, chunk: str) -> None:
        copy_rows(
            cursor,
            "notifications_message",
            template.id,
            chunk,
            {"id": f"{first - 1} + g.n", "public_id": "gen_random_uuid()", "created_at": message_age,
             "updated_at": message_age, "sent_at": message_age, "recipient": recipient,
             "recipient_key": recipient, "provider_message_id": "md5('m' || g.n)",
             "unsubscribe_hash": "encode(sha256(('u' || g.n)::bytea), 'hex')"},
        )  # fmt: skip
        copy_rows(
            cursor,
            "notifications_providerevent",
            event.id,
            chunk,
            {
                "event_id": "'e' || g.n",
                "kind": "CASE g.n %% 3 WHEN 0 THEN 'open' WHEN 1 THEN 'delivered' ELSE 'processed' END",
                # Events of the last 60 days are about the messages of the last 60 days.
                "message_id": f"{first - 1} + ({ROWS} * 2 / 3) + g.n / 3",
                "received_at": event_age,
            },
        )

    written, built = fast_fill(f"{SERVER}/{DATABASE}", HOT_TABLES, ROWS, write, chunk=FILL_CHUNK, workers=FILL_WORKERS)
    print(
        f"  rows written in {written:.0f} s by {FILL_WORKERS} connections, indexes and constraints built"
        f" again in {built:.0f} s"
    )
    return first, ROWS + template.id


class Load:
    """The product's own writes in threads, each statement timed."""

    def __init__(self, sample: list[tuple[int, str]]) -> None:
        self.sample = sample
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.ops = 0
        self.errors: list[str] = []
        self.durations: list[float] = []
        self.longest, self.longest_sql = 0.0, ""
        self.pids: set[int] = set()

    def _timer(self, execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            elapsed = time.perf_counter() - started
            with self.lock:
                self.durations.append(elapsed)
                if elapsed >= self.longest:
                    self.longest, self.longest_sql = elapsed, sql[:120]

    def _one(self, n: int, rng: random.Random) -> None:
        from notifications.services.inbound import inbound_sms_receive
        from notifications.services.provider_events import sendgrid_events_record
        from notifications.services.queue import message_queue
        from notifications.transports.sendgrid import MESSAGE_ID_ARG
        from surveys.services.contacts import ContactData
        from surveys.services.ingest import EventData, event_ingest

        step = n % 4
        if step == 0:  # dispatch: a new email queued, claimed, sent and recorded (eager task, locmem transport)
            message_queue(channel="email", recipient=f"load{n}@example.com", subject="Hi", body_text=BODY)
        elif step == 1:  # a provider's webhook about any message of the history
            _, public_id = rng.choice(self.sample)
            kind = rng.choice(["delivered", "open", "processed"])
            sendgrid_events_record(events=[{"sg_event_id": uuid.uuid4().hex, "event": kind, MESSAGE_ID_ARG: public_id}])
        elif step == 2:  # intake
            contact = ContactData(email=f"customer{rng.randrange(100_000)}@example.com")
            event_ingest(
                source="bench", event=EventData(type="purchase", contact=contact, external_id=uuid.uuid4().hex)
            )
        else:  # a customer's SMS
            inbound_sms_receive(sid=f"SM{uuid.uuid4().hex}", phone=f"+3361{rng.randrange(10**7):07d}", body="Merci")

    def _run(self, index: int) -> None:
        from django.db import connection

        rng = random.Random(index)
        n = index
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            self.pids.add(cursor.fetchone()[0])
        with connection.execute_wrapper(self._timer):
            while not self.stop.is_set():
                try:
                    self._one(n, rng)
                except Exception as exc:  # counted and shown: a failed operation must not hide in the figures
                    with self.lock:
                        self.errors.append(f"{type(exc).__name__}: {exc}"[:200])
                else:
                    with self.lock:
                        self.ops += 1
                n += LOAD_THREADS
        connection.close()

    def start(self) -> list[threading.Thread]:
        threads = [threading.Thread(target=self._run, args=(i,), daemon=True) for i in range(LOAD_THREADS)]
        for thread in threads:
            thread.start()
        return threads


class WaitSampler:
    """What the load's backends wait on, read from pg_stat_activity every 100 ms: the longest lock wait seen
    (a statement's age while it waits for a row or table lock), and how often each other wait was seen."""

    def __init__(self, load: "Load") -> None:
        self.load = load
        self.stop = threading.Event()
        self.longest = 0.0
        self.waits: dict[str, int] = {}
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        import psycopg

        with psycopg.connect(f"{SERVER}/{DATABASE}", autocommit=True) as connection:
            while not self.stop.is_set():
                rows = connection.execute(
                    "SELECT wait_event_type || ':' || wait_event, extract(epoch FROM clock_timestamp() - query_start)"
                    " FROM pg_stat_activity WHERE pid = ANY(%s) AND state = 'active' AND wait_event_type IS NOT NULL",
                    [list(self.load.pids)],
                ).fetchall()
                for wait, age in rows:
                    self.waits[wait] = self.waits.get(wait, 0) + 1
                    if wait.startswith("Lock:"):
                        self.longest = max(self.longest, float(age))
                time.sleep(0.1)


def measure(sample, action=None) -> dict:
    """Run the load for LOAD_SECONDS (floor) or for as long as `action` runs; its figures."""
    load = Load(sample)
    sampler = WaitSampler(load)
    sampler.thread.start()
    threads = load.start()
    started = time.perf_counter()
    result = None
    if action is None:
        time.sleep(LOAD_SECONDS)
    else:
        result = action()
    elapsed = time.perf_counter() - started
    load.stop.set()
    for thread in threads:
        thread.join()
    sampler.stop.set()
    sampler.thread.join()
    durations = sorted(load.durations)
    return {
        "seconds": elapsed,
        "ops_per_second": load.ops / elapsed,
        "statements": len(durations),
        "p99": durations[int(len(durations) * 0.99)] if durations else 0.0,
        "longest": durations[-1] if durations else 0.0,
        "longest_sql": load.longest_sql,
        "lock_wait": sampler.longest,
        "waits": dict(sorted(sampler.waits.items(), key=lambda item: -item[1])[:4]),
        "errors": load.errors,
        "result": result,
    }


def show(label: str, figures: dict) -> None:
    print(
        f"{label:28} {figures['ops_per_second']:7.1f} ops/s  {figures['statements']:>7} statements"
        f"  p99 {figures['p99'] * 1000:7.1f} ms  longest {figures['longest'] * 1000:7.1f} ms"
        f"  longest lock wait {figures['lock_wait'] * 1000:6.0f} ms  errors {len(figures['errors'])}"
    )
    if figures["errors"]:
        print("   first error:", figures["errors"][0])
    print(f"   longest statement: {figures['longest_sql']}")
    print(f"   waits seen (samples every 100 ms): {figures['waits'] or 'none'}")


def main() -> int:
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.test"
    os.environ["DATABASE_URL"] = f"{SERVER}/{DATABASE}"
    recreate(SERVER, DATABASE)
    try:
        import django

        django.setup()
        from django.conf import settings
        from django.core.management import call_command
        from django.db import connection

        from notifications.models import Message, ProviderEvent
        from workspace.services.retention import purge_expired

        print(f"load average before: {os.getloadavg()}  (2 shared cores)")
        call_command("migrate", verbosity=0)
        started = time.perf_counter()
        first, last = fill()
        print(f"filled {ROWS:,} messages and {ROWS:,} provider events in {time.perf_counter() - started:.0f} s")
        rng = random.Random(1)
        ids = [rng.randint(first, last) for _ in range(5000)]
        sample = list(Message.objects.filter(pk__in=ids).values_list("pk", "public_id"))
        sample = [(pk, str(public_id)) for pk, public_id in sample]
        connection.close()

        floor = measure(sample)
        during = measure(sample, lambda: _timed_purge(purge_expired))
        seconds, reports = during["result"]
        print(
            f"\nPostgreSQL, {ROWS:,} messages and provider events, load of {LOAD_THREADS} threads,"
            f" batches of up to {settings.RETENTION_PURGE_BATCH_SIZE} rows and"
            f" {settings.RETENTION_PURGE_BATCH_SECONDS:g} s,"
            f" duty {settings.RETENTION_PURGE_DUTY:g}"
        )
        for report in reports:
            if report.removed:
                print(
                    f"purged {report.removed:>9,} {report.label:18} in {report.batches:>5} batches"
                    f" (the smallest of {report.smallest_batch} rows), {report.seconds:6.1f} s and"
                    f" {report.rested:6.1f} s of rests, longest batch {report.longest_batch * 1000:6.1f} ms"
                )
        removed = sum(report.removed for report in reports)
        budget = "" if PURGE_MAX_SECONDS is None else f" (budget {PURGE_MAX_SECONDS:g} s: the next run carries on)"
        print(f"purge time: {seconds:.1f} s, {removed / seconds:,.0f} rows a second{budget}")
        left = ProviderEvent.objects.count(), Message.objects.exclude(body_text="").count()
        print(f"left: {left[0]:,} provider events (opens and recent ones), {left[1]:,} message bodies (recent)")
        show("floor (load alone)", floor)
        show("load during the purge", during)
        ratio = during["ops_per_second"] / max(floor["ops_per_second"], 1e-9)
        waited = max(during["longest"], during["lock_wait"])
        print(
            f"  longest wait of the load {waited:.3f} s (target <= {MAX_WAIT_SECONDS:g} s);"
            f" throughput {ratio:.2f}x floor (target >= {MIN_THROUGHPUT_RATIO:g})"
        )
        print(f"load average after: {os.getloadavg()}")
        met = waited <= MAX_WAIT_SECONDS and ratio >= MIN_THROUGHPUT_RATIO and not during["errors"]
        print("all targets met" if met else "TARGETS MISSED")
        return 0 if met else 1
    finally:
        from django.db import connections

        connections.close_all()
        recreate(SERVER, DATABASE, drop_only=True)


def _timed_purge(purge_expired):
    started = time.perf_counter()
    reports = purge_expired(kinds=["provider_events", "message_bodies"], max_seconds=PURGE_MAX_SECONDS)
    return time.perf_counter() - started, reports


if __name__ == "__main__":
    sys.exit(main())
