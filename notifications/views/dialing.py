"""Test-dial forms and the do-not-call list."""
from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from notifications.forms.dialing import BlockedNumberForm, DialForm, TtsDialForm, VoiceDialForm
from notifications.models import BlockedNumber, CallRecord, ReviewStatus, TtsTemplate, VoiceFile
from notifications.rules.templates import render_preview
from notifications.services.audit import Action, audit_record
from notifications.services.blocked_numbers import blocked_number_create, blocked_number_delete
from notifications.services.calls_create import call_record_create
from notifications.services.numbers import number_mask, user_sees_full_numbers


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


@permission_required("notifications.view_blockednumber", raise_exception=True)
def blocked_number_list(request):
    query = (request.GET.get("q") or "").strip()
    numbers = BlockedNumber.objects.select_related("created_by")
    if query:
        numbers = numbers.filter(number__contains=query)
    page = Paginator(numbers, 50).get_page(request.GET.get("page"))
    return render(request, "notifications/blocked_number_list.html", {"page": page, "query": query})


@require_http_methods(["GET", "POST"])
@permission_required("notifications.add_blockednumber", raise_exception=True)
def blocked_number_create_view(request):
    """Add a number; `?number=` prefills it and `?call=<pk>` blocks that call's callee, then returns to the call.

    Users who see numbers masked block a call's callee without seeing it: the number stays on the server.
    """
    call = None
    call_pk = request.GET.get("call") or request.POST.get("call")
    if call_pk and str(call_pk).isdigit():
        call = get_object_or_404(CallRecord, pk=call_pk)
    full_numbers = user_sees_full_numbers(request.user)
    form = BlockedNumberForm(
        request.POST or None,
        initial={"number": request.GET.get("number") or (call.called_number if call else "")},
        number_from_call=call.called_number if call and not full_numbers else None,
    )
    if request.method == "POST" and form.is_valid():
        try:
            blocked = blocked_number_create(number=form.cleaned_data["number"], reason=form.cleaned_data["reason"], user=request.user)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            audit_record(user=request.user, action=Action.BLOCKED_NUMBER_ADDED, target=blocked, details={"reason": blocked.reason})
            shown = blocked.number if full_numbers else number_mask(blocked.number)
            messages.success(request, _("%(number)s is on the do-not-call list now.") % {"number": shown})
            if call is not None:
                return redirect("notifications:call_record_detail", pk=call.pk)
            return redirect("notifications:blocked_number_list")
    return render(request, "notifications/blocked_number_create.html", {"form": form, "call": call})


@require_POST
@permission_required("notifications.delete_blockednumber", raise_exception=True)
def blocked_number_delete_view(request, pk: int):
    blocked = get_object_or_404(BlockedNumber, pk=pk)
    blocked_number_delete(blocked=blocked, user=request.user)
    audit_record(user=request.user, action=Action.BLOCKED_NUMBER_REMOVED, target=blocked, details={"reason": blocked.reason})
    shown = blocked.number if user_sees_full_numbers(request.user) else number_mask(blocked.number)
    messages.success(request, _("%(number)s can be called again.") % {"number": shown})
    target = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return redirect(target)
    return redirect("notifications:blocked_number_list")


urlpatterns = [
    path("dial/tts/", dial_tts, name="dial_tts"),
    path("dial/voice/", dial_voice, name="dial_voice"),
    path("blocked-numbers/", blocked_number_list, name="blocked_number_list"),
    path("blocked-numbers/add/", blocked_number_create_view, name="blocked_number_create"),
    path("blocked-numbers/<int:pk>/delete/", blocked_number_delete_view, name="blocked_number_delete"),
]
