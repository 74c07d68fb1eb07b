"""Qualifications, caller numbers, voice files and TTS templates: list, detail, create, edit and lifecycle actions."""
import os

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.contrib.auth.mixins import PermissionRequiredMixin
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django.views.generic import CreateView, DetailView, UpdateView
from django_filters.views import FilterView

from notifications.audio import content_type_of
from notifications.forms.register import (
    CallerNumberFilter,
    CallerNumberForm,
    DecisionForm,
    QualificationFilter,
    QualificationForm,
    TtsTemplateFilter,
    TtsTemplateForm,
    VoiceFileFilter,
    VoiceFileForm,
)
from notifications.http_ranges import ranged_file_response
from notifications.models import CallerNumber, Purpose, Qualification, ReviewStatus, TtsTemplate, VoiceFile
from notifications.rules.templates import render_preview
from notifications.services import register as register_services
from notifications.services.provider_sync import unrecorded_review_note
from notifications.services.qualification_gate import qualification_problem
from notifications.services.review import (
    NUMBER_TRANSITIONS,
    WRONG_STATE,
    caller_number_set_status,
    resource_record_decision,
    resource_submit,
)
from notifications.services.template_lineage import tts_template_lineage
from notifications.services.voice_file_audit import voice_file_audit_sync_request

# Sample values for the server-side preview; anything else shows the variable's name in brackets.
_SAMPLES = {"name": "张三", "code": "123456", "time": "10:30", "date": "11月25日", "amount": "128.00", "order": "A10086"}


def sample_values(variables: list[str], kind: str) -> dict[str, str]:
    if kind == Purpose.VERIFICATION:
        return {name: "123456" for name in variables}
    return {name: _SAMPLES.get(name.lower(), f"〈{name}〉") for name in variables}


def _detail_url(prefix: str, pk: int) -> str:
    return reverse(f"notifications:{prefix}_detail", args=[pk])


def _attach_errors(form, exc: ValidationError) -> None:
    """Show a service's error next to its field, or above the form when the field is not on it."""
    if hasattr(exc, "error_dict"):
        for field, errors in exc.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc)


def _raise_if_wrong_state(exc: ValidationError) -> None:
    if getattr(exc, "code", None) == WRONG_STATE:
        raise PermissionDenied(exc.messages[0])


class RegisterMixin(PermissionRequiredMixin):
    model = None
    url_prefix = ""
    raise_exception = True

    def get_template_names(self):
        return [f"notifications/{self.url_prefix}_{self.page}.html"]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        opts = self.model._meta
        context.update(prefix=self.url_prefix, opts=opts, can_add=self.request.user.has_perm(f"notifications.add_{opts.model_name}"))
        return context


class RegisterList(RegisterMixin, FilterView):
    page = "list"
    paginate_by = 20

    def get_permission_required(self):
        return [f"notifications.view_{self.model._meta.model_name}"]


class RegisterDetail(RegisterMixin, DetailView):
    page = "detail"

    def get_permission_required(self):
        return [f"notifications.view_{self.model._meta.model_name}"]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user, obj = self.request.user, self.object
        name = self.model._meta.model_name
        if isinstance(obj, CallerNumber):
            context["next_statuses"] = (
                [CallerNumber.Status(s) for s in CallerNumber.Status.values if s in NUMBER_TRANSITIONS[obj.status]]
                if user.has_perm("notifications.manage_callernumber_status")
                else []
            )
            context["can_edit"] = user.has_perm("notifications.change_callernumber") and obj.status != CallerNumber.Status.RELEASED
        else:
            context["can_edit"] = user.has_perm(f"notifications.change_{name}") and obj.is_editable
            context["can_submit"] = context["can_edit"]
            context["can_review"] = user.has_perm(f"notifications.review_{name}") and obj.status == ReviewStatus.SUBMITTED
            # A voice file in review has its code from the upload: the manager confirms it rather than types it.
            context.setdefault("decision_form", DecisionForm(initial={"code": getattr(obj, "voice_code", "")}))
            context["needs_code"] = not isinstance(obj, Qualification)
        if isinstance(obj, TtsTemplate | VoiceFile):
            # Said before the operator tries: content under an unapproved qualification cannot be submitted.
            context["qualification_problem"] = qualification_problem(obj.qualification_id) if obj.is_editable else ""
            context["can_copy"] = user.has_perm(f"notifications.add_{name}")
            context["locked"] = obj.status == ReviewStatus.APPROVED
            context["unrecorded_review"] = unrecorded_review_note(obj)
        return context


