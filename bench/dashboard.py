"""Dashboard and /v1/metrics at 10k and at 1M responses on PostgreSQL.

    .venv/bin/python bench/dashboard.py            # sizes 10000 and 1000000
    .venv/bin/python bench/dashboard.py 10000 100000

Uses (and recreates) the PostgreSQL database of DATABASE_URL when its name contains "bench",
else `closeloop_bench` on BENCH_POSTGRES_URL (default postgres://postgres@127.0.0.1:5432). Each
size is seeded in SQL by cloning one template row per table with generate_series (so columns added
later are copied, not forgotten): answers, one case per 50 answers (assigned, contacted, half
resolved with root causes) and their rollups; then a few hundred answers are submitted and changed,
and a few hundred cases worked, through the application so the incremental paths run too. It prints
the median of 7 requests per page, the 1M/10k ratio against the 3x target, the time of one funnel
refresh (the beat job), and whether the score and loop rollups equal a full recomputation.
Exit status 1 when a check fails.
"""

import os
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
_given = os.environ.get("DATABASE_URL", "")
if _given.startswith("postgres") and "bench" in _given.rsplit("/", 1)[-1]:
    SERVER, DATABASE = _given.rsplit("/", 1)
else:  # never drop a database that is not a bench's
    SERVER = os.environ.get("BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432").rstrip("/")
    DATABASE = "closeloop_bench"
os.environ["DATABASE_URL"] = f"{SERVER}/{DATABASE}"
os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.test"  # in-process tasks, locmem channels
os.environ.pop("CELERY_BROKER_URL", None)
os.environ.setdefault("LOG_LEVEL", "WARNING")

import psycopg  # noqa: E402


