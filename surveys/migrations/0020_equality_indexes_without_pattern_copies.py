"""Contact.phone, Event.type and Invitation.token_hash keep their index (or unique constraint), renamed, and lose
the pattern-matching copy (varchar_pattern_ops) PostgreSQL keeps beside a `db_index`/`unique` text field: nothing
searches them by prefix, and every insert of these hot tables wrote it.

The database side renames in place and drops, never rebuilds: on a large table building an index again would
block writes for as long as it took. SQLite, which has no such copies nor index renaming, recreates the two
plain indexes (its column's inline UNIQUE stays and enforces the same).
"""

from django.db import migrations, models

INDEXES = [("contact", "phone", "contact_phone_idx"), ("event", "type", "event_type_idx")]
UNIQUE = ("invitation", "token_hash", "invitation_unique_token_hash")


def _index_names(apps, schema_editor, model_name: str, column: str) -> tuple[str, str, str]:
    table = apps.get_model("surveys", model_name)._meta.db_table
    return (
        table,
        schema_editor._create_index_name(table, [column], suffix=""),
        schema_editor._create_index_name(table, [column], suffix="_like"),
    )


def _unique_constraint_name(apps, schema_editor, model_name: str, column: str, exclude: set[str]) -> str:
    [name] = schema_editor._constraint_names(
        apps.get_model("surveys", model_name), [column], unique=True, primary_key=False, exclude=exclude
    )
    return name


def keep_equality_indexes_only(apps, schema_editor):
    quote = schema_editor.quote_name
    for model_name, column, new_name in INDEXES:
        table, name, like = _index_names(apps, schema_editor, model_name, column)
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(f"ALTER INDEX {quote(name)} RENAME TO {quote(new_name)}")
            schema_editor.execute(f"DROP INDEX IF EXISTS {quote(like)}")
        else:
            schema_editor.execute(f"DROP INDEX IF EXISTS {quote(name)}")
            schema_editor.execute(f"CREATE INDEX {quote(new_name)} ON {quote(table)} ({quote(column)})")
    if schema_editor.connection.vendor == "postgresql":
        model_name, column, new_name = UNIQUE
        table, _, like = _index_names(apps, schema_editor, model_name, column)
        old = _unique_constraint_name(apps, schema_editor, model_name, column, exclude=set())
        schema_editor.execute(f"ALTER TABLE {quote(table)} RENAME CONSTRAINT {quote(old)} TO {quote(new_name)}")
        schema_editor.execute(f"DROP INDEX IF EXISTS {quote(like)}")


def restore_field_indexes(apps, schema_editor):
    quote = schema_editor.quote_name
    postgresql = schema_editor.connection.vendor == "postgresql"
    for model_name, column, new_name in INDEXES:
        table, name, like = _index_names(apps, schema_editor, model_name, column)
        if postgresql:
            schema_editor.execute(f"ALTER INDEX {quote(new_name)} RENAME TO {quote(name)}")
            schema_editor.execute(f"CREATE INDEX {quote(like)} ON {quote(table)} ({quote(column)} varchar_pattern_ops)")
        else:
            schema_editor.execute(f"DROP INDEX IF EXISTS {quote(new_name)}")
            schema_editor.execute(f"CREATE INDEX {quote(name)} ON {quote(table)} ({quote(column)})")
    if postgresql:
        model_name, column, new_name = UNIQUE
        table, _, like = _index_names(apps, schema_editor, model_name, column)
        old = f"{table}_{column}_key"
        schema_editor.execute(f"ALTER TABLE {quote(table)} RENAME CONSTRAINT {quote(new_name)} TO {quote(old)}")
        schema_editor.execute(f"CREATE INDEX {quote(like)} ON {quote(table)} ({quote(column)} varchar_pattern_ops)")


class Migration(migrations.Migration):
    dependencies = [
        ("notifications", "0010_suppression_reason_erasure"),
        ("surveys", "0019_survey_texts_per_locale"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[migrations.RunPython(keep_equality_indexes_only, restore_field_indexes)],
            state_operations=[
                migrations.AlterField(
                    model_name="contact",
                    name="phone",
                    field=models.CharField(blank=True, help_text="E.164, e.g. +33612345678", max_length=20),
                ),
                migrations.AlterField(model_name="event", name="type", field=models.CharField(max_length=100)),
                migrations.AlterField(model_name="invitation", name="token_hash", field=models.CharField(max_length=64)),
                migrations.AddIndex(
                    model_name="contact", index=models.Index(fields=["phone"], name="contact_phone_idx")
                ),
                migrations.AddIndex(model_name="event", index=models.Index(fields=["type"], name="event_type_idx")),
                migrations.AddConstraint(
                    model_name="invitation",
                    constraint=models.UniqueConstraint(fields=("token_hash",), name="invitation_unique_token_hash"),
                ),
            ],
        ),
    ]
