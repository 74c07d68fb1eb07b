"""Usage and cost: every ended call billed once, by the price in force on the day it was placed, and the figures of
the Usage page, read from the daily aggregates (services/stats.py), never from the calls themselves.

Only answered calls are billed: one unit per call, or one per started minute of the answered duration. A call that
was not answered costs nothing whatever the price. An answered call with no price in force keeps an empty cost
("no price") until a manager enters one effective from that day or earlier; priced calls keep their figure when the
list changes later.
"""
import calendar
import math
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.db import transaction
from django.db.models import Q, Sum
from django.db.models.functions import TruncMonth
from django.utils import timezone
from django.utils.translation import ngettext

from notifications.models import AuditEntry, CallerNumber, CallRecord, DailyCallStat, PriceRule, Purpose
from notifications.selectors import local_day_bounds
from notifications.services.audit import audit_record
from notifications.services.bulk import rows_update
from notifications.services.stats import ANSWERED, daily_stats_mark_dirty, daily_stats_refresh_dirty

BILL_BATCH = 2000
BILL_BATCHES_PER_RUN = 50  # a backlog (the calls made before billing existed) is billed over several runs
REOPEN_CHUNK = 10_000  # unpriced calls a new price reopens for billing per statement
Unit = PriceRule.Unit


def billed_units(unit: str, outcome: str, duration: int | None) -> int:
    if outcome not in ANSWERED:
        return 0
    if unit == Unit.CALL:
        return 1
    return max(1, math.ceil((duration or 0) / 60))


class PriceList:
    """Every rule by (mode, kind), newest first: the one in force on a day is found without a query per call."""

    def __init__(self, rules=None):
        self._rules = defaultdict(list)
        for rule in PriceRule.objects.order_by("-effective_from") if rules is None else rules:
            self._rules[(rule.mode, rule.kind)].append(rule)

    def rule_for(self, mode: str, kind: str, day: date) -> PriceRule | None:
        return next((rule for rule in self._rules.get((mode, kind), ()) if rule.effective_from <= day), None)


@dataclass
class BillingRun:
    """What a run of the periodic billing task did (its line on the health page)."""

    billed: int = 0

    def __str__(self) -> str:
        return ngettext("%(count)d ended call billed", "%(count)d ended calls billed", self.billed) % {"count": self.billed}


def calls_bill(*, now=None, batch: int = BILL_BATCH, batches: int = BILL_BATCHES_PER_RUN) -> int:
    """Bill every ended call not billed yet (calls placed elsewhere too); returns how many were billed. Their days are
    marked for the daily figures' recount."""
    now = now or timezone.now()
    prices = PriceList()
    # Every unbilled call, in flight or ended, in (created_at, id) order from the partial index that holds only them;
    # the ended ones are billed, the others skipped by the cursor. Filtering on the status instead sent SQLite to the
    # status index and through every completed call, billed or not (4 s a batch at a million calls).
    unbilled = (CallRecord.objects.filter(billed_at__isnull=True).order_by("created_at", "id")
                .values_list("pk", "created_at", "status", "mode", "tts_template__kind", "outcome", "duration"))
    total, after = 0, None
    for _batch in range(batches):
        page = unbilled if after is None else unbilled.filter(
            Q(created_at__gt=after[0]) | Q(created_at=after[0], pk__gt=after[1]))
        rows = list(page[:batch])
        if not rows:
            break
        after = (rows[-1][1], rows[-1][0])
        updates, days = [], set()
        for pk, created_at, status, mode, kind, outcome, duration in rows:
            if status not in CallRecord.FINAL_STATUSES:
                continue
            day = timezone.localdate(created_at)
            rule = prices.rule_for(mode, kind or Purpose.NOTIFICATION, day)
            if rule is not None:
                units = billed_units(rule.unit, outcome, duration)
                billed = {"billed_unit": rule.unit, "billed_units": units, "billed_cost": rule.unit_price * units}
            elif outcome in ANSWERED:  # no price in force: the cost stays unknown, never a guess
                billed = {"billed_unit": "", "billed_units": None, "billed_cost": None}
            else:
                billed = {"billed_unit": "", "billed_units": 0, "billed_cost": Decimal(0)}
            updates.append({"id": pk, "billed_at": now, **billed})
            days.add(day)
        with transaction.atomic():
            rows_update(CallRecord, updates)
            daily_stats_mark_dirty(days=days)
        total += len(updates)
        if len(rows) < batch:
            break
    return total


