"""Usage and cost: the price list a manager keeps, and the rule each call was billed by."""
from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from .choices import Mode, Purpose


class PriceRule(models.Model):
    """The price of one mode and kind of call from a day on (company time zone), until a later rule of the same pair.

    Calls are billed when they end with the rule in force on the day they were placed, and keep that figure: a rule
    added later changes no call that already has a price.
    """

    class Unit(models.TextChoices):
        CALL = "call", _("Per answered call")
        MINUTE = "minute", _("Per started minute of an answered call")

    mode = models.CharField(_("mode"), max_length=16, choices=Mode.choices)
    kind = models.CharField(_("kind"), max_length=16, choices=Purpose.choices)
    unit = models.CharField(_("billing unit"), max_length=8, choices=Unit.choices)
    unit_price = models.DecimalField(_("price per unit (CNY)"), max_digits=10, decimal_places=4,
                                     validators=[MinValueValidator(Decimal("0"))])
    effective_from = models.DateField(_("effective from"))
    note = models.CharField(_("note"), max_length=200, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="+", verbose_name=_("entered by"))
    created_at = models.DateTimeField(_("entered at"), auto_now_add=True)

    class Meta:
        ordering = ["mode", "kind", "-effective_from"]
        verbose_name = _("price")
        verbose_name_plural = _("price list")
        permissions = [("view_usage", _("Can see usage and cost"))]
        constraints = [
            models.UniqueConstraint(fields=["mode", "kind", "effective_from"], name="pricerule_one_per_day"),
            models.CheckConstraint(condition=models.Q(unit_price__gte=0), name="pricerule_price_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.get_mode_display()} {self.get_kind_display()} {self.unit_price} / {self.get_unit_display()}"
