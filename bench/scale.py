"""Do the periodic jobs cost the same whatever the history? Each runs at a small and a large stored history.

    .venv/bin/python bench/scale.py                     # 100k and 1M stored invitations
    BENCH_SCALE_SIZES=100000,2000000 .venv/bin/python bench/scale.py

For each size a PostgreSQL database `cl_production_scale_<size>` on BENCH_POSTGRES_URL is created
and migrated, then filled by SQL (rows copied from templates made through the ORM, so every column
is what the application writes): that many invitations and messages spread over the last 90 days
(delivered or expired), an answer for every fifth, a resolved case for every tenth answer. Then the
same work is made due at both sizes (BENCH_SCALE_DUE=400 due invitations, 200 sends stuck past their lease, 100
cases past 75% of their SLA and 100 past it, 200 unanswered invitations due a reminder) and each
beat job runs as beat runs it (the task by name, in-process; sends go to the in-memory transport).
A job "costs the same" when its time at the large size is within 2x of the small one's: it reads
what is due through an index, not the history. Printed: seconds per job at each size and the ratio.
"""

import importlib
import os
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
SERVER = os.environ.get("BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432").rstrip("/")
SIZES = [int(n) for n in os.environ.get("BENCH_SCALE_SIZES", "100000,1000000").split(",")]
DUE = int(os.environ.get("BENCH_SCALE_DUE", "400"))
JOBS = [
    "dispatch-due-invitations",
    "sweep-messages",
    "escalate-follow-ups",
    "remind-unanswered-invitations",
    "refresh-funnel-rollups",
]


def database(size: int) -> str:
    return f"cl_production_scale_{size}"


def recreate(name: str) -> None:
    import psycopg

    with psycopg.connect(f"{SERVER}/postgres", autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"')


def columns(cursor, table: str) -> list[str]:
    cursor.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_name = %s AND column_name <> 'id'"
        " ORDER BY ordinal_position",
        [table],
    )
    return [row[0] for row in cursor.fetchall()]


def copy_rows(cursor, table: str, template_id: int, source: str, overrides: dict[str, str]) -> None:
    """INSERT one row per row of `source` (aliased g), copying the template row's columns but `overrides`."""
    names = columns(cursor, table)
    values = [overrides.get(name, f"t.{name}") for name in names]
    cursor.execute(
        f"INSERT INTO {table} ({', '.join(names)}) SELECT {', '.join(values)} FROM {table} t, {source} WHERE t.id = %s",
        [template_id],
    )


def fill(size: int) -> None:
    from django.db import connection
    from django.utils import timezone

    from tests.factories import FollowUpFactory, InvitationFactory, ResponseFactory

    old = timezone.now() - timedelta(days=60)
    template = InvitationFactory(status="expired", created_at=old)
    from notifications.models import Message

    message = Message.objects.create(
        channel="email", recipient="history@example.com", body_text="x", status="delivered"
    )
    response = ResponseFactory(invitation__survey=template.survey, score=9, confirmed_at=old)
    case = FollowUpFactory(response=response, status="resolved", resolved_at=old)
    age = "now() - ((g.n %% 90) || ' days')::interval - interval '1 hour'"
    with connection.cursor() as cursor:
        copy_rows(
            cursor,
            "notifications_message",
            message.id,
            f"generate_series(1, {size}) AS g(n)",
            {
                "public_id": "gen_random_uuid()",
                "created_at": age,
                "updated_at": age,
                "sent_at": age,
            },
        )
        copy_rows(
            cursor,
            "surveys_invitation",
            template.id,
            f"generate_series(1, {size}) AS g(n)",
            {
                "public_id": "gen_random_uuid()",
                "token_hash": "md5(g.n::text) || md5('t' || g.n::text)",
                "created_at": age,
                "scheduled_at": age,
                "expires_at": f"{age} + interval '28 days'",
                "message_id": "NULL",
            },
        )
        copy_rows(
            cursor,
            "surveys_response",
            response.id,
            "(SELECT id AS invitation_id, created_at FROM surveys_invitation WHERE id %% 5 = 0"
            " AND NOT EXISTS (SELECT 1 FROM surveys_response r WHERE r.invitation_id = surveys_invitation.id)) AS g",
            {"invitation_id": "g.invitation_id", "confirmed_at": "g.created_at", "updated_at": "g.created_at"},
        )
        copy_rows(
            cursor,
            "feedback_followup",
            case.id,
            "(SELECT id AS response_id, confirmed_at FROM surveys_response WHERE id %% 10 = 0"
            " AND NOT EXISTS (SELECT 1 FROM feedback_followup f WHERE f.response_id = surveys_response.id)) AS g",
            {
                "response_id": "g.response_id",
                "created_at": "g.confirmed_at",
                "updated_at": "g.confirmed_at",
                "due_at": "g.confirmed_at + interval '1 day'",
                "resolved_at": "g.confirmed_at + interval '2 hours'",
            },
        )
        cursor.execute("ANALYZE")


