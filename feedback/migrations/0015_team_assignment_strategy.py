from django.db import migrations, models


def rules_follow_their_team(apps, schema_editor):
    """A rule left on the old default (least open) now follows its team's strategy, which starts as least open:
    nothing changes for existing cases until a manager picks another strategy for the team."""
    apps.get_model("feedback", "RoutingRule").objects.filter(assignment="least_open").update(assignment="team")


def rules_keep_least_open(apps, schema_editor):
    apps.get_model("feedback", "RoutingRule").objects.filter(assignment="team").update(assignment="least_open")


class Migration(migrations.Migration):

    dependencies = [
        ('feedback', '0014_follow_up_sla_scan_indexes'),
    ]

    operations = [
        migrations.AddField(
            model_name='team',
            name='assignment',
            field=models.CharField(choices=[('least_open', 'Least open cases (ties: longest since their last case)'), ('round_robin', 'Round robin (each agent in turn)'), ('queue', 'Unassigned (agents pick from the team queue)')], default='least_open', help_text="Who gets a new case: only the team's active agents who are not away take part.", max_length=12, verbose_name='assignment strategy'),
        ),
        migrations.AddField(
            model_name='user',
            name='is_away',
            field=models.BooleanField(default=False, help_text='Away: no new case is assigned to them by a strategy.', verbose_name='away'),
        ),
        migrations.AddField(
            model_name='user',
            name='last_assigned_at',
            field=models.DateTimeField(blank=True, editable=False, help_text="When an assignment strategy last gave them a case (least open's tie-break).", null=True),
        ),
        migrations.AlterField(
            model_name='routingrule',
            name='assignment',
            field=models.CharField(choices=[('team', "The team's strategy"), ('least_open', 'Agent with fewest open follow-ups'), ('round_robin', "Round-robin among the team's agents"), ('property', 'Agent named by a contact or event property'), ('queue', 'Team queue (unassigned)')], default='team', max_length=12),
        ),
        migrations.RunPython(rules_follow_their_team, rules_keep_least_open),
    ]
