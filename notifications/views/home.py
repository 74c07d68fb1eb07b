"""The landing page: the dashboard of call figures for a date range."""
from django.db.models import Count
from django.shortcuts import render
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from notifications.forms.common import explicit_dates_win
from notifications.forms.history import DashboardRangeForm
from notifications.models import CallRecord, Campaign
from notifications.selectors import call_record_count
from notifications.services.stats import OUTCOME_UNKNOWN, daily_stats_refresh_dirty, dashboard_figures
from notifications.views.history.charts import bar_chart, share_bars

IN_FLIGHT_SHOWN = 10
IN_FLIGHT_COUNT_CAP = 1000
# The campaigns that need someone or are calling now; finished and cancelled ones are on the campaign list.
CAMPAIGN_STATES_SHOWN = (Campaign.State.AWAITING_APPROVAL, Campaign.State.SCHEDULED, Campaign.State.SENDING,
                         Campaign.State.PAUSED)


def campaign_figures(user) -> list[tuple[str, str, int]] | None:
    """(state, label, count) of the open campaigns, one query; None for a user who may not see campaigns."""
    if not user.has_perm("notifications.view_campaign"):
        return None
    counts = {row["state"]: row["n"] for row in Campaign.objects.filter(state__in=CAMPAIGN_STATES_SHOWN).order_by()
              .values("state").annotate(n=Count("id"))}
    return [(state, state.label, counts.get(state, 0)) for state in CAMPAIGN_STATES_SHOWN]


@require_GET
def home(request):
    if not request.user.has_perm("notifications.view_callrecord"):
        # Users without call access still land here; they get the menu, not the figures.
        return render(request, "notifications/home.html", {"form": None})
    # With no choice made the dashboard shows the last 7 days, and its form says so.
    form = DashboardRangeForm(explicit_dates_win(request.GET) or {"range": "7d"})
    period_name, first, last = form.period()
    daily_stats_refresh_dirty(first=first, last=last)
    figures = dashboard_figures(first=first, last=last)
    # "Outcome unknown" is a final status, shown as its own bucket beside the outcomes.
    outcomes = {**dict(CallRecord.Outcome.choices), OUTCOME_UNKNOWN: CallRecord.Status.OUTCOME_UNKNOWN.label}
    # An IN list of the open statuses, not NOT IN the final ones, so the (status, created_at) index serves it.
    open_statuses = [status for status in CallRecord.Status if status not in CallRecord.FINAL_STATUSES]
    in_flight = CallRecord.objects.filter(status__in=open_statuses).select_related("tts_template", "voice_file")
    return render(request, "notifications/home.html", {
        "form": form,
        "first": first,
        "last": last,
        # The quick range's name when one decides the period; chosen dates are said as such.
        "period_name": period_name,
        # The same days in the call log, for the figures that link to their calls.
        "range_query": urlencode({"date_from": first.isoformat(), "date_to": last.isoformat()}),
        "figures": figures,
        "day_chart": bar_chart(
            [(date_format(row["day"], "m-d"), row["count"]) for row in figures["by_day"]], title=_("Calls placed per day")
        ),
        "outcome_chart": share_bars(
            [
                (row["outcome"] or "queued", outcomes.get(row["outcome"], _("No outcome yet")), row["count"])
                for row in figures["by_outcome"]
            ],
            title=_("Calls by outcome"),
        ),
        "in_flight_count": call_record_count(in_flight, cap=IN_FLIGHT_COUNT_CAP),
        "in_flight": list(in_flight.order_by("-created_at", "-id")[:IN_FLIGHT_SHOWN]),
        "time_zone": timezone.get_current_timezone_name(),
        "campaigns": campaign_figures(request.user),
    })
