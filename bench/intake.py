"""Intake throughput and p99 on PostgreSQL under concurrency, beside a floor measured in the same run.

    .venv/bin/python bench/intake.py                 # 2000 single events, 8 clients, 5 batches of 1000
    .venv/bin/python bench/intake.py 4000 16

Recreates the database `closeloop_bench_intake` on BENCH_POSTGRES_URL (default
postgres://postgres@127.0.0.1:5432), then serves the whole application with one threaded WSGI
server (Werkzeug) in a child process, plus one bare Django view that does a single INSERT: the
floor. Both are hit by the same clients with the same server settings (a thread and a database
connection per request). Batches are compared with a bare view on the same server that writes the
same contact and event rows with raw psycopg inserts (so both pay HTTP, JSON and a fresh database
connection); the same inserts run in this process too, shown for reference.
Targets: single events >= 0.5x the floor's throughput with p99 <= 3x the floor's; batch >= 0.25x
the raw inserts behind the same server.
Exit status 1 when a target is missed.
"""

import json
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
SERVER = os.environ.get("BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432").rstrip("/")
DATABASE = "closeloop_bench_intake"


def _free_port() -> int:
    # The machine is shared: a fixed port may already be taken by another server.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


PORT = int(os.environ.get("BENCH_PORT") or _free_port())
os.environ["BENCH_PORT"] = str(PORT)  # the server child process reads the same port
os.environ["DATABASE_URL"] = f"{SERVER}/{DATABASE}"
os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.local"
os.environ["API_RATE_LIMIT"] = "100000000/minute"
os.environ.pop("CELERY_BROKER_URL", None)

FLOOR_TABLE = "bench_floor"


def serve() -> None:
    """The child: the application's URLs plus `/floor/`, on one threaded Werkzeug server."""
    import django

    django.setup()
    import types

    from django.conf import settings
    from django.db import connection, transaction
    from django.http import JsonResponse
    from django.urls import include, path
    from django.views.decorators.csrf import csrf_exempt
    from werkzeug.serving import run_simple

    from config.wsgi import application

    @csrf_exempt
    def floor(request):
        body = json.loads(request.body)
        with connection.cursor() as cursor:
            cursor.execute(f"INSERT INTO {FLOOR_TABLE} (body) VALUES (%s) RETURNING id", [json.dumps(body)])
            (row_id,) = cursor.fetchone()
        return JsonResponse({"id": row_id}, status=201)

    @csrf_exempt
    def floor_batch(request):
        rows = json.loads(request.body)["events"]
        with transaction.atomic(), connection.cursor() as cursor:
            raw_insert(cursor, rows)
        return JsonResponse({"stored": len(rows)})

    urls = types.ModuleType("bench_urls")
    urls.urlpatterns = [
        path("floor/", floor),
        path("floor/batch/", floor_batch),
        path("", include("config.urls")),
    ]
    sys.modules["bench_urls"] = urls
    settings.ROOT_URLCONF = "bench_urls"
    settings.DEBUG = False
    run_simple("127.0.0.1", PORT, application, threaded=True)