class RegisterSave(RegisterMixin):
    service = None
    service_arg = ""

    def form_valid(self, form):
        try:
            self.object = self.service(**{self.service_arg: form.save(commit=False)}, user=self.request.user)
        except ValidationError as exc:
            _raise_if_wrong_state(exc)
            _attach_errors(form, exc)
            return self.form_invalid(form)
        messages.success(self.request, _("Saved “%(name)s”.") % {"name": self.object})
        return redirect(_detail_url(self.url_prefix, self.object.pk))


class RegisterCreate(RegisterSave, CreateView):
    page = "create"

    def get_permission_required(self):
        return [f"notifications.add_{self.model._meta.model_name}"]


class RegisterUpdate(RegisterSave, UpdateView):
    page = "update"

    def get_permission_required(self):
        return [f"notifications.change_{self.model._meta.model_name}"]

    def get_object(self, queryset=None):
        obj = super().get_object(queryset)
        editable = obj.status != CallerNumber.Status.RELEASED if isinstance(obj, CallerNumber) else obj.is_editable
        if not editable:
            raise _Locked(obj)
        return obj

    def get(self, request, *args, **kwargs):
        try:
            return super().get(request, *args, **kwargs)
        except _Locked as locked:
            return self.locked_response(locked.obj)

    def post(self, request, *args, **kwargs):
        try:
            return super().post(request, *args, **kwargs)
        except _Locked as locked:
            return self.locked_response(locked.obj)

    def locked_response(self, obj):
        """The item's state, not the role, refuses the edit: say so, and offer "Copy as new" where it exists."""
        self.object = obj
        context = self.get_context_data(object=obj, form=None)
        context["can_copy"] = (isinstance(obj, TtsTemplate | VoiceFile) and obj.status == ReviewStatus.APPROVED
                               and self.request.user.has_perm(f"notifications.add_{obj._meta.model_name}"))
        return TemplateResponse(self.request, "notifications/register_locked.html", context, status=409)


class _Locked(Exception):
    def __init__(self, obj):
        super().__init__(str(obj))
        self.obj = obj


def _review_transition(request, *, model, prefix: str, pk: int):
    """Submit, approve, reject (and copy, for templates): one service call per action."""
    obj = get_object_or_404(model, pk=pk)
    action = request.POST.get("action")
    form = DecisionForm(request.POST)
    try:
        if action == "submit":
            resource_submit(resource=obj, user=request.user)
            messages.success(request, _("Submitted for review."))
        elif action in ("approve", "reject"):
            form.is_valid()
            resource_record_decision(
                resource=obj,
                approved=action == "approve",
                code=form.cleaned_data.get("code", ""),
                reason=form.cleaned_data.get("reason", ""),
                decided_by=request.user,
            )
            messages.success(request, _("Decision recorded."))
        elif action == "copy" and model in (TtsTemplate, VoiceFile):
            if model is TtsTemplate:
                copy = register_services.tts_template_copy(template=obj, user=request.user)
            else:
                copy = register_services.voice_file_copy(voice_file=obj, user=request.user)
            messages.success(request, _("A draft copy was created; edit it and submit it for review."))
            return redirect(_detail_url(prefix, copy.pk))
        else:
            return HttpResponseBadRequest(_("Unknown action."))
    except ValidationError as exc:
        _raise_if_wrong_state(exc)
        if action in ("approve", "reject") and hasattr(exc, "error_dict"):
            obj.refresh_from_db()
            _attach_errors(form, exc)
            detail = VIEWS[prefix]["detail"]
            view = detail.view_class(**detail.view_initkwargs)
            view.setup(request, pk=pk)
            view.object = obj
            return view.render_to_response(view.get_context_data(object=obj, decision_form=form))
        for message in exc.messages:
            messages.error(request, message)
    return redirect(_detail_url(prefix, obj.pk))


@require_POST
def caller_number_transition(request, pk: int):
    number = get_object_or_404(CallerNumber, pk=pk)
    status = request.POST.get("status", "")
    if status not in CallerNumber.Status.values:
        return HttpResponseBadRequest(_("Unknown state."))
    try:
        caller_number_set_status(number=number, status=status, user=request.user)
    except ValidationError as exc:
        _raise_if_wrong_state(exc)
        for message in exc.messages:
            messages.error(request, message)
    else:
        messages.success(request, _("The number is now “%(status)s”.") % {"status": number.get_status_display()})
    return redirect(_detail_url("caller_number", number.pk))


@permission_required("notifications.view_qualification", raise_exception=True)
def qualification_licence(request, pk: int):
    """The licence scan, only for signed-in users who may see qualifications (media files are not public)."""
    qualification = get_object_or_404(Qualification, pk=pk)
    try:
        handle = qualification.licence.open("rb")
    except (FileNotFoundError, ValueError):
        raise Http404(_("No licence scan is stored for this qualification.")) from None
    content_type = content_type_of(handle.read(262))
    handle.seek(0)
    # Always a download, never shown inline: an uploaded PDF or image is not run in our origin. nosniff and the
    # sandboxing policy hold even if a browser tries to render it anyway.
    response = FileResponse(handle, content_type=content_type, as_attachment=True,
                            filename=os.path.basename(qualification.licence.name))
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


