from django.db import migrations, models
from django.db.models import F
from django.db.models.functions import JSONObject


def keep_refusals_as_written(apps, schema_editor):
    # A refusal written before is in the language of whoever ran the check; which one is not known, so it is kept
    # under no language code and shown as it was written, whatever the reader's language.
    CampaignRow = apps.get_model("notifications", "CampaignRow")
    CampaignRow.objects.exclude(refusal_message="").update(refusal_messages=JSONObject(**{"": F("refusal_message")}))


class Migration(migrations.Migration):

    dependencies = [
        ("notifications", "0016_usage_and_cost"),
    ]

    operations = [
        migrations.AddField(
            model_name="campaignrow",
            name="refusal_messages",
            field=models.JSONField(blank=True, default=dict, verbose_name="refusal"),
        ),
        migrations.RunPython(keep_refusals_as_written, migrations.RunPython.noop),
        migrations.RemoveField(
            model_name="campaignrow",
            name="refusal_message",
        ),
    ]
