"""Set-up shared by the benches that store millions of rows on PostgreSQL (scale.py, retention.py).

Rows are copied from template rows the ORM wrote (so every column is what the application writes) by one
`INSERT ... SELECT ... generate_series` per chunk. A large fill takes the fast road: the tables' unique and
foreign-key constraints and secondary indexes are dropped, the chunks written in several connections with
synchronous_commit off, then the same indexes and constraints built again side by side and checked to read
exactly as the migrations made them. Kept row by row (random uuids into unique indexes of millions) a 10M fill
took half an hour on the shared 2-core machine.
"""

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor


def recreate(server: str, name: str, *, drop_only: bool = False) -> None:
    import psycopg

    with psycopg.connect(f"{server}/postgres", autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if not drop_only:
            connection.execute(f'CREATE DATABASE "{name}"')


def copy_rows(cursor, table: str, template_id: int, source: str, overrides: dict[str, str], where: str = "") -> None:
    """INSERT one row per row of `source` (aliased g) matching `where`, copying the template row's columns but
    `overrides` (the id too when it is one of them)."""
    cursor.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_name = %s AND column_name <> 'id'"
        " ORDER BY ordinal_position",
        [table],
    )
    names = [row[0] for row in cursor.fetchall()] + (["id"] if "id" in overrides else [])
    values = [overrides.get(name, f"t.{name}") for name in names]
    cursor.execute(
        f"INSERT INTO {table} ({', '.join(names)}) SELECT {', '.join(values)} FROM {table} t, {source}"
        f" WHERE t.id = %s {f'AND {where}' if where else ''}",
        [template_id],
    )


def schema(cursor, tables: list[str]) -> tuple[list, list]:
    """The tables' unique and foreign-key constraints and their indexes (all but the primary keys), with their
    definitions: what the fill drops and builds again, and what must read the same afterwards."""
    cursor.execute(
        "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint"
        " WHERE contype IN ('u', 'f') AND conrelid = ANY(%s::regclass[]) ORDER BY contype, conname",
        [tables],
    )
    constraints = cursor.fetchall()
    cursor.execute(
        "SELECT i.relname, pg_get_indexdef(i.oid) FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid"
        " WHERE x.indrelid = ANY(%s::regclass[]) AND NOT x.indisprimary ORDER BY i.relname",
        [tables],
    )
    return constraints, cursor.fetchall()


def fast_fill(
    database_url: str, tables: list[str], rows: int, write: Callable[[object, str], None], *, chunk: int, workers: int
) -> tuple[float, float]:
    """Write `rows` rows into `tables` by `write(cursor, source)`, once per chunk of at most `chunk` rows (`source`
    is `generate_series(low, high) AS g(n)`), in `workers` connections, around dropped and rebuilt indexes.
    Returns the seconds spent writing and rebuilding. Each table's id sequence ends at its largest id."""
    import psycopg
    from django.apps import apps
    from django.db import connection

    with connection.cursor() as cursor:
        migrated = schema(cursor, tables)
        constraints, indexes = migrated
        for table, name, _ in constraints:  # the foreign keys first, then the unique constraints and their indexes
            cursor.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
        for name, _ in indexes:
            cursor.execute(f'DROP INDEX IF EXISTS "{name}"')

    def write_chunk(low: int) -> None:
        with psycopg.connect(database_url, autocommit=True) as worker:
            cursor = worker.cursor()
            cursor.execute("SET synchronous_commit = off")
            write(cursor, f"generate_series({low}, {min(low + chunk - 1, rows)}) AS g(n)")

    def build(definition: str) -> None:
        with psycopg.connect(database_url, autocommit=True) as worker:
            worker.execute("SET maintenance_work_mem = '256MB'")
            worker.execute(definition)

    started = time.perf_counter()
    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(write_chunk, range(1, rows + 1, chunk)))
    written = time.perf_counter()
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
        # An index of the models' Meta is built by the SQL its migration ran (PostgreSQL would print a partial
        # index's predicate back with its casts moved); the others read back as they were written.
        declared = {
            index.name: str(index.create_sql(model, connection.schema_editor()))
            for model in apps.get_models()
            if model._meta.db_table in tables
            for index in model._meta.indexes
        }
    # Side by side: concurrent builds read a table together (synchronised scans) rather than once each.
    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(build, [declared.get(name, definition) for name, definition in indexes]))
    with connection.cursor() as cursor:
        for table, name, definition in reversed(constraints):  # the unique constraints, then the foreign keys
            # A unique constraint takes the unique index just built; a foreign key is checked by one join.
            how = f'UNIQUE USING INDEX "{name}"' if definition.startswith("UNIQUE") else definition
            cursor.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {how}')
        assert schema(cursor, tables) == migrated, "the indexes built after the fill differ from the migrations'"
        cursor.execute("ANALYZE")
    return written - started, time.perf_counter() - written
