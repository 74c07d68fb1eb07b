"""The follow-up (DESIGN §3 step 4): settle what receipts did not.

Interrupted sends become `unknown` (never redialled), calls whose receipts were lost are looked up with a detail
query, and calls nothing more will be learned about end in their own final state, "outcome unknown", with the
reason: "failed" is kept for calls the provider refused or that were certainly not placed.
"""
import logging
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from notifications.aliyun import VmsOutcomeUnknown, VmsRejected, VmsThrottled, get_vms_client
from notifications.models import CallEvent, CallRecord
from notifications.texts import in_each_language, in_language

logger = logging.getLogger(__name__)

# How long a call may take from acceptance to its end (settings.CALL_EXPECTED_SECONDS, default 180: ringing, about a
# minute, plus three plays of a message), and how late a receipt may still come (CALL_RECEIPT_RETRY_WINDOW_MINUTES,
# default 20: the provider's three push retries, +1, +5, +10 minutes). Settings so the fault tests can shorten them.
# A call the provider reported nothing about for a day is closed with outcome "unknown" (never redialled).
DETAIL_GIVE_UP = timedelta(hours=24)


@dataclass
class FollowUpSummary:
    queried: int = 0
    found: int = 0
    settled: int = 0
    stale_sending: int = 0

    def __str__(self) -> str:
        return _(
            "%(queried)d detail queries (%(found)d answered), %(settled)d calls closed with outcome unknown, "
            "%(stale)d interrupted sends marked unclear"
        ) % {"queried": self.queried, "found": self.found, "settled": self.settled, "stale": self.stale_sending}


def _settle(queryset, *, message) -> int:
    """End the follow-up of calls nothing more will be learned about: final "outcome unknown", never redialled.

    Not "failed": such a call may well have rung (a read timeout or a killed worker leaves no CallId even when the
    call was placed), and only the provider's refusal or a call certainly not placed is a failure.
    """
    settled = 0
    messages = in_each_language(message)  # `message` says why, once per language
    for record in queryset:
        with transaction.atomic():
            updated = CallRecord.objects.filter(pk=record.pk, status=record.status, final_report_at__isnull=True).update(
                status=CallRecord.Status.OUTCOME_UNKNOWN, outcome=CallRecord.Outcome.UNKNOWN,
                api_message=in_language(messages), api_messages=messages, updated_at=timezone.now(),
            )
            if updated:
                CallEvent.objects.create(call=record, kind=CallEvent.Kind.NOTE, message=in_language(messages),
                                         messages=messages)
                settled += 1
    return settled


def calls_follow_up(*, limit: int = 500) -> FollowUpSummary:
    """Settle what receipts did not: close interrupted sends, query unfinished calls, end those nothing is known of.

    Calls left `queued` are the periodic dispatcher wake-up's (services/calls_dispatch.py), not this function's.
    """
    from notifications.services.receipts import call_record_apply_detail

    summary = FollowUpSummary()
    now = timezone.now()
    wait = timedelta(minutes=settings.CALL_DETAIL_QUERY_AFTER_MINUTES)
    expected = timedelta(seconds=settings.CALL_EXPECTED_SECONDS)
    in_flight = [CallRecord.Status.ACCEPTED, CallRecord.Status.RINGING, CallRecord.Status.ANSWERED, CallRecord.Status.UNKNOWN]

    # A send that never finished (the worker died mid-request) may have placed the call: never redial it.
    stale_before = now - timedelta(seconds=settings.ALIYUN_VMS_CONNECT_TIMEOUT + settings.ALIYUN_VMS_READ_TIMEOUT
                                         + settings.CALL_SENDING_GRACE_SECONDS)
    for record in CallRecord.objects.filter(status=CallRecord.Status.SENDING, sent_at__lt=stale_before)[:limit]:
        messages = in_each_language(lambda: _(
            "The send was interrupted before the provider answered; the call may have been placed and will not be "
            "redialled. Its receipt or a detail query settles it."))
        with transaction.atomic():
            if CallRecord.objects.filter(pk=record.pk, status=CallRecord.Status.SENDING).update(
                status=CallRecord.Status.UNKNOWN, api_message=in_language(messages), api_messages=messages, updated_at=now
            ):
                CallEvent.objects.create(call=record, kind=CallEvent.Kind.NOTE, message=in_language(messages),
                                         messages=messages)
                summary.stale_sending += 1

    # Calls with a CallId and no final receipt a while after they should have ended: ask the provider.
    recently_queried = CallEvent.objects.filter(kind=CallEvent.Kind.DETAIL_QUERY, created_at__gt=now - wait, call__isnull=False)
    due = (
        CallRecord.objects.filter(status__in=in_flight, call_id__isnull=False, final_report_at__isnull=True,
                                  sent_at__lt=now - wait - expected)
        .exclude(pk__in=recently_queried.values("call_id"))
        .exclude(call_id="")
        .order_by("sent_at")
    )
    client = get_vms_client() if due.exists() else None
    for record in due[:limit]:
        try:
            detail = client.query_call_detail(call_id=record.call_id, api=record.api, query_date=record.sent_at)
        except (VmsThrottled, VmsOutcomeUnknown, VmsRejected) as exc:
            logger.warning("detail query for call %s failed: %s", record.out_id, exc.code or exc.message)
            continue
        summary.queried += 1
        summary.found += detail is not None
        call_record_apply_detail(record=record, detail=detail)

    settle_before = now - wait - expected - timedelta(minutes=settings.CALL_RECEIPT_RETRY_WINDOW_MINUTES)
    summary.settled += _settle(
        CallRecord.objects.filter(status=CallRecord.Status.UNKNOWN, final_report_at__isnull=True, sent_at__lt=settle_before)
        .filter(Q(call_id__isnull=True) | Q(call_id=""))[:limit],
        message=lambda: _("The provider gave no clear answer and no CallId, receipt or detail arrived afterwards, so "
                          "whether the call was placed cannot be known. It was not redialled."),
    )
    summary.settled += _settle(
        CallRecord.objects.filter(status__in=in_flight, final_report_at__isnull=True, sent_at__lt=now - DETAIL_GIVE_UP)[:limit],
        message=lambda: _("The provider reported no result for this call within a day; its outcome stays unknown."),
    )
    return summary
