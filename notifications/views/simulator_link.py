"""The simulator reports its review decisions here (only used with the local simulator)."""
import hmac
import json
import logging

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import ValidationError
from django.http import HttpResponse, HttpResponseBadRequest, HttpResponseForbidden, JsonResponse
from django.shortcuts import get_object_or_404
from django.urls import path
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from notifications.models import TtsTemplate, VoiceFile
from notifications.services import provider_sync
from notifications.services.review import resource_record_decision

logger = logging.getLogger(__name__)

MODELS = {"tts_template": TtsTemplate, "voice_file": VoiceFile}


@csrf_exempt
@login_not_required
@require_POST
def simulator_review(request):
    key = request.headers.get("X-Simulator-Key", "")
    secret = settings.ALIYUN_ACCESS_KEY_SECRET or ""
    if not secret or not hmac.compare_digest(key.encode(), secret.encode()):
        return HttpResponseForbidden()
    try:
        data = json.loads(request.body)
        model = MODELS[data["kind"]]
        approved = data["decision"] == "approved"
        pk = int(data["ref"])
    except (ValueError, KeyError, TypeError):
        return HttpResponseBadRequest()
    resource = get_object_or_404(model, pk=pk)
    code, reason = str(data.get("code") or "").strip(), str(data.get("reason") or "").strip()
    try:
        resource_record_decision(resource=resource, approved=approved, code=code, reason=reason)
    except ValidationError as exc:
        # Already decided (e.g. a manager was quicker) or an unusable code: the simulator should not retry. An item
        # still waiting says on its page what the provider answered and why it was not recorded.
        note = provider_sync.note_unrecorded_review(resource, approved=approved, code=code, reason=reason, error=exc)
        logger.warning("simulator review of %s %s not recorded: %s", data["kind"], pk, exc.messages)
        return JsonResponse({"recorded": False, "note": note}, status=409)
    return HttpResponse(status=204)


urlpatterns = [
    path("simulator-link/review/", simulator_review, name="simulator_review"),
]
