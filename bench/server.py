"""The application behind gunicorn with production settings, beside a floor served the same way.

    .venv/bin/python bench/server.py                  # 3 rounds of 5 s per path and side
    BENCH_ROUNDS=5 BENCH_SECONDS=10 .venv/bin/python bench/server.py

Both sides run `config/gunicorn.conf.py` (WEB_CONCURRENCY=4 gthread workers, 4 threads each) with
persistent, health-checked PostgreSQL connections (CONN_MAX_AGE); the application is
`bin/closeloop web` with `config.settings.production` and its broker configured (Redis, the
answers' tasks are queued as in production; no worker consumes them during the run). The floor
(bench/floor) is a bare Django project with the same middleware whose views do one INSERT per
POST, one SELECT per page and a COPY per batch. wrk (Debian's package) drives both on loopback
with 16 connections; floor and application rounds alternate, and the medians are compared.
CPU per request is the gunicorn processes' user+system time over the requests they served.

Databases `cl_production_bench_app` and `cl_production_bench_floor` on BENCH_POSTGRES_URL are
recreated (BENCH_DB_PREFIX replaces `cl_production_bench`, so two runs can share a server); Redis is
BENCH_REDIS_URL (default database 5). BENCH_SCENARIOS=page,answer runs only the named paths.
Targets (issue 14): single events >= 0.5x the floor with p99 <= 3x, respondent page >= 0.7x,
answer >= 0.4x, batch >= 0.2x of COPY.
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
TARGETS = {"events_new": 0.5, "events_known": 0.5, "page": 0.7, "answer": 0.4, "batch": 0.2}
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


def seed_app(env: dict[str, str]) -> tuple[str, list[str]]:
    """Migrate, then a survey with its trigger rule, an API key and invitations to answer (their raw tokens)."""
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
    from django.db import connections

    connections.close_all()
    return key, tokens


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


def cpu_seconds(master: int) -> float:
    """user+system seconds of the gunicorn master and its workers."""
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
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
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
    '{"type": "purchase", "contact": {"email": "known@bench.example"}}')
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
    "answer": """
