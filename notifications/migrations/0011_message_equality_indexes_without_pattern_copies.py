"""Message.provider_message_id and Message.unsubscribe_hash keep their index, renamed, and lose the pattern-matching
copy (varchar_pattern_ops) PostgreSQL keeps beside a `db_index` text field: they are only ever looked up whole
(a provider's status callback, an unsubscribe link), and every message written or sent wrote both copies.

As `surveys` 0020 does: the database side renames in place and drops, never rebuilds (building an index again on
a large table blocks writes for as long as it takes). SQLite, which has no such copies nor index renaming,
recreates the two plain indexes.
"""

from django.db import migrations, models

INDEXES = [
    ("provider_message_id", "message_provider_id_idx"),
    ("unsubscribe_hash", "message_unsubscribe_hash_idx"),
]


def _index_names(apps, schema_editor, column: str) -> tuple[str, str, str]:
    table = apps.get_model("notifications", "message")._meta.db_table
    return (
        table,
        schema_editor._create_index_name(table, [column], suffix=""),
        schema_editor._create_index_name(table, [column], suffix="_like"),
    )


def keep_equality_indexes_only(apps, schema_editor):
    quote = schema_editor.quote_name
    for column, new_name in INDEXES:
        table, name, like = _index_names(apps, schema_editor, column)
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(f"ALTER INDEX {quote(name)} RENAME TO {quote(new_name)}")
            schema_editor.execute(f"DROP INDEX IF EXISTS {quote(like)}")
        else:
            schema_editor.execute(f"DROP INDEX IF EXISTS {quote(name)}")
            schema_editor.execute(f"CREATE INDEX {quote(new_name)} ON {quote(table)} ({quote(column)})")


def restore_field_indexes(apps, schema_editor):
    quote = schema_editor.quote_name
    for column, new_name in INDEXES:
        table, name, like = _index_names(apps, schema_editor, column)
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(f"ALTER INDEX {quote(new_name)} RENAME TO {quote(name)}")
            schema_editor.execute(f"CREATE INDEX {quote(like)} ON {quote(table)} ({quote(column)} varchar_pattern_ops)")
        else:
            schema_editor.execute(f"DROP INDEX IF EXISTS {quote(new_name)}")
            schema_editor.execute(f"CREATE INDEX {quote(name)} ON {quote(table)} ({quote(column)})")


class Migration(migrations.Migration):
    dependencies = [
        ("notifications", "0010_suppression_reason_erasure"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[migrations.RunPython(keep_equality_indexes_only, restore_field_indexes)],
            state_operations=[
                migrations.AlterField(
                    model_name="message",
                    name="provider_message_id",
                    field=models.CharField(blank=True, max_length=100),
                ),
                migrations.AlterField(
                    model_name="message",
                    name="unsubscribe_hash",
                    field=models.CharField(blank=True, max_length=64),
                ),
                migrations.AddIndex(
                    model_name="message",
                    index=models.Index(fields=["provider_message_id"], name="message_provider_id_idx"),
                ),
                migrations.AddIndex(
                    model_name="message",
                    index=models.Index(fields=["unsubscribe_hash"], name="message_unsubscribe_hash_idx"),
                ),
            ],
        ),
    ]
