"""The product started as production starts it, for the black-box tests marked `smoke`.

`bin/closeloop migrate`, then `web`, `worker` and `beat`, with `config.settings.production`, on the
PostgreSQL database `SMOKE_DATABASE_URL` names (dropped and created afresh: use one of its own) and
the Redis database `SMOKE_BROKER_URL` names (emptied first); email goes through the real SendGrid
SDK to the local fake of tests/fakes/providers.py. `.ci/run` sets both variables; without them the
tests are skipped. The processes' logs are printed when a test fails.
"""

import os
import secrets
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
import redis
import requests

from tests.fakes.providers import FakeProviders

ROOT = Path(__file__).resolve().parents[2]
ENTRY = str(ROOT / "bin" / "closeloop")


def pytest_collection_modifyitems(config, items):
    if os.environ.get("SMOKE_DATABASE_URL") and os.environ.get("SMOKE_BROKER_URL"):
        return
    skip = pytest.mark.skip(reason="smoke: set SMOKE_DATABASE_URL (PostgreSQL, recreated) and SMOKE_BROKER_URL (Redis)")
    for item in items:
        if item.get_closest_marker("smoke"):
            item.add_marker(skip)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(condition, *, timeout: float, what: str, interval: float = 0.25):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            value = condition()
        except (requests.ConnectionError, OSError):
            value = None
        if value:
            return value
        time.sleep(interval)
    pytest.fail(f"timed out after {timeout}s waiting for {what}")


def database_recreate(url: str) -> None:
    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    assert name and name.replace("_", "").isalnum(), f"unexpected database name {name!r}"
    admin = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"')


@dataclass
class Product:
    base: str
    env: dict[str, str]
    logs: Path
    fake: FakeProviders
    database_url: str
    api_key: str = ""
    worker_metrics: str = ""
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)

    def start(self, name: str, *argv: str) -> subprocess.Popen:
        log = open(self.logs / f"{name}.log", "w")
        process = subprocess.Popen(
            [ENTRY, *argv], cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        self.processes[name] = process
        return process

    def run(self, *argv: str) -> str:
        result = subprocess.run([ENTRY, *argv], cwd=ROOT, env=self.env, capture_output=True, text=True, timeout=300)
        assert result.returncode == 0, f"bin/closeloop {' '.join(argv)}:\n{result.stdout}\n{result.stderr}"
        return result.stdout

    def sql(self, query: str, *params):
        with psycopg.connect(self.database_url) as connection:
            return connection.execute(query, params).fetchall()

    def log(self, name: str) -> str:
        return (self.logs / f"{name}.log").read_text()

    def stop(self, name: str, timeout: float = 60) -> int:
        process = self.processes[name]
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
        return process.wait(timeout=timeout)


SETUP = """
from feedback.models import RoutingRule, Team
from surveys.models import Survey, TriggerRule

survey = Survey.objects.create(name="Smoke NPS", kind="nps", product_name="Smoke shop")
TriggerRule.objects.create(event_type="purchase", survey=survey, channel="email")
RoutingRule.objects.create(team=Team.objects.get(name="Care"), kind="nps")
"""

MANAGER = ("manager@smoke.closeloop.test", "smoke-manager-password")
AGENT = ("agent@smoke.closeloop.test", "smoke-agent-password")


@pytest.fixture(scope="module")
def product(tmp_path_factory, request):
    database_url = os.environ["SMOKE_DATABASE_URL"]
    broker_url = os.environ["SMOKE_BROKER_URL"]
    database_recreate(database_url)
    redis.Redis.from_url(broker_url).flushdb()
    fake = FakeProviders().start()
    logs = tmp_path_factory.mktemp("smoke")
    port, worker_metrics_port = free_port(), free_port()
    env = {
        "PATH": os.environ["PATH"],
        "HOME": os.environ.get("HOME", "/tmp"),
        "LANG": "C.UTF-8",
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(64),
        "SITE_URL": f"http://127.0.0.1:{port}",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "PORT": str(port),
        "DATABASE_URL": database_url,
        "CELERY_BROKER_URL": broker_url,
        "CACHE_URL": os.environ.get("SMOKE_CACHE_URL", broker_url),
        "SENDGRID_API_KEY": "SG.smoke-key",
        "SENDGRID_API_BASE_URL": fake.url,
        "SENDGRID_RATE_PER_SECOND": "0",
        "DISPATCH_INTERVAL_SECONDS": "1",
        "DASHBOARD_FUNNEL_REFRESH_SECONDS": "2",
        "METRICS_TOKEN": "smoke-metrics-token",
        "METRICS_DB_CACHE_SECONDS": "0",
        "LOG_FORMAT": "json",
        "WEB_CONCURRENCY": "2",
        "WEB_THREADS": "2",
        "WEB_GRACEFUL_TIMEOUT": "20",
        "WORKER_CONCURRENCY": "2",
        "WORKER_METRICS_PORT": str(worker_metrics_port),
        "STATIC_ROOT": str(logs / "static"),
        "CELERY_BEAT_SCHEDULE_FILE": str(logs / "beat" / "schedule"),
        "PROMETHEUS_MULTIPROC_ROOT": str(logs / "metrics"),
    }
    product = Product(base=env["SITE_URL"], env=env, logs=logs, fake=fake, database_url=database_url)
    product.worker_metrics = f"http://127.0.0.1:{worker_metrics_port}/metrics"
    try:
        product.run("migrate")
        product.run("manage", "create_user", "--email", MANAGER[0], "--role", "manager", "--password", MANAGER[1])
        product.run(
            "manage", "create_user", "--email", AGENT[0], "--role", "agent", "--team", "Care", "--password", AGENT[1]
        )
        product.run("manage", "shell", "-c", SETUP)
        product.api_key = product.run("manage", "create_api_key", "--name", "smoke").strip().splitlines()[-1]
        product.start("web", "web")
        product.start("worker", "worker", "--hostname", "smoke@%h")
        product.start("beat", "beat")
        wait_for(
            lambda: requests.get(f"{product.base}/readyz", timeout=5).status_code == 200,
            timeout=120,
            what="/readyz to answer 200 (web, worker and beat up)",
        )
        yield product
    finally:
        for process in product.processes.values():
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        fake.stop()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.when == "call" and report.failed and "product" in item.funcargs:
        product = item.funcargs["product"]
        for name in product.processes:
            report.sections.append(
                (f"bin/closeloop {name} log (last 60 lines)", "\n".join(product.log(name).splitlines()[-60:]))
            )
    return report
