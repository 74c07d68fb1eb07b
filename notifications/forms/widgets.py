"""Widgets shared by the forms of several areas."""
from django import forms


class CalendarDateInput(forms.DateInput):
    """The browser's date picker. Its value must be ISO (YYYY-MM-DD) whatever the language: with the locale's format
    (Chinese writes 2026/01/01) the browser shows an empty field, and saving the form unchanged would erase the date."""

    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs, format="%Y-%m-%d")
