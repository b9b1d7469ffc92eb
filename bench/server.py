"""The application behind gunicorn with production settings, beside a floor served the same way.

    .venv/bin/python bench/server.py                  # 3 rounds of 5 s per path and side
    BENCH_ROUNDS=5 BENCH_SECONDS=10 .venv/bin/python bench/server.py

Both sides run `config/gunicorn.conf.py` (WEB_CONCURRENCY=4 gthread workers, WEB_THREADS=4 threads each) with
persistent, health-checked PostgreSQL connections (CONN_MAX_AGE); the application is
`bin/closeloop web` with `config.settings.production` and its broker configured (Redis, the
answers' tasks are queued as in production; no worker consumes them during the run). The floor
(bench/floor) is a bare Django project with the same middleware whose views do one INSERT per
POST, one SELECT per page and a COPY per batch. wrk (Debian's package) drives both on loopback
with 16 connections; floor and application rounds alternate, and the medians are compared.
CPU per request is the gunicorn processes' user+system time over the requests they served, and then
PostgreSQL's (every postgres process of the machine: the database shares the two cores).

Databases `cl_production_bench_app` and `cl_production_bench_floor` on BENCH_POSTGRES_URL are
recreated (BENCH_DB_PREFIX replaces `cl_production_bench`, so two runs can share a server); Redis is
BENCH_REDIS_URL (default database 5). BENCH_SCENARIOS=page,answer runs only the named paths. BENCH_PROFILE=<path>
samples that path's gunicorn workers with py-spy (BENCH_PROFILE_GIL=1: only what holds the GIL, i.e. CPU).
Targets (issue 14): single events >= 0.5x the floor with p99 <= 3x, respondent page >= 0.7x,
answer >= 0.4x, batch >= 0.2x of COPY: `batch_staged` (POST /api/events/batches/, accepted and expanded by
a worker) has that target; `batch` (POST /api/events/batch/, ingested before it answers) is printed beside it,
and the staged batches left waiting are then expanded in this process, which prints a worker's events/s.

`events_known` posts events of 1,000 contacts, each invited a moment ago (every event is stored and throttled by
fatigue); `events_one_contact` posts them all for one of those contacts, so concurrent requests meet on that one
row (PostgreSQL's foreign-key check of each event shares a lock on it): it has no target and is printed beside.

Every answer is a first answer from a person's browser (its user agent), on an invitation of its own:
each wrk run takes fresh invitations, so the answer is recorded, confirmed and its task queued, as a
customer's tap is (a repeated POST without the answering browser's cookie only redirects to the
"change my answer" step). `answer_inprocess` is the same on the embedded default (no broker: one
gunicorn process, the announcement's receivers run in the request); it has no target and is printed
beside the same floor.
"""

