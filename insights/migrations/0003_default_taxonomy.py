"""Every workspace starts with the default taxonomy: six themes with seed phrases in English and French."""

from django.db import migrations


def install(apps, schema_editor):
    from insights.text.taxonomy import DEFAULT_TAXONOMY

    Theme = apps.get_model("insights", "Theme")
    if Theme.objects.exists():
        return
    Theme.objects.bulk_create(
        [Theme(slug=t.slug, name=t.name, seeds=list(t.seeds), position=i) for i, t in enumerate(DEFAULT_TAXONOMY)]
    )


class Migration(migrations.Migration):
    dependencies = [("insights", "0002_themes")]

    operations = [migrations.RunPython(install, migrations.RunPython.noop)]
