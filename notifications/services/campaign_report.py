"""What a campaign has done: live progress (polled every 2 s while it sends), the report, and every row as CSV.

Progress and report are aggregate queries over the campaign's rows and calls that indexes answer alone, so they stay
fast at 100,000 rows while the sender writes (bench/campaign.py page): the rows' counts come from one grouped pass
over campaignrow_count_idx (campaign, state, outcome, final_status, attempts; no table read), made once per request
and shared by progress and report (`row_counts`); calls by hour come from callrecord_campaign_idx in 15-minute UTC
buckets (a native expression, not a time-zone conversion per call), the buckets older than CALLS_SETTLED kept in the
cache so a request counts only the last minutes' calls.
"""
import csv
import io
import math
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

from django.core.cache import cache
from django.db import connection
from django.db.models import Count, F, Func, IntegerField, Q
from django.utils import timezone, translation
from django.utils.formats import time_format
from django.utils.translation import gettext as _

from notifications.models import CallRecord, Campaign, CampaignRow
from notifications.rules import quiet_hours
from notifications.services.campaign_send import campaign_budget, campaign_quiet_until, campaign_quiet_window
from notifications.services.exports import formula_safe
from notifications.services.numbers import number_mask, text_mask, user_sees_full_numbers
from notifications.services.stats import ANSWERED
from notifications.texts import in_language

RowState = CampaignRow.State
Outcome = CallRecord.Outcome
# The callee did not pick up (the outcomes a campaign may retry, and a rejected call).
NOT_ANSWERED = (Outcome.BUSY, Outcome.NO_ANSWER, Outcome.POWERED_OFF, Outcome.UNREACHABLE, Outcome.REJECTED)
RATE_WINDOW = timedelta(seconds=60)
CSV_BATCH = 2000
# Calls are counted in buckets of 15 minutes of UTC time: every time zone's offset is a multiple of 15 minutes, so
# each bucket lies in one local hour. Buckets ending more than CALLS_SETTLED ago get no new call (a call's created_at
# is the moment it is created, committed within seconds): they are counted once and kept in the cache.
BUCKET_SECONDS = 900
CALLS_SETTLED = timedelta(minutes=5)
CALLS_CACHE_SECONDS = 24 * 3600


def row_counts(campaign: Campaign) -> dict:
    """Rows by what people ask about, from one grouped query (one pass over campaignrow_count_idx, which covers it).
    Compute it once per request and give it to campaign_progress and campaign_report."""
    counts = dict.fromkeys(("total", "waiting", "retry_wait", "in_progress", "answered", "listened", "not_answered",
                            "outcome_unknown", "done_rows", "refused", "not_sent", "retries_helped"), 0)
    counts["done_by_outcome"] = {}
    groups = (CampaignRow.objects.filter(campaign=campaign).order_by().values_list("state", "outcome", "final_status")
              .annotate(n=Count("id"), retried=Count("id", filter=Q(attempts__gt=1))))
    for state, outcome, final_status, n, retried in groups:
        counts["total"] += n
        if state == RowState.DONE:
            counts["done_by_outcome"][outcome] = counts["done_by_outcome"].get(outcome, 0) + n
        if state in (RowState.WAITING, RowState.RETRY_WAIT):
            counts["waiting"] += n
            counts["retry_wait"] += n if state == RowState.RETRY_WAIT else 0
        elif state == RowState.CALLING:
            counts["in_progress"] += n
        elif state == RowState.REFUSED:
            counts["refused"] += n
        elif state == RowState.NOT_SENT:
            counts["not_sent"] += n
        elif state == RowState.DONE:
            counts["done_rows"] += n
            if outcome in ANSWERED:
                counts["answered"] += n
                counts["retries_helped"] += retried
                counts["listened"] += n if outcome == Outcome.LISTENED else 0
            elif outcome in NOT_ANSWERED:
                counts["not_answered"] += n
            elif final_status == CallRecord.Status.OUTCOME_UNKNOWN:
                counts["outcome_unknown"] += n
    return counts