def recreate_database() -> None:
    with psycopg.connect(f"{SERVER}/postgres", autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{DATABASE}"')
        admin.execute(f'CREATE DATABASE "{DATABASE}"')


recreate_database()

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.utils import timezone  # noqa: E402

from feedback.models import FollowUp, FollowUpEntry, RootCause, Team, User  # noqa: E402
from feedback.services.cases import follow_up_add_note  # noqa: E402
from feedback.services.resolution import follow_up_resolve  # noqa: E402
from insights.models import ThemeRollup  # noqa: E402
from insights.rollups import (  # noqa: E402
    full_follow_up_facts,
    full_loop_rollup_rows,
    full_score_rollup_rows,
    rollup_rebuild_loop,
    rollup_refresh_funnel,
    stored_follow_up_facts,
    stored_loop_rollup_rows,
    stored_score_rollup_rows,
)
from insights.theme_rollups import full_theme_rollup_rows  # noqa: E402
from surveys.models import Contact, Event, Invitation, Response, Survey  # noqa: E402
from surveys.services.api_keys import api_key_create  # noqa: E402
from surveys.services.responses import response_submit  # noqa: E402

REQUESTS = 7
OFFSET = 10  # generated ids start above the templates'
CHANGED = 300  # answers changed, and answers added, through response_submit after the seed
TARGET_RATIO = 3.0

# A commented answer's themes: none for one in seven, else one or two of the default six.
SLUGS = "(ARRAY['delivery','price','product_quality','customer_service','website_app','billing_refund'])"
THEMES_SQL = (
    f"(CASE WHEN g.i % 7 = 0 THEN '[]'::jsonb WHEN g.i % 3 = 0 THEN jsonb_build_array({SLUGS}[1 + g.i % 6], "
    f"{SLUGS}[1 + (g.i / 6) % 6]) ELSE jsonb_build_array({SLUGS}[1 + g.i % 6]) END)"
)
# One expression per generated row number `g.i`: when it was answered, over the last year.
ANSWERED_AT = "now() - make_interval(days => (g.i * 37) % 365, hours => g.i % 24)"


def _clone(table: str, template_id: int, count: int, overrides: dict[str, str]) -> None:
    """Insert `count` copies of row `template_id`, with `overrides` (SQL over g.i) for some columns."""
    with connection.cursor() as cursor:
        columns = [column.name for column in connection.introspection.get_table_description(cursor, table)]
        select = [overrides.get(column, f't."{column}"') for column in columns]
        cursor.execute(
            f"INSERT INTO {table} ({', '.join(f'{chr(34)}{c}{chr(34)}' for c in columns)}) "
            f"SELECT {', '.join(select)} FROM generate_series(1, {count}) AS g(i), {table} AS t "
            f"WHERE t.id = {int(template_id)}"
        )
        cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")


def _property_sql(name: str) -> str:
    source, _, key = name.partition(":")
    alias = {"event": "e", "contact": "c"}[source]
    return f"COALESCE({alias}.properties ->> '{key}', '')"


def seed(size: int) -> tuple[Survey, User]:
    call_command("flush", interactive=False, verbosity=0)
    now = timezone.now()
    nps = Survey.objects.create(name="Bench NPS", kind="nps")
    csat = Survey.objects.create(name="Bench CSAT", kind="csat")
    team = Team.objects.create(name="Bench team")
    manager = User.objects.create_user(email="manager@bench.test", password="x", role=User.Role.MANAGER)
    agents = [User.objects.create_user(email=f"agent{n}@bench.test", password="x", team=team) for n in range(3)]
    causes = [RootCause.objects.create(name=name) for name in ("Late", "Damaged", "Rude")]
    causes.append(RootCause.objects.create(name="Weather", outside_agent_control=True))
    agent = agents[0]
    contact = Contact.objects.create(email="template@bench.test")
    event = Event.objects.create(source="bench", type="purchase", occurred_at=now, contact=contact)
    invitation = Invitation.objects.create(
        token_hash="template", contact=contact, survey=nps, event=event, channel="email",
        scheduled_at=now, expires_at=now + timedelta(days=28),
    )  # fmt: skip
    response = Response.objects.create(invitation=invitation, survey=nps, contact=contact, score=5, confirmed_at=now)
    follow_up = FollowUp.objects.create(response=response, team=team, assignee=agent, due_at=now)
    entry = FollowUpEntry.objects.create(follow_up=follow_up, kind="note", author=agent, body="Called")
    invitations = size + CHANGED
    survey_of = f"CASE WHEN g.i % 2 = 0 THEN {nps.pk} ELSE {csat.pk} END"
    _clone("surveys_contact", contact.pk, invitations, {
        "id": f"{OFFSET} + g.i", "email": "'c' || g.i || '@bench.test'",
        "properties": "jsonb_build_object('plan', (ARRAY['free', 'pro', 'team'])[1 + g.i % 3])",
    })  # fmt: skip
    _clone("surveys_event", event.pk, invitations, {
        "id": f"{OFFSET} + g.i", "contact_id": f"{OFFSET} + g.i", "occurred_at": ANSWERED_AT,
        "type": "(ARRAY['purchase', 'ticket', 'delivery'])[1 + (g.i / 3) % 3]",
        "properties": "jsonb_build_object('store', 's' || (g.i % 5), 'product', 'p' || (g.i % 3))",
    })  # fmt: skip
    _clone("surveys_invitation", invitation.pk, invitations, {
        "id": f"{OFFSET} + g.i", "public_id": "gen_random_uuid()", "token_hash": "md5(g.i::text)",
        "contact_id": f"{OFFSET} + g.i", "event_id": f"{OFFSET} + g.i", "survey_id": survey_of,
        "channel": "CASE WHEN g.i % 7 < 4 THEN 'email' ELSE 'sms' END", "created_at": ANSWERED_AT,
        "scheduled_at": ANSWERED_AT,
    })  # fmt: skip
    _clone("surveys_response", response.pk, size, {
        "id": f"{OFFSET} + g.i", "invitation_id": f"{OFFSET} + g.i", "contact_id": f"{OFFSET} + g.i",
        "survey_id": survey_of, "confirmed_at": ANSWERED_AT, "updated_at": ANSWERED_AT,
        "score": "CASE WHEN g.i % 2 = 0 THEN (g.i * 7) % 11 ELSE 1 + (g.i * 3) % 5 END",
        "comment": "CASE WHEN g.i % 10 = 0 THEN 'Bench comment ' || g.i ELSE '' END",
        # Commented answers are read: one or two of the six default themes (some none), a sentiment.
        "analysed_at": f"CASE WHEN g.i % 10 = 0 THEN {ANSWERED_AT} END",
        "language": "CASE WHEN g.i % 10 = 0 THEN (ARRAY['en', 'fr'])[1 + g.i % 2] ELSE '' END",
        "sentiment": "CASE WHEN g.i % 10 = 0 THEN (ARRAY['negative', 'neutral', 'positive'])[1 + g.i % 3] ELSE '' END",
        "sentiment_confidence": "CASE WHEN g.i % 10 = 0 THEN 0.8 END",
        "themes": f"CASE WHEN g.i % 10 = 0 THEN {THEMES_SQL} ELSE '[]'::jsonb END",
    })  # fmt: skip
    _clone("feedback_followup", follow_up.pk, size // 50, {
        "id": f"{OFFSET} + g.i", "response_id": f"{OFFSET} + g.i * 50",
        "created_at": "now() - make_interval(days => (g.i * 50 * 37) % 365)",
        "due_at": "now() - make_interval(days => (g.i * 50 * 37) % 365) + interval '24 hours'",
        "status": "CASE WHEN g.i % 2 = 0 THEN 'resolved' ELSE 'new' END",
        "resolved_at": "CASE WHEN g.i % 2 = 0 THEN now() - make_interval(days => (g.i * 50 * 37) % 365)"
        " + make_interval(hours => g.i % 48) END",
        "assignee_id": f"(ARRAY[{', '.join(str(a.pk) for a in agents)}])[1 + g.i % 3]",
        "root_cause_id": f"CASE WHEN g.i % 2 = 0 THEN (ARRAY[{', '.join(str(c.pk) for c in causes)}])[1 + g.i % 4] END",
        "outcome": "CASE WHEN g.i % 2 = 0 THEN (ARRAY['recovered', 'not_recovered'])[1 + g.i % 2] ELSE '' END",
    })  # fmt: skip
    _clone("feedback_followupentry", entry.pk, size // 100, {
        "id": f"{OFFSET} + g.i", "follow_up_id": f"{OFFSET} + g.i * 2",
        "created_at": "now() - make_interval(days => (g.i * 100 * 37) % 365) + make_interval(hours => g.i % 6)",
    })  # fmt: skip
    FollowUp.objects.filter(pk=follow_up.pk).delete()
    Response.objects.filter(pk=response.pk).delete()
    Invitation.objects.filter(pk=invitation.pk).delete()
    Contact.objects.filter(pk=contact.pk).delete()
    seed_rollups()
    rollup_refresh_funnel()
    rollup_rebuild_loop()
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return nps, manager


