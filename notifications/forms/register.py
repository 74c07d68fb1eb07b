"""Forms of the register: shape and formats here; lifecycle rules live in the services."""
import re

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db.models import Q
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from notifications.audio import inspect_licence_upload, inspect_voice_upload
from notifications.forms.common import CalendarDateInput
from notifications.models import CallerNumber, Mode, Purpose, Qualification, ReviewStatus, TtsTemplate, VoiceFile
from notifications.rules.company_clock import company_today
from notifications.rules.identifiers import normalize_credit_code, normalize_mainland_number
from notifications.rules.templates import MAX_LENGTH, template_errors

# 400 numbers are 10 digits; 95 numbers are short service numbers of 5 to 8 digits.
_SPECIAL_NUMBER = {
    CallerNumber.Type.SPECIAL_400: (re.compile(r"400\d{7}"), _("A 400 number has 10 digits and starts with 400.")),
    CallerNumber.Type.SPECIAL_95: (re.compile(r"95\d{3,6}"), _("A 95 number has 5 to 8 digits and starts with 95.")),
}


def qualification_label(qualification: Qualification) -> str:
    """A qualification as offered in a select: its name and its state, e.g. "杭州示例科技有限公司 — 已驳回"."""
    return f"{qualification.company_name} — {qualification.get_status_display()}"


class QualificationSelect(forms.Select):
    """Options carry their qualification's state; the chosen one's state is drawn beside the select as a badge (and
    kept current by register.js), with a warning when content under it cannot be submitted."""

    def create_option(self, name, value, label, selected, index, subindex=None, attrs=None):
        option = super().create_option(name, value, label, selected, index, subindex, attrs)
        instance = getattr(value, "instance", None)
        if instance is not None:
            option["attrs"].update({"data-state": instance.status, "data-state-label": instance.get_status_display()})
        return option

    def render(self, name, value, attrs=None, renderer=None):
        select = super().render(name, value, attrs, renderer)
        chosen = None
        if value not in (None, ""):
            chosen = Qualification.objects.filter(pk=getattr(value, "value", value)).only("status").first()
        widget_id = (attrs or {}).get("id") or self.attrs.get("id") or f"id_{name}"
        badge = format_html('<span class="va-state va-state-{}" data-va-state-badge>{}</span>', chosen.status,
                            chosen.get_status_display()) if chosen else mark_safe("<span data-va-state-badge></span>")
        warning = _("Content can be submitted for review only under an approved qualification.")
        hidden = "" if chosen and chosen.status != ReviewStatus.APPROVED else " d-none"
        return format_html(
            '{}<div class="mt-1 small" data-va-qualification-state="{}">{} '
            '<span class="text-danger{}" data-va-state-warning>{}</span></div>',
            select, widget_id, badge, hidden, warning,
        )


class QualificationChoiceField(forms.ModelChoiceField):
    widget = QualificationSelect

    def label_from_instance(self, obj):
        return qualification_label(obj)


class KeepFileHintMixin:
    """On an edit form an empty file field keeps the stored file; the hint says so there only."""

    file_field = ""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields.get(self.file_field)
        if self.instance.pk and field is not None and getattr(self.instance, self.file_field):
            field.required = False  # the stored file stays unless another is chosen
            field.help_text = format_lazy("{} {}", field.help_text, _("Leave empty to keep the current file."))


class QualificationForm(KeepFileHintMixin, forms.ModelForm):
    file_field = "licence"

    class Meta:
        model = Qualification
        fields = ["company_name", "credit_code", "legal_representative", "contact_name", "contact_phone", "purpose", "expires_on",
                  "licence"]
        help_texts = {
            "expires_on": _("Optional: the last day the qualification is valid. Alert rules can warn before it."),
            "credit_code": _("18 characters as printed on the business licence (统一社会信用代码); lower case is accepted."),
            "contact_phone": _("Mainland mobile or landline with area code."),
            "licence": _("A scan of the business licence: JPEG, PNG or PDF, at most 5 MB."),
        }
        widgets = {"licence": forms.FileInput(attrs={"accept": "image/jpeg,image/png,application/pdf"}),
                   "expires_on": CalendarDateInput()}
        error_messages = {"credit_code": {"unique": _("A qualification with this credit code is already registered.")}}

    def clean_credit_code(self):
        return normalize_credit_code(self.cleaned_data["credit_code"])

    def clean_contact_phone(self):
        return normalize_mainland_number(self.cleaned_data["contact_phone"])[0]

    def clean_licence(self):
        licence = self.cleaned_data.get("licence")
        if isinstance(licence, UploadedFile):
            inspect_licence_upload(licence)
        return licence


class CallerNumberForm(forms.ModelForm):
    class Meta:
        model = CallerNumber
        fields = ["number", "number_type", "province", "city", "qualification", "purpose", "monthly_rent", "purchased_on", "expires_on"]
        help_texts = {
            "number": _("Mobile (11 digits) or landline with area code; the type of a mobile or landline is detected from the number."),
            "qualification": _("The number can only become active once this qualification is approved."),
        }
        widgets = {"purchased_on": CalendarDateInput(), "expires_on": CalendarDateInput()}
        field_classes = {"qualification": QualificationChoiceField}
        error_messages = {"number": {"unique": _("This number is already registered.")}}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk and self.instance.status != CallerNumber.Status.PENDING:
            # The provider ties a number to its qualification once it is in service.
            for name in ("number", "number_type", "qualification"):
                self.fields[name].disabled = True

    def clean(self):
        cleaned = super().clean()
        raw, number_type = cleaned.get("number"), cleaned.get("number_type")
        if raw and number_type and not self.fields["number"].disabled:
            if number_type in _SPECIAL_NUMBER:
                pattern, message = _SPECIAL_NUMBER[number_type]
                digits = re.sub(r"[\s-]", "", raw)
                if not pattern.fullmatch(digits):
                    self.add_error("number", message)
                else:
                    cleaned["number"] = digits
            else:
                try:
                    cleaned["number"], cleaned["number_type"] = normalize_mainland_number(raw)
                except ValidationError as exc:
                    self.add_error("number", exc)
        purchased, expires = cleaned.get("purchased_on"), cleaned.get("expires_on")
        if purchased and expires and expires < purchased:
            self.add_error("expires_on", _("The expiry date is before the purchase date."))
        return cleaned


