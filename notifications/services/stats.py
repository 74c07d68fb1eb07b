"""Daily call figures: kept in `DailyCallStat` so the dashboard sums a few hundred rows, not a million calls.

A day is always recomputed whole from its call records (delete + insert in one transaction), so a refresh is
idempotent and the figures equal a full recount. Receipts mark their day dirty; the periodic job refreshes today,
yesterday and every dirty day.
"""
from datetime import date, timedelta

from django.db import transaction
from django.db.models import Count, F, Q, Sum, Value
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone

from notifications.models import CallRecord, DailyCallStat, DailyStatDirtyDay
from notifications.selectors import local_day_bounds

ANSWERED = (CallRecord.Outcome.LISTENED, CallRecord.Outcome.HUNG_UP_EARLY)
GROUP_FIELDS = ("api", "tts_template_id", "voice_file_id", "caller_number_id", "outcome", "campaign_id", "requested_by_id")
# The dashboard's outcome bucket for calls that ended "outcome unknown": whatever outcome they carry, it says nothing.
OUTCOME_UNKNOWN = CallRecord.Status.OUTCOME_UNKNOWN.value


def call_figures(queryset):
    """Annotations shared by the refresh and the recount test."""
    answered = Q(outcome__in=ANSWERED)
    return queryset.annotate(
        n=Count("id"),
        answered=Count("id", filter=answered),
        listened=Count("id", filter=Q(outcome=CallRecord.Outcome.LISTENED)),
        seconds=Sum("duration", filter=answered),
        # Usage: started minutes of the answered calls (what a per-minute price bills), and the billed cost.
        minutes=Sum(Greatest(Value(1), (Coalesce(F("duration"), 0) + 59) / 60), filter=answered),
        billed=Count("id", filter=Q(billed_units__gt=0)),
        cost=Sum("billed_cost"),
        unpriced=Count("id", filter=answered & Q(billed_at__isnull=False, billed_cost__isnull=True)),
    )


def daily_stats_refresh(*, days) -> int:
    """Recompute the figures of the given local days; returns the number of figure rows written."""
    written = 0
    for day in sorted(set(days)):
        start, end = local_day_bounds(day, day)
        groups = call_figures(
            CallRecord.objects.filter(created_at__gte=start, created_at__lt=end).order_by().values(*GROUP_FIELDS)
        )
        rows = [
            DailyCallStat(
                day=day,
                api=group["api"],
                tts_template_id=group["tts_template_id"],
                voice_file_id=group["voice_file_id"],
                caller_number_id=group["caller_number_id"],
                outcome=group["outcome"],
                campaign_id=group["campaign_id"],
                requested_by_id=group["requested_by_id"],
                count=group["n"],
                answered_count=group["answered"],
                listened_count=group["listened"],
                duration_sum=group["seconds"] or 0,
                billed_count=group["billed"],
                billed_minutes=group["minutes"] or 0,
                cost_sum=group["cost"] or 0,
                unpriced_count=group["unpriced"],
            )
            for group in groups
        ]
        with transaction.atomic():
            DailyCallStat.objects.filter(day=day).delete()
            DailyCallStat.objects.bulk_create(rows, batch_size=1000)
            DailyStatDirtyDay.objects.filter(day=day).delete()
        written += len(rows)
    return written


def daily_stats_mark_dirty(*, days) -> None:
    """Note that calls of these local days changed; cheap enough to call on every receipt."""
    DailyStatDirtyDay.objects.bulk_create([DailyStatDirtyDay(day=day) for day in set(days)], ignore_conflicts=True)


def call_days(*records: CallRecord) -> set[date]:
    """The local days the given calls count in."""
    return {timezone.localdate(record.created_at) for record in records}


def daily_stats_refresh_recent() -> int:
    """The periodic refresh: today, yesterday and every day marked dirty."""
    today = timezone.localdate()
    days = {today, today - timedelta(days=1), *DailyStatDirtyDay.objects.values_list("day", flat=True)}
    return daily_stats_refresh(days=days)


def daily_stats_refresh_dirty(*, first: date, last: date) -> int:
    """Refresh the dirty days inside a range (the dashboard calls this before reading); usually none or today."""
    days = list(DailyStatDirtyDay.objects.filter(day__gte=first, day__lte=last).values_list("day", flat=True))
    return daily_stats_refresh(days=days) if days else 0


def daily_stats_rebuild() -> int:
    """Recompute every day that has calls (after a bulk load)."""
    DailyCallStat.objects.all().delete()
    first = CallRecord.objects.order_by("created_at").values_list("created_at", flat=True).first()
    if first is None:
        return 0
    start, end = timezone.localdate(first), timezone.localdate()
    last = CallRecord.objects.order_by("-created_at").values_list("created_at", flat=True).first()
    end = max(end, timezone.localdate(last))
    return daily_stats_refresh(days=[start + timedelta(days=n) for n in range((end - start).days + 1)])


