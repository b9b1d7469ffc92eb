"""Sending throughput per worker process, email and SMS, beside floors measured in the same run.

    .venv/bin/python bench/dispatch.py            # 2000 messages per channel
    .venv/bin/python bench/dispatch.py 5000

Recreates the database `closeloop_bench_dispatch` on BENCH_POSTGRES_URL (default
postgres://postgres@127.0.0.1:5432) and starts a zero-latency fake SendGrid + Twilio in a child
process (tests/fakes/providers.py, recording nothing). Settings are a worker's: DEBUG off (with it
on, Django keeps every SQL statement in memory), no provider rate limit, an SMS window open all day.

Per channel:
  1. dispatch, in this process: the beat job `invitations_dispatch_due` claims N due invitations (one contact each),
     checks consent and fatigue, renders the email or SMS and queues its `Message`;
  2. send, in this process: the send task (claim with consent check, SDK call, status write) for every
     queued message, run as a worker's pool process runs it: through the task's tracer, built once, with Celery's
     Django fixup around each task (which keeps or drops the database connection); the figure the
     target is about;
  3. live worker: N more invitations dispatched by the beat job, which hands their messages to Redis
     (BENCH_REDIS_URL, default redis://127.0.0.1:6379/0, a queue of the bench's own) in `send_messages`
     batches of SEND_BATCH_SIZE, sent by a real `celery worker` with one prefork pool process; its rate
     counts the broker hand-off too (acks late, prefetch 1: the next task is fetched once the last one is
     acknowledged). Then N more queued sends handed to the same worker as one `send_message` task each,
     the way the sweeper and the other callers of `message_queue` enqueue them;
and beside it two floors:
  - SDK call alone: the same SDK call with the same body, no database: what the provider path costs;
  - DB path: the send task with the in-memory (locmem) transport: what claiming and tracking cost.
Then a profiled pass of the send task (cProfile, CPU clock) splits its CPU time into stages.
Targets, for each channel: the dispatcher >= 1,000 due invitations/s (one process, wall time of the beat job's
runs, Redis hand-off included), and >= 500 messages/s per worker process. Exit status 1 when one is missed.
"""

import cProfile
import itertools
import multiprocessing
import os
import pstats
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
SERVER = os.environ.get("BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432").rstrip("/")
DATABASE = "closeloop_bench_dispatch"
REDIS = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
QUEUE = "closeloop-bench-dispatch"
TARGET_PER_SECOND = 500
DISPATCH_TARGET_PER_SECOND = 1000
PROFILED = 300

# Where a send task's CPU goes: (label, module file, function) whose cumulative time is the stage.
SEND_STAGES = (
    ("claim + consent (UPDATE ... RETURNING)", "notifications/services/sending.py", "_message_claim"),
    ("SDK: build request + HTTP", "notifications/transports/", "send"),
    ("status write", "notifications/services/sending.py", "_message_sent_record"),
)
DISPATCH_STAGES = (
    ("consent + fatigue + SMS window", "surveys/services/fatigue.py", "invitations_send_blocks"),
    ("render (templates, tokens)", "surveys/services/dispatch.py", "render"),
    ("queue (consent, INSERT, enqueue)", "notifications/services/queue.py", "messages_queue"),
    ("invitation status writes", "surveys/services/dispatch.py", "_invitations_write"),
)


def queue_purge() -> None:
    from config.celery_app import app

    with app.connection_for_write(REDIS) as connection:
        connection.default_channel.queue_purge(QUEUE)


def fake_server(ready) -> None:
    from tests.fakes.providers import FakeProviders

    fake = FakeProviders(record=False).start()
    ready.send(fake.url)
    while True:
        time.sleep(3600)


def cumulative(stats: pstats.Stats, path: str, function: str) -> float:
    return sum(
        entry[3]
        for (filename, _, name), entry in stats.stats.items()
        if name == function and path in filename.replace(os.sep, "/")
    )