class VoiceFileForm(KeepFileHintMixin, forms.ModelForm):
    file_field = "audio"

    class Meta:
        model = VoiceFile
        fields = ["name", "mode", "qualification", "audio"]
        field_classes = {"qualification": QualificationChoiceField}
        help_texts = {"audio": _("WAV or MP3, at most 2 MB; the file is checked by its content, not its name.")}
        widgets = {"audio": forms.FileInput(attrs={"accept": "audio/wav,audio/x-wav,audio/mpeg,.wav,.mp3"})}

    def clean_audio(self):
        audio = self.cleaned_data.get("audio")
        if isinstance(audio, UploadedFile):
            inspect_voice_upload(audio)
        return audio


class TtsTemplateForm(forms.ModelForm):
    class Meta:
        model = TtsTemplate
        fields = ["name", "kind", "mode", "qualification", "content"]
        field_classes = {"qualification": QualificationChoiceField}
        help_texts = {
            "content": _("Use ${name} for variables. Public-pool templates take at most 2 variables; verification codes exactly one."),
            "name": _("At most 30 characters."),
        }
        widgets = {"content": forms.Textarea(attrs={"rows": 5, "maxlength": MAX_LENGTH, "data-va-preview": "1"})}

    def clean(self):
        cleaned = super().clean()
        content, kind, mode = cleaned.get("content"), cleaned.get("kind"), cleaned.get("mode")
        if content and kind and mode:
            for error in template_errors(content=content, kind=kind, mode=mode):
                self.add_error("content", error)
        return cleaned


class DecisionForm(forms.Form):
    """The provider's review decision, recorded by a manager."""

    code = forms.CharField(label=_("Provider code"), max_length=100, required=False, help_text=_("Required to approve, e.g. TTS_100001."))
    reason = forms.CharField(label=_("Rejection reason"), required=False, widget=forms.Textarea(attrs={"rows": 2}))


class _SearchFilterSet(django_filters.FilterSet):
    search_fields: tuple[str, ...] = ()
    q = django_filters.CharFilter(label=_("Search"), method="search")

    def search(self, queryset, name, value):
        query = Q()
        for field in self.search_fields:
            query |= Q(**{f"{field}__icontains": value.strip()})
        return queryset.filter(query)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "qualification" in self.form.fields:
            self.form.fields["qualification"].label_from_instance = qualification_label
        for field in self.form.fields.values():
            css = "form-select form-select-sm" if isinstance(field.widget, forms.Select) else "form-control form-control-sm"
            field.widget.attrs["class"] = css


class QualificationFilter(_SearchFilterSet):
    search_fields = ("company_name", "credit_code", "contact_name")
    status = django_filters.ChoiceFilter(label=_("Status"), choices=ReviewStatus.choices)
    purpose = django_filters.ChoiceFilter(label=_("Number purpose"), choices=Purpose.choices)

    class Meta:
        model = Qualification
        fields = ["q", "status", "purpose"]


class CallerNumberFilter(_SearchFilterSet):
    search_fields = ("number", "province", "city", "qualification__company_name")
    status = django_filters.ChoiceFilter(label=_("Status"), choices=CallerNumber.Status.choices)
    number_type = django_filters.ChoiceFilter(label=_("Type"), choices=CallerNumber.Type.choices)
    expiry = django_filters.ChoiceFilter(label=_("Expiry"), method="filter_expiry",
                                         choices=[("expired", _("Expired")), ("valid", _("Not expired"))])

    class Meta:
        model = CallerNumber
        fields = ["q", "status", "number_type", "expiry", "qualification"]

    def filter_expiry(self, queryset, name, value):
        today = company_today()  # the company's date, as the pages and the dialing rules read it
        return queryset.expired(today) if value == "expired" else queryset.not_expired(today)


class VoiceFileFilter(_SearchFilterSet):
    search_fields = ("name", "voice_code", "qualification__company_name")
    status = django_filters.ChoiceFilter(label=_("Status"), choices=ReviewStatus.choices)
    mode = django_filters.ChoiceFilter(label=_("Mode"), choices=Mode.choices)

    class Meta:
        model = VoiceFile
        fields = ["q", "status", "mode", "qualification"]


class TtsTemplateFilter(_SearchFilterSet):
    search_fields = ("name", "content", "tts_code")
    status = django_filters.ChoiceFilter(label=_("Status"), choices=ReviewStatus.choices)
    kind = django_filters.ChoiceFilter(label=_("Kind"), choices=Purpose.choices)
    mode = django_filters.ChoiceFilter(label=_("Mode"), choices=Mode.choices)

    class Meta:
        model = TtsTemplate
        fields = ["q", "status", "kind", "mode", "qualification"]
