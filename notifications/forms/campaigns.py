"""Campaign forms (shape only: the rules of a row, of approval and of sending live in the campaign services)."""
import django_filters
from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from notifications.forms.dialing import LIST_FILE_TYPES, OfferedCallerIterator, _ResourceChoice
from notifications.models import CallerNumber, Campaign, Mode, ReviewStatus, TtsTemplate, VoiceFile
from notifications.rules import dialing as rules

PARAM_PREFIX = "param_"


class _CallerNumberChoice(forms.ModelMultipleChoiceField):
    iterator = OfferedCallerIterator  # numbers past their expiry date are not offered

    def label_from_instance(self, obj) -> str:
        return f"{obj.number} ({obj.qualification})"


class ListFileField(forms.FileField):
    widget = forms.ClearableFileInput

    def __init__(self, **kwargs):
        kwargs.setdefault("label", _("List file"))
        kwargs.setdefault("help_text", _("CSV (UTF-8 or GBK, as Excel saves it) or XLSX, the first row naming the columns; "
                                         "at most %(rows)s rows.") % {"rows": f"{settings.CAMPAIGN_MAX_ROWS:,}"})
        super().__init__(**kwargs)
        self.widget.attrs["accept"] = LIST_FILE_TYPES


class CampaignCreateForm(forms.Form):
    """A new campaign: its name, what it plays, from which numbers, how, and the list of people."""

    name = forms.CharField(label=_("Name"), max_length=100,
                           help_text=_("For your colleagues, e.g. “Water cut notice, building 5, 12 May”."))
    template = _ResourceChoice(
        label=_("TTS template"), required=False,
        queryset=TtsTemplate.objects.filter(status=ReviewStatus.APPROVED).select_related("qualification"),
        help_text=_("Only templates the provider has approved are listed. Choose a template or a voice file."),
    )
    voice_file = _ResourceChoice(
        label=_("Voice file"), required=False,
        queryset=VoiceFile.objects.filter(status=ReviewStatus.APPROVED).select_related("qualification"),
        help_text=_("Only voice files the provider has approved are listed."),
    )
    caller_numbers = _CallerNumberChoice(
        label=_("Caller numbers"), required=False,
        queryset=CallerNumber.objects.filter(
            status=CallerNumber.Status.ACTIVE, qualification__status=ReviewStatus.APPROVED,
        ).select_related("qualification").order_by("number"),
        widget=forms.SelectMultiple(attrs={"size": 4}),
        help_text=_("Dedicated content only: one or several active numbers of the content's qualification, used in turn; "
                    "numbers past their expiry date are not listed. Leave empty for public-pool content."),
    )
    play_times = forms.IntegerField(label=_("Play times"), initial=1, min_value=rules.PLAY_TIMES_RANGE[0],
                                    max_value=rules.PLAY_TIMES_RANGE[1])
    volume = forms.IntegerField(label=_("Volume"), initial=100, min_value=rules.VOLUME_RANGE[0], max_value=rules.VOLUME_RANGE[1])
    speed = forms.IntegerField(label=_("Speed"), required=False, min_value=rules.SPEED_RANGE[0], max_value=rules.SPEED_RANGE[1],
                               help_text=_("Optional, from −500 (slower) to 500 (faster)."))
    file = ListFileField()

    def clean(self):
        data = super().clean()
        template, voice_file = data.get("template"), data.get("voice_file")
        if "template" in self.errors or "voice_file" in self.errors:
            return data
        if template and voice_file:
            self.add_error("voice_file", _("Choose a template or a voice file, not both."))
            return data
        resource = template or voice_file
        if resource is None:
            self.add_error("template", _("Choose an approved TTS template or voice file."))
            return data
        numbers = list(data.get("caller_numbers") or [])
        # The mode rules of a test call, worded for several numbers.
        if resource.mode == Mode.PUBLIC and numbers:
            self.add_error("caller_numbers", _("Public-pool content is called from the provider's numbers: choose no caller number."))
        elif resource.mode == Mode.DEDICATED:
            if not numbers:
                self.add_error("caller_numbers", _("Dedicated content needs at least one of your caller numbers."))
            today = rules.company_today()
            for number in numbers:  # chosen before it expired, posted after
                for error in rules.check_caller_expiry(number=number.number, expires_on=number.expires_on, today=today):
                    self.add_error("caller_numbers", error)
            others = [number.number for number in numbers if number.qualification_id != resource.qualification_id]
            if others:
                self.add_error("caller_numbers", ValidationError(
                    _("These numbers belong to another qualification than the content: %(numbers)s."),
                    params={"numbers": ", ".join(others)},
                ))
        return data

    @property
    def resource(self):
        data = getattr(self, "cleaned_data", {})
        return data.get("template") or data.get("voice_file")


