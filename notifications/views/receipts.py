"""The receipt webhook (the provider's HTTP batch push) and the receipt deliveries pages."""
import json
import logging

import django_filters
from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required, permission_required
from django.http import HttpResponseForbidden, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from notifications import work
from notifications.aliyun.push import (
    MAX_ITEM_DEPTH,
    MESSAGE_TYPES,
    PushBodyInvalid,
    nesting_depth,
    push_body_decode,
    receipt_dedup_key,
    receipt_parse,
)
from notifications.forms.common import CalendarDateInput, DayOrderCheck
from notifications.models import AuditEntry, CallEvent, ReceiptDelivery
from notifications.selectors import call_record_count, keyset_page, local_day_bounds
from notifications.services.audit import audit_record
from notifications.services.numbers import payload_mask, text_mask, user_sees_full_numbers
from notifications.services.receipt_inbox import (
    problem_text,
    receipt_body_limit,
    receipt_deliveries_replay,
    receipt_delivery_store,
)
from notifications.services.webhook_tokens import webhook_token_valid

logger = logging.getLogger(__name__)

ACK = {"code": 0, "msg": "接收成功"}  # the exact acknowledgement the provider expects (reference §6.2)


def _refusal(status: int, message: str) -> JsonResponse:
    # Same shape as the acknowledgement, with a non-zero code, so the provider's logs show the reason.
    return JsonResponse({"code": status, "msg": message}, status=status, json_dumps_params={"ensure_ascii": False})


@csrf_exempt
@login_not_required
@require_POST
def receipt_webhook(request, message_type: str, token: str):
    """Store the push as received and acknowledge it; a job applies it. Only a body that is not a JSON array gets 400."""
    if not webhook_token_valid(token):
        return HttpResponseForbidden()
    if message_type not in MESSAGE_TYPES:
        return _refusal(404, _("Receipts of type %(type)s are not accepted here.") % {"type": message_type})
    limit = receipt_body_limit()
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    # Read one byte past the limit: a chunked body has no Content-Length to judge it by.
    body = b"" if declared > limit else request.read(limit + 1)
    if declared > limit or len(body) > limit:
        logger.warning("receipt push of %s refused: over %d bytes", message_type, limit)
        return _refusal(413, _("The body is larger than %(limit)d bytes; send fewer receipts per push.") % {"limit": limit})
    delivery = receipt_delivery_store(message_type=message_type, body=body)
    if delivery.state == ReceiptDelivery.State.INVALID:
        return _refusal(400, problem_text(delivery.problems[0]))
    work.inbox_wake()  # a job applies the push, off this request
    return JsonResponse(ACK, json_dumps_params={"ensure_ascii": False})


class DeliveryFilterForm(DayOrderCheck, forms.Form):
    day_order_error_field = "date_to"


class ReceiptDeliveryFilter(django_filters.FilterSet):
    """The deliveries page's filters; each lives in the URL, and Replay takes exactly the set they select."""

    message_type = django_filters.ChoiceFilter(label=gettext_lazy("Type"), choices=ReceiptDelivery.MessageType.choices,
                                               empty_label=gettext_lazy("Any type"))
    state = django_filters.ChoiceFilter(label=gettext_lazy("State"), choices=ReceiptDelivery.State.choices,
                                        empty_label=gettext_lazy("Any state"))
    date_from = django_filters.DateFilter(label=gettext_lazy("From"), method="filter_date_from", widget=CalendarDateInput())
    date_to = django_filters.DateFilter(label=gettext_lazy("To"), method="filter_date_to", widget=CalendarDateInput())

    class Meta:
        model = ReceiptDelivery
        fields = ["message_type", "state"]
        form = DeliveryFilterForm

    def filter_date_from(self, queryset, name, value):
        return queryset.filter(received_at__gte=local_day_bounds(value, value)[0])

    def filter_date_to(self, queryset, name, value):
        return queryset.filter(received_at__lt=local_day_bounds(value, value)[1])


def _filtered(request_data):
    filterset = ReceiptDeliveryFilter(data=request_data, queryset=ReceiptDelivery.objects.all())
    queryset = filterset.qs if filterset.is_valid() else ReceiptDelivery.objects.none()
    return filterset, queryset


@require_GET
@permission_required("notifications.view_receiptdelivery", raise_exception=True)
def receipt_delivery_list(request):
    """Every push, newest first, paged by (received_at, id) so an old page costs what the first one does."""
    filterset, queryset = _filtered(request.GET)
    page = keyset_page(queryset.defer("body"), after=request.GET.get("after"), before=request.GET.get("before"),
                       time_field="received_at")
    return render(request, "notifications/receipt_delivery_list.html", {
        "filter": filterset, "page": page, "count": call_record_count(queryset),
        "waiting": ReceiptDelivery.objects.filter(state=ReceiptDelivery.State.PENDING).count(),
        "replay_filters": [(name, request.GET[name]) for name in filterset.filters if request.GET.get(name)],
        "time_zone": timezone.get_current_timezone_name(),
    })


