"""The chaos suite's servers and fakes: the PostgreSQL cluster and Redis `tests/chaos/run.py` started for this
run alone (stopped and restarted here at will), live workers on them, the fake providers and a webhook receiver,
and the report printed at the end: per fault, what was injected and what was counted."""

import os
import subprocess
import time
from dataclasses import dataclass, field

import pytest

from tests.fakes.providers import FakeProviders
from tests.fakes.webhook_receiver import WebhookReceiver
from tests.integration.conftest import celery_worker_env, start_celery_worker  # noqa: F401 (fixtures)

WEBHOOK_SECRET = "whsec-chaos"


@dataclass
class FaultReport:
    fault: str
    injected: str
    counted: dict[str, int] = field(default_factory=dict)

    # The counts that must be zero after any fault.
    MUST_BE_ZERO = ("doubled", "lost", "case errors", "rollup drift", "webhooks missing")

    def line(self) -> str:
        counts = "  ".join(f"{name} {value}" for name, value in self.counted.items())
        return f"{self.fault}\n    injected: {self.injected}\n    counted:  {counts}"

    def failures(self) -> dict[str, int]:
        return {name: self.counted[name] for name in self.MUST_BE_ZERO if self.counted.get(name)}


REPORTS: list[FaultReport] = []


@pytest.fixture
def report():
    """Record and print one fault's figures; the test then asserts the must-be-zero ones."""

    def record(fault: str, injected: str, **counted: int) -> FaultReport:
        entry = FaultReport(fault, injected, {name.replace("_", " "): value for name, value in counted.items()})
        REPORTS.append(entry)
        print("\n" + entry.line(), flush=True)
        return entry

    return record


def pytest_terminal_summary(terminalreporter):
    if not REPORTS:
        return
    terminalreporter.section("chaos: per fault, what was injected and what was counted")
    for entry in REPORTS:
        terminalreporter.write_line(entry.line())
    terminalreporter.write_line(f"must be zero after every fault: {', '.join(FaultReport.MUST_BE_ZERO)}")


def _pg(*args: str) -> list[str]:
    command = [os.path.join(os.environ["CHAOS_PG_BIN"], "pg_ctl"), "-D", os.environ["CHAOS_PGDATA"], *args]
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


class Servers:
    """Stop and start the run's own PostgreSQL and Redis (never the machine's shared ones)."""

    def __init__(self) -> None:
        self.redis_port = int(os.environ["CHAOS_REDIS_PORT"])
        self.redis: subprocess.Popen | None = None

    def redis_stop(self) -> None:
        subprocess.run(["redis-cli", "-p", str(self.redis_port), "shutdown", "nosave"], capture_output=True)
        for _ in range(50):
            if subprocess.run(["redis-cli", "-p", str(self.redis_port), "ping"], capture_output=True).returncode:
                return
            time.sleep(0.1)

    def redis_start(self) -> None:
        self.redis = subprocess.Popen(
            ["redis-server", "--port", str(self.redis_port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
        )
        for _ in range(50):
            if subprocess.run(["redis-cli", "-p", str(self.redis_port), "ping"], capture_output=True).returncode == 0:
                return
            time.sleep(0.1)

    def postgres_restart(self) -> float:
        """Restart the cluster (fast shutdown: connections are cut); returns how long it was away."""
        started = time.monotonic()
        subprocess.run(_pg("-m", "fast", "-w", "restart"), check=True, capture_output=True)
        return time.monotonic() - started


@pytest.fixture(scope="session")
def servers() -> Servers:
    if not os.environ.get("CHAOS_PGDATA"):
        pytest.skip("chaos: run by `make chaos`, which starts the servers it breaks")
    return Servers()


@pytest.fixture
def fake_provider():
    fake = FakeProviders().start()
    yield fake
    fake.stop()


@pytest.fixture
def webhook_receiver():
    receiver = WebhookReceiver(WEBHOOK_SECRET).start()
    yield receiver
    receiver.stop()


@pytest.fixture
def chaos_workers(start_celery_worker, fake_provider):  # noqa: F811 (the imported fixture)
    """Start live workers on the chaos settings; tasks of the test process go to their broker."""
    from config.celery_app import app as celery_app

    env = {"DJANGO_SETTINGS_MODULE": "tests.chaos.worker_settings", "FAKE_PROVIDER_URL": fake_provider.url}

    def start(name: str, *, beat: bool = False, concurrency: int = 2):
        return start_celery_worker(name, beat=beat, concurrency=concurrency, extra_env=env)

    celery_app.conf.task_always_eager = False
    yield start
    celery_app.conf.task_always_eager = True