def stage_lines(stats: pstats.Stats, total: float, stages, cpu_per_message: float, rest_label: str) -> list[str]:
    """Each stage's share of the profiled CPU, and that share of the unprofiled CPU per message."""
    lines, accounted = [], 0.0
    for label, path, function in stages:
        seconds = cumulative(stats, path, function)
        accounted += seconds
        lines.append((label, seconds))
    lines.append((rest_label, max(0.0, total - accounted)))
    return [
        f"    {label:38s} {100 * seconds / total:3.0f}%  ~{1000 * cpu_per_message * seconds / total:5.2f} ms CPU/msg"
        for label, seconds in lines
    ]


def profiled(work, items) -> tuple[pstats.Stats, float]:
    profile = cProfile.Profile(time.process_time)
    cpu = time.process_time()
    profile.enable()
    for item in items:
        work(item)
    profile.disable()
    return pstats.Stats(profile), time.process_time() - cpu


def live_worker_rate(message_ids: list[int]) -> float:
    """Sends per second of a real worker with one pool process, from the first to the last `sent_at`.

    The tasks sending `message_ids` are already in the bench's queue, and nothing else is.
    """
    from django.db.models import Max, Min

    from notifications.models import Message

    command = [
        *(sys.executable, "-m", "celery", "--quiet", "-A", "config.celery_app", "worker", "--loglevel=WARNING"),
        *(f"--queues={QUEUE}", "--concurrency=1", "--pool=prefork"),
        *("--without-gossip", "--without-mingle", "--without-heartbeat"),
    ]
    worker = subprocess.Popen(command, cwd=ROOT)
    try:
        deadline = time.monotonic() + 30 + len(message_ids) / 20
        pending = Message.objects.filter(id__in=message_ids, status__in=[Message.Status.QUEUED, Message.Status.SENDING])
        while pending.exists() and time.monotonic() < deadline and worker.poll() is None:
            time.sleep(0.5)
    finally:
        worker.terminate()
        worker.wait(timeout=30)
    sent = Message.objects.filter(id__in=message_ids, status=Message.Status.SENT)
    span = sent.aggregate(first=Min("sent_at"), last=Max("sent_at"))
    if sent.count() != len(message_ids) or span["first"] is None:
        return 0.0
    return (len(message_ids) - 1) / max(1e-6, (span["last"] - span["first"]).total_seconds())


