from django.db import migrations, models

from config.migration_operations import AddIndexWithoutLock


class Migration(migrations.Migration):
    # The retention purge's indexes, built without blocking writes (CREATE INDEX CONCURRENTLY on PostgreSQL).
    atomic = False

    dependencies = [
        ("integrations", "0002_connectors"),
    ]

    operations = [
        AddIndexWithoutLock(
            model_name="webhookdelivery",
            index=models.Index(
                condition=models.Q(("status__in", ["delivered", "failed"])),
                fields=["created_at"],
                name="webhook_delivery_done_idx",
            ),
        ),
        AddIndexWithoutLock(
            model_name="connectordelivery",
            index=models.Index(
                condition=models.Q(("payload__isnull", False)),
                fields=["received_at"],
                name="connector_payload_purge_idx",
            ),
        ),
    ]
