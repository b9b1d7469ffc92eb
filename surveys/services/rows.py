"""New rows of one model written in one statement, with their ids: what intake inserts for every event, and the
respondent page for every first answer (the response and its announcement).

`bulk_create` and `Model.save` build their statement and adapt every value through the ORM on each call;
for intake's few models that costs more CPU than the database spends on the row.
"""

import functools
import json
import uuid
from collections.abc import Callable
from datetime import datetime
from operator import attrgetter
from typing import TypeVar

from django.db import connection
from django.db.models import Field, Model

ModelT = TypeVar("ModelT", bound=Model)


def _json_value(value: object) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    raise TypeError(f"{type(value).__name__} has no JSON form for _rows_insert")


@functools.cache
def _rows_insert_plan(model: type[Model]) -> tuple[str, list[str], Callable[[Model], tuple], list[Field]]:
    """`rows_insert`'s statement for `model`, its columns, a reader of a row's values, and the fields that
    stamp a value on save (auto_now dates): built once per process, as an event inserts a row of each of
    three models."""
    meta = model._meta
    fields = [model_field for model_field in meta.concrete_fields if not model_field.primary_key]
    stamped = [model_field for model_field in fields if type(model_field).pre_save is not Field.pre_save]
    quote = connection.ops.quote_name
    columns = [model_field.column for model_field in fields]
    quoted = ", ".join(quote(column) for column in columns)
    record = ", ".join(f"{quote(model_field.column)} {model_field.db_type(connection)}" for model_field in fields)
    # INSERT ... SELECT keeps the document's order, and RETURNING gives the ids in it.
    statement = (
        f"INSERT INTO {quote(meta.db_table)} ({quoted}) SELECT {quoted}"
        f" FROM json_to_recordset(%s::json) AS given({record}) RETURNING {quote(meta.pk.column)}"
    )
    return statement, columns, attrgetter(*(model_field.attname for model_field in fields)), stamped


def rows_insert(rows: list[ModelT]) -> list[ModelT]:
    """Insert new rows of one model in one statement and give them their ids, like `bulk_create`.

    On PostgreSQL the rows travel as one JSON document that `json_to_recordset` expands on the
    server: `bulk_create` adapts every value of every row in Python first, which for a batch of
    1000 events took longer than the database's own work. Other databases use `bulk_create`.
    """
    if not rows:
        return rows
    if connection.vendor != "postgresql":
        return type(rows[0]).objects.bulk_create(rows)
    statement, columns, values, stamped = _rows_insert_plan(type(rows[0]))
    for row in rows:
        for model_field in stamped:
            model_field.pre_save(row, add=True)
    document = json.dumps([dict(zip(columns, values(row), strict=True)) for row in rows], default=_json_value)
    with connection.cursor() as cursor:
        cursor.execute(statement, [document])
        alias = connection.alias  # read once: each read goes through the connection proxy
        for row, (pk,) in zip(rows, cursor.fetchall(), strict=True):
            row.pk = pk
            row._state.adding = False
            row._state.db = alias
    return rows
