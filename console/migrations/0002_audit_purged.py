from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('console', '0001_initial'),
    ]

    operations = [
        migrations.AlterField(
            model_name='auditentry',
            name='action',
            field=models.CharField(choices=[('created', 'Created'), ('updated', 'Updated'), ('deleted', 'Deleted'), ('duplicated', 'Duplicated'), ('revoked', 'Revoked'), ('invited', 'Invited'), ('purged', 'Purged')], max_length=12),
        ),
    ]
