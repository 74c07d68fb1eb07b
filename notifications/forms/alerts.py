"""The alert rule form: name, kind, the chosen kind's thresholds, and who is told (emails, a chat robot)."""
from urllib.parse import urlsplit

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.translation import gettext_lazy as _

from notifications.models import AlertRule
from notifications.services.alert_kinds import KINDS, kind_choices

LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")


def param_field_name(kind: str, param: str) -> str:
    return f"{kind}__{param}"


def _param_field(param) -> forms.Field:
    if param.choices:
        return forms.ChoiceField(label=param.label, choices=param.choices, required=False, help_text=param.help_text)
    return forms.IntegerField(label=param.label, min_value=param.minimum, max_value=param.maximum, required=False,
                              help_text=param.help_text)


def mask_secret(value: str) -> str:
    """What the page shows of a saved webhook address or secret: enough to recognise it, not to use it."""
    if not value:
        return ""
    parts = urlsplit(value)
    tail = value[-4:] if len(value) > 12 else ""
    if parts.scheme and parts.netloc:
        return f"{parts.scheme}://{parts.netloc}/…{tail}"
    return f"…{tail}" if tail else "…"


class AlertRuleForm(forms.ModelForm):
    kind = forms.ChoiceField(label=_("Kind"), choices=kind_choices)
    email_recipients = forms.CharField(
        label=_("Email recipients"), required=False, widget=forms.TextInput(),
        help_text=_("Addresses separated by commas. Leave empty to send no mail."))
    webhook_url = forms.URLField(
        label=_("Chat robot webhook address"), required=False, max_length=500, assume_scheme="https",
        widget=forms.TextInput(attrs={"autocomplete": "off"}))
    webhook_secret = forms.CharField(
        label=_("Chat robot signing secret"), required=False, max_length=200,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=_("DingTalk and Feishu robots with signing turned on. WeCom robots have none."))

    class Meta:
        model = AlertRule
        fields = ["name", "kind", "active", "email_recipients", "webhook_kind", "webhook_url", "webhook_secret"]
        labels = {"name": _("Name"), "active": _("Active"), "webhook_kind": _("Chat robot")}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        rule = self.instance
        self.saved_url = rule.webhook_url if rule.pk else ""
        self.saved_secret = rule.webhook_secret if rule.pk else ""
        # Secrets are never sent back to the browser: the fields start empty, and empty keeps what is saved.
        self.initial["webhook_url"] = ""
        self.initial["webhook_secret"] = ""
        if self.saved_url:
            self.fields["webhook_url"].help_text = _("Saved: %(masked)s. Leave empty to keep it.") % {"masked": mask_secret(self.saved_url)}
        if self.saved_secret:
            self.fields["webhook_secret"].help_text = _("A secret is saved. Leave empty to keep it.")
        self.kind_fields: list[tuple[str, object, list[str]]] = []
        for kind in KINDS.values():
            names = []
            values = kind.values(rule.params) if rule.pk and rule.kind == kind.key else kind.defaults()
            for param in kind.params:
                name = param_field_name(kind.key, param.name)
                self.fields[name] = _param_field(param)
                self.initial.setdefault(name, values[param.name])
                names.append(name)
            self.kind_fields.append((kind.key, kind.label, names))

    def kind_groups(self):
        """(kind key, label, bound fields) for the template's fieldsets."""
        return [(key, label, [self[name] for name in names]) for key, label, names in self.kind_fields]

    def common_fields(self):
        return [self[name] for name in ("name", "kind", "active")]

    def delivery_fields(self):
        return [self[name] for name in ("email_recipients", "webhook_kind", "webhook_url", "webhook_secret")]

    def clean_email_recipients(self):
        raw = self.cleaned_data.get("email_recipients") or ""
        addresses = [address.strip() for address in raw.split(",") if address.strip()]
        bad = []
        for address in addresses:
            try:
                validate_email(address)
            except ValidationError:
                bad.append(address)
        if bad:
            raise ValidationError(_("Not an email address: %(addresses)s"), params={"addresses": ", ".join(bad)}, code="invalid")
        return ", ".join(addresses)

    def clean_webhook_url(self):
        url = (self.cleaned_data.get("webhook_url") or "").strip()
        if url:
            parts = urlsplit(url)
            if parts.scheme != "https" and parts.hostname not in LOCAL_HOSTS:
                raise ValidationError(_("The webhook address must start with https://."), code="https")
        return url

    def clean(self):
        data = super().clean()
        kind = KINDS.get(data.get("kind") or "")
        # Only the chosen kind's thresholds count: whatever the others' fields hold is ignored, errors too.
        for other, _label, names in self.kind_fields:
            if kind is None or other != kind.key:
                for name in names:
                    self._errors.pop(name, None)
        if kind is not None:
            params = {}
            for param in kind.params:
                name = param_field_name(kind.key, param.name)
                value = data.get(name)
                if value in (None, ""):
                    if name not in self.errors:
                        self.add_error(name, _("This threshold is needed for this kind of rule."))
                    continue
                params[param.name] = value
            self.instance.params = params
        webhook_kind = data.get("webhook_kind") or ""
        if webhook_kind:
            if not (data.get("webhook_url") or self.saved_url):
                self.add_error("webhook_url", _("Give the chat robot's webhook address."))
        elif data.get("webhook_url"):
            self.add_error("webhook_kind", _("Choose which chat robot the address belongs to."))
        return data

    def save(self, commit=True):
        rule = super().save(commit=False)
        if not rule.webhook_kind:
            rule.webhook_url, rule.webhook_secret = "", ""
        else:
            rule.webhook_url = self.cleaned_data.get("webhook_url") or self.saved_url
            rule.webhook_secret = self.cleaned_data.get("webhook_secret") or self.saved_secret
        if commit:
            rule.save()
        return rule
