
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('feedback', '0016_user_language'),
    ]

    operations = [
        migrations.AddField(
            model_name='team',
            name='slack_channel_id',
            field=models.CharField(blank=True, help_text="With a Slack bot token: the channel picked from Slack's list; its notices go there.", max_length=30, verbose_name='Slack channel'),
        ),
        migrations.AddField(
            model_name='team',
            name='slack_channel_name',
            field=models.CharField(blank=True, editable=False, help_text='As Slack listed it.', max_length=80),
        ),
    ]
