"""The call detail page and its live status."""
import json
import logging

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from notifications.aliyun import VmsError
from notifications.models import CallRecord
from notifications.rules.call_state import status_code_meaning
from notifications.rules.templates import render_preview
from notifications.services.numbers import number_access_record, payload_mask, text_mask, user_sees_full_numbers
from notifications.services.receipts import ReceiptInvalid, call_record_requery
from notifications.texts import in_language

logger = logging.getLogger(__name__)


def _record(pk: int) -> CallRecord:
    return get_object_or_404(
        CallRecord.objects.select_related("tts_template", "voice_file", "caller_number", "requested_by", "campaign",
                                          "campaign_row"), pk=pk
    )


def _live_context(record: CallRecord, *, full_numbers: bool) -> dict:
    """The status card's and the timeline's context, with every phone number masked for a role that sees them masked:
    the payloads and texts the provider sent name the callee too (`"callee": "139…"`, a detail query's JSON)."""
    events = list(record.events.all())
    for event in events:
        payload = event.payload if full_numbers else payload_mask(event.payload)
        # Shown as the provider sent it (JSON, Chinese text unescaped), not as a Python dict.
        event.payload_text = json.dumps(payload, ensure_ascii=False, indent=2)
        event.status_meaning = status_code_meaning(event.status_code, kind=event.kind)
        # In memory only, for this page (GET: nothing is saved): our own words in the reader's language, masked.
        event.message = in_language(event.messages) or event.message
        if not full_numbers:
            event.message = text_mask(event.message)
    record.api_message = in_language(record.api_messages) or record.api_message
    if not full_numbers:
        # The card and the header show these texts.
        record.status_msg, record.api_message = text_mask(record.status_msg), text_mask(record.api_message)
    return {"record": record, "events": events}


@require_GET
@permission_required("notifications.view_callrecord", raise_exception=True)
def call_record_detail(request, pk: int):
    record = _record(pk)
    full_numbers = user_sees_full_numbers(request.user)
    if full_numbers:
        number_access_record(user=request.user, call=record)  # audit: who saw which full number, when
    else:
        # A parameter can carry a number too ("请回电 138…"): the page shows what was said, with it masked.
        record.params = payload_mask(record.params)
    rendered = render_preview(record.tts_template.content, record.params) if record.tts_template else ""
    return render(request, "notifications/call_record_detail.html",
                  {**_live_context(record, full_numbers=full_numbers), "rendered_text": rendered})


@require_GET
@permission_required("notifications.view_callrecord", raise_exception=True)
def call_record_status(request, pk: int):
    """The status card, the provider-answer card and the timeline as HTML fragments, polled by the detail page until the call is final.

    Masked as the page is; not audited again (the page's own view was), it is polled every few seconds."""
    record = _record(pk)
    context = _live_context(record, full_numbers=user_sees_full_numbers(request.user))
    return JsonResponse({
        "status": record.status,
        "final": record.is_final,
        "status_html": render_to_string("notifications/includes/call_status_card.html", context, request=request),
        "timeline_html": render_to_string("notifications/includes/call_timeline.html", context, request=request),
        "answer_html": render_to_string("notifications/includes/call_answer_card.html", context, request=request),
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
    path("calls/<int:pk>/", call_record_detail, name="call_record_detail"),
    path("calls/<int:pk>/status/", call_record_status, name="call_record_status"),
    path("calls/<int:pk>/requery/", call_record_requery_view, name="call_record_requery"),
]
