"""Importing a Delighted export of 10,000 survey responses on SQLite, end to end.

    .venv/bin/python bench/import.py            # 10000 responses
    .venv/bin/python bench/import.py 50000

Writes a Delighted-shaped export (tests/fakes/delighted_export.py: every response with its person expanded,
comment, properties, notes, tags and additional answers, pages of 100 one after the other, as a loop over
`GET /v1/survey_responses.json?expand[]=person` writes them) and 1,000 unsubscribes to a temporary directory;
migrates a fresh SQLite database there (var/ is left alone); then times `manage.py import_delighted` on the
files (reading, contacts, invitations, answers, notes, additional answers, rollups), and the same import
again (which must import nothing). Prints the load average, both times (wall clock and CPU), responses per
second and statements per 1,000 responses, and checks the counts and that the score rollups equal a full
recomputation. Target: the first import under 60 s of wall clock. Exit status 1 when a check fails. Talks
to no server.
"""

import json
import os
import sys
import tempfile
import time
from io import StringIO
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
WORKDIR = Path(tempfile.mkdtemp(prefix="closeloop-bench-import-"))
os.environ["DATABASE_URL"] = f"sqlite:///{WORKDIR / 'bench.sqlite3'}"
os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.test"  # in-process tasks, locmem channels
os.environ.pop("CELERY_BROKER_URL", None)
os.environ.setdefault("LOG_LEVEL", "WARNING")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection, reset_queries  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from insights.rollups import full_score_rollup_rows, stored_score_rollup_rows  # noqa: E402
from notifications.models import Suppression  # noqa: E402
from surveys.models import Response  # noqa: E402
from tests.fakes.delighted_export import delighted_responses, pages  # noqa: E402

TARGET_SECONDS = 60.0


def main() -> int:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    call_command("migrate", verbosity=0)
    responses = WORKDIR / "survey_responses.json"
    responses.write_text(pages(delighted_responses(n)))
    unsubscribes = WORKDIR / "unsubscribes.json"
    unsubscribes.write_text(
        json.dumps(
            [
                {"person_id": str(i), "email": f"gone{i}@example.com", "name": None, "unsubscribed_at": 1700000000 + i}
                for i in range(1000)
            ]
        )
    )
    files = [str(responses), str(unsubscribes)]
    print(f"{n:,} responses ({responses.stat().st_size / 1e6:.1f} MB) and 1,000 unsubscribes in {WORKDIR}")

    load = os.getloadavg()[0]
    reset_queries()
    with CaptureQueriesContext(connection) as statements:
        started, cpu = time.perf_counter(), time.process_time()
        call_command("import_delighted", *files, stdout=StringIO())
        first, first_cpu = time.perf_counter() - started, time.process_time() - cpu
    imported = Response.objects.count()
    started = time.perf_counter()
    out = StringIO()
    call_command("import_delighted", *files, stdout=out)
    again = time.perf_counter() - started

    checks = {
        f"first import under {TARGET_SECONDS:.0f} s": first < TARGET_SECONDS,
        f"{n:,} responses imported": imported == n,
        "1,000 suppressions": Suppression.objects.count() == 1000,
        "the second import imports nothing": Response.objects.count() == n
        and "Imported: 0 responses" in out.getvalue(),
        "rollups equal a full recomputation": stored_score_rollup_rows() == full_score_rollup_rows(),
    }
    print(f"load average before: {load:.1f} on {os.cpu_count()} cores")
    print(
        f"first import: {first:.1f} s ({first_cpu:.1f} s of CPU), {n / first:,.0f} responses/s, "
        f"{len(statements) * 1000 / n:.0f} statements per 1,000 responses"
    )
    print(f"same files again: {again:.1f} s, nothing imported")
    for check, ok in checks.items():
        print(f"{'ok  ' if ok else 'FAIL'} {check}")
    return 0 if all(checks.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
