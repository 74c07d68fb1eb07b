"""The do-not-call list: the list (filtered by number and state), adding, importing, exporting, unblocking, and
one page per number with its calls and the history of its blocks."""
from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from notifications.forms.dialing import BlockedNumberForm, BlockedNumberImportForm
from notifications.models import AuditEntry, BlockedNumber, CallRecord
from notifications.services import blocked_numbers as service
from notifications.services.audit import audit_record
from notifications.services.numbers import number_mask, user_sees_full_numbers

STATES = {"active", "expired"}


def _filters(request) -> tuple[str, str]:
    state = request.GET.get("state") or ""
    return (request.GET.get("q") or "").strip(), state if state in STATES else ""


@require_GET
@permission_required("notifications.view_blockednumber", raise_exception=True)
def blocked_number_list(request):
    query, state = _filters(request)
    today = service.company_today()
    page = Paginator(service.blocked_numbers_filtered(query=query, state=state, today=today), 50).get_page(request.GET.get("page"))
    for blocked in page.object_list:
        blocked.expired = blocked.is_expired(today)
    return render(request, "notifications/blocked_number_list.html", {
        "page": page, "query": query, "state": state, "filtered": bool(query or state)})


@require_GET
@permission_required("notifications.view_blockednumber", raise_exception=True)
def blocked_number_export(request, kind: str):
    """The list as filtered on the page, as CSV or XLSX: numbers masked unless the user sees them in full."""
    query, state = _filters(request)
    numbers = service.blocked_numbers_filtered(query=query, state=state)
    # Who took the list, how much of it and how shown; never the search typed, which may be part of a number.
    audit_record(user=request.user, action=AuditEntry.Action.BLOCKED_NUMBERS_EXPORTED, target=_("Do-not-call list"),
                 details={"format": kind, "numbers": numbers.count(), "state": state, "searched": bool(query),
                          "masked": not user_sees_full_numbers(request.user)})
    if kind == "xlsx":
        response = HttpResponse(service.blocked_numbers_xlsx(numbers, request.user),
                                content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    else:
        response = StreamingHttpResponse(service.blocked_numbers_csv(numbers, request.user), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="do-not-call-list.{kind}"'
    return response


@require_http_methods(["GET", "POST"])
@permission_required("notifications.add_blockednumber", raise_exception=True)
def blocked_number_create_view(request):
    """Add a number; `?number=` prefills it and `?call=<pk>` blocks that call's callee, then returns to the call.

    Users who see numbers masked block a call's callee without seeing it: the number stays on the server.
    """
    call = None
    call_pk = request.GET.get("call") or request.POST.get("call")
    if call_pk and str(call_pk).isdigit():
        call = get_object_or_404(CallRecord, pk=call_pk)
    full_numbers = user_sees_full_numbers(request.user)
    form = BlockedNumberForm(
        request.POST or None,
        initial={"number": request.GET.get("number") or (call.called_number if call else "")},
        number_from_call=call.called_number if call and not full_numbers else None,
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            blocked = service.blocked_number_create(number=data["number"], reason=data["reason"], expires_on=data.get("expires_on"),
                                                    user=request.user)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            shown = blocked.number if full_numbers else number_mask(blocked.number)
            messages.success(request, _("%(number)s is on the do-not-call list now.") % {"number": shown})
            if call is not None:
                return redirect("notifications:call_record_detail", pk=call.pk)
            return redirect("notifications:blocked_number_list")
    return render(request, "notifications/blocked_number_create.html", {"form": form, "call": call})


@require_http_methods(["GET", "POST"])
@permission_required("notifications.add_blockednumber", raise_exception=True)
def blocked_number_import(request):
    """Upload a file; every row is checked and, only when none is wrong, imported (see services.blocked_numbers)."""
    form = BlockedNumberImportForm(request.POST, request.FILES) if request.method == "POST" else BlockedNumberImportForm()
    result = None
    if request.method == "POST" and form.is_valid():
        uploaded = form.cleaned_data["file"]
        result = service.blocked_numbers_import(uploaded_file=uploaded, file_name=uploaded.name, user=request.user)
        if result.imported:
            messages.success(request, _("The file was imported: %(added)d added, %(updated)d updated.") % {
                "added": result.added, "updated": result.updated})
    return render(request, "notifications/blocked_number_import.html", {"form": form, "result": result})


@require_POST
@permission_required("notifications.delete_blockednumber", raise_exception=True)
def blocked_number_delete_view(request, pk: int):
    blocked = get_object_or_404(BlockedNumber, pk=pk)
    service.blocked_number_delete(blocked=blocked, user=request.user)
    shown = blocked.number if user_sees_full_numbers(request.user) else number_mask(blocked.number)
    messages.success(request, _("%(number)s can be called again.") % {"number": shown})
    target = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return redirect(target)
    return redirect("notifications:blocked_number_list")


def _number_page(request, number: str, *, call: CallRecord | None = None):
    """One number's calls and blocks. The URL names a block or a call, never the number itself."""
    current = BlockedNumber.objects.select_related("created_by").filter(number=number).first()
    today = service.company_today()
    if user_sees_full_numbers(request.user):
        audit_record(user=request.user, action=AuditEntry.Action.FULL_NUMBER_VIEW, target=current or number_mask(number))
    page = Paginator(service.calls_to(number), 25).get_page(request.GET.get("page"))
    history = list(service.number_history(number, current)[:200])
    return render(request, "notifications/blocked_number_detail.html", {
        "number": number, "current": current, "expired": current.is_expired(today) if current else False,
        "page": page, "history": history, "call": call,
    })


@require_GET
@permission_required("notifications.view_blockednumber", raise_exception=True)
@permission_required("notifications.view_callrecord", raise_exception=True)
def blocked_number_detail(request, pk: int):
    return _number_page(request, get_object_or_404(BlockedNumber, pk=pk).number)


@require_GET
@permission_required("notifications.view_blockednumber", raise_exception=True)
@permission_required("notifications.view_callrecord", raise_exception=True)
def call_number_page(request, pk: int):
    """The page of a call's callee, whether it is on the list, was once, or never was."""
    call = get_object_or_404(CallRecord.objects.only("pk", "out_id", "called_number"), pk=pk)
    return _number_page(request, call.called_number, call=call)


urlpatterns = [
    path("blocked-numbers/", blocked_number_list, name="blocked_number_list"),
    path("blocked-numbers/add/", blocked_number_create_view, name="blocked_number_create"),
    path("blocked-numbers/import/", blocked_number_import, name="blocked_number_import"),
    path("blocked-numbers/export.csv", blocked_number_export, {"kind": "csv"}, name="blocked_number_export_csv"),
    path("blocked-numbers/export.xlsx", blocked_number_export, {"kind": "xlsx"}, name="blocked_number_export_xlsx"),
    path("blocked-numbers/<int:pk>/", blocked_number_detail, name="blocked_number_detail"),
    path("blocked-numbers/<int:pk>/delete/", blocked_number_delete_view, name="blocked_number_delete"),
    path("calls/<int:pk>/number/", call_number_page, name="call_number_page"),
]