@transaction.atomic
def price_rule_create(*, user, mode: str, kind: str, unit: str, unit_price: Decimal, effective_from: date,
                      note: str = "") -> PriceRule:
    """Enter a price (validated like the form), audit-logged. Answered calls of that mode and kind that ended without a
    price since `effective_from` are billed with it at the next billing run; calls that have a price keep it."""
    rule = PriceRule(mode=mode, kind=kind, unit=unit, unit_price=unit_price, effective_from=effective_from,
                     note=note.strip(), created_by=user)
    rule.full_clean()
    rule.save()
    audit_record(user=user, action=AuditEntry.Action.PRICE_ADDED, target=rule, details={
        "mode": mode, "kind": kind, "unit": unit, "unit_price": str(unit_price), "effective_from": effective_from.isoformat()})
    start, _end = local_day_bounds(effective_from, effective_from)
    of_kind = Q(tts_template__kind=kind) | (Q(tts_template__isnull=True) if kind == Purpose.NOTIFICATION else Q(pk__in=[]))
    unpriced = CallRecord.objects.filter(of_kind, billed_at__isnull=False, billed_cost__isnull=True, mode=mode,
                                         created_at__gte=start)
    after = 0  # by ranges of ids: every unpriced call, however many, in statements of a bounded size
    while ids := list(unpriced.filter(pk__gt=after).order_by("pk").values_list("pk", flat=True)[:REOPEN_CHUNK]):
        unpriced.filter(pk__gt=after, pk__lte=ids[-1]).update(billed_at=None)
        after = ids[-1]
    return rule


# ----- the Usage page's figures (daily aggregates) -----

def _summed(queryset) -> dict:
    figures = queryset.aggregate(calls=Sum("count"), answered=Sum("answered_count"), billed=Sum("billed_count"),
                                 minutes=Sum("billed_minutes"), cost=Sum("cost_sum"), unpriced=Sum("unpriced_count"))
    return {key: value or (Decimal(0) if key == "cost" else 0) for key, value in figures.items()}


def spent(*, first: date, last: date) -> Decimal:
    """The estimated cost of the calls placed on local days first..last (daily figures, recounted first if dirty)."""
    daily_stats_refresh_dirty(first=first, last=last)
    return DailyCallStat.objects.filter(day__gte=first, day__lte=last).aggregate(cost=Sum("cost_sum"))["cost"] or Decimal(0)


def month_bounds(day: date) -> tuple[date, date]:
    return day.replace(day=1), day.replace(day=calendar.monthrange(day.year, day.month)[1])


def usage_figures(*, first: date, last: date, today: date | None = None) -> dict:
    """Cost and billed minutes for local days first..last: totals, per day, and per template or voice file, caller
    number, campaign and person; with month to date beside last month, a forecast to month end and number rent."""
    today = today or timezone.localdate()
    stats = DailyCallStat.objects.filter(day__gte=first, day__lte=last)
    by = {
        "by_day": list(stats.order_by("day").values("day").annotate(**_sums())),
        "by_template": list(stats.exclude(tts_template=None).values("tts_template_id", "tts_template__name")
                            .annotate(**_sums()).order_by("-cost", "tts_template__name")),
        "by_voice_file": list(stats.exclude(voice_file=None).values("voice_file_id", "voice_file__name")
                              .annotate(**_sums()).order_by("-cost", "voice_file__name")),
        "by_caller": list(stats.values("caller_number_id", "caller_number__number").annotate(**_sums())
                          .order_by("-cost", "caller_number__number")),
        "by_campaign": list(stats.exclude(campaign=None).values("campaign_id", "campaign__name").annotate(**_sums())
                            .order_by("-cost", "campaign__name")),
        "by_person": list(stats.values("requested_by_id", "requested_by__username").annotate(**_sums())
                          .order_by("-cost", "requested_by__username")),
    }
    month_first, month_last = month_bounds(today)
    # The months of the year before this one, for the per-month table (its own range, whatever the chosen month).
    year_first = (month_first - timedelta(days=366)).replace(day=1)
    by["by_month"] = list(DailyCallStat.objects.filter(day__gte=year_first, day__lte=today)
                          .annotate(month=TruncMonth("day")).values("month").annotate(**_sums()).order_by("-month"))
    previous_first, previous_last = month_bounds(month_first - timedelta(days=1))
    month = _summed(DailyCallStat.objects.filter(day__gte=month_first, day__lte=today))
    previous = _summed(DailyCallStat.objects.filter(day__gte=previous_first, day__lte=previous_last))
    elapsed, days = (today - month_first).days + 1, (month_last - month_first).days + 1
    rent = CallerNumber.objects.filter(status__in=[CallerNumber.Status.ACTIVE, CallerNumber.Status.SUSPENDED]).aggregate(
        total=Sum("monthly_rent"))["total"] or Decimal(0)
    return {
        "total": _summed(stats), **by,
        "month": month, "previous": previous, "month_first": month_first, "previous_first": previous_first,
        # The days gone at the pace so far; the rent is the month's whole, on top.
        "forecast": (month["cost"] * days / elapsed).quantize(Decimal("0.01")),
        "rent": rent,
    }


def _sums() -> dict:
    return {"calls": Sum("count"), "answered": Sum("answered_count"), "billed": Sum("billed_count"),
            "minutes": Sum("billed_minutes"), "cost": Sum("cost_sum"), "unpriced": Sum("unpriced_count")}
