"""Managers made before the role stopped implying it were Django superusers: their role grants them what they
need (feedback.backends.RoleBackend). An operator who needs a true superuser runs `manage.py createsuperuser`."""

from django.db import migrations


def demote(apps, schema_editor):
    User = apps.get_model("feedback", "User")
    User.objects.filter(role="manager", is_superuser=True).update(is_superuser=False, is_staff=True)


class Migration(migrations.Migration):
    dependencies = [("feedback", "0011_workbench")]

    operations = [migrations.RunPython(demote, migrations.RunPython.noop)]