import json
import os
import re
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
SERVER = os.environ.get("BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432").rstrip("/")
REDIS = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/5")
DB_PREFIX = os.environ.get("BENCH_DB_PREFIX", "cl_production_bench")
APP_DB, FLOOR_DB = f"{DB_PREFIX}_app", f"{DB_PREFIX}_floor"
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
SECONDS = int(os.environ.get("BENCH_SECONDS", "5"))
CONNECTIONS = int(os.environ.get("BENCH_CONNECTIONS", "16"))
TOKENS = 400
ANSWER_TOKENS = int(os.environ.get("BENCH_ANSWER_TOKENS", "2500"))  # per wrk run: more than it can answer
# `events_known` posts events of these contacts, each invited a moment ago: every event is recorded and throttled.
KNOWN_CONTACTS = 1000
TARGETS = {
    "events_new": 0.5,
    "events_known": 0.5,
    "events_one_contact": None,
    "page": 0.7,
    "answer": 0.4,
    "answer_inprocess": None,
    "batch": None,
    "batch_staged": 0.2,
}
BATCHES = ("batch", "batch_staged")
BROWSER = "Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0"
SECRET = secrets.token_urlsafe(64)
WORK = Path(tempfile.mkdtemp(prefix="closeloop-bench-"))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def recreate(name: str) -> None:
    import psycopg

    with psycopg.connect(f"{SERVER}/postgres", autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"')


def analyze(name: str) -> None:
    """Fresh planner statistics, as a production database has them (autovacuum keeps them within a minute or so
    of its writes): a database seeded seconds ago has none, and on the rows the seeding and the previous path
    wrote, PostgreSQL planned a known contact's fatigue check on the (status, scheduled_at) index, reading every
    live invitation (2.8 ms for 5,885 rows) instead of the contact's own (0.05 ms)."""
    import psycopg

    with psycopg.connect(f"{SERVER}/{name}", autocommit=True) as connection:
        connection.execute("ANALYZE")


def common_env(port: int, database: str) -> dict[str, str]:
    return {
        "PATH": os.environ["PATH"],
        "HOME": os.environ.get("HOME", "/tmp"),
        "DJANGO_SECRET_KEY": SECRET,
        "DATABASE_URL": f"{SERVER}/{database}",
        "SITE_URL": f"http://127.0.0.1:{port}",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "WEB_BIND": f"127.0.0.1:{port}",
        "WEB_CONCURRENCY": os.environ.get("WEB_CONCURRENCY", "4"),
        "WEB_THREADS": os.environ.get("WEB_THREADS", "4"),
        "CELERY_BROKER_URL": REDIS,
        "PROMETHEUS_MULTIPROC_ROOT": str(WORK / "metrics"),
        "LOG_LEVEL": "WARNING",
        "COLLECTSTATIC": "0",
    }


def app_env(port: int) -> dict[str, str]:
    return {
        **common_env(port, APP_DB),
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "CACHE_URL": REDIS,
        "API_RATE_LIMIT": "100000000/minute",
        "RESPONDENT_RATE_LIMIT_PER_MINUTE": "100000000",
        "STATIC_ROOT": str(WORK / "static"),
        "SENDGRID_RATE_PER_SECOND": "0",
    }


def seed_app(env: dict[str, str], answer_runs: int) -> tuple[str, list[str], list[str]]:
    """Migrate, then a survey with its trigger rule, an API key, invitations to show (their raw tokens) and
    `answer_runs` x ANSWER_TOKENS invitations to answer once each."""
    subprocess.run([str(ROOT / "bin" / "closeloop"), "migrate", "-v", "0"], env=env, check=True, cwd=ROOT)
    subprocess.run(
        [str(ROOT / "bin" / "closeloop"), "manage", "collectstatic", "--noinput", "-v", "0"], env=env, check=True
    )
    os.environ.update(env)
    import django

    django.setup()
    from surveys.models import Survey, TriggerRule
    from surveys.services.api_keys import api_key_create
    from surveys.tokens import invitation_token
    from tests.factories import InvitationFactory

    survey = Survey.objects.create(name="Bench NPS", kind="nps", product_name="Bench")
    TriggerRule.objects.create(event_type="purchase", survey=survey, channel="email")
    _, key = api_key_create(name="bench")
    tokens = [invitation_token(InvitationFactory(survey=survey).public_id) for _ in range(TOKENS)]
    answer_tokens = invitations_to_answer(survey, answer_runs * ANSWER_TOKENS)
    invitations_to_answer(survey, KNOWN_CONTACTS, prefix="known")
    from django.db import connections

    connections.close_all()
    return key, tokens, answer_tokens


def invitations_to_answer(survey, count: int, prefix: str = "answer") -> list[str]:
    """`count` sent invitations, each with a contact of its own (`<prefix>-<n>@bench.example`), written in bulk;
    their raw tokens."""
    import uuid
    from datetime import timedelta

    from django.utils import timezone

    from surveys.models import Contact, Invitation
    from surveys.tokens import invitation_token, token_hash

    now = timezone.now()
    contacts = Contact.objects.bulk_create(
        [Contact(email=f"{prefix}-{n}@bench.example") for n in range(count)], batch_size=2000
    )
    public_ids = [uuid.uuid4() for _ in range(count)]
    tokens = [invitation_token(public_id) for public_id in public_ids]
    Invitation.objects.bulk_create(
        [
            Invitation(
                survey=survey,
                contact=contact,
                channel="email",
                scheduled_at=now,
                expires_at=now + timedelta(days=28),
                status=Invitation.Status.QUEUED,
                public_id=public_id,
                token_hash=token_hash(token),
            )
            for contact, public_id, token in zip(contacts, public_ids, tokens, strict=True)
        ],
        batch_size=2000,
    )
    return tokens


def answers_recorded() -> int:
    """Confirmed answers in the application's database (the bench's own connection)."""
    from surveys.models import Response

    return Response.objects.filter(held_reason="").count()


def seed_floor() -> None:
    import psycopg

    with psycopg.connect(f"{SERVER}/{FLOOR_DB}", autocommit=True) as connection:
        connection.execute("CREATE TABLE floor_row (id bigserial PRIMARY KEY, body text NOT NULL)")
        connection.execute("INSERT INTO floor_row (body) SELECT 'row ' || i FROM generate_series(1, 1000) i")


def start(name: str, argv: list[str], env: dict[str, str], port: int) -> subprocess.Popen:
    log = open(WORK / f"{name}.log", "w")
    process = subprocess.Popen(argv, env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return process
        except OSError:
            time.sleep(0.3)
    raise SystemExit(f"{name} did not start: {(WORK / f'{name}.log').read_text()[-2000:]}")


def postgres_cpu_seconds() -> float:
    """user+system seconds of every PostgreSQL process of this machine (backends, WAL writer, autovacuum...): the
    database shares the 2 cores with gunicorn, and only one side's server is being driven during a round."""
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except (FileNotFoundError, ProcessLookupError):
            continue
        name, _, rest = text.partition(" (")[2].rpartition(")")
        if name != "postgres":
            continue
        fields = rest.split()
        total += (int(fields[11]) + int(fields[12]) + int(fields[13]) + int(fields[14])) / os.sysconf("SC_CLK_TCK")
    return total


def cpu_seconds(master: int) -> float:
    """user+system seconds of the gunicorn master and its workers, those it has reaped included (a worker that
    reached max_requests was replaced mid-round: its seconds moved to the master's children's counters)."""
    total = 0.0
    pids = [master]
    children = Path(f"/proc/{master}/task/{master}/children")
    if children.exists():
        pids += [int(pid) for pid in children.read_text().split()]
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            continue
        ticks = int(fields[11]) + int(fields[12]) + (int(fields[13]) + int(fields[14]) if pid == master else 0)
        total += ticks / os.sysconf("SC_CLK_TCK")
    return total


# wrk's threads each run the script in their own Lua state, with the same random sequence and counters:
# without the thread's number, both threads sent the same "new" contacts (half the events then found a
# contact the other thread had just created, and concurrent batches of the same 1000 contacts waited on
# each other's unique-index entries, then took the one-by-one path).
THREAD_ID = """
threads = 0
setup = function(thread)
  threads = threads + 1
  thread:set("thread_id", threads)
end
"""
LUA = {
    "events_new": THREAD_ID
    + """
counter = 0
request = function()
  counter = counter + 1
  local body = string.format('{"type": "purchase", "contact": {"email": "c%d-%d-%d-%d@bench.example"}}',
                             thread_id, math.random(1, 1000000000), counter, os.time())
  local headers = {["Authorization"] = "Bearer KEY", ["Content-Type"] = "application/json"}
  return wrk.format("POST", "/api/events/", headers, body)
end
""",
    "events_known": """
request = function()
  return wrk.format("POST", "/api/events/", {["Authorization"] = "Bearer KEY", ["Content-Type"] = "application/json"},
    string.format('{"type": "purchase", "contact": {"email": "known-%d@bench.example"}}', math.random(0, KNOWN - 1)))
end
""".replace("KNOWN", str(KNOWN_CONTACTS)),
    "events_one_contact": """
request = function()
  return wrk.format("POST", "/api/events/", {["Authorization"] = "Bearer KEY", ["Content-Type"] = "application/json"},
    '{"type": "purchase", "contact": {"email": "known-0@bench.example"}}')
end
""",
    "page": """
tokens = {TOKENS}
i = 0
request = function()
  i = i + 1
  return wrk.format("GET", "/s/" .. tokens[(i % #tokens) + 1] .. "/")
end
""",
    "answer": THREAD_ID
    + """
tokens = {TOKENS}
i = 0
csrf = "abcdefghijklmnopqrstuvwxyzABCDEF"
request = function()
  -- wrk's two threads take alternate invitations of this run's own: each is answered once.
  local n = (i * 2 + thread_id - 1) % #tokens + 1
  i = i + 1
  return wrk.format("POST", "/s/" .. tokens[n] .. "/",
    {["Content-Type"] = "application/x-www-form-urlencoded", ["Cookie"] = "csrftoken=" .. csrf,
     ["User-Agent"] = "BROWSER"},
    "csrfmiddlewaretoken=" .. csrf .. "&step=score&score=9")
end
""",
    "batch": THREAD_ID
    + """
counter = 0
request = function()
  counter = counter + 1
  local parts = {}
  local base = string.format("%d-%d-%d", thread_id, math.random(1, 1000000000), os.time())
  for n = 1, 1000 do
    parts[n] = string.format('{"type": "purchase", "contact": {"email": "b%s-%d-%d@bench.example"}}', base, counter, n)
  end
  local body = '{"events": [' .. table.concat(parts, ",") .. ']}'
  return wrk.format("POST", "PATH", {["Authorization"] = "Bearer KEY", ["Content-Type"] = "application/json"}, body)
end
""",
}
LUA["answer_inprocess"] = LUA["answer"]
LUA["batch_staged"] = LUA["batch"]
SCENARIOS = [name for name in os.environ.get("BENCH_SCENARIOS", ",".join(LUA)).split(",") if name]
if unknown := set(SCENARIOS) - set(LUA):
    raise SystemExit(f"BENCH_SCENARIOS: unknown {sorted(unknown)}; choose among {', '.join(LUA)}")

FLOOR_LUA = {
    "events_new": LUA["events_new"].replace("/api/events/", "/floor/insert"),
    "events_known": LUA["events_known"].replace("/api/events/", "/floor/insert"),
    "events_one_contact": LUA["events_one_contact"].replace("/api/events/", "/floor/insert"),
    "page": """
i = 0
request = function()
  i = i + 1
  return wrk.format("GET", "/floor/page/" .. ((i % 1000) + 1))
end
""",
    "answer": """
request = function()
  return wrk.format("POST", "/floor/insert", {["Content-Type"] = "application/x-www-form-urlencoded"},
    "csrfmiddlewaretoken=abcdefghijklmnopqrstuvwxyzABCDEF&step=score&score=9")
end
""",
    "batch": LUA["batch"].replace("PATH", "/floor/batch"),
}
FLOOR_LUA["answer_inprocess"] = FLOOR_LUA["answer"]
FLOOR_LUA["batch_staged"] = FLOOR_LUA["batch"]


def wrk(port: int, script: str, master: int, seconds: int, connections: int) -> dict:
    path = WORK / "script.lua"
    path.write_text(script)
    before = cpu_seconds(master)
    pg_before = postgres_cpu_seconds()
    out = subprocess.run(
        [
            "wrk",
            "-t2",
            f"-c{connections}",
            f"-d{seconds}s",
            "--timeout",
            "30s",
            "--latency",
            "-s",
            str(path),
            f"http://127.0.0.1:{port}",
        ],
        capture_output=True,
        text=True,
        timeout=seconds + 60,
    ).stdout
    cpu = cpu_seconds(master) - before
    pg_cpu = postgres_cpu_seconds() - pg_before
    with open(WORK / "wrk.txt", "a") as log:
        log.write(f"--- port {port}\n{out}\n")
    requests = int(re.search(r"(\d+) requests in", out).group(1))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)\b", out)
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
        "p99_ms": float(p99.group(1)) * scale[p99.group(2)],
        "cpu_ms": cpu * 1000 / max(requests, 1),
        "db_cpu_ms": pg_cpu * 1000 / max(requests, 1),
        "errors": int(errors.group(1)) if errors else 0,
        "requests": requests,
    }