tokens = {TOKENS}
i = 0
csrf = "abcdefghijklmnopqrstuvwxyzABCDEF"
request = function()
  i = i + 1
  return wrk.format("POST", "/s/" .. tokens[(i % #tokens) + 1] .. "/",
    {["Content-Type"] = "application/x-www-form-urlencoded", ["Cookie"] = "csrftoken=" .. csrf},
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
SCENARIOS = [name for name in os.environ.get("BENCH_SCENARIOS", ",".join(LUA)).split(",") if name]
if unknown := set(SCENARIOS) - set(LUA):
    raise SystemExit(f"BENCH_SCENARIOS: unknown {sorted(unknown)}; choose among {', '.join(LUA)}")

FLOOR_LUA = {
    "events_new": LUA["events_new"].replace("/api/events/", "/floor/insert"),
    "events_known": LUA["events_known"].replace("/api/events/", "/floor/insert"),
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


def wrk(port: int, script: str, master: int, seconds: int, connections: int) -> dict:
    path = WORK / "script.lua"
    path.write_text(script)
    before = cpu_seconds(master)
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
        "errors": int(errors.group(1)) if errors else 0,
        "requests": requests,
    }


def profile(master: int, seconds: int, out: Path) -> subprocess.Popen:
    """py-spy samples every gunicorn process of the application while a round runs (BENCH_PROFILE=<path>)."""
    return subprocess.Popen(
        [
            str(Path(sys.executable).parent / "py-spy"),
            "record",
            "-p",
            str(master),
            "--subprocesses",
            "--nonblocking",
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
    app_port, floor_port = free_port(), free_port()
    recreate(APP_DB)
    recreate(FLOOR_DB)
    env = app_env(app_port)
    key, tokens = seed_app(env)
    seed_floor()
    entry = [str(ROOT / "bin" / "closeloop"), "web"]
    floor_env = {**common_env(floor_port, FLOOR_DB), "DJANGO_SETTINGS_MODULE": "bench.floor.settings"}
    floor_argv = [sys.executable, "-m", "gunicorn", "--config", "config/gunicorn.conf.py", "bench.floor.wsgi"]
    servers = [start("app", entry, env, app_port)]
    lua_tokens = "{" + ",".join(f'"{t}"' for t in tokens) + "}"
    results: dict[str, dict[str, list[dict]]] = {}
    print(f"load average before: {os.getloadavg()}  (2 shared cores)")
    try:
        # Inside the try: a floor that does not start must not leave the application's server running.
        servers.append(start("floor", floor_argv, floor_env, floor_port))
        app, floor = servers
        for scenario in SCENARIOS:
            seconds = SECONDS * (3 if scenario == "batch" else 1)
            connections = 2 if scenario == "batch" else CONNECTIONS
            app_script = (
                LUA[scenario].replace("KEY", key).replace("{TOKENS}", lua_tokens).replace("PATH", "/api/events/batch/")
            )
            floor_script = FLOOR_LUA[scenario]
            for _name, port, master, script in (
                ("app", app_port, app.pid, app_script),
                ("floor", floor_port, floor.pid, floor_script),
            ):
                wrk(port, script, master, 3, connections)  # warm-up: connections opened, code paths loaded
            if os.environ.get("BENCH_PROFILE") == scenario:
                raw = WORK / f"profile-{scenario}.txt"
                spy = profile(app.pid, seconds, raw)
                time.sleep(1)
                wrk(app_port, app_script, app.pid, seconds, connections)
                spy.wait(timeout=120)
                print(f"py-spy, {scenario}: share of samples in (inclusive)")
                for share, name in top_frames(raw):
                    print(f"  {share:5.1f}%  {name}")
            for _ in range(ROUNDS):
                for name, port, master, script in (
                    ("floor", floor_port, floor.pid, floor_script),
                    ("app", app_port, app.pid, app_script),
                ):
                    results.setdefault(scenario, {}).setdefault(name, []).append(
                        wrk(port, script, master, seconds, connections)
                    )
    finally:
        for process in servers:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=60)
    print(f"load average after: {os.getloadavg()}")
    return report(results)


def report(results) -> int:
    missed = []
    print(
        f"\n{ROUNDS} rounds, medians | path | app req/s | floor req/s | ratio (target) | p99 app/floor ms"
        " | CPU ms/request app vs floor"
    )
    for scenario, sides in results.items():
        med = {
            side: {k: statistics.median(r[k] for r in runs) for k in ("rps", "p99_ms", "cpu_ms")}
            for side, runs in sides.items()
        }
        errors = {side: sum(r["errors"] for r in runs) for side, runs in sides.items()}
        ratio = med["app"]["rps"] / med["floor"]["rps"]
        unit = 1000 if scenario == "batch" else 1
        label = "events/s" if unit == 1000 else "req/s"
        p99_ratio = med["app"]["p99_ms"] / med["floor"]["p99_ms"]
        ok = ratio >= TARGETS[scenario] and (scenario not in ("events_new", "events_known") or p99_ratio <= 3)
        if not ok:
            missed.append(scenario)
        print(
            f"{scenario:13} app {med['app']['rps'] * unit:9.0f} {label}  floor {med['floor']['rps'] * unit:9.0f}  "
            f"{ratio:.2f}x (>= {TARGETS[scenario]}x)  p99 {med['app']['p99_ms']:.1f}/{med['floor']['p99_ms']:.1f} ms "
            f"({p99_ratio:.1f}x)  CPU {med['app']['cpu_ms']:.1f} vs {med['floor']['cpu_ms']:.1f} ms  "
            f"errors {errors['app']}/{errors['floor']}  {'ok' if ok else 'MISSED'}"
        )
    print(json.dumps({"results": results}, indent=None)[:0])
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
