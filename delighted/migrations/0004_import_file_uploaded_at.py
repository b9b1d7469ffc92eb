import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("delighted", "0003_imports"),
    ]

    operations = [
        migrations.AddField(
            model_name="delightedimportfile",
            name="uploaded_at",
            field=models.DateTimeField(auto_now_add=True, db_index=True, default=django.utils.timezone.now),
            preserve_default=False,
        ),
    ]
