"""The Usage page (cost and billed minutes of a month, read from the daily figures) and the price list it bills by."""
import csv
import io
from datetime import timedelta

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from notifications.forms.usage import PriceRuleForm, UsageMonthForm
from notifications.models import PriceRule
from notifications.services.exports import formula_safe
from notifications.services.stats import daily_stats_refresh_dirty
from notifications.services.usage import month_bounds, price_rule_create, usage_figures
from notifications.views.history.charts import bar_chart


def _month(request):
    form = UsageMonthForm(request.GET or None)
    first = form.chosen()
    _first, last = month_bounds(first)
    return form, first, last


@require_GET
@permission_required("notifications.view_usage", raise_exception=True)
def usage(request):
    form, first, last = _month(request)
    today = timezone.localdate()
    daily_stats_refresh_dirty(first=min(first, today.replace(day=1) - timedelta(days=31)), last=max(last, today))
    figures = usage_figures(first=first, last=last, today=today)
    return render(request, "notifications/usage.html", {
        "form": form, "first": first, "last": last, "figures": figures, "this_month": first == today.replace(day=1),
        "day_chart": bar_chart([(date_format(row["day"], "m-d"), float(row["cost"] or 0)) for row in figures["by_day"]],
                               title=_("Estimated cost per day")),
        "prices_missing": not PriceRule.objects.filter(kind="notification").exists(),
        "time_zone": timezone.get_current_timezone_name(),
    })


@require_GET
@permission_required("notifications.view_usage", raise_exception=True)
def usage_csv(request):
    """The month's cost by day and by what it was spent on, formula-safe (names are typed by staff), BOM first."""
    _form, first, last = _month(request)
    figures = usage_figures(first=first, last=last)

    def lines():
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\r\n")
        writer.writerow([_("Breakdown"), _("Item"), _("Calls"), _("Answered"), _("Billed minutes"), _("Estimated cost (CNY)"),
                         _("Answered calls without a price")])
        sections = [
            (_("Day"), figures["by_day"], lambda row: row["day"].isoformat()),
            (_("TTS template"), figures["by_template"], lambda row: row["tts_template__name"]),
            (_("Voice file"), figures["by_voice_file"], lambda row: row["voice_file__name"]),
            (_("Caller number"), figures["by_caller"], lambda row: row["caller_number__number"] or _("Public pool")),
            (_("Campaign"), figures["by_campaign"], lambda row: row["campaign__name"]),
            (_("Placed by"), figures["by_person"],
             lambda row: row["requested_by__username"] or _("Nobody (placed elsewhere or by the system)")),
        ]
        for section, rows, name in sections:
            for row in rows:
                writer.writerow([section, formula_safe(str(name(row))), row["calls"], row["answered"], row["minutes"],
                                 f"{row['cost'] or 0:.4f}", row["unpriced"]])
        yield "\ufeff" + buffer.getvalue()

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="usage-{first:%Y-%m}.csv"'
    return response


@permission_required("notifications.view_pricerule", raise_exception=True)
def price_list(request):
    form = PriceRuleForm(request.POST or None)
    if request.method == "POST":
        if not request.user.has_perm("notifications.add_pricerule"):
            raise PermissionDenied
        if form.is_valid():
            try:
                price_rule_create(user=request.user, **form.cleaned_data)
            except ValidationError as error:
                form.add_error(None, error)
            else:
                messages.success(request, _("Price entered. Calls from that day on that have no price yet get it at the "
                                            "next billing run; calls that have a price keep it."))
                return redirect("notifications:price_list")
    rules = PriceRule.objects.select_related("created_by").order_by("mode", "kind", "-effective_from")
    return render(request, "notifications/price_list.html", {"form": form, "rules": rules,
                                                             "may_add": request.user.has_perm("notifications.add_pricerule")})


urlpatterns = [
    path("usage/", usage, name="usage"),
    path("usage/usage.csv", usage_csv, name="usage_csv"),
    path("usage/prices/", price_list, name="price_list"),
]
