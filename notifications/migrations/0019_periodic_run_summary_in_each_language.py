from django.db import migrations, models
from django.db.models import F
from django.db.models.functions import JSONObject


def keep_summaries_as_written(apps, schema_editor):
    # A summary written before is in the scheduler's language, which is not known: kept under no language code and
    # shown as written until the task's next run replaces it.
    PeriodicRun = apps.get_model("notifications", "PeriodicRun")
    PeriodicRun.objects.exclude(summary="").update(summaries=JSONObject(**{"": F("summary")}))


class Migration(migrations.Migration):

    dependencies = [
        ("notifications", "0018_audit_do_not_call_download"),
    ]

    operations = [
        migrations.AddField(
            model_name="periodicrun",
            name="summaries",
            field=models.JSONField(blank=True, default=dict, verbose_name="last summary"),
        ),
        migrations.RunPython(keep_summaries_as_written, migrations.RunPython.noop),
        migrations.RemoveField(
            model_name="periodicrun",
            name="summary",
        ),
    ]
