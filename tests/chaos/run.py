"""`make chaos`: start a throwaway PostgreSQL cluster and Redis server of the run's own, run the chaos suite
against them, and remove both, whatever happened.

Both listen on free loopback ports the kernel hands out (never 5432 or 6379), so the suite can stop, restart
and kill them without touching the PostgreSQL and Redis that other work on the machine uses; the variables
that could point the run at those (a cache, the smoke test's database) are dropped. The cluster is made with
`initdb` in a temporary directory, as the `postgres` user when run as root (CI), since PostgreSQL refuses to
run as root. Needs no terminal. Prints the port of each and passes its own arguments on to pytest.
"""

import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SERVER_BINARIES = ("initdb", "pg_ctl", "postgres")
# What the run must not inherit: each could point a test or a worker at a service of the machine's.
SHARED_SERVICES = ("CACHE_URL", "DATABASE_REPLICA_URL", "SMOKE_DATABASE_URL", "SMOKE_BROKER_URL")
STARTUP_SECONDS = 60


def free_ports(count: int) -> list[int]:
    """Ports the kernel hands out on the loopback, all distinct: every probe stays bound until all are chosen."""
    probes = [socket.socket() for _ in range(count)]
    try:
        for probe in probes:
            probe.bind(("127.0.0.1", 0))
        return [probe.getsockname()[1] for probe in probes]
    finally:
        for probe in probes:
            probe.close()


def pg_bin() -> Path:
    """The directory of PostgreSQL's server binaries: the one PATH gives, else the newest of Debian's
    /usr/lib/postgresql/<version>/bin (which Debian keeps off PATH)."""
    found = shutil.which("pg_ctl")
    candidates = [Path(os.path.realpath(found)).parent] if found else []
    versions = Path("/usr/lib/postgresql").glob("*/bin")
    candidates += sorted(versions, key=lambda path: [int(n) for n in re.findall(r"\d+", path.parent.name)])[::-1]
    for directory in candidates:
        if all((directory / name).is_file() for name in SERVER_BINARIES):
            return directory
    sys.exit("chaos: PostgreSQL's server binaries (initdb, pg_ctl, postgres) are not installed")


def as_postgres(command: list[str]) -> list[str]:
    """PostgreSQL refuses to run as root: run its binaries as the `postgres` user then."""
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


def redis_answers(port: int) -> bool:
    ping = subprocess.run(["redis-cli", "-p", str(port), "ping"], capture_output=True, stdin=subprocess.DEVNULL)
    return ping.stdout == b"PONG\n"


def main() -> int:
    binaries = pg_bin()
    # As root the cluster's directory is the postgres user's: under /tmp, which it can reach (a TMPDIR may not be).
    workdir = Path(tempfile.mkdtemp(prefix="closeloop-chaos-", dir="/tmp" if os.geteuid() == 0 else None))
    pgdata = workdir / "pgdata"
    pg_port, redis_port = free_ports(2)
    if os.geteuid() == 0:
        shutil.chown(workdir, "postgres")
    # The server binaries run in the cluster's directory: the checkout may be one the postgres user cannot enter.
    quiet = {"cwd": workdir, "stdin": subprocess.DEVNULL, "stdout": subprocess.DEVNULL}
    redis = None
    try:
        initdb = [str(binaries / "initdb"), "-D", str(pgdata), "-A", "trust", "-U", "postgres", "-E", "UTF8"]
        subprocess.run(as_postgres(initdb), check=True, timeout=STARTUP_SECONDS * 2, **quiet)
        options = (
            f"-p {pg_port} -k {workdir} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off"
            " -c max_connections=100"
        )
        start = [str(binaries / "pg_ctl"), "-D", str(pgdata), "-o", options, "-l", str(workdir / "pg.log")]
        start += ["-w", "-t", str(STARTUP_SECONDS), "start"]
        subprocess.run(as_postgres(start), check=True, timeout=STARTUP_SECONDS * 2, **quiet)
        redis = subprocess.Popen(
            ["redis-server", "--port", str(redis_port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            **quiet,
        )
        deadline = time.monotonic() + STARTUP_SECONDS
        while not redis_answers(redis_port) and redis.poll() is None and time.monotonic() < deadline:
            time.sleep(0.1)
        # Ours, not another server that happened to take the port first.
        if redis.poll() is not None or not redis_answers(redis_port):
            sys.exit(f"chaos: redis-server did not start on 127.0.0.1:{redis_port}")
        print(f"chaos: PostgreSQL on 127.0.0.1:{pg_port} ({pgdata}), Redis on 127.0.0.1:{redis_port}", flush=True)
        env = {name: value for name, value in os.environ.items() if name not in SHARED_SERVICES}
        env |= {
            "DATABASE_URL": f"postgres://postgres@127.0.0.1:{pg_port}/closeloop_chaos",
            "CELERY_BROKER_URL": f"redis://127.0.0.1:{redis_port}/0",
            # The test process logs warnings and errors only (they show under a failed fault); workers log more.
            "LOG_LEVEL": "WARNING",
            "CHAOS": "1",
            "CHAOS_PG_BIN": str(binaries),
            "CHAOS_PGDATA": str(pgdata),
            "CHAOS_PG_OPTIONS": options,
            "CHAOS_PG_PORT": str(pg_port),
            "CHAOS_REDIS_PORT": str(redis_port),
            "CHAOS_WORKDIR": str(workdir),
        }
        command = [sys.executable, "-m", "pytest", "tests/chaos", "-m", "chaos", "-v"]
        return subprocess.run([*command, *sys.argv[1:]], cwd=ROOT, env=env, stdin=subprocess.DEVNULL).returncode
    finally:
        # Whichever Redis holds the port now (the suite restarts it), then the cluster and its files.
        subprocess.run(["redis-cli", "-p", str(redis_port), "shutdown", "nosave"], capture_output=True)
        if redis is not None:
            try:
                redis.wait(timeout=10)
            except subprocess.TimeoutExpired:
                redis.kill()
        if pgdata.exists():
            stop = [str(binaries / "pg_ctl"), "-D", str(pgdata), "-m", "immediate", "-w", "stop"]
            subprocess.run(as_postgres(stop), capture_output=True, cwd=workdir, timeout=STARTUP_SECONDS)
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
