from django.db import migrations, models

from config.migration_operations import AddIndexWithoutLock


class Migration(migrations.Migration):
    # The retention purge's index of the web widget's visitors, built without blocking writes to contacts
    # (CREATE INDEX CONCURRENTLY on PostgreSQL).
    atomic = False

    dependencies = [
        ("surveys", "0016_survey_expiry_and_fatigue_windows"),
    ]

    operations = [
        AddIndexWithoutLock(
            model_name="contact",
            index=models.Index(
                condition=models.Q(("external_id__startswith", "web-visitor:")),
                fields=["created_at"],
                name="contact_visitor_retention_idx",
            ),
        ),
    ]