def setup_database() -> str:
    import psycopg

    with psycopg.connect(f"{SERVER}/postgres", autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{DATABASE}"')
        admin.execute(f'CREATE DATABASE "{DATABASE}"')
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from surveys.models import Survey, TriggerRule
    from surveys.services.api_keys import api_key_create

    call_command("migrate", verbosity=0)
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE TABLE {FLOOR_TABLE} (id bigserial PRIMARY KEY, body jsonb NOT NULL)")
    survey = Survey.objects.create(name="Bench NPS", kind=Survey.Kind.NPS)
    TriggerRule.objects.create(event_type="purchase", survey=survey, channel=TriggerRule.ChannelChoice.EMAIL)
    connection.close()
    return api_key_create(name="bench", survey=survey)[1]


def hammer(url: str, bodies: list[dict], clients: int, headers: dict) -> tuple[float, list[float], dict[int, int]]:
    """POST every body with `clients` concurrent keep-alive sessions; throughput, latencies, status counts."""
    import requests

    latencies: list[float] = []
    statuses: dict[int, int] = {}
    lock = threading.Lock()
    chunks = [bodies[i::clients] for i in range(clients)]

    def worker(chunk: list[dict]) -> None:
        session = requests.Session()
        mine, seen = [], {}
        for body in chunk:
            started = time.perf_counter()
            response = session.post(url, json=body, headers=headers, timeout=60)
            mine.append(time.perf_counter() - started)
            seen[response.status_code] = seen.get(response.status_code, 0) + 1
        with lock:
            latencies.extend(mine)
            for code, count in seen.items():
                statuses[code] = statuses.get(code, 0) + count

    threads = [threading.Thread(target=worker, args=(chunk,)) for chunk in chunks]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return len(bodies) / (time.perf_counter() - started), latencies, statuses


def p99(latencies: list[float]) -> float:
    return statistics.quantiles(latencies, n=100)[98]


def event(n: int, run: str) -> dict:
    return {
        "type": "purchase",
        "external_id": f"{run}-{n}",
        "contact": {"email": f"c{n}-{run}@example.com", "name": f"Customer {n}"},
        "properties": {"amount": n % 300, "store": "Lyon"},
    }


def raw_insert(cursor, rows: list[dict]) -> None:
    """The batch's contacts and events written with psycopg's executemany (no invitations, no checks)."""
    cursor.executemany(
        "INSERT INTO surveys_contact (email, phone, name, locale, timezone, external_id, properties,"
        " created_at, updated_at) VALUES (%s, '', %s, 'en', '', '', '{}', now(), now())",
        [(row["contact"]["email"], row["contact"]["name"]) for row in rows],
    )
    cursor.execute(
        "INSERT INTO surveys_event (source, type, external_id, occurred_at, received_at, properties, contact_id)"
        " SELECT 'raw', 'purchase', c.email, now(), now(), '{}', c.id FROM surveys_contact c"
        " WHERE c.email = ANY(%s)",
        [[row["contact"]["email"] for row in rows]],
    )


def raw_insert_rate(rows: list[dict]) -> float:
    """`raw_insert` in this process, on a connection of its own, in one transaction."""
    import psycopg

    started = time.perf_counter()
    with psycopg.connect(f"{SERVER}/{DATABASE}") as conn, conn.cursor() as cursor:
        raw_insert(cursor, rows)
        conn.commit()
    return len(rows) / (time.perf_counter() - started)


def main() -> int:
    total = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    clients = int(sys.argv[2]) if len(sys.argv) > 2 else 8
    raw_key = setup_database()
    log = open(ROOT / "var" / "bench_intake_server.log", "w")  # noqa: SIM115 - open for the server's lifetime
    server = subprocess.Popen([sys.executable, __file__, "--serve"], stderr=log)
    try:
        import requests

        base = f"http://127.0.0.1:{PORT}"
        for _ in range(100):
            if server.poll() is not None:
                raise SystemExit(f"the bench server stopped; see {log.name}")
            try:
                requests.get(f"{base}/healthz", timeout=1)
                break
            except requests.ConnectionError:
                time.sleep(0.1)
        auth = {"Authorization": f"Bearer {raw_key}"}
        # Warm both paths (connections, imports) before measuring.
        hammer(f"{base}/floor/", [event(n, "warm-floor") for n in range(100)], clients, {})
        hammer(f"{base}/api/events/", [event(n, "warm") for n in range(100)], clients, auth)

        floor_rate, floor_lat, floor_status = hammer(
            f"{base}/floor/", [event(n, "floor") for n in range(total)], clients, {}
        )
        rate, lat, status = hammer(f"{base}/api/events/", [event(n, "single") for n in range(total)], clients, auth)

        batches = [[event(n, f"batch{b}") for n in range(1000)] for b in range(5)]
        batch_rate, _, batch_status = hammer(
            f"{base}/api/events/batch/", [{"events": rows} for rows in batches], 1, auth
        )
        batch_rate *= 1000
        floor_batches = [[event(n, f"floor-batch{b}") for n in range(1000)] for b in range(5)]
        floor_batch_rate, _, floor_batch_status = hammer(
            f"{base}/floor/batch/", [{"events": rows} for rows in floor_batches], 1, {}
        )
        floor_batch_rate *= 1000
        raw_rate = statistics.median(
            raw_insert_rate([event(n, f"raw{b}-{uuid.uuid4().hex[:6]}") for n in range(1000)]) for b in range(5)
        )
    finally:
        server.terminate()
        server.wait()
        log.close()

    throughput_ratio = rate / floor_rate
    p99_ratio = p99(lat) / p99(floor_lat)
    batch_ratio = batch_rate / floor_batch_rate
    print(f"PostgreSQL, {clients} concurrent clients, {total} requests per path, one threaded Werkzeug server")
    print(
        f"floor (bare view, one INSERT): {floor_rate:8.0f} req/s  p99 {p99(floor_lat) * 1000:7.1f} ms  {floor_status}"
    )
    print(f"POST /api/events/:             {rate:8.0f} req/s  p99 {p99(lat) * 1000:7.1f} ms  {status}")
    print(f"  throughput {throughput_ratio:.2f}x floor (target >= 0.50), p99 {p99_ratio:.2f}x floor (target <= 3.00)")
    print(f"POST /api/events/batch/ (1000): {batch_rate:7.0f} events/s  {batch_status}")
    print(f"floor (bare view, raw psycopg): {floor_batch_rate:7.0f} rows/s  {floor_batch_status}")
    print(f"raw psycopg in this process:    {raw_rate:7.0f} rows/s  (batch {batch_rate / raw_rate:.2f}x of it)")
    print(f"  batch {batch_ratio:.2f}x raw behind the same server (target >= 0.25)")
    ok = throughput_ratio >= 0.5 and p99_ratio <= 3.0 and batch_ratio >= 0.25
    print("all targets met" if ok else "TARGET MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    if sys.argv[1:] == ["--serve"]:
        serve()
    else:
        sys.exit(main())