def seed_rollups() -> None:
    """Rollups and tallies straight from the seeded rows, in SQL: what incremental counting would hold."""
    day = f"(r.confirmed_at AT TIME ZONE '{settings.TIME_ZONE}')::date"
    joins = (
        "FROM surveys_response r JOIN surveys_survey s ON s.id = r.survey_id "
        "JOIN surveys_invitation i ON i.id = r.invitation_id JOIN surveys_contact c ON c.id = r.contact_id "
        "LEFT JOIN surveys_event e ON e.id = i.event_id"
    )
    event_type = "COALESCE(e.type, '')"
    segments = ", ".join(f"'{name}', {_property_sql(name)}" for name in settings.DASHBOARD_BREAKDOWN_PROPERTIES)
    dimensions = [("''", "''")] + [
        (f"'{name}'", _property_sql(name)) for name in settings.DASHBOARD_BREAKDOWN_PROPERTIES
    ]
    read = f"{joins} WHERE r.analysed_at IS NOT NULL AND r.comment <> ''"
    themes = "SELECT DISTINCT value FROM jsonb_array_elements_text(r.themes)"
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO insights_themetally (response_id, survey_id, kind, day, channel, event_type, score, themes) "
            f"SELECT r.id, r.survey_id, s.kind, {day}, i.channel, {event_type}, r.score, r.themes {read}"
        )
        cursor.execute(
            "INSERT INTO insights_themerollup (day, survey_id, kind, channel, event_type, theme, score, count) "
            f"SELECT {day}, r.survey_id, s.kind, i.channel, {event_type}, t.theme, r.score, count(*) "
            f"{joins} CROSS JOIN LATERAL (SELECT '' AS theme UNION ALL {themes}) t "
            "WHERE r.analysed_at IS NOT NULL AND r.comment <> '' GROUP BY 1, 2, 3, 4, 5, 6, 7"
        )
        cursor.execute(
            "INSERT INTO feedback_responsetally (response_id, score, day, channel, event_type, segments) "
            f"SELECT r.id, r.score, {day}, i.channel, {event_type}, jsonb_build_object({segments}) {joins}"
        )
        for dimension, value in dimensions:
            cursor.execute(
                "INSERT INTO feedback_scorerollup "
                "(day, survey_id, kind, channel, event_type, dimension, value, score, count) "
                f"SELECT {day}, r.survey_id, s.kind, i.channel, {event_type}, {dimension}, {value}, r.score, count(*) "
                f"{joins} GROUP BY 1, 2, 3, 4, 5, 6, 7, 8"
            )