def profile(master: int, seconds: int, out: Path) -> subprocess.Popen:
    """py-spy samples every gunicorn process of the application while a round runs (BENCH_PROFILE=<path>).

    With BENCH_PROFILE_GIL=1 only threads holding the GIL are sampled: where the CPU goes, without the waits
    on PostgreSQL, Redis and the other threads that otherwise fill a gthread worker's samples."""
    return subprocess.Popen(
        [
            str(Path(sys.executable).parent / "py-spy"),
            "record",
            "-p",
            str(master),
            "--subprocesses",
            "--nonblocking",
            *(["--gil"] if os.environ.get("BENCH_PROFILE_GIL") else []),
            "-d",
            str(seconds),
            "-f",
            "raw",
            "-o",
            str(out),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def top_frames(raw: Path, limit: int = 12) -> list[tuple[float, str]]:
    """Share of samples whose stack passes through each of the project's own functions (inclusive)."""
    from collections import Counter

    inclusive, total = Counter(), 0
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        total += int(count)
        seen = set()
        for frame in stack.split(";"):
            function, _, where = frame.rpartition(" (")
            path = where.split(":")[0]
            # py-spy names a file by its full path or, as recent versions do, relative to its sys.path entry.
            path = path.removeprefix(f"{ROOT}/")
            if path.startswith("/") or path.startswith(".venv/") or path.endswith("gunicorn.conf.py"):
                continue
            if not (ROOT / path).is_file():
                continue
            name = f"{function} ({path})"
            if name not in seen:
                seen.add(name)
                inclusive[name] += int(count)
    return [(100 * n / max(total, 1), name) for name, n in inclusive.most_common(limit)]


def main() -> int:
    app_port, floor_port, inprocess_port = free_port(), free_port(), free_port()
    recreate(APP_DB)
    recreate(FLOOR_DB)
    env = app_env(app_port)
    answering = [name for name in SCENARIOS if name.startswith("answer")]
    profiled = os.environ.get("BENCH_PROFILE") in answering
    # Per answer path: a warm-up, the rounds and the profiled run each answer invitations of their own.
    key, tokens, answer_tokens = seed_app(env, len(answering) * (ROUNDS + 1) + profiled)
    fresh = (answer_tokens[n : n + ANSWER_TOKENS] for n in range(0, len(answer_tokens), ANSWER_TOKENS))
    seed_floor()
    entry = [str(ROOT / "bin" / "closeloop"), "web"]
    floor_env = {**common_env(floor_port, FLOOR_DB), "DJANGO_SETTINGS_MODULE": "bench.floor.settings"}
    floor_argv = [sys.executable, "-m", "gunicorn", "--config", "config/gunicorn.conf.py", "bench.floor.wsgi"]
    # The embedded default: no broker, so gunicorn.conf.py runs one process with the periodic jobs in a thread.
    inprocess_env = {key: value for key, value in app_env(inprocess_port).items() if key != "CELERY_BROKER_URL"}
    # Its periodic jobs must not sweep up the broker side's announcements, which no worker consumes here.
    inprocess_env["ANNOUNCE_GRACE_SECONDS"] = "86400"
    inprocess_argv = [sys.executable, "-m", "gunicorn", "--config", "config/gunicorn.conf.py", "config.wsgi"]
    servers = [start("app", entry, env, app_port)]
    lua_tokens = "{" + ",".join(f'"{t}"' for t in tokens) + "}"
    results: dict[str, dict[str, list[dict]]] = {}
    print(f"load average before: {os.getloadavg()}  (2 shared cores)")
    try:
        # Inside the try: a floor that does not start must not leave the application's server running.
        servers.append(start("floor", floor_argv, floor_env, floor_port))
        app, floor = servers
        if "answer_inprocess" in SCENARIOS:
            servers.append(start("inprocess", inprocess_argv, inprocess_env, inprocess_port))
        for scenario in SCENARIOS:
            seconds = SECONDS * (3 if scenario in BATCHES else 1)
            connections = 2 if scenario in BATCHES else CONNECTIONS
            port, pid = (inprocess_port, servers[-1].pid) if scenario == "answer_inprocess" else (app_port, app.pid)

            def app_run(seconds: int, scenario=scenario, port=port, pid=pid, connections=connections) -> dict:
                path = "/api/events/batches/" if scenario == "batch_staged" else "/api/events/batch/"
                script = LUA[scenario].replace("KEY", key).replace("PATH", path)
                if scenario in answering:
                    script = script.replace("{TOKENS}", "{" + ",".join(f'"{t}"' for t in next(fresh)) + "}")
                    script = script.replace("BROWSER", BROWSER)
                    before = answers_recorded()
                result = wrk(port, script.replace("{TOKENS}", lua_tokens), pid, seconds, connections)
                if scenario in answering:
                    result["recorded"] = answers_recorded() - before
                return result

            floor_script = FLOOR_LUA[scenario]
            analyze(APP_DB)
            analyze(FLOOR_DB)
            app_run(3)  # warm-up: connections opened, code paths loaded
            wrk(floor_port, floor_script, floor.pid, 3, connections)
            if os.environ.get("BENCH_PROFILE") == scenario:
                raw = WORK / f"profile-{scenario}.txt"
                spy = profile(pid, seconds, raw)
                time.sleep(1)
                app_run(seconds)
                spy.wait(timeout=120)
                print(f"py-spy, {scenario}: share of samples in (inclusive)")
                for share, name in top_frames(raw):
                    print(f"  {share:5.1f}%  {name}")
            for _ in range(ROUNDS):
                sides = results.setdefault(scenario, {})
                sides.setdefault("floor", []).append(wrk(floor_port, floor_script, floor.pid, seconds, connections))
                sides.setdefault("app", []).append(app_run(seconds))
    finally:
        for process in servers:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=60)
    print(f"load average after: {os.getloadavg()}")
    if "batch_staged" in SCENARIOS:
        expand_staged_batches()
    return report(results)


def expand_staged_batches(count: int = 10) -> None:
    """What a worker process does with the batches `batch_staged` left accepted: `count` of them expanded here,
    one after the other, as `expand_event_batch` does (the bench's settings, the application's database)."""
    from django.db import connections

    from surveys.api import batch_ingest
    from surveys.models import EventBatch
    from surveys.services.batches import event_batch_expand

    waiting = list(EventBatch.objects.filter(status="accepted").order_by("pk").values_list("pk", flat=True)[:count])
    events, wall, cpu = 0, time.perf_counter(), time.process_time()
    for batch_id in waiting:
        events += len(event_batch_expand(batch_id=batch_id, ingest=batch_ingest).results)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    left = EventBatch.objects.filter(status="accepted").count()
    connections.close_all()
    print(
        f"batch_staged expansion in one worker process: {len(waiting)} batches, {events / wall:,.0f} events/s "
        f"({cpu * 1000 / max(len(waiting), 1):.0f} ms of CPU per batch of 1000); {left} batches still waiting"
    )


def report(results) -> int:
    missed = []
    print(
        f"\n{ROUNDS} rounds, medians | path | app req/s | floor req/s | ratio (target) | p99 app/floor ms"
        " | CPU ms/request app vs floor (gunicorn, then PostgreSQL)"
    )
    for scenario, sides in results.items():
        med = {
            side: {k: statistics.median(r[k] for r in runs) for k in ("rps", "p99_ms", "cpu_ms", "db_cpu_ms")}
            for side, runs in sides.items()
        }
        errors = {side: sum(r["errors"] for r in runs) for side, runs in sides.items()}
        ratio = med["app"]["rps"] / med["floor"]["rps"]
        unit = 1000 if scenario in BATCHES else 1
        label = "events/s" if unit == 1000 else "req/s"
        p99_ratio = med["app"]["p99_ms"] / med["floor"]["p99_ms"]
        target = TARGETS[scenario]
        ok = target is None or (ratio >= target and (not scenario.startswith("events_") or p99_ratio <= 3))
        if not ok:
            missed.append(scenario)
        recorded = sides["app"][0].get("recorded")
        if recorded is not None:
            answered = sum(r["recorded"] for r in sides["app"])
            served = sum(r["requests"] for r in sides["app"])
            recorded = f"  {answered} answers recorded, {served} requests completed"
        print(
            f"{scenario:16} app {med['app']['rps'] * unit:9.0f} {label}  floor {med['floor']['rps'] * unit:9.0f}  "
            f"{ratio:.2f}x ({f'>= {target}x' if target is not None else 'no target'})  "
            f"p99 {med['app']['p99_ms']:.1f}/{med['floor']['p99_ms']:.1f} ms "
            f"({p99_ratio:.1f}x)  CPU {med['app']['cpu_ms']:.1f} vs {med['floor']['cpu_ms']:.1f} ms, "
            f"PostgreSQL {med['app']['db_cpu_ms']:.1f} vs {med['floor']['db_cpu_ms']:.1f} ms  "
            f"errors {errors['app']}/{errors['floor']}  {'ok' if ok else 'MISSED'}{recorded or ''}"
        )
    print(json.dumps({"results": results}, indent=None)[:0])
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
