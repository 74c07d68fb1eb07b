"""Test-dial forms (shape only: the dialing rules live in the service) and the do-not-call list form."""
from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from notifications.models import BlockedNumber, CallerNumber, Mode, ReviewStatus, TtsTemplate, VoiceFile
from notifications.rules import dialing as rules
from notifications.rules.identifiers import normalize_mainland_number

LIST_FILE_TYPES = ".csv,.xlsx,text/csv,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

PARAM_PREFIX = "param_"


class _ResourceChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        code = getattr(obj, "tts_code", "") or getattr(obj, "voice_code", "")
        return f"{obj} ({code}, {obj.get_mode_display()})"


class OfferedCallerIterator(forms.models.ModelChoiceIterator):
    """The choices of a caller-number field: the numbers of its queryset not past their expiry date today (company
    time zone). The queryset itself keeps the expired ones, so a number that expired while the form was open is still
    accepted by the field and refused by the dialing rules with its date, not as a bare "not one of the choices"."""

    def __iter__(self):
        today = rules.company_today()
        for value, label in super().__iter__():
            instance = getattr(value, "instance", None)
            if instance is None or not instance.has_expired(today):
                yield value, label

    def __len__(self):
        return sum(1 for _choice in self)

    def __bool__(self):
        return any(True for _choice in self)


class CallerNumberChoice(forms.ModelChoiceField):
    iterator = OfferedCallerIterator


class DialForm(forms.Form):
    """Fields shared by both test-dial forms; `resource` is the chosen template or voice file (None until chosen)."""

    resource_field = ""

    called_number = forms.CharField(
        label=_("Number to call"), max_length=30,
        help_text=_("A mainland mobile (11 digits) or landline with its area code, e.g. 057188886666."),
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "off"}),
    )
    caller_number = CallerNumberChoice(label=_("Caller number"), queryset=CallerNumber.objects.none(), required=False)
    play_times = forms.IntegerField(label=_("Play times"), initial=3, min_value=rules.PLAY_TIMES_RANGE[0],
                                    max_value=rules.PLAY_TIMES_RANGE[1])
    volume = forms.IntegerField(label=_("Volume"), initial=100, min_value=rules.VOLUME_RANGE[0], max_value=rules.VOLUME_RANGE[1])
    speed = forms.IntegerField(label=_("Speed"), required=False, min_value=rules.SPEED_RANGE[0], max_value=rules.SPEED_RANGE[1],
                               help_text=_("Optional, from −500 (slower) to 500 (faster)."))

    def __init__(self, *args, resource=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.resource = resource
        self.order_fields([self.resource_field])
        if resource is None:
            # First the content is chosen; the call's fields follow for that content.
            for name in [name for name in self.fields if name != self.resource_field]:
                del self.fields[name]
        elif resource.mode != Mode.DEDICATED:
            del self.fields["caller_number"]
        else:
            self.fields["caller_number"].required = True
            self.fields["caller_number"].help_text = _("Only active numbers of this content's qualification that have not "
                                                       "expired are listed.")
            self.fields["caller_number"].queryset = CallerNumber.objects.filter(
                status=CallerNumber.Status.ACTIVE, qualification=resource.qualification_id,
                qualification__status=ReviewStatus.APPROVED,
            )

    def clean_called_number(self) -> str:
        number, _kind = normalize_mainland_number(self.cleaned_data["called_number"])
        return number

    def add_service_errors(self, error: ValidationError) -> None:
        """Attach the service's errors to the fields they are about; anything else goes above the form."""
        for key, messages in error.error_dict.items():
            field = self.resource_field if key == "resource" else key
            self.add_error(field if field in self.fields else None, messages)


class TtsDialForm(DialForm):
    resource_field = "template"

    template = _ResourceChoice(
        label=_("TTS template"), queryset=TtsTemplate.objects.filter(status=ReviewStatus.APPROVED).select_related("qualification"),
        help_text=_("Only templates the provider has approved are listed."),
    )

    def __init__(self, *args, resource=None, **kwargs):
        super().__init__(*args, resource=resource, **kwargs)
        # One field per variable, labelled by its name, so a value is entered for every ${name}.
        for name in resource.variables if resource is not None else []:
            self.fields[PARAM_PREFIX + name] = forms.CharField(
                label=name, max_length=rules.MAX_PARAM_TOTAL,
                widget=forms.TextInput(attrs={"data-variable": name, "autocomplete": "off"}),
            )
        # The values right under the template they belong to, before the call's settings.
        self.order_fields([self.resource_field, *(name for name in self.fields if name.startswith(PARAM_PREFIX))])

    def params(self) -> dict[str, str]:
        return {name[len(PARAM_PREFIX):]: value for name, value in self.cleaned_data.items() if name.startswith(PARAM_PREFIX)}


class VoiceDialForm(DialForm):
    resource_field = "voice_file"

    voice_file = _ResourceChoice(
        label=_("Voice file"), queryset=VoiceFile.objects.filter(status=ReviewStatus.APPROVED).select_related("qualification"),
        help_text=_("Only voice files the provider has approved are listed."),
    )

    def params(self) -> dict[str, str]:
        return {}


class BlockedNumberForm(forms.ModelForm):
    class Meta:
        model = BlockedNumber
        fields = ["number", "reason", "expires_on"]
        widgets = {
            "number": forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "off"}),
            "expires_on": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        }

    def __init__(self, *args, number_from_call: str | None = None, **kwargs):
        """`number_from_call`: the callee of the call being blocked, for users who may not see it in full.

        The number field then leaves the form: the number is never sent to the browser nor taken from it.
        """
        super().__init__(*args, **kwargs)
        self.number_from_call = number_from_call
        if number_from_call:
            del self.fields["number"]
        self.fields["expires_on"].widget.attrs["min"] = timezone.localdate().isoformat()

    def clean_number(self) -> str:
        number, _kind = normalize_mainland_number(self.cleaned_data["number"])
        if BlockedNumber.objects.filter(number=number).exclude(pk=self.instance.pk).exists():
            raise ValidationError(_("This number is already on the do-not-call list."))
        return number

    def clean_expires_on(self):
        expires_on = self.cleaned_data.get("expires_on")
        unchanged = self.instance.pk is not None and expires_on == self.instance.expires_on
        if expires_on is not None and not unchanged and expires_on < timezone.localdate():
            raise ValidationError(_("This day has passed: a block must end today or later."), code="past")
        return expires_on

    def clean(self):
        cleaned = super().clean()
        if self.number_from_call:
            if BlockedNumber.objects.filter(number=self.number_from_call).exists():
                raise ValidationError(_("This number is already on the do-not-call list."))
            cleaned["number"] = self.number_from_call
        return cleaned


class BlockedNumberImportForm(forms.Form):
    file = forms.FileField(
        label=_("File"),
        help_text=_("CSV (UTF-8, GBK/GB18030 or UTF-16, as Excel saves it) or XLSX. The first row names the columns: "
                    "the number (号码, 手机号 or number), and optionally the reason (原因 or reason) and the last day of "
                    "the block (到期, 有效期至 or expires, e.g. 2026-05-12)."),
        widget=forms.ClearableFileInput(attrs={"accept": LIST_FILE_TYPES}),
    )
