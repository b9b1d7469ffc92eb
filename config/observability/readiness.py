"""`/readyz`: may this process take traffic, and is the product around it working?

Database reachable, broker reachable, every migration applied, the scheduler ticked within a
minute, at least one worker alive. Without a broker (the embedded product) the last two are the
in-process scheduler of this web process, and workers are not needed (tasks run in-process).
"""

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor

from config.observability import heartbeat

_migrations_applied = False


def migrations_status() -> str:
    """`ok` once no migration is pending (remembered: applied migrations stay applied under one release)."""
    global _migrations_applied
    if _migrations_applied:
        return "ok"
    connection = connections[DEFAULT_DB_ALIAS]
    executor = MigrationExecutor(connection)
    pending = executor.migration_plan(executor.loader.graph.leaf_nodes())
    if pending:
        return f"error: {len(pending)} pending"
    _migrations_applied = True
    return "ok"


def beat_status() -> str:
    age = heartbeat.beat_age()
    if age is None:
        return "error: no heartbeat"
    if age >= heartbeat.HEARTBEAT_MAX_AGE:
        return f"error: last heartbeat {int(age)} s ago"
    return "ok"


def workers_status() -> str:
    if heartbeat.redis_client() is None:
        return "in-process"
    alive = heartbeat.workers_alive()
    return "ok" if alive else "error: no worker alive"


def readiness(database_status, broker_status) -> dict[str, str]:
    checks = {"database": database_status(), "broker": broker_status()}
    for name, check in (("migrations", migrations_status), ("beat", beat_status), ("workers", workers_status)):
        if checks["database"] != "ok" and name == "migrations":
            checks[name] = "error: database unreachable"
            continue
        if checks["broker"].startswith("error") and name in ("beat", "workers"):
            checks[name] = "error: broker unreachable"
            continue
        try:
            checks[name] = check()
        except Exception as exc:  # any driver error: not ready
            checks[name] = f"error: {exc.__class__.__name__}"
    return checks
