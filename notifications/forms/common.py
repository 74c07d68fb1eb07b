"""Pieces shared by the forms of several areas."""
from django import forms
from django.utils.translation import gettext_lazy as _


class CalendarDateInput(forms.DateInput):
    """The browser's date picker. Its value must be ISO (YYYY-MM-DD) whatever the language: with the locale's format
    (Chinese writes 2026/01/01) the browser shows an empty field, and saving the form unchanged would erase the date."""

    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs, format="%Y-%m-%d")


def explicit_dates_win(data):
    """The filters as given, but with chosen From/To dates the quick range is dropped: a page never shows a period
    the user did not ask for, and its range field then reads "Custom" (dashboard) or "Any time" (call log)."""
    if data is None or not (data.get("date_from") or data.get("date_to")) or not data.get("range"):
        return data
    data = data.copy()
    data["range"] = ""
    return data


class DayOrderCheck:
    """For a form with `date_from` and `date_to`: the first day must not be after the last one."""

    day_order_error_field: str | None = None  # the field the error is shown next to; None: above the form

    def clean(self):
        data = super().clean()
        if data.get("date_from") and data.get("date_to") and data["date_from"] > data["date_to"]:
            self.add_error(self.day_order_error_field, _("The first day must not be after the last day."))
        return data
