"""Do the periodic jobs cost the same whatever the history? Each runs at a small and a large stored history.

    .venv/bin/python bench/scale.py                     # 100k and 10M stored invitations
    BENCH_SCALE_SIZES=100000,1000000 .venv/bin/python bench/scale.py

For each size a PostgreSQL database `cl_production_scale_<size>` on BENCH_POSTGRES_URL is created and migrated,
then filled by SQL (rows copied from templates made through the ORM, so every column is what the application
writes): that many invitations and as many messages (delivered, or expired links), an answer for every fifth
invitation, a resolved case for every tenth answer. Of them, BENCH_SCALE_RECENT (30,000) are the recent traffic,
spread over the last 28 days (the links still open) and the same at every size; the rest is history, spread
over the year before: the sizes differ by history only, as a workspace's do a year apart at the same volume.
Then the same work is made due at both sizes (BENCH_SCALE_DUE=400 due invitations, 200 sends stuck past their
lease, 100 cases past 75% of their SLA and 100 past it, 200 unanswered invitations due a reminder) and each beat
job runs as beat runs it (the task by name, in-process; sends go to the in-memory transport). A job "costs the
same" when its time at the large size is within 2x of the small one's: it reads what is due through an index,
not the history. Printed: fill time, seconds per job at each size and the ratio.

The fill is set-up, not what is measured, so it takes bench/bulk.py's fast road (secondary indexes and
constraints of the four filled tables dropped, then built again and checked against the migrations) in
BENCH_SCALE_FILL_WORKERS connections (2). Kept index by index, row by row, 1M took ten minutes on this machine.
"""

import importlib
import os
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.bulk import copy_rows, fast_fill, recreate  # noqa: E402

SERVER = os.environ.get("BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432").rstrip("/")
SIZES = [int(n) for n in os.environ.get("BENCH_SCALE_SIZES", "100000,10000000").split(",")]
RECENT = int(os.environ.get("BENCH_SCALE_RECENT", "30000"))
DUE = int(os.environ.get("BENCH_SCALE_DUE", "400"))
FILL_WORKERS = int(os.environ.get("BENCH_SCALE_FILL_WORKERS", "2"))
FILL_CHUNK = 250_000
FILLED_TABLES = ["notifications_message", "surveys_invitation", "surveys_response", "feedback_followup"]
JOBS = [
    "dispatch-due-invitations",
    "sweep-messages",
    "escalate-follow-ups",
    "remind-unanswered-invitations",
    "refresh-funnel-rollups",
]


def database(size: int) -> str:
    return f"cl_production_scale_{size}"


def fill(size: int) -> None:
    from django.db import connection
    from django.utils import timezone

    from notifications.models import Message
    from tests.factories import FollowUpFactory, InvitationFactory, ResponseFactory

    old = timezone.now() - timedelta(days=60)
    template = InvitationFactory(status="expired", created_at=old)
    message = Message.objects.create(
        channel="email", recipient="history@example.com", body_text="x", status="delivered"
    )
    response = ResponseFactory(invitation__survey=template.survey, score=9, confirmed_at=old)
    case = FollowUpFactory(response=response, status="resolved", resolved_at=old)
    with connection.cursor() as cursor:
        cursor.execute("SELECT max(id) FROM surveys_invitation")
        first_invitation = cursor.fetchone()[0] + 1
        cursor.execute("SELECT max(id) FROM surveys_response")
        first_response = cursor.fetchone()[0] + 1
    history = size - RECENT
    # Row n's age: the last RECENT rows over the 28 days of open links, the history over the year before them.
    age = (
        f"now() - interval '1 hour' - CASE WHEN g.n > {history}"
        f" THEN interval '28 days' * (({size} - g.n)::float8 / {RECENT})"
        f" ELSE interval '30 days' + interval '365 days' * (({history} - g.n)::float8 / {max(history, 1)}) END"
    )
    invitation_id, response_id = f"{first_invitation - 1} + g.n", f"{first_response - 1} + g.n / 5"

    def write(cursor, chunk: str) -> None:
        stamps = {"created_at": age, "updated_at": age}
        copy_rows(
            cursor,
            "notifications_message",
            message.id,
            chunk,
            {"public_id": "gen_random_uuid()", "sent_at": age, **stamps},
        )
        copy_rows(
            cursor,
            "surveys_invitation",
            template.id,
            chunk,
            {"id": invitation_id, "public_id": "gen_random_uuid()",
             "token_hash": "md5(g.n::text) || md5('t' || g.n::text)", "scheduled_at": age,
             "expires_at": f"{age} + interval '28 days'", "message_id": "NULL", "created_at": age},
        )  # fmt: skip
        copy_rows(
            cursor,
            "surveys_response",
            response.id,
            chunk,
            {"id": response_id, "invitation_id": invitation_id, "confirmed_at": age, "updated_at": age},
            where="g.n %% 5 = 0",
        )
        copy_rows(
            cursor,
            "feedback_followup",
            case.id,
            chunk,
            {"response_id": response_id, "due_at": f"{age} + interval '1 day'",
             "resolved_at": f"{age} + interval '2 hours'", **stamps},
            where="g.n %% 50 = 0",
        )  # fmt: skip

    written, built = fast_fill(
        f"{SERVER}/{database(size)}", FILLED_TABLES, size, write, chunk=FILL_CHUNK, workers=FILL_WORKERS
    )
    print(
        f"{size:>11,} stored: rows written in {written:.0f} s by {FILL_WORKERS} connections, indexes and"
        f" constraints built again in {built:.0f} s",
        flush=True,
    )


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

    recreate(SERVER, database(size))
    connection.settings_dict["NAME"] = database(size)
    connection.close()
    call_command("migrate", verbosity=0)
    fill(size)
    make_due()
    return run_jobs()


def main() -> int:
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.test"
    os.environ["DATABASE_URL"] = f"{SERVER}/{database(SIZES[0])}"
    recreate(SERVER, database(SIZES[0]))
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
