"""The console's roles as Django groups and the model permissions each one holds.

Data migrations call `sync_role_groups` so a fresh database always has the groups; change the
lists here and add a migration that calls it again.
"""
OPERATORS = "Operators"
MANAGERS = "Managers"

_REGISTER = ("qualification", "callernumber", "voicefile", "ttstemplate")

ROLE_PERMISSIONS: dict[str, list[str]] = {
    OPERATORS: [
        *(f"{action}_{model}" for model in _REGISTER for action in ("add", "change", "view")),
        "view_callrecord", "view_callevent", "dial_callrecord", "view_full_number", "view_blockednumber",
        "add_campaign", "change_campaign", "view_campaign", "view_campaignrow",
    ],
    MANAGERS: [
        *(f"view_{model}" for model in _REGISTER),
        "review_qualification", "review_voicefile", "review_ttstemplate", "manage_callernumber_status",
        "view_callrecord", "view_callevent", "export_callrecord", "requery_callrecord",
        "add_blockednumber", "change_blockednumber", "delete_blockednumber", "view_blockednumber",
        # The pipeline's own records: the receipt inbox (with replay) and the system health page.
        "view_receiptdelivery", "replay_receiptdelivery", "view_periodicrun",
        "view_auditentry",  # the audit log page
        # Campaigns: approve another person's campaign, pause or cancel any.
        "view_campaign", "view_campaignrow", "approve_campaign", "change_campaign",
        # Usage and cost: the Usage page and the price list it bills by.
        "view_usage", "view_pricerule", "add_pricerule",
        # Alerts: the rules and the alerts they open.
        "view_alertrule", "add_alertrule", "change_alertrule", "view_alert", "change_alert",
    ],
}


def sync_role_groups(apps, schema_editor=None) -> None:
    """Create the role groups and give each exactly the permissions listed above."""
    from django.contrib.auth.management import create_permissions

    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, codenames in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=name)
        # Earlier migrations run this with today's lists, before the models of later permissions exist: those are
        # given by the migration that creates their model (and calls this again). tests/privacy/test_roles.py checks
        # that after every migration each listed permission exists, so a misspelt one still fails.
        permissions = Permission.objects.filter(content_type__app_label="notifications", codename__in=codenames)
        group.permissions.set(permissions)
