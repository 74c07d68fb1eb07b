"""Template lineage: a template with copies is protected from deletion, and an index answers a family's call figures.

The on_delete change is Django's alone (no SQL). The index (tts_template, status, outcome) lets the lineage count
calls, final calls and answered calls per template from the index without reading the call table; on PostgreSQL
building it locks the call table against writes while it runs (seconds at a million calls).
"""
import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [("notifications", "0012_blocked_number_import_and_expiry")]

    operations = [
        migrations.AlterField(
            model_name="ttstemplate",
            name="copied_from",
            field=models.ForeignKey(
                blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name="copies",
                to="notifications.ttstemplate", verbose_name="copied from",
            ),
        ),
        migrations.AddIndex(
            model_name="callrecord",
            index=models.Index(fields=["tts_template", "status", "outcome"], name="callrecord_template_state_idx"),
        ),
    ]
