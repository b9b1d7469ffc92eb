"""Live Celery workers for tests marked `integration` (PostgreSQL + Redis, as `.ci/run` sets up).

Workers run as separate processes on the test database, so tests that use them need
`transactional_db`: what the test writes must be committed for a worker to see it.
"""

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from django.conf import settings

from config.celery_app import app as celery_app
from surveys.services.announcements import hand_over

ROOT = Path(__file__).resolve().parents[2]


def _test_database_url() -> str:
    db = settings.DATABASES["default"]
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return f"postgres://{db['USER']}{password}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}"


def wait_for(condition: Callable[[], object], *, timeout: float = 60, interval: float = 0.25, what: str = "condition"):
    """Poll until `condition()` is truthy; the value is returned. Fails the test on timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(interval)
    pytest.fail(f"timed out after {timeout}s waiting for {what}")


class CeleryWorkers:
    """Starts worker processes on the test database and stops every one still running."""

    def __init__(self, logs: Path, env: dict[str, str]):
        self.logs = logs
        self.env = env
        self.started: list[subprocess.Popen] = []

    def start(
        self, name: str = "worker", *, beat: bool = False, concurrency: int = 1, extra_env: dict | None = None
    ) -> subprocess.Popen:
        command = [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config.celery_app",
            "worker",
            "--loglevel=INFO",
            f"--concurrency={concurrency}",
            "--pool=prefork",
            f"--hostname={name}@%h",
            "--without-gossip",
            "--without-mingle",
        ]
        if beat:
            command += ["--beat", f"--schedule={self.logs / (name + '-beat-schedule')}"]
        log = open(self.logs / f"{name}.log", "w")
        # A process group of its own: stop_all can end the pool and the embedded beat too, which outlive a main
        # process that had to be killed (an orphaned beat keeps sending tasks to a broker long gone).
        process = subprocess.Popen(
            command,
            cwd=ROOT,
            env={**self.env, **(extra_env or {})},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        process.log_path = self.logs / f"{name}.log"
        self.started.append(process)
        return process

    def stop_all(self) -> None:
        for process in self.started:
            if process.poll() is None:
                process.terminate()
        for process in self.started:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                pass
            # Whatever is left of the worker: all of it if its warm shutdown did not end in time, else nothing.
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            process.wait()
        self.started.clear()


@pytest.fixture(scope="session")
def celery_worker_env(django_db_setup, tmp_path_factory) -> tuple[Path, dict[str, str]]:
    """Where worker logs go and the environment that points workers at the test database."""
    if settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
        pytest.skip("integration tests need DATABASE_URL on PostgreSQL")
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": _test_database_url(),
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
        "DISPATCH_INTERVAL_SECONDS": "1",
    }
    subprocess.run(
        [sys.executable, "-m", "celery", "-A", "config.celery_app", "purge", "-f"],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
    )
    return tmp_path_factory.mktemp("celery"), env


@pytest.fixture
def start_celery_worker(celery_worker_env) -> Iterator[Callable[..., subprocess.Popen]]:
    """Start workers for one test; they are stopped when it ends, so none outlives its test's
    settings (a stopped fake provider, a killed peer) and takes the next test's tasks."""
    workers = CeleryWorkers(*celery_worker_env)
    yield workers.start
    workers.stop_all()


@pytest.fixture
def celery_worker_process(start_celery_worker) -> subprocess.Popen:
    """One live worker with an embedded beat (dispatching every second) for one test."""
    return start_celery_worker("closeloop-itest", beat=True, concurrency=2)


@pytest.fixture
def live_tasks(celery_worker_process) -> Iterator[None]:
    """Send tasks to the broker instead of running them in-process, for one test."""
    celery_app.conf.task_always_eager = False
    yield
    hand_over.stop()  # the answers it still holds go to the broker, not to an in-process run
    celery_app.conf.task_always_eager = True
