"""Keeps the simulator's provider account in step with the register (a no-op with the real provider).

With Alibaba Cloud, templates, voice files and numbers are created and reviewed in Alibaba's console
and a manager records the decision here. With the simulator (SIMULATOR_CONTROL_URL set), the console
tells the simulator what it submitted and approved over HTTP, and the simulator can review by itself.
Network errors are logged and swallowed: the console keeps working when the simulator is down.
"""
import logging

import requests
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from notifications.models import CallerNumber, ReviewStatus, TtsTemplate, VoiceFile
from notifications.services.qualification_gate import APPROVE, qualification_problem

logger = logging.getLogger(__name__)

TIMEOUT = (1.0, 3.0)


def is_enabled() -> bool:
    return bool(settings.SIMULATOR_CONTROL_URL)


def _send(method: str, path: str, payload: dict) -> requests.Response | None:
    """The simulator's answer, or None (logged) when it could not be reached or refused."""
    url = settings.SIMULATOR_CONTROL_URL.rstrip("/") + "/" + path
    try:
        response = requests.request(method, url, json=payload, timeout=TIMEOUT,
                                    headers={"X-Simulator-Key": settings.ALIYUN_ACCESS_KEY_SECRET})
    except requests.RequestException as exc:
        logger.warning("simulator %s %s failed: %s", method, path, type(exc).__name__)
        return None
    if response.status_code >= 300:
        logger.warning("simulator %s %s answered HTTP %s", method, path, response.status_code)
        return None
    return response


def _template_entry(template: TtsTemplate) -> dict:
    return {"code": template.tts_code, "mode": template.mode, "kind": template.kind, "content": template.content,
            "status": "approved"}


def _voice_file_entry(voice_file: VoiceFile) -> dict:
    return {"code": voice_file.voice_code, "mode": voice_file.mode, "status": "approved"}


def request_review(resource) -> None:
    """Ask the simulator to review a submitted TtsTemplate or VoiceFile.

    A template's decision is posted back to the console. A voice file is uploaded, as with the provider's upload API:
    the answer carries its `voiceCode`, stored on the file, and the decision is learned by the periodic review query
    (services/voice_file_audit.py), exactly as with Alibaba Cloud.
    """
    if not is_enabled() or not isinstance(resource, TtsTemplate | VoiceFile):
        return
    if isinstance(resource, VoiceFile):
        _upload_voice_file(resource)
        return
    console = settings.SIMULATOR_CONSOLE_URL
    payload = {
        "kind": "tts_template" if isinstance(resource, TtsTemplate) else "voice_file",
        "ref": str(resource.pk), "name": resource.name, "mode": resource.mode,
        "content": resource.content if isinstance(resource, TtsTemplate) else "",
        "template_kind": resource.kind if isinstance(resource, TtsTemplate) else "",
        "callback_url": console.rstrip("/") + reverse("notifications:simulator_review"),
    }
    _send("POST", "reviews", payload)


def _upload_voice_file(voice_file: VoiceFile) -> None:
    response = _send("POST", "reviews", {"kind": "voice_file", "ref": str(voice_file.pk), "name": voice_file.name,
                                         "mode": voice_file.mode, "voice_code": voice_file.voice_code})
    try:
        code = str(response.json()["data"]["voiceCode"]) if response is not None else ""
    except (ValueError, KeyError, TypeError):
        code = ""
    if not code or code == voice_file.voice_code:
        return
    try:
        VoiceFile.objects.filter(pk=voice_file.pk, status=ReviewStatus.SUBMITTED, voice_code="").update(voice_code=code)
    except IntegrityError:
        logger.warning("simulator gave voice file %s a code another voice file has", voice_file.pk)
    voice_file.voice_code = code


def publish_approved(resource) -> None:
    """Tell the simulator that an approved TtsTemplate / VoiceFile / active CallerNumber exists."""
    if not is_enabled():
        return
    if isinstance(resource, TtsTemplate) and resource.tts_code:
        _send("PUT", "account", {"templates": [_template_entry(resource)]})
    elif isinstance(resource, VoiceFile) and resource.voice_code:
        _send("PUT", "account", {"voice_files": [_voice_file_entry(resource)]})
    elif isinstance(resource, CallerNumber):
        _send("PUT", "account", {"numbers": [{"number": resource.number, "status": resource.status}]})


def publish_account() -> None:
    """Send the whole approved register to the simulator (at start-up of the local console)."""
    if not is_enabled():
        return
    approved = ReviewStatus.APPROVED
    _send("PUT", "account", {
        "templates": [_template_entry(t) for t in TtsTemplate.objects.filter(status=approved).exclude(tts_code="")],
        "voice_files": [_voice_file_entry(v) for v in VoiceFile.objects.filter(status=approved).exclude(voice_code="")],
        "numbers": [{"number": n.number, "status": n.status} for n in CallerNumber.objects.all()],
    })
    # A restarted simulator has forgotten the reviews it had not decided yet: ask again, or they wait forever.
    for model in (TtsTemplate, VoiceFile):
        for resource in model.objects.filter(status=ReviewStatus.SUBMITTED):
            request_review(resource)


# A review result the console could not record is kept on the item, in its review text, while it waits for review:
# resource_submit empties that text and any recorded decision replaces it, so it never outlives the problem.
# (A field of its own, `provider_note`, would say this better; this wave adds no migration.)

def unrecorded_review_note(resource) -> str:
    """The note about a provider review result that could not be recorded, or "" when there is none."""
    if isinstance(resource, TtsTemplate | VoiceFile) and resource.status == ReviewStatus.SUBMITTED:
        return resource.reject_reason
    return ""


def note_unrecorded_review(resource, *, approved: bool, code: str, reason: str, error: ValidationError) -> str:
    """Explain on the item why the provider's review result was not recorded; returns the note ("" when the item was
    decided meanwhile, so nothing is stuck)."""
    model = type(resource)
    if not model.objects.filter(pk=resource.pk, status=ReviewStatus.SUBMITTED).exists():
        return ""
    code_field = "tts_code" if model is TtsTemplate else "voice_code"
    # Written in the console's language: the callback has no reader whose language could be used.
    with translation.override(settings.LANGUAGE_CODE):
        params = {"code": code or "—", "reason": reason or "—"}
        other = model.objects.filter(**{code_field: code}).exclude(pk=resource.pk).first() if approved and code else None
        problem = qualification_problem(resource.qualification_id, action=APPROVE) if approved else ""
        if other is not None:
            params |= {"other": other.name, "kind": model._meta.verbose_name, "id": other.pk}
            note = _("The provider reported approval with code %(code)s, but that code already belongs to "
                     "“%(other)s” (%(kind)s #%(id)s) in this register, so the approval was not recorded. Check both "
                     "items in the provider's console, then a manager records the decision here with the right "
                     "code.") % params
        elif problem:
            note = _("The provider reported approval with code %(code)s, but it was not recorded.") % params + " " + problem
        else:
            what = _("approval with code %(code)s") % params if approved else _("rejection (reason: %(reason)s)") % params
            note = _("The provider reported %(what)s, but it could not be recorded: %(errors)s A manager records the "
                     "decision here by hand.") % {"what": what, "errors": " ".join(error.messages)}
    model.objects.filter(pk=resource.pk, status=ReviewStatus.SUBMITTED).update(reject_reason=note)
    return note
