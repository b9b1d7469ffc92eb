"""Sending throughput per worker process, email and SMS, beside floors measured in the same run.

    .venv/bin/python bench/dispatch.py            # 2000 messages per channel
    .venv/bin/python bench/dispatch.py 5000

Recreates the database `closeloop_bench_dispatch` on BENCH_POSTGRES_URL (default
postgres://postgres@127.0.0.1:5432) and starts a zero-latency fake SendGrid + Twilio in a child
process (tests/fakes/providers.py, recording nothing). In this one process, as a worker's pool
process would, it runs the send task (`send_message.apply`: claim, consent check, SDK call, status)
for every queued message, and measures beside it:
  - SDK floor: the same SDK call with the same body, no database: what the provider path costs alone;
  - DB path: the same task with the in-memory (locmem) transport: what claiming and tracking cost.
Prints messages/s and CPU ms per message for each, and where the time of a send goes.
Target: >= 300 messages/s per worker process for each channel. Exit status 1 when missed.
"""

import multiprocessing
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
SERVER = os.environ.get("BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432").rstrip("/")
DATABASE = "closeloop_bench_dispatch"
TARGET_PER_SECOND = 300


def fake_server(ready) -> None:
    from tests.fakes.providers import FakeProviders

    fake = FakeProviders(record=False).start()
    ready.send(fake.url)
    while True:
        time.sleep(3600)


def main() -> int:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    parent, child = multiprocessing.Pipe()
    server = multiprocessing.Process(target=fake_server, args=(child,), daemon=True)
    server.start()
    fake_url = parent.recv()
    os.environ.update(
        DATABASE_URL=f"{SERVER}/{DATABASE}",
        DJANGO_SETTINGS_MODULE="config.settings.local",
        SENDGRID_API_KEY="SG.bench",
        SENDGRID_API_BASE_URL=fake_url,
        TWILIO_ACCOUNT_SID="AC" + "0" * 32,
        TWILIO_AUTH_TOKEN="bench-token",
        TWILIO_FROM_NUMBER="+15005550006",
        TWILIO_API_BASE_URL=fake_url,
        SENDGRID_RATE_PER_SECOND="0",
        TWILIO_RATE_PER_SECOND="0",
        LOG_LEVEL="WARNING",
    )
    os.environ.pop("CELERY_BROKER_URL", None)
    import psycopg

    with psycopg.connect(f"{SERVER}/postgres", autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")
        admin.execute(f"CREATE DATABASE {DATABASE}")

    import django

    django.setup()
    from django.core.management import call_command
    from django.test import override_settings

    call_command("migrate", verbosity=0)
    from notifications.models import Message
    from notifications.tasks import send_message
    from notifications.transports import transport_for

    def queue(channel: str, n: int) -> list[int]:
        recipient = (lambda i: f"bench{i}@example.com") if channel == "email" else (lambda i: f"+336{i:08d}")
        rows = [
            Message(
                channel=channel,
                recipient=recipient(i),
                subject="Acme: a quick question" if channel == "email" else "",
                body_text="How likely are you to recommend Acme to a friend? " * 3,
                body_html="<p>How likely are you to recommend Acme?</p>" * 20 if channel == "email" else "",
                headers={"List-Unsubscribe": "<https://x/u/t/>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}
                if channel == "email"
                else {},
            )
            for i in range(n)
        ]
        return [message.id for message in Message.objects.bulk_create(rows, batch_size=1000)]

    def timed(work, items) -> tuple[float, float]:
        wall, cpu = time.perf_counter(), time.process_time()
        for item in items:
            work(item)
        return time.perf_counter() - wall, time.process_time() - cpu

    def send(message_id: int) -> None:
        send_message.apply(args=[message_id])

    ok = True
    for channel in ("email", "sms"):
        ids = queue(channel, count)
        sample = Message.objects.get(id=ids[0])
        transport = transport_for(channel)
        for message_id in ids[:20]:  # warm up connections and imports
            send_message.apply(args=[message_id])
        ids = ids[20:]
        sdk_wall, sdk_cpu = timed(transport.send, [sample] * len(ids))
        full_wall, full_cpu = timed(send, ids)
        db_ids = queue(channel, len(ids))
        with override_settings(NOTIFICATIONS_TRANSPORTS={channel: "notifications.transports.locmem.LocmemTransport"}):
            from notifications.transports import locmem

            db_wall, db_cpu = timed(send, db_ids)
            locmem.outbox.clear()
        sent = Message.objects.filter(id__in=ids, status=Message.Status.SENT).count()
        n = len(ids)
        rate = n / full_wall
        print(f"\n{channel}: {n} messages, {sent} sent")
        for label, wall, cpu in (
            ("send task, SDK to fake provider", full_wall, full_cpu),
            ("SDK call alone (floor)", sdk_wall, sdk_cpu),
            ("send task, no provider (DB path)", db_wall, db_cpu),
        ):
            print(
                f"  {label:34s} {n / wall:8.0f} msg/s  {1000 * cpu / n:6.2f} ms CPU/msg  {1000 * wall / n:6.2f} ms/msg"
            )
        print(f"  ratio to the SDK floor: {rate / (n / sdk_wall):.2f}x")
        print(
            f"  where a send's {1000 * full_wall / n:.2f} ms go: SDK+HTTP {100 * sdk_wall / full_wall:.0f}%, "
            f"claim/consent/status SQL and task machinery {100 * db_wall / full_wall:.0f}%, "
            f"rest {100 * max(0.0, full_wall - sdk_wall - db_wall) / full_wall:.0f}%"
        )
        verdict = "ok" if rate >= TARGET_PER_SECOND and sent == n else "MISSED"
        print(f"  target >= {TARGET_PER_SECOND} msg/s per worker process: {rate:.0f} -> {verdict}")
        ok &= verdict == "ok"
    server.terminate()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
