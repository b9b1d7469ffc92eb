"""Database connections: persistent and health-checked everywhere; on PostgreSQL, parameters bound by the server and
statements prepared once a connection has run them a few times, unless a transaction-mode pooler is in front."""

from types import SimpleNamespace

import pytest
from django.db import NotSupportedError, connection, connections

from config.database import PLAN_CHANGED, close_when_plans_changed, prepared_statements_guard
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


def _connection(vendor: str, options: dict) -> SimpleNamespace:
    return SimpleNamespace(vendor=vendor, settings_dict={"OPTIONS": options}, execute_wrappers=[])


def test_the_guard_wraps_a_preparing_connection_once_and_outermost():
    preparing = _connection("postgresql", {"server_side_binding": True, "prepare_threshold": 5})
    preparing.execute_wrappers.append(counting := object())

    prepared_statements_guard(connection=preparing)
    prepared_statements_guard(connection=preparing)  # the same wrapper reconnected

    assert preparing.execute_wrappers == [close_when_plans_changed, counting]


@pytest.mark.parametrize(
    ("vendor", "options"), [("postgresql", {"prepare_threshold": None}), ("sqlite", {}), ("sqlite", {"timeout": 20})]
)
def test_the_guard_leaves_connections_that_prepare_nothing(vendor, options):
    plain = _connection(vendor, options)

    prepared_statements_guard(connection=plain)

    assert plain.execute_wrappers == []


@pytest.mark.django_db(transaction=True)
def test_a_connection_whose_prepared_statement_a_migration_outdated_is_replaced_when_the_request_ends():
    if connection.vendor != "postgresql":
        pytest.skip("prepared statements are PostgreSQL's")
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE prepared_probe (id integer PRIMARY KEY, name varchar(30))")
        cursor.execute("INSERT INTO prepared_probe VALUES (1, 'kept')")

    def read() -> str:
        with connection.cursor() as cursor:
            cursor.execute("SELECT name FROM prepared_probe WHERE id = %s", [1])
            return cursor.fetchone()[0]

    migrating = connections.create_connection("default")
    try:
        assert [read() for _ in range(6)] == ["kept"] * 6  # prepared on the sixth
        with migrating.cursor() as cursor:
            cursor.execute("ALTER TABLE prepared_probe ALTER COLUMN name TYPE varchar(64)")

        with pytest.raises(NotSupportedError, match=PLAN_CHANGED):
            read()
        connection.close_if_unusable_or_obsolete()  # what the end of a request or a task runs

        assert connection.connection is None
        assert read() == "kept"
    finally:
        with migrating.cursor() as cursor:
            cursor.execute("DROP TABLE prepared_probe")
        migrating.close()
