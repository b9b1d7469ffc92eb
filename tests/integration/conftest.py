"""Live Celery workers for tests marked `integration` (PostgreSQL + Redis, as `.ci/run` sets up).

Workers run as separate processes on the test database, so tests that use them need
`transactional_db`: what the test writes must be committed for a worker to see it.
"""

import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from django.conf import settings

from config.celery_app import app as celery_app

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


@pytest.fixture(scope="session")
def start_celery_worker(
    django_db_setup, django_db_blocker, tmp_path_factory
) -> Iterator[Callable[..., subprocess.Popen]]:
    """Start worker processes on the test database; every one still running is stopped at the end."""
    if settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
        pytest.skip("integration tests need DATABASE_URL on PostgreSQL")
    logs = tmp_path_factory.mktemp("celery")
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
    started: list[subprocess.Popen] = []

    def start(name: str = "worker", *, beat: bool = False, concurrency: int = 1, extra_env: dict | None = None):
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
            command += ["--beat", f"--schedule={logs / (name + '-beat-schedule')}"]
        log = open(logs / f"{name}.log", "w")
        process = subprocess.Popen(
            command, cwd=ROOT, env={**env, **(extra_env or {})}, stdout=log, stderr=subprocess.STDOUT
        )
        process.log_path = logs / f"{name}.log"
        started.append(process)
        return process

    yield start
    for process in started:
        if process.poll() is None:
            process.terminate()
    for process in started:
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()


@pytest.fixture(scope="session")
def celery_worker_process(start_celery_worker) -> subprocess.Popen:
    """One live worker with an embedded beat (dispatching every second)."""
    return start_celery_worker("closeloop-itest", beat=True, concurrency=2)


@pytest.fixture
def live_tasks(celery_worker_process) -> Iterator[None]:
    """Send tasks to the broker instead of running them in-process, for one test."""
    celery_app.conf.task_always_eager = False
    yield
    celery_app.conf.task_always_eager = True