def exercise_incremental(size: int) -> None:
    """Change answers and add new ones through the application, as respondents would; note on and
    resolve open cases, as agents would."""
    step = max(size // CHANGED, 1)
    changed = [OFFSET + k * step for k in range(1, CHANGED + 1)]
    fresh = [OFFSET + size + k for k in range(1, CHANGED + 1)]
    for invitation in Invitation.objects.filter(pk__in=changed + fresh).select_related("survey"):
        score = invitation.survey.scale.high if invitation.pk % 2 else invitation.survey.scale.low
        response_submit(invitation=invitation, score=score)
    cause = RootCause.objects.first()
    for follow_up in FollowUp.objects.filter(status="new").select_related("assignee").order_by("pk")[:CHANGED]:
        follow_up_add_note(follow_up=follow_up, author=follow_up.assignee, body="Called back")
        follow_up_resolve(follow_up=follow_up, author=follow_up.assignee, root_cause=cause, outcome="recovered")


def stored_theme_rollup_rows() -> dict[tuple, int]:
    return {
        (r.day, r.survey_id, r.channel, r.event_type, r.theme, r.score): r.count
        for r in ThemeRollup.objects.exclude(count=0).iterator(chunk_size=5000)
    }


def median_seconds(request) -> float:
    for _ in range(2):  # warm caches, connections and the database's plans
        request()
    timings = []
    for _ in range(REQUESTS):
        start = time.perf_counter()
        response = request()
        timings.append(time.perf_counter() - start)
        assert response.status_code == 200, response.status_code
    return statistics.median(timings)


def measure(size: int) -> dict[str, float]:
    started = time.perf_counter()
    survey, manager = seed(size)
    seeded = time.perf_counter() - started
    exercise_incremental(size)
    browser = Client()
    browser.force_login(manager)
    api = Client(HTTP_AUTHORIZATION="Basic " + __import__("base64").b64encode(
        f"{api_key_create(name='bench', survey=survey)[1]}:".encode()).decode())  # fmt: skip
    timings = {
        "dashboard 90 days": median_seconds(lambda: browser.get("/dashboard/", {"period": "90", "by": "event:store"})),
        "dashboard 30 days": median_seconds(lambda: browser.get("/dashboard/", {"period": "30"})),
        "/v1/metrics all time": median_seconds(lambda: api.get("/v1/metrics.json")),
        "/v1/metrics 90 days": median_seconds(
            lambda: api.get("/v1/metrics.json", {"since": int(time.time()) - 90 * 86400})
        ),
    }
    started = time.perf_counter()
    rollup_refresh_funnel(since=timezone.localdate() - timedelta(days=settings.INVITATION_EXPIRY_DAYS + 1))
    refresh = time.perf_counter() - started
    started = time.perf_counter()
    consistent = (
        stored_theme_rollup_rows() == full_theme_rollup_rows()
        and stored_score_rollup_rows() == full_score_rollup_rows()
        and stored_loop_rollup_rows() == full_loop_rollup_rows()
        and stored_follow_up_facts() == dict(full_follow_up_facts())
    )
    print(
        f"{size:>9} responses, {FollowUp.objects.count()} cases: seeded in {seeded:.1f}s; one funnel refresh "
        f"(beat job) {refresh * 1000:.0f}ms; score and loop rollups equal a full recomputation: {consistent} "
        f"(checked in {time.perf_counter() - started:.1f}s)"
    )
    timings["consistent"] = consistent
    return timings


def main(sizes: list[int]) -> int:
    call_command("migrate", verbosity=0)
    results = {size: measure(size) for size in sizes}
    small, large = sizes[0], sizes[-1]
    ok = all(result["consistent"] for result in results.values())
    print(f"\n{'page':<24}" + "".join(f"{size:>12}" for size in sizes) + f"{'ratio':>9}  target <= {TARGET_RATIO:g}x")
    for page in [key for key in results[small] if key != "consistent"]:
        ratio = results[large][page] / results[small][page]
        ok &= ratio <= TARGET_RATIO
        cells = "".join(f"{results[size][page] * 1000:>10.1f}ms" for size in sizes)
        print(f"{page:<24}{cells}{ratio:>8.2f}x  {'ok' if ratio <= TARGET_RATIO else 'TOO SLOW'}")
    print("\nall checks passed" if ok else "\nSOME CHECKS FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main([int(arg) for arg in sys.argv[1:]] or [10_000, 1_000_000]))
