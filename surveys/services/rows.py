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
    raise TypeError(f"{type(value).__name__} has no JSON form for rows_write")


@functools.cache
def _rows_plan(model: type[Model]) -> tuple[str, list[str], Callable[[Model], tuple], list[Field]]:
    """The statement that writes rows of `model` (every concrete field but the id, named by attname), the
    attnames, a reader of a model instance's values, and the fields that stamp a value on save (auto_now
    dates): built once per process, as an event inserts a row of each of three models."""
    meta = model._meta
    fields = [model_field for model_field in meta.concrete_fields if not model_field.primary_key]
    stamped = [model_field for model_field in fields if type(model_field).pre_save is not Field.pre_save]
    quote = connection.ops.quote_name
    names = [model_field.attname for model_field in fields]
    record = ", ".join(f"{quote(model_field.attname)} {model_field.db_type(connection)}" for model_field in fields)
    # INSERT ... SELECT keeps the document's order, and RETURNING gives the ids in it.
    statement = (
        f"INSERT INTO {quote(meta.db_table)} ({', '.join(quote(model_field.column) for model_field in fields)})"
        f" SELECT {', '.join(quote(name) for name in names)}"
        f" FROM json_to_recordset(%s::json) AS given({record}) RETURNING {quote(meta.pk.column)}"
    )
    return statement, names, attrgetter(*names), stamped


@functools.cache
def _linked_plan(parent: type[Model], child: type[Model], link: str) -> str:
    """`row_insert_linked`'s statement: `rows_write`'s for the parent, whose id the child's INSERT reads, the
    child's row a document of `rows_write`'s with the link left out. Built once per process."""
    quote = connection.ops.quote_name
    meta = child._meta
    fields = [model_field for model_field in meta.concrete_fields if not model_field.primary_key]
    link_column = meta.get_field(link).column
    record = ", ".join(
        f"{quote(model_field.attname)} {model_field.db_type(connection)}"
        for model_field in fields
        if model_field.column != link_column
    )
    values = ", ".join(
        f"parent.{quote(parent._meta.pk.column)}"
        if model_field.column == link_column
        else f"given.{quote(model_field.attname)}"
        for model_field in fields
    )
    return (
        f"WITH parent AS ({_rows_plan(parent)[0]})"
        f" INSERT INTO {quote(meta.db_table)} ({', '.join(quote(model_field.column) for model_field in fields)})"
        f" SELECT {values} FROM parent, json_to_recordset(%s::json) AS given({record})"
        f" RETURNING {quote(link_column)}, {quote(meta.pk.column)}"
    )


def row_insert_linked(parent: Model, child: Model, link: str) -> None:
    """Insert the new `parent` and the new `child` whose foreign key `link` is to point at it, and give both their
    ids: one statement on PostgreSQL, where an answer and its announcement took a round trip each; two elsewhere."""
    if connection.vendor != "postgresql":
        rows_insert([parent])
        setattr(child, link, parent)
        rows_insert([child])
        return
    [parent_row], [child_row] = _rows_stamped([parent]), _rows_stamped([child])
    del child_row[child._meta.get_field(link).attname]
    documents = [json.dumps([row], default=_json_value) for row in (parent_row, child_row)]
    with connection.cursor() as cursor:
        cursor.execute(_linked_plan(type(parent), type(child), link), documents)
        parent_id, child_id = cursor.fetchone()
    _rows_saved([parent], [parent_id])
    _rows_saved([child], [child_id])
    setattr(child, link, parent)


def _rows_write_postgresql(model: type[Model], rows: list[dict]) -> list[int]:
    # A batch's rows share a few times (its instant, a rule's delay): each is formatted once.
    document = json.dumps(rows, default=functools.cache(_json_value))
    with connection.cursor() as cursor:
        cursor.execute(_rows_plan(model)[0], [document])
        return [pk for (pk,) in cursor.fetchall()]


def rows_write(model: type[Model], rows: list[dict]) -> list[int]:
    """Insert new rows of `model` in one statement, each a dict of every field but the id by attname
    (`contact_id`, not `contact`; auto_now dates included), and return their ids in order.

    For a caller that never needs model instances: building 3,000 of them was a quarter of a batch
    of 1,000 events. On PostgreSQL the rows travel as one JSON document that `json_to_recordset`
    expands on the server; other databases use `bulk_create`. The first row's fields are checked.
    """
    if not rows:
        return []
    # A field left out would be written as NULL (or refused, and the batch taken the slow way): say which.
    if (given := rows[0].keys()) != set(names := _rows_plan(model)[1]):
        raise ValueError(f"rows_write({model.__name__}): fields missing or unknown: {sorted(given ^ set(names))}")
    if connection.vendor != "postgresql":
        return [row.pk for row in model.objects.bulk_create([model(**row) for row in rows])]
    return _rows_write_postgresql(model, rows)


def rows_insert(rows: list[ModelT]) -> list[ModelT]:
    """Insert new model instances of one model in one statement and give them their ids, like `bulk_create`,
    through `rows_write`'s statement: `bulk_create` adapts every value of every row in Python first."""
    if not rows:
        return rows
    if connection.vendor != "postgresql":
        return type(rows[0]).objects.bulk_create(rows)
    ids = _rows_write_postgresql(type(rows[0]), _rows_stamped(rows))
    _rows_saved(rows, ids)
    return rows


def _rows_stamped(rows: list[Model]) -> list[dict]:
    """New instances of one model as `rows_write`'s dicts, their auto_now dates stamped as `save` would."""
    _, names, values, stamped = _rows_plan(type(rows[0]))
    for row in rows:
        for model_field in stamped:
            model_field.pre_save(row, add=True)
    return [dict(zip(names, values(row), strict=True)) for row in rows]


def _rows_saved(rows: list[Model], ids: list[int]) -> None:
    alias = connection.alias  # read once: each read goes through the connection proxy
    for row, pk in zip(rows, ids, strict=True):
        row.pk = pk
        row._state.adding = False
        row._state.db = alias
