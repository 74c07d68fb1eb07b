from django.db import migrations

from notifications.roles import sync_role_groups


class Migration(migrations.Migration):
    """Operators create and send campaigns; managers approve them (and may pause or cancel any)."""

    dependencies = [("notifications", "0010_campaigns")]

    operations = [migrations.RunPython(sync_role_groups, migrations.RunPython.noop)]
