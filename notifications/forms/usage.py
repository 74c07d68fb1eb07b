"""The Usage page's month and the price list's entry form."""
from datetime import date

from django import forms
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _

from notifications.forms.common import CalendarDateInput
from notifications.models import PriceRule

MONTHS_SHOWN = 13  # this month and the twelve before it


def recent_months(today: date) -> list[date]:
    months, month = [], today.replace(day=1)
    for _index in range(MONTHS_SHOWN):
        months.append(month)
        month = (month.replace(day=1) - date.resolution).replace(day=1)
    return months


class UsageMonthForm(forms.Form):
    month = forms.ChoiceField(label=_("Month"), required=False)

    def __init__(self, *args, today: date | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.today = today or timezone.localdate()
        self.fields["month"].choices = [(month.strftime("%Y-%m"), date_format(month, "YEAR_MONTH_FORMAT"))
                                        for month in recent_months(self.today)]
        self.fields["month"].widget.attrs["class"] = "form-select form-select-sm"

    def chosen(self) -> date:
        """The first day of the month asked for; this month when nothing (valid) was asked."""
        value = self.cleaned_data.get("month") if self.is_valid() else ""
        return date.fromisoformat(value + "-01") if value else self.today.replace(day=1)


class PriceRuleForm(forms.ModelForm):
    class Meta:
        model = PriceRule
        fields = ["mode", "kind", "unit", "unit_price", "effective_from", "note"]
        widgets = {"effective_from": CalendarDateInput()}
        help_texts = {
            "effective_from": _("The first day (company time zone) billed at this price; calls of earlier days keep theirs."),
            "unit_price": _("In yuan, up to four decimals, as the contract states it."),
        }
