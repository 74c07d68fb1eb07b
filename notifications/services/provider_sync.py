"""Keeps the simulator's provider account in step with the register (a no-op with the real provider).

With Alibaba Cloud, templates, voice files and numbers are created and reviewed in Alibaba's console
and a manager records the decision here. With the simulator (SIMULATOR_CONTROL_URL set), the console
tells the simulator what it submitted and approved over HTTP, and the simulator can review by itself.
Network errors are logged and swallowed: the console keeps working when the simulator is down.
"""
import logging

import requests
from django.conf import settings
from django.urls import reverse

from notifications.models import CallerNumber, ReviewStatus, TtsTemplate, VoiceFile

logger = logging.getLogger(__name__)

TIMEOUT = (1.0, 3.0)


def is_enabled() -> bool:
    return bool(settings.SIMULATOR_CONTROL_URL)


def _send(method: str, path: str, payload: dict) -> bool:
    url = settings.SIMULATOR_CONTROL_URL.rstrip("/") + "/" + path
    try:
        response = requests.request(method, url, json=payload, timeout=TIMEOUT,
                                    headers={"X-Simulator-Key": settings.ALIYUN_ACCESS_KEY_SECRET})
    except requests.RequestException as exc:
        logger.warning("simulator %s %s failed: %s", method, path, type(exc).__name__)
        return False
    if response.status_code >= 300:
        logger.warning("simulator %s %s answered HTTP %s", method, path, response.status_code)
        return False
    return True


def _template_entry(template: TtsTemplate) -> dict:
    return {"code": template.tts_code, "mode": template.mode, "kind": template.kind, "content": template.content,
            "status": "approved"}


def _voice_file_entry(voice_file: VoiceFile) -> dict:
    return {"code": voice_file.voice_code, "mode": voice_file.mode, "status": "approved"}


def request_review(resource) -> None:
    """Ask the simulator to review a submitted TtsTemplate or VoiceFile; it reports back on its own."""
    if not is_enabled() or not isinstance(resource, TtsTemplate | VoiceFile):
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