def _items_now(delivery: ReceiptDelivery, decoded: list) -> list[dict]:
    """Each item as it stands now: invalid with its reason, or the call it was applied to, or still unmatched."""
    problems = {problem.get("index"): problem for problem in delivery.problems if problem.get("index") is not None}
    items, keys = [], {}
    for index, item in enumerate(decoded[:500]):
        entry = {"index": index, "problem": problems.get(index)}
        try:
            receipt = receipt_parse(message_type=delivery.message_type, item=item)
        except ValueError:
            entry["state"] = ReceiptDelivery.State.INVALID
        else:
            keys[index] = receipt_dedup_key(receipt)
            entry["call_id"] = receipt.call_id
            entry["out_id"] = receipt.out_id
            entry["status_code"] = receipt.status_code
        items.append(entry)
    calls = dict(CallEvent.objects.filter(dedup_key__in=list(keys.values())).values_list("dedup_key", "call_id"))
    for entry in items:
        key = keys.get(entry["index"])
        if key is None:
            continue
        entry["call_pk"] = calls.get(key)
        if delivery.state == ReceiptDelivery.State.PENDING:
            entry["state"] = ReceiptDelivery.State.PENDING
        else:
            entry["state"] = ReceiptDelivery.State.APPLIED if entry["call_pk"] else ReceiptDelivery.State.UNMATCHED
    for entry in items:
        if entry.get("problem"):
            entry["reason"] = problem_text(entry["problem"])
    return items


@require_GET
@permission_required("notifications.view_receiptdelivery", raise_exception=True)
def receipt_delivery_detail(request, pk: int):
    delivery = get_object_or_404(ReceiptDelivery, pk=pk)
    masked = not user_sees_full_numbers(request.user)
    try:
        decoded = push_body_decode(bytes(delivery.body))
    except PushBodyInvalid:
        decoded = None
    if decoded is not None and nesting_depth(decoded) <= MAX_ITEM_DEPTH + 1:
        shown = json.dumps(payload_mask(decoded) if masked else decoded, ensure_ascii=False, indent=2, default=repr)
    else:
        shown = text_mask(delivery.body_text) if masked else delivery.body_text
    body_problem = next((problem_text(p) for p in delivery.problems if p.get("index") is None), "")
    return render(request, "notifications/receipt_delivery_detail.html", {
        "delivery": delivery, "body_shown": shown, "items": _items_now(delivery, decoded) if decoded is not None else [],
        "item_limit_reached": decoded is not None and len(decoded) > 500, "body_problem": body_problem,
        "time_zone": timezone.get_current_timezone_name(),
    })


@require_POST
@permission_required("notifications.replay_receiptdelivery", raise_exception=True)
def receipt_delivery_replay(request, pk: int):
    delivery = get_object_or_404(ReceiptDelivery, pk=pk)
    receipt_deliveries_replay(deliveries=[delivery])
    logger.info("receipt push %s replayed by %s", delivery.pk, request.user)
    audit_record(user=request.user, action=AuditEntry.Action.RECEIPT_REPLAY, target=delivery, details={"pushes": 1})
    messages.success(request, _("The push was queued to be applied again."))
    return redirect("notifications:receipt_delivery_detail", pk=delivery.pk)


@require_POST
@permission_required("notifications.replay_receiptdelivery", raise_exception=True)
def receipt_deliveries_replay_filtered(request):
    """Replay every push the page's filters select (the filters come back in the form, as the page had them)."""
    filterset, queryset = _filtered(request.POST)
    if not filterset.is_valid():
        messages.error(request, _("The filters are not valid; nothing was replayed."))
    else:
        count = receipt_deliveries_replay(deliveries=queryset)
        logger.info("%d receipt pushes replayed by %s", count, request.user)
        audit_record(user=request.user, action=AuditEntry.Action.RECEIPT_REPLAY, target=None,
                     details={"pushes": count, "filters": {k: v for k, v in request.POST.items() if k in filterset.filters and v}})
        messages.success(request, _("%(count)d pushes were queued to be applied again.") % {"count": count})
    query = {name: value for name, value in request.POST.items() if name in filterset.filters and value}
    return redirect(f"{reverse('notifications:receipt_delivery_list')}?{urlencode(query)}")


urlpatterns = [
    path("receipts/<str:message_type>/<str:token>/", receipt_webhook, name="receipt_webhook"),
    path("receipt-deliveries/", receipt_delivery_list, name="receipt_delivery_list"),
    path("receipt-deliveries/replay/", receipt_deliveries_replay_filtered, name="receipt_deliveries_replay"),
    path("receipt-deliveries/<int:pk>/", receipt_delivery_detail, name="receipt_delivery_detail"),
    path("receipt-deliveries/<int:pk>/replay/", receipt_delivery_replay, name="receipt_delivery_replay"),
]
