"""The chaos suite's servers and fakes: the PostgreSQL cluster and Redis `tests/chaos/run.py` started for this
run alone (stopped and restarted here at will), live workers on them, the fake providers and a webhook receiver,
and the report printed at the end: per fault, what was injected and what was counted."""

import os
import subprocess
import threading
import time
from dataclasses import dataclass

import pytest

from tests.fakes.providers import FakeProviders
from tests.fakes.webhook_receiver import WebhookReceiver
from tests.integration.conftest import celery_worker_env, start_celery_worker, wait_for  # noqa: F401 (fixtures)

WEBHOOK_SECRET = "whsec-chaos"
WORKER_LOG_TAIL = 60


@dataclass
class FaultReport:
    fault: str
    injected: str
    counted: dict[str, int]
    seconds: float

    # What every fault counts, first on its line: what reached the provider, then what must be zero.
    COMMON = ("sent", "doubled", "lost", "case errors", "rollup drift")
    # Zero after any fault: the common four and what a fault counts of its own (webhooks, events).
    MUST_BE_ZERO = (
        "doubled",
        "lost",
        "case errors",
        "rollup drift",
        "answers lost",
        "webhooks doubled",
        "webhooks missing",
        "events doubled",
        "events lost",
    )

    def line(self) -> str:
        """One line, readable in CI output: the fault, what was injected, what was counted, how long it took."""
        counts = ", ".join(f"{name} {value}" for name, value in self.counted.items())
        return f"chaos | {self.fault} | injected: {self.injected} | counted: {counts} | {self.seconds:.0f} s"

    def failures(self) -> dict[str, int]:
        return {name: self.counted[name] for name in self.MUST_BE_ZERO if self.counted.get(name)}


REPORTS: list[FaultReport] = []


@pytest.fixture
def report(request):
    """Record one fault's figures and print its line at once; the test then asserts the must-be-zero ones."""
    started = time.monotonic()
    terminal = request.config.pluginmanager.get_plugin("terminalreporter")

    def record(fault: str, injected: str, **counted: int) -> FaultReport:
        counts = {name.replace("_", " "): value for name, value in counted.items()}
        missing = [name for name in FaultReport.COMMON if name not in counts]
        assert not missing, f"{fault}: every fault counts {', '.join(FaultReport.COMMON)}; missing {missing}"
        ordered = {name: counts.pop(name) for name in FaultReport.COMMON} | counts
        entry = FaultReport(fault, injected, ordered, time.monotonic() - started)
        REPORTS.append(entry)
        with request.config.pluginmanager.get_plugin("capturemanager").global_and_fixture_disabled():
            terminal.ensure_newline()
            terminal.write_line(entry.line())
        return entry

    return record


def pytest_terminal_summary(terminalreporter):
    if not REPORTS:
        return
    terminalreporter.section("chaos: one line per fault (what was injected, what was counted)")
    for entry in REPORTS:
        terminalreporter.write_line(entry.line())
    terminalreporter.write_line(f"must be zero after every fault: {', '.join(FaultReport.MUST_BE_ZERO)}")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """A failed fault shows the end of each of its workers' logs (the run's temporary files are gone in CI)."""
    report = yield
    logs = getattr(item, "chaos_worker_logs", [])
    if report.when == "call" and report.failed and logs:
        for path in logs:
            with open(path, errors="replace") as log:
                tail = log.readlines()[-WORKER_LOG_TAIL:]
            report.sections.append((f"worker log {os.path.basename(path)} (last {len(tail)} lines)", "".join(tail)))
    return report


def _pg(*args: str) -> list[str]:
    command = [os.path.join(os.environ["CHAOS_PG_BIN"], "pg_ctl"), "-D", os.environ["CHAOS_PGDATA"], *args]
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


