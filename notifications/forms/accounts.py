"""Forms of the users page and the audited password reset."""
import logging

from django import forms
from django.contrib.auth.forms import PasswordResetForm
from django.contrib.auth.models import User
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.utils.translation import gettext_lazy as _

from notifications.models import AuditEntry
from notifications.roles import MANAGERS, OPERATORS
from notifications.services.audit import audit_record

logger = logging.getLogger(__name__)


def role_choices():
    return [(OPERATORS, _("Operator")), (MANAGERS, _("Manager"))]


class InviteForm(forms.Form):
    email = forms.EmailField(label=_("Email"))
    first_name = forms.CharField(label=_("First name"), max_length=150, required=False)
    last_name = forms.CharField(label=_("Last name"), max_length=150, required=False)
    role = forms.ChoiceField(label=_("Role"), choices=role_choices)

    def clean_email(self):
        email = self.cleaned_data["email"].strip().lower()
        if User.objects.filter(username__iexact=email).exists() or User.objects.filter(email__iexact=email).exists():
            raise forms.ValidationError(_("Someone with this email already has an account."))
        return email


class RoleForm(forms.Form):
    role = forms.ChoiceField(label=_("Role"), choices=role_choices)  # never "superuser": anything else is refused


class AuditedPasswordResetForm(PasswordResetForm):
    """Django's reset form: each request for a known account is audited; a mail that cannot be sent is logged, and
    the page looks the same either way, so it never tells whether the address has an account."""

    def get_users(self, email):
        for user in super().get_users(email):
            audit_record(user=None, action=AuditEntry.Action.PASSWORD_RESET_REQUESTED, target=user)
            yield user

    def send_mail(self, subject_template_name, email_template_name, context, from_email, to_email,
                  html_email_template_name=None):
        # Django's own version logs the whole traceback, whose text may carry the SMTP server's answer; only the
        # kind of failure is logged here.
        subject = "".join(render_to_string(subject_template_name, context).splitlines())
        try:
            EmailMultiAlternatives(subject, render_to_string(email_template_name, context), from_email,
                                   [to_email]).send()
        except Exception as error:  # noqa: BLE001 - SMTP down must not break the page
            logger.warning("password reset mail could not be sent: %s", type(error).__name__)
