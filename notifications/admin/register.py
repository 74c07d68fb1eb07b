"""Admin for the register: qualifications, numbers, voice files, templates; every state change goes through the review services."""
from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.core.exceptions import PermissionDenied, ValidationError
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from notifications.forms.register import CallerNumberForm, QualificationForm, TtsTemplateForm, VoiceFileForm
from notifications.models import CallerNumber, Qualification, TtsTemplate, VoiceFile
from notifications.services import register as register_services
from notifications.services.review import caller_number_set_status, resource_record_decision, resource_submit

REVIEW_FIELDS = ("status", "reject_reason", "created_by", "created_at", "submitted_by", "submitted_at", "reviewed_by", "reviewed_at")


class AdminDecisionForm(forms.Form):
    approved = forms.TypedChoiceField(
        label=gettext_lazy("Decision"),
        choices=[("1", gettext_lazy("Approved")), ("0", gettext_lazy("Rejected"))],
        coerce=lambda value: value == "1",
        widget=forms.RadioSelect,
    )
    code = forms.CharField(label=gettext_lazy("Provider code"), max_length=100, required=False)
    reason = forms.CharField(label=gettext_lazy("Rejection reason"), required=False, widget=forms.Textarea(attrs={"rows": 3}))


def _failure(obj, exc: Exception) -> str:
    return _("%(item)s: %(error)s") % {"item": obj, "error": " ".join(getattr(exc, "messages", [str(exc)]))}


def _report(modeladmin, request, done: int, failures: list[str]) -> None:
    if done:
        modeladmin.message_user(request, _("%(count)d item(s) updated.") % {"count": done}, messages.SUCCESS)
    for failure in failures:
        modeladmin.message_user(request, failure, messages.ERROR)


class ReviewedAdmin(admin.ModelAdmin):
    """Common admin of reviewed resources: review fields are read-only and approved rows cannot be edited."""

    list_filter = ("status", "created_at")
    actions = ("submit_selected", "record_decision")
    save_service = None
    service_arg = ""
    derived_fields: tuple[str, ...] = ()

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and not obj.is_editable:
            return [field.name for field in self.model._meta.fields]
        return [*REVIEW_FIELDS, *self.derived_fields]

    def save_model(self, request, obj, form, change):
        type(self).save_service(**{self.service_arg: obj}, user=request.user)

    @admin.action(description=gettext_lazy("Submit the selected items for review"))
    def submit_selected(self, request, queryset):
        done, failures = 0, []
        for obj in queryset:
            try:
                resource_submit(resource=obj, user=request.user)
                done += 1
            except (ValidationError, PermissionDenied) as exc:
                failures.append(_failure(obj, exc))
        _report(self, request, done, failures)

    @admin.action(description=gettext_lazy("Record the provider's decision…"))
    def record_decision(self, request, queryset):
        needs_code = self.model is not Qualification
        form = AdminDecisionForm(request.POST if "apply" in request.POST else None)
        if form.is_valid():
            approved = form.cleaned_data["approved"]
            if approved and needs_code and queryset.count() > 1:
                form.add_error("code", _("Each approved item has its own code: approve one item at a time."))
            else:
                done, failures = 0, []
                for obj in queryset:
                    try:
                        resource_record_decision(
                            resource=obj,
                            approved=approved,
                            code=form.cleaned_data["code"],
                            reason=form.cleaned_data["reason"],
                            decided_by=request.user,
                        )
                        done += 1
                    except (ValidationError, PermissionDenied) as exc:
                        failures.append(_failure(obj, exc))
                _report(self, request, done, failures)
                return None
        context = {
            **self.admin_site.each_context(request),
            "title": _("Record the provider's decision"),
            "opts": self.model._meta,
            "queryset": queryset,
            "form": form,
            "needs_code": needs_code,
            "action_checkbox_name": ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "admin/notifications/record_decision.html", context)


class CallerNumberInline(admin.TabularInline):
    model = CallerNumber
    fields = ("number", "number_type", "city", "status", "expires_on")
    readonly_fields = fields
    extra = 0
    show_change_link = True
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Qualification)
class QualificationAdmin(ReviewedAdmin):
    form = QualificationForm
    list_display = ("company_name", "credit_code", "contact_name", "purpose", "status", "submitted_at", "reviewed_at")
    list_filter = ("status", "purpose", "created_at")
    search_fields = ("company_name", "credit_code", "contact_name", "contact_phone")
    inlines = [CallerNumberInline]
    save_service = register_services.qualification_save
    service_arg = "qualification"


@admin.register(CallerNumber)
class CallerNumberAdmin(admin.ModelAdmin):
    form = CallerNumberForm
    list_display = ("number", "number_type", "province", "city", "qualification", "status", "expires_on")
    list_filter = ("status", "number_type", "purpose", "province")
    search_fields = ("number", "city", "qualification__company_name")
    list_select_related = ("qualification",)
    readonly_fields = ("status", "created_by", "created_at", "updated_at")
    actions = ("activate_selected", "suspend_selected", "release_selected")

    def save_model(self, request, obj, form, change):
        register_services.caller_number_save(number=obj, user=request.user)

    def _set_status(self, request, queryset, status):
        done, failures = 0, []
        for number in queryset:
            try:
                caller_number_set_status(number=number, status=status, user=request.user)
                done += 1
            except (ValidationError, PermissionDenied) as exc:
                failures.append(_failure(number, exc))
        _report(self, request, done, failures)

    @admin.action(description=gettext_lazy("Activate the selected numbers"))
    def activate_selected(self, request, queryset):
        self._set_status(request, queryset, CallerNumber.Status.ACTIVE)

    @admin.action(description=gettext_lazy("Suspend the selected numbers"))
    def suspend_selected(self, request, queryset):
        self._set_status(request, queryset, CallerNumber.Status.SUSPENDED)

    @admin.action(description=gettext_lazy("Release the selected numbers"))
    def release_selected(self, request, queryset):
        self._set_status(request, queryset, CallerNumber.Status.RELEASED)


@admin.register(VoiceFile)
class VoiceFileAdmin(ReviewedAdmin):
    form = VoiceFileForm
    list_display = ("name", "audio_format", "duration_seconds", "mode", "qualification", "voice_code", "status")
    list_filter = ("status", "mode", "audio_format", "created_at")
    search_fields = ("name", "voice_code", "sha256", "qualification__company_name")
    list_select_related = ("qualification",)
    save_service = register_services.voice_file_save
    service_arg = "voice_file"
    derived_fields = ("audio_format", "duration_seconds", "size_bytes", "sha256", "voice_code")


@admin.register(TtsTemplate)
class TtsTemplateAdmin(ReviewedAdmin):
    form = TtsTemplateForm
    list_display = ("name", "kind", "mode", "qualification", "tts_code", "status", "copied_from")
    list_filter = ("status", "kind", "mode", "created_at")
    search_fields = ("name", "content", "tts_code")
    list_select_related = ("qualification", "copied_from")
    save_service = register_services.tts_template_save
    service_arg = "template"
    derived_fields = ("variables", "tts_code", "copied_from")
