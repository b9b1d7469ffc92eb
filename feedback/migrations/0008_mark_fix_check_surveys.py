from django.db import migrations


def mark_fix_check_surveys(apps, schema_editor):
    """Surveys already used as a "did we fix it?" survey: picked by a rule or sent for a case's resolution."""
    Survey = apps.get_model("surveys", "Survey")
    RoutingRule = apps.get_model("feedback", "RoutingRule")
    FixCheck = apps.get_model("feedback", "FixCheck")
    picked = set(
        RoutingRule.objects.filter(fix_check_survey__isnull=False).values_list("fix_check_survey_id", flat=True)
    )
    sent = set(FixCheck.objects.values_list("invitation__survey_id", flat=True).distinct())
    Survey.objects.filter(pk__in=picked | sent).update(is_fix_check=True)


class Migration(migrations.Migration):
    dependencies = [
        ("feedback", "0007_fix_check"),
        ("surveys", "0006_survey_is_fix_check"),
    ]

    operations = [migrations.RunPython(mark_fix_check_surveys, migrations.RunPython.noop)]
