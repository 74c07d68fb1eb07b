"""The call log, its CSV export and the list of past exports."""
from django.contrib.auth.decorators import permission_required
from django.http import StreamingHttpResponse
from django.shortcuts import render
from django.urls import path
from django.utils import timezone
from django.views.decorators.http import require_GET

from notifications.models import CallExport
from notifications.selectors import call_record_count, call_record_filtered, call_record_list, filters_described, keyset_page
from notifications.services.audit import Action, audit_record, full_number_search_record
from notifications.services.exports import call_export_rows, call_export_start
from notifications.services.numbers import text_mask, user_sees_full_numbers


@require_GET
@permission_required("notifications.view_callrecord", raise_exception=True)
def call_record_list_view(request):
    filterset = call_record_list(data=request.GET, request=request)
    if not user_sees_full_numbers(request.user) and not (request.GET.get("after") or request.GET.get("before")):
        full_number_search_record(user=request.user, filterset=filterset)  # once per search, not per page turned
    queryset = call_record_filtered(filterset)
    page = keyset_page(
        queryset, after=request.GET.get("after"), before=request.GET.get("before"), newest_first=filterset.newest_first
    )
    return render(request, "notifications/call_record_list.html", {
        "filter": filterset,
        "page": page,
        "count": call_record_count(queryset),
        "time_zone": timezone.get_current_timezone_name(),
    })


@require_GET
@permission_required("notifications.export_callrecord", raise_exception=True)
def call_record_export(request):
    """Exactly the rows the call log shows for these filters, as CSV streamed batch by batch."""
    filterset = call_record_list(data=request.GET, request=request)
    masked = not user_sees_full_numbers(request.user)
    export = call_export_start(user=request.user, filters=filterset.active_filters(), masked=masked)
    audit_record(user=request.user, action=Action.EXPORT, target=export, details={"filters": export.filters, "masked": masked})
    response = StreamingHttpResponse(
        call_export_rows(queryset=call_record_filtered(filterset), masked=masked, export=export),
        content_type="text/csv; charset=utf-8",
    )
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M%S")
    response["Content-Disposition"] = f'attachment; filename="calls-{stamp}.csv"'
    return response


@require_GET
@permission_required("notifications.export_callrecord", raise_exception=True)
def call_export_list(request):
    exports = list(CallExport.objects.select_related("user")[:200])
    masked = not user_sees_full_numbers(request.user)
    for export, described in zip(exports, filters_described([export.filters for export in exports]), strict=True):
        # A number typed as a filter by one manager is shown masked to the others (and to them).
        export.filters_shown = [(label, text_mask(value)) for label, value in described] if masked else described
    return render(request, "notifications/export_list.html", {"exports": exports, "time_zone": timezone.get_current_timezone_name()})


urlpatterns = [
    path("calls/", call_record_list_view, name="call_record_list"),
    path("calls/export.csv", call_record_export, name="call_record_export"),
    path("calls/exports/", call_export_list, name="call_export_list"),
]