class CampaignFileForm(forms.Form):
    """A corrected list for a campaign that has not started."""

    file = ListFileField(label=_("Corrected list file"))


class CampaignMappingForm(forms.Form):
    """Which column holds the callee and which holds each variable of the template."""

    def __init__(self, *args, campaign: Campaign, **kwargs):
        super().__init__(*args, **kwargs)
        self.campaign = campaign
        mapping = campaign.mapping or {}
        choices = [("", _("— choose a column —"))] + [(header, header) for header in campaign.headers]
        self.fields["callee"] = forms.ChoiceField(
            label=_("Callee (number to call)"), choices=choices, required=False, initial=mapping.get("callee") or "",
        )
        params = mapping.get("params") or {}
        for name in self.variables:
            self.fields[PARAM_PREFIX + name] = forms.ChoiceField(
                label=_("Variable ${%(name)s}") % {"name": name}, choices=choices, required=False,
                initial=params.get(name) or "",
            )

    @property
    def variables(self) -> list[str]:
        template = self.campaign.tts_template
        return list(template.variables) if template is not None else []

    def mapping(self) -> dict:
        """The mapping in the shape the check takes, from the form's values (or its initial ones before a submit)."""
        def value(name):
            if self.is_bound:
                return (self.cleaned_data.get(name) if hasattr(self, "cleaned_data") else self.data.get(name)) or None
            return self.fields[name].initial or None

        return {"callee": value("callee"), "params": {name: value(PARAM_PREFIX + name) for name in self.variables}}

    def add_service_errors(self, error: ValidationError) -> None:
        """The check's campaign-level refusals next to the select they are about; anything else above the form."""
        if not hasattr(error, "error_dict"):
            self.add_error(None, error)
            return
        for key, messages in error.error_dict.items():
            for field in (key, PARAM_PREFIX + key, PARAM_PREFIX + key.removeprefix("params.")):
                if field in self.fields:
                    self.add_error(field, messages)
                    break
            else:
                self.add_error(None, messages)


class CampaignScheduleForm(forms.ModelForm):
    """When and how fast: start now or at a time, the quiet hours, the rate cap and the retries."""

    START_CHOICES = [("now", _("As soon as it is approved")), ("at", _("At a set time"))]
    start = forms.ChoiceField(label=_("Start"), choices=START_CHOICES, initial="now")

    class Meta:
        model = Campaign
        fields = ["start_at", "quiet_start", "quiet_end", "rate_cap", "max_retries", "retry_interval_minutes"]
        widgets = {
            "start_at": forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
            "quiet_start": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
            "quiet_end": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        }
        labels = {"start_at": _("Start at")}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["start"].initial = "at" if self.instance.start_at else "now"
        self.fields["start_at"].help_text = _("In the company's time zone (%(zone)s).") % {"zone": settings.TIME_ZONE}
        self.fields["start_at"].input_formats = ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"]
        quiet = settings.CAMPAIGN_QUIET_HOURS or _("none")
        self.fields["quiet_start"].help_text = _("Leave both empty for the company's quiet hours (%(hours)s).") % {"hours": quiet}
        self.fields["quiet_end"].help_text = _("No call from the start until the end, e.g. 21:00 to 08:00.")
        self.fields["max_retries"].widget = forms.NumberInput(attrs={"min": 0, "max": 3})

    def clean(self):
        data = super().clean()
        if data.get("start") == "at" and not data.get("start_at"):
            self.add_error("start_at", _("Enter the time to start, or choose to start as soon as it is approved."))
        if data.get("start") == "now":
            data["start_at"] = None
        if bool(data.get("quiet_start")) != bool(data.get("quiet_end")):
            self.add_error("quiet_end", _("Enter both the start and the end of the quiet hours, or neither."))
        return data

    def schedule(self) -> dict:
        return {name: self.cleaned_data.get(name) for name in self.Meta.fields}


class SendBackForm(forms.Form):
    reason = forms.CharField(label=_("Why it is sent back"), max_length=500, widget=forms.Textarea(attrs={"rows": 2}))


class CampaignFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(label=_("Search by name"), method="search")
    state = django_filters.ChoiceFilter(label=_("State"), choices=Campaign.State.choices, empty_label=_("Any state"))

    class Meta:
        model = Campaign
        fields = ["q", "state"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.form.fields.values():
            css = "form-select form-select-sm" if isinstance(field.widget, forms.Select) else "form-control form-control-sm"
            field.widget.attrs["class"] = css

    def search(self, queryset, name, value):
        value = value.strip()
        return queryset.filter(Q(name__icontains=value)) if value else queryset