def main() -> int:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    parent, child = multiprocessing.Pipe()
    server = multiprocessing.Process(target=fake_server, args=(child,), daemon=True)
    server.start()
    fake_url = parent.recv()
    os.environ.update(
        DATABASE_URL=f"{SERVER}/{DATABASE}",
        DJANGO_SETTINGS_MODULE="config.settings.local",
        DJANGO_DEBUG="0",
        SENDGRID_API_KEY="SG.bench",
        SENDGRID_API_BASE_URL=fake_url,
        TWILIO_ACCOUNT_SID="AC" + "0" * 32,
        TWILIO_AUTH_TOKEN="bench-token",
        TWILIO_FROM_NUMBER="+15005550006",
        TWILIO_API_BASE_URL=fake_url,
        SENDGRID_RATE_PER_SECOND="0",
        TWILIO_RATE_PER_SECOND="0",
        # Every limit off: with one left on (WhatsApp's default 20/s), each send of any channel first reads its
        # message's channel to find its limit, one more SELECT a send (a quarter of an SMS send's CPU).
        TWILIO_WHATSAPP_RATE_PER_SECOND="0",
        SMS_SEND_WINDOW="00:00-23:59:59",
        LOG_LEVEL="WARNING",
        # The dispatcher hands its batches to the bench's queue on Redis, as in production.
        CELERY_BROKER_URL=REDIS,
    )
    import psycopg

    with psycopg.connect(f"{SERVER}/postgres", autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")
        admin.execute(f"CREATE DATABASE {DATABASE}")

    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.test import override_settings
    from django.utils import timezone

    call_command("migrate", verbosity=0)
    from celery.app.trace import build_tracer
    from celery.fixups.django import DjangoWorkerFixup
    from celery.utils import uuid

    from config.celery_app import app
    from notifications.models import Message
    from notifications.tasks import send_message
    from notifications.transports import locmem, transport_for
    from surveys.models import Contact, Invitation, Survey
    from surveys.services.dispatch import invitations_dispatch_due
    from surveys.tokens import invitation_token, token_hash

    # A worker sends by id from the broker; in steps 1 and 2 the queued ids are sent by hand, one task each,
    # and the batches the dispatcher enqueued are purged before step 3.
    app.conf.task_default_queue = QUEUE
    survey = Survey.objects.create(name="Bench", kind=Survey.Kind.NPS, product_name="Acme")

    numbers = itertools.count()

    def invite(channel: str, n: int) -> None:
        now = timezone.now()
        contacts = Contact.objects.bulk_create(
            [
                Contact(email=f"bench{i}@example.com", phone=f"+3361{i:07d}", name=f"Customer {i}")
                for i in itertools.islice(numbers, n)
            ],
            batch_size=1000,
        )
        invitations = []
        for contact in contacts:
            invitation = Invitation(
                contact=contact,
                survey=survey,
                channel=channel,
                scheduled_at=now - timedelta(minutes=1),
                expires_at=now + timedelta(days=28),
            )
            invitation.token_hash = token_hash(invitation_token(invitation.public_id))
            invitations.append(invitation)
        Invitation.objects.bulk_create(invitations, batch_size=1000)

    def queued_ids(channel: str) -> list[int]:
        return list(
            Message.objects.filter(channel=channel, status=Message.Status.QUEUED)
            .order_by("id")
            .values_list("id", flat=True)
        )

    def timed(work, items) -> tuple[float, float]:
        wall, cpu = time.perf_counter(), time.process_time()
        for item in items:
            work(item)
        return time.perf_counter() - wall, time.process_time() - cpu

    # What a pool process does per task: the tracer it built once for the task, between the fixup's
    # task_prerun and task_postrun (`apply` would build a tracer per call and skip the fixup).
    worker_fixup = DjangoWorkerFixup(app).install()  # noqa: F841 (its signal receivers are weak references)
    send_traced = build_tracer(send_message.name, send_message, app=app)

    def send(message_id: int) -> None:
        send_traced(uuid(), (message_id,), {}, {"delivery_info": {"routing_key": "celery"}})

    def dispatch_all(_) -> None:
        while invitations_dispatch_due():
            pass

    def line(label: str, n: int, wall: float, cpu: float) -> str:
        return f"  {label:34s} {n / wall:8.0f} msg/s  {1000 * cpu / n:6.2f} ms CPU/msg  {1000 * wall / n:6.2f} ms/msg"

    ok = True
    for channel in ("email", "sms"):
        invite(channel, 20 + count + PROFILED)
        dispatch_wall, dispatch_cpu = timed(dispatch_all, [None])
        dispatched = 20 + count + PROFILED
        ids = queued_ids(channel)
        for message_id in ids[:20]:  # warm up connections and imports
            send(message_id)
        ids, profile_ids = ids[20 : 20 + count], ids[20 + count :]
        sample = Message.objects.get(id=ids[0])
        transport = transport_for(channel)
        sdk_wall, sdk_cpu = timed(transport.send, [sample] * len(ids))
        full_wall, full_cpu = timed(send, ids)
        send_stats, send_cpu = profiled(send, profile_ids)
        copies = Message.objects.filter(id__in=ids).order_by("id")
        db_ids = [
            message.id
            for message in Message.objects.bulk_create(
                [
                    Message(channel=channel, recipient=m.recipient, recipient_key=m.recipient_key, subject=m.subject,
                            body_text=m.body_text, body_html=m.body_html, headers=m.headers)
                    for m in copies
                ],
                batch_size=1000,
            )
        ]  # fmt: skip
        with override_settings(NOTIFICATIONS_TRANSPORTS={channel: "notifications.transports.locmem.LocmemTransport"}):
            db_wall, db_cpu = timed(send, db_ids)
            locmem.outbox.clear()
        sent = Message.objects.filter(id__in=ids, status=Message.Status.SENT).count()
        n = len(ids)
        rate = n / full_wall
        queue_purge()
        invite(channel, count)
        dispatch_all(None)
        live_rate = live_worker_rate(queued_ids(channel))
        queue_purge()
        invite(channel, count)
        dispatch_all(None)
        queue_purge()
        single_ids = queued_ids(channel)
        with app.connection_for_write(REDIS) as connection:
            for message_id in single_ids:
                send_message.apply_async(args=[message_id], connection=connection, queue=QUEUE)
        live_single_rate = live_worker_rate(single_ids)
        print(f"\n{channel}: {n} messages, {sent} sent")
        print(line("dispatch: claim, check, render, queue", dispatched, dispatch_wall, dispatch_cpu))
        print(line("send task, SDK to fake provider", n, full_wall, full_cpu))
        print(
            f"  {'live worker, 1 pool process, Redis':34s} {live_rate:8.0f} msg/s  (dispatched in batches of"
            f" {settings.SEND_BATCH_SIZE}, broker hand-off included)"
        )
        print(f"  {'  the same, one task per message':34s} {live_single_rate:8.0f} msg/s  (as the sweeper enqueues)")
        print(line("SDK call alone (floor)", n, sdk_wall, sdk_cpu))
        print(line("send task, no provider (DB path)", n, db_wall, db_cpu))
        print(f"  send task / SDK floor: {rate / (n / sdk_wall):.2f}x")
        print(
            f"  wall time of a send, {1000 * full_wall / n:.2f} ms: CPU in this process "
            f"{100 * min(1.0, full_cpu / full_wall):.0f}%, waiting on PostgreSQL and the provider "
            f"{100 * max(0.0, 1 - full_cpu / full_wall):.0f}%"
        )
        print(f"  CPU of a send task by stage (shares from a cProfile pass of {len(profile_ids)} sends):")
        for text in stage_lines(send_stats, send_cpu, SEND_STAGES, full_cpu / n, "Celery task machinery, rest"):
            print(text)
        # The dispatch stages come from a second, profiled dispatch of fresh invitations.
        invite(channel, PROFILED)
        dispatch_stats, profiled_dispatch_cpu = profiled(dispatch_all, [None])
        print(f"  CPU of dispatching one invitation by stage (shares from a cProfile pass of {PROFILED}):")
        for text in stage_lines(
            dispatch_stats,
            profiled_dispatch_cpu,
            DISPATCH_STAGES,
            dispatch_cpu / dispatched,
            "claim SELECT, expiry, rest",
        ):
            print(text)
        Message.objects.filter(channel=channel, status=Message.Status.QUEUED).update(status=Message.Status.CANCELLED)
        dispatch_rate = dispatched / dispatch_wall
        dispatch_verdict = "ok" if dispatch_rate >= DISPATCH_TARGET_PER_SECOND else "MISSED"
        print(
            f"  dispatcher target >= {DISPATCH_TARGET_PER_SECOND} invitations/s: {dispatch_rate:.0f}"
            f" ({1000 * dispatch_cpu / dispatched:.2f} ms CPU each) -> {dispatch_verdict}"
        )
        ok &= dispatch_verdict == "ok"
        verdict = "ok" if rate >= TARGET_PER_SECOND and sent == n else "MISSED"
        print(f"  target >= {TARGET_PER_SECOND} msg/s per worker process: {rate:.0f} -> {verdict}")
        ok &= verdict == "ok"
    queue_purge()
    server.terminate()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
