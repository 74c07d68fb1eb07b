"""Usage and cost: the price list (with the published verification-code prices), each call's billing, and the daily
figures' cost columns and campaign / person breakdown; managers get the Usage page and the price list. Qualifications
get the day they are valid until, which the expiry alerts watch."""
import datetime
from decimal import Decimal

import django.core.validators
import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

from notifications.roles import sync_role_groups

# Alibaba Cloud's published voice verification-code prices (the first monthly volume tier of the dedicated mode).
# Notification prices were not published beside them: the contract's prices belong in the list (the Usage page says so).
PUBLISHED_PRICES = [("public", "verification", "call", Decimal("0.0600")), ("dedicated", "verification", "call", Decimal("0.0800"))]
PUBLISHED_FROM = datetime.date(2017, 5, 25)


def published_prices(apps, schema_editor):
    PriceRule = apps.get_model("notifications", "PriceRule")
    for mode, kind, unit, price in PUBLISHED_PRICES:
        PriceRule.objects.get_or_create(mode=mode, kind=kind, effective_from=PUBLISHED_FROM, defaults={
            "unit": unit, "unit_price": price, "note": "Alibaba Cloud published price"})


class Migration(migrations.Migration):

    dependencies = [
        ('notifications', '0015_alerts'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='PriceRule',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('mode', models.CharField(choices=[('public', 'Public pool'), ('dedicated', 'Dedicated')], max_length=16, verbose_name='mode')),
                ('kind', models.CharField(choices=[('notification', 'Voice notification'), ('verification', 'Verification code')], max_length=16, verbose_name='kind')),
                ('unit', models.CharField(choices=[('call', 'Per answered call'), ('minute', 'Per started minute of an answered call')], max_length=8, verbose_name='billing unit')),
                ('unit_price', models.DecimalField(decimal_places=4, max_digits=10, validators=[django.core.validators.MinValueValidator(Decimal('0'))], verbose_name='price per unit (CNY)')),
                ('effective_from', models.DateField(verbose_name='effective from')),
                ('note', models.CharField(blank=True, max_length=200, verbose_name='note')),
                ('created_at', models.DateTimeField(auto_now_add=True, verbose_name='entered at')),
            ],
            options={
                'verbose_name': 'price',
                'verbose_name_plural': 'price list',
                'ordering': ['mode', 'kind', '-effective_from'],
                'permissions': [('view_usage', 'Can see usage and cost')],
            },
        ),
        migrations.AddField(
            model_name='callrecord',
            name='billed_at',
            field=models.DateTimeField(blank=True, null=True, verbose_name='billed at'),
        ),
        migrations.AddField(
            model_name='callrecord',
            name='billed_cost',
            field=models.DecimalField(blank=True, decimal_places=4, max_digits=12, null=True, verbose_name='estimated cost (CNY)'),
        ),
        migrations.AddField(
            model_name='callrecord',
            name='billed_unit',
            field=models.CharField(blank=True, db_default='', default='', max_length=8, verbose_name='billing unit'),
        ),
        migrations.AddField(
            model_name='callrecord',
            name='billed_units',
            field=models.PositiveIntegerField(blank=True, null=True, verbose_name='billed units'),
        ),
        migrations.AddField(
            model_name='dailycallstat',
            name='billed_count',
            field=models.PositiveIntegerField(default=0, verbose_name='billed calls'),
        ),
        migrations.AddField(
            model_name='dailycallstat',
            name='billed_minutes',
            field=models.PositiveIntegerField(default=0, verbose_name='billed minutes'),
        ),
        migrations.AddField(
            model_name='dailycallstat',
            name='campaign',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='notifications.campaign'),
        ),
        migrations.AddField(
            model_name='dailycallstat',
            name='cost_sum',
            field=models.DecimalField(decimal_places=4, default=0, max_digits=14, verbose_name='estimated cost (CNY)'),
        ),
        migrations.AddField(
            model_name='dailycallstat',
            name='requested_by',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='+', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AddField(
            model_name='dailycallstat',
            name='unpriced_count',
            field=models.PositiveIntegerField(default=0, verbose_name='answered calls without a price'),
        ),
        migrations.AlterField(
            model_name='auditentry',
            name='action',
            field=models.CharField(choices=[('review_decision', 'Review decision'), ('number_transition', 'Number state change'), ('dial', 'Test call placed'), ('export', 'Call export'), ('full_number_view', 'Full number viewed'), ('full_number_search', 'Search by a full number'), ('blocked_number_added', 'Number blocked'), ('blocked_number_removed', 'Number unblocked'), ('blocked_number_changed', 'Block changed'), ('blocked_numbers_imported', 'Do-not-call list imported'), ('settings_change', 'Settings changed'), ('receipt_replay', 'Receipt replayed'), ('sign_in', 'Signed in'), ('sign_in_failed', 'Sign-in refused'), ('lockout', 'Sign-in locked'), ('unlock', 'Sign-in unlocked'), ('two_factor_enrolled', 'Two-factor sign-in set up'), ('two_factor_reset', 'Two-factor sign-in reset'), ('user_invited', 'User invited'), ('user_activated', 'User activated'), ('user_deactivated', 'User deactivated'), ('user_role_changed', 'Role changed'), ('password_changed', 'Password set'), ('password_reset_requested', 'Password reset asked for'), ('campaign_created', 'Campaign created'), ('campaign_submitted', 'Campaign sent for approval'), ('campaign_approved', 'Campaign approved'), ('campaign_rejected', 'Campaign sent back'), ('campaign_paused', 'Campaign paused'), ('campaign_resumed', 'Campaign resumed'), ('campaign_cancelled', 'Campaign cancelled'), ('price_added', 'Price entered'), ('alert_rule_created', 'Alert rule added'), ('alert_rule_changed', 'Alert rule changed'), ('alert_acknowledged', 'Alert acknowledged'), ('alert_resolved', 'Alert resolved')], max_length=32, verbose_name='action'),
        ),
        migrations.AddIndex(
            model_name='callrecord',
            index=models.Index(condition=models.Q(('billed_at__isnull', True)), fields=['created_at', 'id'], name='callrecord_unbilled_idx'),
        ),
        migrations.AddField(
            model_name='pricerule',
            name='created_by',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='entered by'),
        ),
        migrations.AddConstraint(
            model_name='pricerule',
            constraint=models.UniqueConstraint(fields=('mode', 'kind', 'effective_from'), name='pricerule_one_per_day'),
        ),
        migrations.AddConstraint(
            model_name='pricerule',
            constraint=models.CheckConstraint(condition=models.Q(('unit_price__gte', 0)), name='pricerule_price_not_negative'),
        ),
        migrations.AddField(
            model_name='qualification',
            name='expires_on',
            field=models.DateField(blank=True, null=True, verbose_name='valid until'),
        ),
        migrations.RunPython(published_prices, migrations.RunPython.noop),
        migrations.RunPython(sync_role_groups, migrations.RunPython.noop),
    ]
