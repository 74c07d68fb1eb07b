"""The audit log's filters: person, action and a range of days, all in the URL like the call log's."""
from django import forms
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _

from notifications.forms.common import CalendarDateInput, DayOrderCheck
from notifications.models import AuditEntry


class AuditFilterForm(DayOrderCheck, forms.Form):
    day_order_error_field = "date_to"

    user = forms.ModelChoiceField(label=_("Person"), queryset=get_user_model().objects.order_by("username").only("id", "username"),
                                  required=False, empty_label=_("Anyone"))
    action = forms.ChoiceField(label=_("Action"), choices=[("", _("Any action")), *AuditEntry.Action.choices], required=False)
    date_from = forms.DateField(label=_("From"), required=False, widget=CalendarDateInput())
    date_to = forms.DateField(label=_("To"), required=False, widget=CalendarDateInput())

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["user"].label_from_instance = lambda user: user.get_username()
        for field in self.fields.values():
            select = isinstance(field.widget, forms.Select)
            field.widget.attrs["class"] = "form-select form-select-sm" if select else "form-control form-control-sm"
