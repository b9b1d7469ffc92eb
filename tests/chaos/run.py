"""`make chaos`: start a throwaway PostgreSQL cluster and Redis server of the run's own, run the chaos suite
against them, and remove both, whatever happened.

Both listen on free loopback ports, so the suite can stop, restart and kill them without touching the
PostgreSQL and Redis that other work on the machine uses. The cluster is made with `initdb` in a
temporary directory (as the `postgres` user when run as root, since PostgreSQL refuses to run as root).
Prints the port of each and passes its own arguments on to pytest.
"""

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def pg_bin() -> Path:
    found = shutil.which("pg_ctl")
    if found:
        return Path(os.path.realpath(found)).parent
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"))
    if not versions:
        sys.exit("chaos: PostgreSQL's server binaries (initdb, pg_ctl) are not installed")
    return versions[-1].parent


def as_postgres(command: list[str]) -> list[str]:
    """PostgreSQL refuses to run as root: run its binaries as the `postgres` user then."""
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


def main() -> int:
    binaries = pg_bin()
    workdir = Path(tempfile.mkdtemp(prefix="closeloop-chaos-"))
    pgdata = workdir / "pgdata"
    pg_port, redis_port = free_port(), free_port()
    if os.geteuid() == 0:
        shutil.chown(workdir, "postgres")
    redis = None
    try:
        subprocess.run(
            as_postgres([str(binaries / "initdb"), "-D", str(pgdata), "-A", "trust", "-U", "postgres", "-E", "UTF8"]),
            check=True,
            stdout=subprocess.DEVNULL,
        )
        options = (
            f"-p {pg_port} -k {workdir} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off"
            " -c max_connections=100"
        )
        start = [
            str(binaries / "pg_ctl"),
            "-D",
            str(pgdata),
            "-o",
            options,
            "-l",
            str(workdir / "pg.log"),
            "-w",
            "start",
        ]
        subprocess.run(
            as_postgres(start),
            check=True,
            stdout=subprocess.DEVNULL,
        )
        redis = subprocess.Popen(
            ["redis-server", "--port", str(redis_port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
        )
        for _ in range(50):
            if subprocess.run(["redis-cli", "-p", str(redis_port), "ping"], capture_output=True).stdout == b"PONG\n":
                break
            time.sleep(0.1)
        print(f"chaos: PostgreSQL on 127.0.0.1:{pg_port} ({pgdata}), Redis on 127.0.0.1:{redis_port}", flush=True)
        env = {
            **os.environ,
            "DATABASE_URL": f"postgres://postgres@127.0.0.1:{pg_port}/closeloop_chaos",
            "CELERY_BROKER_URL": f"redis://127.0.0.1:{redis_port}/0",
            "CHAOS": "1",
            "CHAOS_PG_BIN": str(binaries),
            "CHAOS_PGDATA": str(pgdata),
            "CHAOS_PG_PORT": str(pg_port),
            "CHAOS_REDIS_PORT": str(redis_port),
            "CHAOS_WORKDIR": str(workdir),
        }
        command = [sys.executable, "-m", "pytest", "tests/chaos", "-m", "chaos", "-s", *sys.argv[1:]]
        return subprocess.run(command, cwd=ROOT, env=env).returncode
    finally:
        # Whichever Redis holds the port now (the suite restarts it), then the cluster and its files.
        subprocess.run(["redis-cli", "-p", str(redis_port), "shutdown", "nosave"], capture_output=True)
        if redis is not None:
            try:
                redis.wait(timeout=10)
            except subprocess.TimeoutExpired:
                redis.kill()
        if pgdata.exists():
            subprocess.run(
                as_postgres([str(binaries / "pg_ctl"), "-D", str(pgdata), "-m", "immediate", "-w", "stop"]),
                capture_output=True,
            )
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
