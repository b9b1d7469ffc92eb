"""Database connections: persistent and health-checked everywhere; on PostgreSQL, parameters bound by the server and
statements prepared once a connection has run them a few times, unless a transaction-mode pooler is in front."""

import pytest
from django.db import connection

from config.settings import base
from surveys.models import Survey

POSTGRESQL = "django.db.backends.postgresql"


def test_postgresql_binds_on_the_server_and_prepares_repeated_statements(monkeypatch):
    monkeypatch.setattr(base, "DATABASE_POOLER", "")

    tuned = base.database_tune({"ENGINE": POSTGRESQL, "NAME": "closeloop"})

    assert tuned["OPTIONS"] == {"server_side_binding": True, "prepare_threshold": 5}
    assert (tuned["CONN_MAX_AGE"], tuned["CONN_HEALTH_CHECKS"]) == (base.CONN_MAX_AGE, True)
    assert "DISABLE_SERVER_SIDE_CURSORS" not in tuned


def test_behind_pgbouncer_nothing_is_prepared_and_no_cursor_outlives_a_transaction(monkeypatch):
    monkeypatch.setattr(base, "DATABASE_POOLER", "pgbouncer")

    tuned = base.database_tune({"ENGINE": POSTGRESQL, "NAME": "closeloop", "OPTIONS": {"sslmode": "require"}})

    assert tuned["OPTIONS"] == {"sslmode": "require", "prepare_threshold": None}
    assert tuned["DISABLE_SERVER_SIDE_CURSORS"] is True


def test_sqlite_is_left_with_its_own_options(monkeypatch):
    monkeypatch.setattr(base, "DATABASE_POOLER", "pgbouncer")

    tuned = base.database_tune({"ENGINE": "django.db.backends.sqlite3", "NAME": "closeloop.sqlite3"})

    assert "OPTIONS" not in tuned
    assert "DISABLE_SERVER_SIDE_CURSORS" not in tuned
    assert tuned["CONN_HEALTH_CHECKS"] is True


@pytest.mark.django_db
def test_a_statement_is_prepared_once_a_connection_has_run_it_five_times_on_postgresql():
    if connection.vendor != "postgresql":
        pytest.skip("prepared statements are PostgreSQL's")
    survey = Survey.objects.create(name="Prepared")

    def prepared() -> list[str]:
        with connection.cursor() as cursor:
            cursor.execute("SELECT statement FROM pg_prepared_statements")
            return [statement for (statement,) in cursor.fetchall() if '"surveys_survey"."name"' in statement]

    for _ in range(5):
        assert Survey.objects.filter(pk=survey.pk).values_list("name", flat=True).get() == "Prepared"
    assert prepared() == []
    assert Survey.objects.filter(pk=survey.pk).values_list("name", flat=True).get() == "Prepared"
    assert len(prepared()) == 1