class Servers:
    """Stop and start the run's own PostgreSQL and Redis (never the machine's shared ones); every wait polls,
    up to a deadline generous enough for a loaded machine."""

    DEADLINE = 60

    def __init__(self) -> None:
        self.redis_port = int(os.environ["CHAOS_REDIS_PORT"])
        self.workdir = os.environ["CHAOS_WORKDIR"]
        self.redis: subprocess.Popen | None = None

    def _redis_answers(self) -> bool:
        ping = ["redis-cli", "-p", str(self.redis_port), "ping"]
        return subprocess.run(ping, capture_output=True, stdin=subprocess.DEVNULL).stdout == b"PONG\n"

    def redis_stop(self) -> None:
        """Shut Redis down without saving: what it held (queued tasks, unacknowledged ones) is gone."""
        subprocess.run(["redis-cli", "-p", str(self.redis_port), "shutdown", "nosave"], capture_output=True)
        wait_for(lambda: not self._redis_answers(), timeout=self.DEADLINE, interval=0.1, what="Redis to stop")

    def redis_start(self) -> None:
        self.redis = subprocess.Popen(
            ["redis-server", "--port", str(self.redis_port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            cwd=self.workdir,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
        )
        wait_for(
            lambda: self.redis.poll() is not None or self._redis_answers(),
            timeout=self.DEADLINE,
            interval=0.1,
            what="Redis to start",
        )
        assert self.redis.poll() is None, f"redis-server exited ({self.redis.returncode}) on restart"

    def postgres_restart(self, *, down_for: float) -> float:
        """Stop the cluster (fast: every connection is cut, open transactions roll back), keep it down for
        `down_for` seconds and start it again; returns how long it was away.

        The started server logs to the run's pg.log and inherits no pipe of ours: with its output captured,
        `subprocess.run` would wait for the server's stdout to close, that is for ever.
        """
        quiet = {"cwd": self.workdir, "stdin": subprocess.DEVNULL, "stdout": subprocess.DEVNULL}
        log = os.path.join(self.workdir, "pg.log")
        wait = ["-w", "-t", str(self.DEADLINE)]
        started = time.monotonic()
        subprocess.run(_pg("-m", "fast", *wait, "stop"), check=True, timeout=self.DEADLINE * 2, **quiet)
        time.sleep(down_for)
        start = _pg(*wait, "-o", os.environ["CHAOS_PG_OPTIONS"], "-l", log, "start")
        subprocess.run(start, check=True, timeout=self.DEADLINE * 2, **quiet)
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
def chaos_workers(request, start_celery_worker, fake_provider):  # noqa: F811 (the imported fixture)
    """Start live workers on the chaos settings; tasks of the test process go to their broker."""
    from config.celery_app import app as celery_app
    from surveys.services.announcements import hand_over

    env = {
        "DJANGO_SETTINGS_MODULE": "tests.chaos.worker_settings",
        "FAKE_PROVIDER_URL": fake_provider.url,
        # The test process logs warnings only (run.py); the workers' logs keep every task line for a post-mortem.
        "LOG_LEVEL": "INFO",
    }
    request.node.chaos_worker_logs = []
    supervisors: list[Supervisor] = []

    def start(name: str, *, beat: bool = False, concurrency: int = 2, supervised: bool = False):
        def launch(run: int):
            worker = start_celery_worker(
                name if run == 0 else f"{name}-restart{run}", beat=beat, concurrency=concurrency, extra_env=env
            )
            request.node.chaos_worker_logs.append(worker.log_path)
            return worker

        if not supervised:
            return launch(0)
        supervisor = Supervisor(launch)
        supervisors.append(supervisor)
        return supervisor

    celery_app.conf.task_always_eager = False
    yield start
    for supervisor in supervisors:
        supervisor.stop()
    hand_over.stop()  # the answers it still holds go to the broker, not to an in-process run
    celery_app.conf.task_always_eager = True


class Supervisor:
    """Starts a worker again when it exits, as production's process manager does (compose's `restart:
    unless-stopped`, systemd's `Restart=always`): Celery's Redis transport can end a worker whose broker went
    away while it acknowledged a task (kombu's `conninfo.hostname` error on reconnection), and the product's
    promise under a broker outage is that nothing is lost once the worker is back, not that no worker exits."""

    def __init__(self, launch) -> None:
        self.launch, self.restarts, self.exit_codes = launch, 0, []
        self.worker = launch(0)
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._watch, daemon=True)
        self.thread.start()

    def _watch(self) -> None:
        while not self.stopping.wait(0.5):
            code = self.worker.poll()
            if code is not None and not self.stopping.is_set():
                self.exit_codes.append(code)
                self.restarts += 1
                self.worker = self.launch(self.restarts)

    def stop(self) -> None:
        self.stopping.set()
        self.thread.join()
