from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("notifications", "0019_periodic_run_summary_in_each_language"),
    ]

    operations = [
        migrations.AddField(
            model_name="callevent",
            name="messages",
            field=models.JSONField(blank=True, null=True, verbose_name="message in each language"),
        ),
        migrations.AddField(
            model_name="callrecord",
            name="api_messages",
            field=models.JSONField(blank=True, null=True, verbose_name="API message in each language"),
        ),
    ]
