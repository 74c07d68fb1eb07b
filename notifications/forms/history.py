"""The dashboard's date range."""
from datetime import timedelta

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from notifications.forms.common import CalendarDateInput, DayOrderCheck
from notifications.selectors import CallRecordFilter, quick_range_days

MAX_DAYS = 366


class DashboardRangeForm(DayOrderCheck, forms.Form):
    range = forms.ChoiceField(label=_("Quick range"), choices=[("", _("Custom"))] + CallRecordFilter.RANGE_CHOICES, required=False)
    date_from = forms.DateField(label=_("From"), required=False, widget=CalendarDateInput())
    date_to = forms.DateField(label=_("To"), required=False, widget=CalendarDateInput())

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["range"].widget.attrs["class"] = "form-select form-select-sm"
        for name in ("date_from", "date_to"):
            self.fields[name].widget.attrs["class"] = "form-control form-control-sm"

    def period(self):
        """(name, first, last): the quick range's label and its local dates, or "" and the chosen dates; with
        nothing valid chosen, the last 7 days."""
        data = self.cleaned_data if self.is_valid() else {}
        labels = dict(self.fields["range"].choices)
        if data.get("date_from") or data.get("date_to"):
            last = data.get("date_to") or timezone.localdate()
            first = data.get("date_from") or last - timedelta(days=6)
            return "", max(first, last - timedelta(days=MAX_DAYS - 1)), last
        name = data.get("range") or "7d"
        return labels[name], *quick_range_days(name)
