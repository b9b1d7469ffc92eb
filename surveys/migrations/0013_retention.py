from django.db import migrations, models

from config.migration_operations import AddIndexWithoutLock


class Migration(migrations.Migration):
    # The retention purge's indexes, built without blocking writes (CREATE INDEX CONCURRENTLY on PostgreSQL).
    atomic = False

    dependencies = [
        ("surveys", "0012_web_widget"),
    ]

    operations = [
        migrations.AddField(
            model_name="response",
            name="comment_purged_at",
            field=models.DateTimeField(
                blank=True,
                editable=False,
                help_text="When the retention purge removed the comment; what was read in it (language, sentiment, themes) stays and is still counted.",
                null=True,
            ),
        ),
        AddIndexWithoutLock(
            model_name="answer",
            index=models.Index(
                condition=models.Q(("value", ""), _negated=True),
                fields=["updated_at"],
                name="answer_text_retention_idx",
            ),
        ),
        AddIndexWithoutLock(
            model_name="event",
            index=models.Index(fields=["received_at"], name="event_received_idx"),
        ),
        AddIndexWithoutLock(
            model_name="response",
            index=models.Index(
                condition=models.Q(("comment", ""), _negated=True),
                fields=["confirmed_at"],
                name="response_comment_retention_idx",
            ),
        ),
    ]