def make_due() -> None:
    """The same work due at every size."""
    from django.conf import settings
    from django.utils import timezone

    from notifications.models import Message
    from surveys.models import Survey
    from tests.factories import FollowUpFactory, InvitationFactory, TriggerRuleFactory

    now = timezone.now()
    rule = TriggerRuleFactory(event_type="scale")
    for _ in range(DUE):
        InvitationFactory(
            status="scheduled", scheduled_at=now - timedelta(minutes=1), survey=rule.survey, trigger_rule=rule
        )
    stale = now - timedelta(seconds=settings.SEND_LEASE_SECONDS + 60)
    for n in range(200):
        Message.objects.create(channel="email", recipient=f"stuck{n}@example.com", body_text="x", status="sending")
    Message.objects.filter(status="sending").update(updated_at=stale)
    for _ in range(100):
        FollowUpFactory(remind_at=now - timedelta(minutes=5), due_at=now + timedelta(hours=1))
        FollowUpFactory(
            remind_at=now - timedelta(hours=2), due_at=now - timedelta(minutes=5), reminded_at=now - timedelta(hours=1)
        )
    reminded = Survey.objects.create(name="Reminded", kind="nps", reminder_after_days=1)
    for _ in range(200):
        sent = Message.objects.create(channel="email", recipient="r@example.com", body_text="x", status="delivered")
        InvitationFactory(
            survey=reminded,
            status="queued",
            message=sent,
            scheduled_at=now - timedelta(days=2),
            created_at=now - timedelta(days=2),
        )


def run_jobs() -> dict[str, float]:
    from django.conf import settings

    from config.celery_app import app

    app.loader.import_default_modules()
    seconds = {}
    for job in JOBS:
        name = settings.CELERY_BEAT_SCHEDULE[job]["task"]
        importlib.import_module(name.rsplit(".", 1)[0])  # the task's module, whatever the worker's discovery finds
        task = app.tasks[name]
        started = time.perf_counter()
        if job == "dispatch-due-invitations":
            while task.apply().get():  # one claim of up to 200 a call, as beat repeats it
                pass
        else:
            task.apply().get()
        seconds[job] = time.perf_counter() - started
    return seconds


def measure(size: int) -> dict[str, float]:
    from django.core.management import call_command
    from django.db import connection

    recreate(database(size))
    connection.settings_dict["NAME"] = database(size)
    connection.close()
    call_command("migrate", verbosity=0)
    started = time.perf_counter()
    fill(size)
    print(f"{size:>9,} stored: filled in {time.perf_counter() - started:.0f} s", flush=True)
    make_due()
    return run_jobs()


def main() -> int:
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.test"
    os.environ["DATABASE_URL"] = f"{SERVER}/{database(SIZES[0])}"
    recreate(database(SIZES[0]))
    import django

    django.setup()
    print(f"load average before: {os.getloadavg()}  (2 shared cores)")
    results = {size: measure(size) for size in SIZES}
    print(f"load average after: {os.getloadavg()}")
    small, large = SIZES[0], SIZES[-1]
    print(f"\n{'job':32} {small:>12,} {large:>12,}  ratio (same cost: <= 2x)")
    flat = True
    for job in JOBS:
        ratio = results[large][job] / max(results[small][job], 1e-6)
        flat &= ratio <= 2
        print(
            f"{job:32} {results[small][job]:11.3f}s {results[large][job]:11.3f}s  {ratio:5.2f}x"
            f" {'ok' if ratio <= 2 else 'GROWS'}"
        )
    return 0 if flat else 1


if __name__ == "__main__":
    sys.exit(main())
