"""Test-dial forms (the do-not-call list's pages are in views/blocked_numbers.py)."""
from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from notifications.forms.dialing import DialForm, TtsDialForm, VoiceDialForm
from notifications.models import ReviewStatus, TtsTemplate, VoiceFile
from notifications.rules.templates import render_preview
from notifications.services.audit import Action, audit_record
from notifications.services.calls_create import call_record_create


def _chosen(request, model, field: str):
    """The approved resource named by the form (POST) or by the link that opened it (GET `?template=` / `?voice_file=`)."""
    value = request.POST.get(field) if request.method == "POST" else request.GET.get(field)
    if not value or not str(value).isdigit():
        return None
    return model.objects.filter(pk=value, status=ReviewStatus.APPROVED).select_related("qualification").first()


def _dial(request, *, form_class: type[DialForm], model, template_name: str):
    resource = _chosen(request, model, form_class.resource_field)
    initial = {form_class.resource_field: resource} if resource else {}
    form = form_class(request.POST or None, resource=resource, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            record = call_record_create(
                **{"tts_template" if model is TtsTemplate else "voice_file": data[form_class.resource_field]},
                called_number=data["called_number"],
                caller_number=data.get("caller_number"),
                params=form.params(),
                play_times=data["play_times"],
                volume=data["volume"],
                speed=data["speed"],
                requested_by=request.user,
            )
        except ValidationError as error:
            form.add_service_errors(error)
        else:
            audit_record(user=request.user, action=Action.DIAL, target=record, details={"callee": record.called_number})
            messages.success(request, _("The call was queued and is being sent to the provider."))
            return redirect("notifications:call_record_detail", pk=record.pk)
    values = {name: form[f"param_{name}"].value() or "" for name in resource.variables} if model is TtsTemplate and resource else {}
    return render(request, template_name, {
        "form": form,
        "resource": resource,
        "preview": render_preview(resource.content, values) if model is TtsTemplate and resource else "",
    })


@require_http_methods(["GET", "POST"])
@permission_required("notifications.dial_callrecord", raise_exception=True)
def dial_tts(request):
    return _dial(request, form_class=TtsDialForm, model=TtsTemplate, template_name="notifications/dial_tts.html")


@require_http_methods(["GET", "POST"])
@permission_required("notifications.dial_callrecord", raise_exception=True)
def dial_voice(request):
    return _dial(request, form_class=VoiceDialForm, model=VoiceFile, template_name="notifications/dial_voice.html")


urlpatterns = [
    path("dial/tts/", dial_tts, name="dial_tts"),
    path("dial/voice/", dial_voice, name="dial_voice"),
]