def campaign_progress(campaign: Campaign, *, now: datetime | None = None, counts: dict | None = None) -> dict:
    """Counts by what a person wants to know (waiting, in progress, answered, not answered, failed, outcome unknown,
    refused, not sent), the share done, the current rate, the estimated end, and the quiet-hours pause if any.
    `counts`: row_counts(campaign) when the caller has it already."""
    now = now or timezone.now()
    counts = counts if counts is not None else row_counts(campaign)
    failed = counts["done_rows"] - counts["answered"] - counts["not_answered"] - counts["outcome_unknown"]
    total = counts["total"] - counts["refused"]  # the rows to call: refused ones never will be
    done = counts["done_rows"] + counts["not_sent"]
    recent = CallRecord.objects.filter(campaign=campaign, created_at__gt=now - RATE_WINDOW, created_at__lte=now).count()
    rate = recent / RATE_WINDOW.total_seconds()
    remaining = counts["waiting"] + counts["in_progress"]
    running = campaign.state in (Campaign.State.SCHEDULED, Campaign.State.SENDING)
    quiet_until = campaign_quiet_until(campaign, now) if running else None
    estimated_end = _estimated_end(campaign, remaining=remaining, rate=rate, now=now) if running and remaining else None
    quiet_text = ""
    if quiet_until is not None:
        quiet_text = _("Paused for quiet hours until %(time)s.") % {"time": time_format(timezone.localtime(quiet_until), "H:i")}
    return {
        "state": campaign.state,
        "state_label": str(campaign.state_label),
        "total": total,
        "waiting": counts["waiting"],
        "retry_wait": counts["retry_wait"],
        "in_progress": counts["in_progress"],
        "answered": counts["answered"],
        "not_answered": counts["not_answered"],
        "failed": failed,
        "outcome_unknown": counts["outcome_unknown"],
        "refused": counts["refused"],
        "not_sent": counts["not_sent"],
        "done": done,
        "done_share": done / total if total else 0.0,
        "done_percent": math.floor(100 * done / total) if total else 0,
        "rate": round(rate, 2),
        "estimated_end": estimated_end,
        "estimated_end_iso": estimated_end.isoformat() if estimated_end else "",
        "quiet": quiet_until is not None,
        "quiet_until": quiet_until,
        "quiet_text": quiet_text,
    }


def _estimated_end(campaign: Campaign, *, remaining: int, rate: float, now: datetime) -> datetime | None:
    """When the rows left will have been called at the current rate (or the campaign's cap before it has one),
    counting only the hours outside quiet hours. Retries still to come are not counted."""
    pace = rate if rate > 0 else min(campaign.rate_cap, campaign_budget())
    if pace <= 0:
        return None
    seconds = remaining / pace
    window = campaign_quiet_window(campaign)
    moment = timezone.localtime(max(now, campaign.start_at or now))
    for _step in range(800):  # two years of days: a bound, never reached in practice
        moment = quiet_hours.next_allowed(moment, window)
        if window is None:
            return moment + timedelta(seconds=seconds)
        start, _end = window
        quiet_from = moment.replace(hour=start.hour, minute=start.minute, second=0, microsecond=0)
        if quiet_from <= moment:
            quiet_from += timedelta(days=1)
        open_seconds = (quiet_from - moment).total_seconds()
        if seconds <= open_seconds:
            return moment + timedelta(seconds=seconds)
        seconds -= open_seconds
        moment = quiet_from
    return None


class _EpochBucket(Func):
    """The BUCKET_SECONDS bucket of UTC time a datetime falls in (seconds since 1970 // BUCKET_SECONDS), natively."""

    output_field = IntegerField()

    def as_sqlite(self, compiler, connection, **extra):  # stored as UTC text: strftime is SQLite's own C
        return self.as_sql(compiler, connection,
                           template=f"(CAST(strftime('%%%%s', %(expressions)s) AS INTEGER) / {BUCKET_SECONDS})", **extra)

    def as_postgresql(self, compiler, connection, **extra):
        return self.as_sql(compiler, connection,
                           template=f"CAST(floor(extract(epoch FROM %(expressions)s) / {BUCKET_SECONDS}) AS integer)",
                           **extra)


def _call_buckets(campaign: Campaign, *, since: int | None = None, before: int | None = None) -> dict[int, int]:
    calls = CallRecord.objects.filter(campaign=campaign)
    if since is not None:
        calls = calls.filter(created_at__gte=datetime.fromtimestamp(since * BUCKET_SECONDS, tz=UTC))
    if before is not None:
        calls = calls.filter(created_at__lt=datetime.fromtimestamp(before * BUCKET_SECONDS, tz=UTC))
    return dict(calls.order_by().annotate(bucket=_EpochBucket(F("created_at"))).values_list("bucket")
                .annotate(n=Count("id")).values_list("bucket", "n"))


