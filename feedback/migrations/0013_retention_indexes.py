from django.db import migrations, models

from config.migration_operations import AddIndexWithoutLock


class Migration(migrations.Migration):
    # The retention purge's indexes, built without blocking writes (CREATE INDEX CONCURRENTLY on PostgreSQL).
    atomic = False

    dependencies = [
        ("feedback", "0012_managers_are_not_superusers"),
        ("surveys", "0013_retention"),
    ]

    operations = [
        AddIndexWithoutLock(
            model_name="followup",
            index=models.Index(
                condition=models.Q(("status", "resolved")), fields=["resolved_at"], name="follow_up_resolved_idx"
            ),
        ),
    ]
