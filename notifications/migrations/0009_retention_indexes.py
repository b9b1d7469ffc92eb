from django.db import migrations, models

from config.migration_operations import AddIndexWithoutLock


class Migration(migrations.Migration):
    # The retention purge's indexes, built without blocking writes (CREATE INDEX CONCURRENTLY on PostgreSQL).
    atomic = False

    dependencies = [
        ("notifications", "0008_whatsapp"),
    ]

    operations = [
        AddIndexWithoutLock(
            model_name="inboundemail",
            index=models.Index(fields=["received_at"], name="inbound_email_received_idx"),
        ),
        AddIndexWithoutLock(
            model_name="inboundsms",
            index=models.Index(fields=["received_at"], name="inbound_sms_received_idx"),
        ),
        AddIndexWithoutLock(
            model_name="message",
            index=models.Index(
                condition=models.Q(("body_text", ""), _negated=True),
                fields=["created_at"],
                name="message_body_retention_idx",
            ),
        ),
        AddIndexWithoutLock(
            model_name="providerevent",
            index=models.Index(
                condition=models.Q(("kind", "open"), _negated=True),
                fields=["received_at"],
                name="provider_event_retention_idx",
            ),
        ),
    ]