def _calls_by_hour(campaign: Campaign, now: datetime) -> dict[int, int]:
    """Calls by hour of day in the current time zone: the settled buckets from the cache (counted once), the last
    minutes' calls counted now, so the figure is exact."""
    zone = timezone.get_current_timezone()
    if connection.vendor not in ("sqlite", "postgresql"):  # no native bucket expression: a conversion per call
        from django.db.models.functions import ExtractHour

        return dict(CallRecord.objects.filter(campaign=campaign).order_by()
                    .annotate(hour=ExtractHour("created_at", tzinfo=zone))
                    .values_list("hour").annotate(n=Count("id")).values_list("hour", "n"))
    settled = int((now - CALLS_SETTLED).timestamp()) // BUCKET_SECONDS  # buckets before this one get no new call
    key = f"campaign-report-calls:{campaign.pk}:{campaign.created_at.timestamp()}"
    upto, buckets = cache.get(key) or (None, {})
    if upto is None or upto < settled:
        buckets = {**buckets, **_call_buckets(campaign, since=upto, before=settled)}
        upto = settled
        cache.set(key, (upto, buckets), CALLS_CACHE_SECONDS)
    hours: dict[int, int] = {}
    for bucket, n in (*buckets.items(), *_call_buckets(campaign, since=upto).items()):
        hour = datetime.fromtimestamp(bucket * BUCKET_SECONDS, tz=zone).hour
        hours[hour] = hours.get(hour, 0) + n
    return hours


def campaign_report(campaign: Campaign, *, now: datetime | None = None, counts: dict | None = None) -> dict:
    """Answer rate (of rows called), listen-through rate (listened to the end / answered), outcomes by row, calls by
    hour of day (company time zone), and retries that helped (rows answered on a later attempt).
    `counts`: row_counts(campaign) when the caller has it already."""
    counts = counts if counts is not None else row_counts(campaign)
    called = counts["done_rows"]
    outcomes = [
        {"outcome": outcome or "none", "label": str(_outcome_label(outcome)), "count": count}
        for outcome, count in sorted(counts["done_by_outcome"].items(), key=lambda item: (-item[1], item[0]))
    ]
    hours = _calls_by_hour(campaign, now or timezone.now())
    by_hour = [{"hour": hour, "count": hours[hour]} for hour in sorted(hours)]
    return {
        "rows_called": called,
        "calls": sum(hours.values()),
        "answered": counts["answered"],
        "listened": counts["listened"],
        "answer_rate": counts["answered"] / called if called else None,
        "listen_rate": counts["listened"] / counts["answered"] if counts["answered"] else None,
        "outcomes": outcomes,
        "by_hour": by_hour,
        "by_hour_peak": max(hours.values(), default=0),
        "retries_helped": counts["retries_helped"],
    }


def _outcome_label(outcome: str):
    if not outcome:
        return _("No outcome")
    try:
        return Outcome(outcome).label
    except ValueError:
        return outcome


def campaign_rows_csv(campaign: Campaign, user) -> Iterator[str]:
    """Every row's final outcome as CSV (BOM first so Excel reads UTF-8): row, callee (masked unless the user sees full
    numbers), each parameter, attempts, state and outcome in the user's language, every text cell formula-safe."""
    masked = not user_sees_full_numbers(user)
    variables = list(campaign.tts_template.variables) if campaign.tts_template_id else []
    # Words are looked up now, in the request's language: the response is streamed after the request's language ends.
    states = {value: str(label) for value, label in RowState.choices}
    outcomes = {value: str(label) for value, label in Outcome.choices}
    language = translation.get_language()
    header = [_("Row"), _("Callee"), *variables, _("Attempts"), _("State"), _("Outcome"), _("Outcome (code)"),
              _("Refusal")]
    rows = (CampaignRow.objects.filter(campaign=campaign).order_by("row_number")
            .values_list("row_number", "called_number", "raw_number", "params", "attempts", "state", "outcome",
                         "refusal_messages"))

    def line(values: list) -> str:
        buffer = io.StringIO()
        csv.writer(buffer).writerow(values)
        return buffer.getvalue()

    def lines() -> Iterator[str]:
        yield "\ufeff" + line(header)
        for row_number, called, raw, params, attempts, state, outcome, refusals in rows.iterator(chunk_size=CSV_BATCH):
            number = called or raw
            refusal = in_language(refusals, language)
            values = [str(params.get(name, "")) for name in variables] if isinstance(params, dict) else ["" for _v in variables]
            if masked:
                number = number_mask(number) if called else text_mask(number)
                values = [text_mask(value) for value in values]
                refusal = text_mask(refusal)
            yield line([row_number, formula_safe(number), *(formula_safe(value) for value in values), attempts,
                        states.get(state, state), outcomes.get(outcome, ""), outcome, formula_safe(refusal)])

    return lines()
