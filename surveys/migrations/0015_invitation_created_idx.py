from django.db import migrations, models

from config.migration_operations import AddIndexWithoutLock


class Migration(migrations.Migration):
    # The funnel refresh's index on creation time, built without blocking writes (CREATE INDEX CONCURRENTLY on
    # PostgreSQL): minutes on a table of ten million invitations.
    atomic = False

    dependencies = [
        ("surveys", "0014_contact_erased_at"),
    ]

    operations = [
        AddIndexWithoutLock(
            model_name="invitation",
            index=models.Index(fields=["created_at"], name="invitation_created_idx"),
        ),
    ]