def dashboard_figures(*, first: date, last: date) -> dict:
    """Totals, per day, per outcome, per resource and per caller number for local days first..last.

    The figures cover the whole account: calls placed elsewhere (API "other") are in them and also counted apart
    (`total["elsewhere"]`, their own resource and caller line). Calls that ended "outcome unknown" are their own
    outcome bucket and figure (`total["outcome_unknown"]`), never counted as failed.
    """
    stats = DailyCallStat.objects.filter(day__gte=first, day__lte=last).order_by()
    sums = {"count": Sum("count"), "answered": Sum("answered_count"), "listened": Sum("listened_count"), "seconds": Sum("duration_sum")}

    def rows(*fields):
        return [_rates(row) for row in stats.values(*fields).annotate(**sums)]

    per_day = {row["day"]: row for row in rows("day")}
    days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
    by_day = [per_day.get(day) or _rates({"day": day, "count": 0, "answered": 0, "listened": 0, "seconds": 0}) for day in days]
    total = _rates({key: sum(row[key] for row in by_day) for key in ("count", "answered", "listened", "seconds")})
    by_resource = rows("api", "tts_template__name", "voice_file__name")
    for row in by_resource:
        row["elsewhere"] = row["api"] == CallRecord.Api.OTHER
    total["elsewhere"] = sum(row["count"] for row in by_resource if row["elsewhere"])
    by_outcome, total["outcome_unknown"] = _outcomes_with_unknown(rows("outcome"), first=first, last=last)
    return {
        "total": total, "by_day": by_day, "by_outcome": sorted(by_outcome, key=lambda row: -row["count"]),
        "by_resource": sorted(by_resource, key=lambda row: -row["count"]),
        "by_caller": sorted(_callers(stats.values("caller_number__number", "api").annotate(**sums)), key=lambda row: -row["count"]),
    }


def outcome_unknown_counts(*, first: date, last: date) -> dict[str, int]:
    """Calls created on local days first..last that ended "outcome unknown", by the outcome they carry.

    Read from the calls themselves, as the daily figures have no status: the (status, created_at) index finds exactly
    these calls, a small share of all. (A status column in DailyCallStat would make this a sum of figure rows.)
    """
    start, end = local_day_bounds(first, last)
    found = CallRecord.objects.filter(status=CallRecord.Status.OUTCOME_UNKNOWN, created_at__gte=start, created_at__lt=end)
    return dict(found.order_by().values_list("outcome").annotate(n=Count("id")))


def _outcomes_with_unknown(by_outcome: list[dict], *, first: date, last: date) -> tuple[list[dict], int]:
    """The outcome rows with the "outcome unknown" calls moved out of the bucket their outcome put them in."""
    unknown = outcome_unknown_counts(first=first, last=last)
    moved = 0
    for row in by_outcome:
        if row["outcome"] in ANSWERED:
            continue  # a final receipt makes an answered call completed: such a pair is not outcome unknown
        # No more than the bucket holds: a day recounted before a call's status changed must not go negative.
        taken = min(unknown.get(row["outcome"], 0), row["count"])
        row["count"] -= taken
        moved += taken
        _rates(row)
    rows = [row for row in by_outcome if row["count"]]
    if moved:
        # Nothing answered among them: an answered call is never left "outcome unknown".
        rows.append(_rates({"outcome": OUTCOME_UNKNOWN, "count": moved, "answered": 0, "listened": 0, "seconds": 0}))
    return rows, moved


def _callers(grouped) -> list[dict]:
    """Per caller number; calls placed elsewhere apart from our public-pool calls (neither has a number of ours)."""
    merged: dict = {}
    for row in grouped:
        elsewhere = row["api"] == CallRecord.Api.OTHER
        key = (row["caller_number__number"], elsewhere)
        line = merged.setdefault(key, {"caller_number__number": key[0], "elsewhere": elsewhere,
                                       "count": 0, "answered": 0, "listened": 0, "seconds": 0})
        for name in ("count", "answered", "listened", "seconds"):
            line[name] += row[name] or 0
    return [_rates(line) for line in merged.values()]


def _rates(row: dict) -> dict:
    count, answered = row["count"] or 0, row["answered"] or 0
    row["answered_rate"] = answered / count if count else None
    row["listened_rate"] = (row["listened"] or 0) / count if count else None
    row["average_seconds"] = (row["seconds"] or 0) / answered if answered else None
    return row
