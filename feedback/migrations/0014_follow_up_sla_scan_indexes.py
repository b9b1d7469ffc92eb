from django.db import migrations, models

from config.migration_operations import AddIndexWithoutLock


class Migration(migrations.Migration):
    # The SLA scan's partial indexes, built without blocking writes (CREATE INDEX CONCURRENTLY on PostgreSQL).
    atomic = False

    dependencies = [
        ("feedback", "0013_retention_indexes"),
    ]

    operations = [
        AddIndexWithoutLock(
            model_name="followup",
            index=models.Index(
                condition=models.Q(("reminded_at__isnull", True), ("status__in", ["new", "in_progress", "waiting"])),
                fields=["remind_at"],
                name="follow_up_remind_due_idx",
            ),
        ),
        AddIndexWithoutLock(
            model_name="followup",
            index=models.Index(
                condition=models.Q(("escalated_at__isnull", True), ("status__in", ["new", "in_progress", "waiting"])),
                fields=["due_at"],
                name="follow_up_escalate_due_idx",
            ),
        ),
    ]