@require_POST
@permission_required("notifications.review_voicefile", raise_exception=True)
def voice_file_audit_sync_now(request):
    """Ask the provider about the voice files in review now, rather than at the next run of the periodic task."""
    voice_file_audit_sync_request(user=request.user)
    messages.success(request, _("The provider is being asked about the voice files in review; their states change "
                                "here as its answers arrive."))
    return redirect("notifications:voice_file_list")


@permission_required("notifications.view_voicefile", raise_exception=True)
def voice_file_audio(request, pk: int):
    """The recording for the page's player, served to permitted users only, a part at a time as the player seeks."""
    voice_file = get_object_or_404(VoiceFile, pk=pk)
    content_type = "audio/mpeg" if voice_file.audio_format == VoiceFile.Format.MP3 else "audio/wav"
    try:
        return ranged_file_response(request, voice_file.audio.open("rb"), content_type=content_type, etag=voice_file.sha256)
    except (FileNotFoundError, ValueError):
        raise Http404(_("The recording is missing from storage.")) from None


class TtsTemplateDetail(RegisterDetail):
    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        template = self.object
        context["samples"] = sample_values(template.variables, template.kind)
        context["preview"] = render_preview(template.content, context["samples"])
        context["can_copy"] = self.request.user.has_perm("notifications.add_ttstemplate")
        context["lineage"] = tts_template_lineage(template)
        context["can_view_calls"] = self.request.user.has_perm("notifications.view_callrecord")
        return context


_RESOURCES = {
    "qualification": (Qualification, QualificationForm, QualificationFilter, register_services.qualification_save, "qualification"),
    "caller_number": (CallerNumber, CallerNumberForm, CallerNumberFilter, register_services.caller_number_save, "number"),
    "voice_file": (VoiceFile, VoiceFileForm, VoiceFileFilter, register_services.voice_file_save, "voice_file"),
    "tts_template": (TtsTemplate, TtsTemplateForm, TtsTemplateFilter, register_services.tts_template_save, "template"),
}

VIEWS: dict[str, dict] = {}
urlpatterns = []
for _prefix, (_model, _form, _filter, _service, _arg) in _RESOURCES.items():
    _slug = _prefix.replace("_", "-")
    _queryset = _model.objects.select_related("qualification") if _model is not Qualification else _model.objects.all()
    _common = {"model": _model, "url_prefix": _prefix}
    VIEWS[_prefix] = {
        "list": RegisterList.as_view(**_common, filterset_class=_filter, queryset=_queryset),
        "detail": (TtsTemplateDetail if _model is TtsTemplate else RegisterDetail).as_view(**_common, queryset=_queryset),
        "create": RegisterCreate.as_view(**_common, form_class=_form, service=staticmethod(_service), service_arg=_arg),
        "update": RegisterUpdate.as_view(**_common, form_class=_form, service=staticmethod(_service), service_arg=_arg),
    }
    urlpatterns += [
        path(f"register/{_slug}s/", VIEWS[_prefix]["list"], name=f"{_prefix}_list"),
        path(f"register/{_slug}s/new/", VIEWS[_prefix]["create"], name=f"{_prefix}_create"),
        path(f"register/{_slug}s/<int:pk>/", VIEWS[_prefix]["detail"], name=f"{_prefix}_detail"),
        path(f"register/{_slug}s/<int:pk>/edit/", VIEWS[_prefix]["update"], name=f"{_prefix}_update"),
    ]


def _make_review_transition(model, prefix):
    @require_POST
    def transition(request, pk: int):
        return _review_transition(request, model=model, prefix=prefix, pk=pk)

    transition.__name__ = f"{prefix}_transition"
    return transition


for _prefix in ("qualification", "voice_file", "tts_template"):
    urlpatterns.append(
        path(
            f"register/{_prefix.replace('_', '-')}s/<int:pk>/action/",
            _make_review_transition(_RESOURCES[_prefix][0], _prefix),
            name=f"{_prefix}_transition",
        )
    )
urlpatterns += [
    path("register/caller-numbers/<int:pk>/action/", caller_number_transition, name="caller_number_transition"),
    path("register/qualifications/<int:pk>/licence/", qualification_licence, name="qualification_licence"),
    path("register/voice-files/<int:pk>/audio/", voice_file_audio, name="voice_file_audio"),
    path("register/voice-files/sync/", voice_file_audit_sync_now, name="voice_file_audit_sync"),
]
