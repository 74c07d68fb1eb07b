"""The call detail page, its live status and the receipt webhook."""
import hmac
import json
import logging

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required, permission_required
from django.http import HttpResponseForbidden, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from notifications.aliyun import VmsError
from notifications.models import CallRecord
from notifications.rules.templates import render_preview
from notifications.services.numbers import number_access_record, user_sees_full_numbers
from notifications.services.receipts import MESSAGE_TYPES, ReceiptInvalid, call_record_requery, receipts_ingest, status_code_meaning

logger = logging.getLogger(__name__)

ACK = {"code": 0, "msg": "接收成功"}  # the exact acknowledgement the provider expects (reference §6.2)


def _refusal(status: int, message: str) -> JsonResponse:
    # Same shape as the acknowledgement, with a non-zero code, so the provider's logs show the reason.
    return JsonResponse({"code": status, "msg": message}, status=status, json_dumps_params={"ensure_ascii": False})


@csrf_exempt
@login_not_required
@require_POST
def receipt_webhook(request, message_type: str, token: str):
    """The provider's HTTP batch push: a JSON array of receipts of one MessageType."""
    expected = settings.RECEIPT_WEBHOOK_TOKEN or ""
    if not expected or not hmac.compare_digest(token.encode(), expected.encode()):
        return HttpResponseForbidden()
    if message_type not in MESSAGE_TYPES:
        return _refusal(404, _("Receipts of type %(type)s are not accepted here.") % {"type": message_type})
    try:
        records = json.loads(request.body)
    except (UnicodeDecodeError, ValueError):
        return _refusal(400, _("The body is not valid JSON."))
    try:
        result = receipts_ingest(message_type=message_type, records=records)
    except ReceiptInvalid as error:
        return _refusal(400, str(error))
    logger.info("receipts %s: %d received, %d new, %d unmatched", message_type, result.received, result.stored, result.unmatched)
    return JsonResponse(ACK, json_dumps_params={"ensure_ascii": False})


def _record(pk: int) -> CallRecord:
    return get_object_or_404(
        CallRecord.objects.select_related("tts_template", "voice_file", "caller_number", "requested_by"), pk=pk
    )


def _live_context(record: CallRecord) -> dict:
    events = list(record.events.all())
    for event in events:
        # Shown as the provider sent it (JSON, Chinese text unescaped), not as a Python dict.
        event.payload_text = json.dumps(event.payload, ensure_ascii=False, indent=2)
        event.status_meaning = status_code_meaning(event.status_code)
    return {"record": record, "events": events}


@require_GET
@permission_required("notifications.view_callrecord", raise_exception=True)
def call_record_detail(request, pk: int):
    record = _record(pk)
    if user_sees_full_numbers(request.user):
        number_access_record(user=request.user, call=record)  # audit: who saw which full number, when
    rendered = render_preview(record.tts_template.content, record.params) if record.tts_template else ""
    return render(request, "notifications/call_record_detail.html", {**_live_context(record), "rendered_text": rendered})


@require_GET
@permission_required("notifications.view_callrecord", raise_exception=True)
def call_record_status(request, pk: int):
    """The status card and timeline as HTML fragments, polled by the detail page until the call is final."""
    record = _record(pk)
    context = _live_context(record)
    return JsonResponse({
        "status": record.status,
        "final": record.is_final,
        "status_html": render_to_string("notifications/includes/call_status_card.html", context, request=request),
        "timeline_html": render_to_string("notifications/includes/call_timeline.html", context, request=request),
    })


@require_POST
@permission_required("notifications.requery_callrecord", raise_exception=True)
def call_record_requery_view(request, pk: int):
    record = _record(pk)
    try:
        detail = call_record_requery(record=record)
    except ReceiptInvalid as error:
        messages.error(request, str(error))
    except VmsError as error:
        logger.warning("detail query for call record %s failed: %s", record.pk, type(error).__name__)
        messages.error(request, _("The provider could not be asked right now; try again in a minute."))
    else:
        if detail is None:
            messages.info(request, _("The provider has no detail for this call yet (it appears 3–5 minutes after the call)."))
        else:
            messages.success(request, _("The provider's detail was recorded."))
    return redirect("notifications:call_record_detail", pk=record.pk)


urlpatterns = [
    path("receipts/<str:message_type>/<str:token>/", receipt_webhook, name="receipt_webhook"),
    path("calls/<int:pk>/", call_record_detail, name="call_record_detail"),
    path("calls/<int:pk>/status/", call_record_status, name="call_record_status"),
    path("calls/<int:pk>/requery/", call_record_requery_view, name="call_record_requery"),
]
