"""Campaign pages: the list, a new campaign, its column mapping, its page (check, schedule, approval, progress,
report) and the downloads. Every rule lives in the campaign services; a view checks the permission, reads the form,
makes one call and shows the result."""
from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import JsonResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from notifications.forms.campaigns import (
    CampaignCreateForm,
    CampaignFileForm,
    CampaignFilter,
    CampaignMappingForm,
    CampaignScheduleForm,
    SendBackForm,
)
from notifications.models import CallRecord, Campaign, CampaignRow
from notifications.rules.templates import render_preview
from notifications.services import campaign_check as check
from notifications.services import campaign_flow as flow
from notifications.services import campaign_report as report
from notifications.services.campaign_create import campaign_create
from notifications.services.campaign_files import CampaignFileError
from notifications.services.numbers import number_mask, payload_mask, text_mask, user_sees_full_numbers
from notifications.texts import in_language

State = Campaign.State
PAGE_SIZE = 20
PREVIEW_ROWS = 5
# The list, its mapping and its schedule may change until sending begins; after approval a change sends the
# campaign back for approval (the services see to that).
EDITABLE = (State.DRAFT, State.CHECKED, State.AWAITING_APPROVAL, State.SCHEDULED)
# States in which calls exist or may soon: the page shows the live progress and the report.
UNDER_WAY = (State.SCHEDULED, State.SENDING, State.PAUSED, State.FINISHED, State.CANCELLED)
REPORTED = (State.SENDING, State.PAUSED, State.FINISHED, State.CANCELLED)
FINAL = (State.FINISHED, State.CANCELLED)
ACTIONS = {
    # action: (permission, service, audit is written by the service)
    "submit": "notifications.add_campaign",
    "approve": "notifications.approve_campaign",
    "send_back": "notifications.approve_campaign",
    "pause": "notifications.change_campaign",
    "resume": "notifications.change_campaign",
    "cancel": "notifications.change_campaign",
}


def _campaign(pk: int) -> Campaign:
    return get_object_or_404(
        Campaign.objects.select_related("tts_template", "voice_file", "created_by", "approved_by"), pk=pk,
    )


def _file_error(error) -> ValidationError | str:
    return error if isinstance(error, ValidationError) else str(error)


def _attach(form, error: ValidationError) -> None:
    """A service's refusal next to the form's field it names, or above the form."""
    if hasattr(error, "error_dict"):
        for key, errors in error.error_dict.items():
            form.add_error(key if key in form.fields else None, errors)
    else:
        form.add_error(None, error)


def _error_text(error: Exception) -> str:
    if isinstance(error, ValidationError):
        return " ".join(error.messages)
    return str(error) or _("You may not do this.")


# ----- list -----
@require_GET
@permission_required("notifications.view_campaign", raise_exception=True)
def campaign_list(request):
    filterset = CampaignFilter(
        request.GET or None, queryset=Campaign.objects.select_related("created_by", "tts_template", "voice_file"),
    )
    campaigns = filterset.qs if filterset.is_bound and filterset.is_valid() else filterset.queryset
    if filterset.is_bound and not filterset.is_valid():
        campaigns = campaigns.none()
    page = Paginator(campaigns.order_by("-created_at", "-id"), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "notifications/campaigns/campaign_list.html", {"filter": filterset, "page": page})


# ----- creating and mapping -----
@require_http_methods(["GET", "POST"])
@permission_required("notifications.add_campaign", raise_exception=True)
def campaign_create_view(request):
    form = CampaignCreateForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            campaign = campaign_create(
                name=data["name"], user=request.user, uploaded_file=data["file"],
                tts_template=data.get("template"), voice_file=data.get("voice_file"),
                caller_numbers=list(data.get("caller_numbers") or []),
                play_times=data["play_times"], volume=data["volume"], speed=data.get("speed"),
            )
        except CampaignFileError as error:
            form.add_error("file", _file_error(error))
        except ValidationError as error:
            _attach(form, error)
        else:
            messages.success(request, _("The list was read. Now tell which column holds what."))
            return redirect("notifications:campaign_mapping", pk=campaign.pk)
    return render(request, "notifications/campaigns/campaign_create.html", {"form": form})


def _preview(request, campaign: Campaign, mapping: dict) -> tuple[list[dict], str]:
    """The first rows as they will be spoken, masked for a role that sees numbers masked; or a reason there is none."""
    if not mapping.get("callee"):
        return [], _("Choose the callee's column to see the first rows.")
    try:
        rows = check.campaign_preview(campaign=campaign, mapping=mapping, n=PREVIEW_ROWS)
    except ValidationError as error:
        return [], _error_text(error)
    if not user_sees_full_numbers(request.user):
        rows = [{**row, "callee": number_mask(str(row.get("callee") or "")), "text": text_mask(str(row.get("text") or ""))}
                for row in rows]
    return rows, ""


@require_http_methods(["GET", "POST"])
@permission_required("notifications.add_campaign", raise_exception=True)
def campaign_mapping(request, pk: int):
    campaign = _campaign(pk)
    if campaign.state not in EDITABLE:
        messages.error(request, _("This campaign has started: its list and mapping can no longer change."))
        return redirect("notifications:campaign_detail", pk=campaign.pk)
    form = CampaignMappingForm(request.POST or None, campaign=campaign)
    if request.method == "POST" and form.is_valid():
        if request.POST.get("action") == "check":
            try:
                summary = check.campaign_check(campaign=campaign, mapping=form.mapping())
            except ValidationError as error:
                form.add_service_errors(error)
            else:
                messages.success(request, _("Every row was checked: %(valid)s can be called, %(refused)s refused.") % {
                    "valid": summary.get("valid", 0), "refused": summary.get("refused", 0)})
                return redirect("notifications:campaign_detail", pk=campaign.pk)
    preview, preview_note = _preview(request, campaign, form.mapping())
    return render(request, "notifications/campaigns/campaign_mapping.html", {
        "campaign": campaign, "form": form, "preview": preview, "preview_note": preview_note,
    })


# ----- the campaign's page -----
# The check's reason codes in words: a code names the rule (services/campaign_check.py), the page names it for people.
REASON_LABELS = {
    "blocked": gettext_lazy("On the do-not-call list"),
    "duplicate": gettext_lazy("The same number twice in the list"),
    "flow_control": gettext_lazy("Called the provider's daily maximum already"),
    "number_shortened": gettext_lazy("Number shortened by Excel"),
    "number_required": gettext_lazy("No number"),
    "param_required": gettext_lazy("A parameter is empty"),
    "param_too_long": gettext_lazy("A parameter is too long"),
    "param_link": gettext_lazy("A parameter holds a link"),
    "param_ip_address": gettext_lazy("A parameter holds an IP address"),
}


def reason_label(code: str):
    if code in REASON_LABELS:
        return REASON_LABELS[code]
    if code.startswith("number_") or code.endswith("_number"):
        return _("Not a number that can be called")
    if code.startswith("param_"):
        return _("A parameter the provider would refuse")
    return code


def _summary_shown(summary: dict, *, masked: bool, max_retries: int) -> dict:
    if not summary:
        return {}
    mask = text_mask if masked else str
    first_errors = [{**error, "message": mask(in_language(error.get("message")))}
                    for error in summary.get("first_errors") or []]
    reasons = [(code, reason_label(code), count)
               for code, count in sorted((summary.get("by_reason") or {}).items(), key=lambda item: -item[1])]
    return {**summary, "first_errors": first_errors, "reasons": reasons,
            "retries_short": check.retries_short(summary, max_retries)}


def _progress_context(campaign: Campaign, *, counts: dict | None = None) -> dict:
    progress = report.campaign_progress(campaign, counts=counts) if campaign.state in UNDER_WAY else None
    return {"campaign": campaign, "progress": progress}


def _detail_context(request, campaign: Campaign, *, schedule_form=None, file_form=None, send_back_form=None) -> dict:
    user = request.user
    masked = not user_sees_full_numbers(user)
    editable = campaign.state in EDITABLE and user.has_perm("notifications.add_campaign")
    is_creator = campaign.created_by_id == user.pk
    summary = campaign.check_summary or {}
    # The rows' counts once for the page: progress and report show the same figures.
    counts = report.row_counts(campaign) if campaign.state in UNDER_WAY else None
    return {
        **_progress_context(campaign, counts=counts),
        "summary": _summary_shown(summary, masked=masked, max_retries=campaign.max_retries),
        "editable": editable,
        "schedule_form": schedule_form or (CampaignScheduleForm(instance=campaign) if editable else None),
        "file_form": file_form or (CampaignFileForm() if editable else None),
        "send_back_form": send_back_form or SendBackForm(),
        "can_submit": campaign.state == State.CHECKED and summary.get("valid", 0) > 0
                      and user.has_perm("notifications.add_campaign"),
        "can_approve": campaign.state == State.AWAITING_APPROVAL and user.has_perm("notifications.approve_campaign")
                       and not is_creator,
        "own_awaiting": campaign.state == State.AWAITING_APPROVAL and is_creator,
        "can_pause": campaign.state in (State.SCHEDULED, State.SENDING) and user.has_perm("notifications.change_campaign"),
        "can_resume": campaign.state == State.PAUSED and user.has_perm("notifications.change_campaign"),
        "can_cancel": campaign.state not in FINAL and user.has_perm("notifications.change_campaign"),
        "can_download_refused": bool(summary.get("refused")) and not masked,
        "report": report.campaign_report(campaign, counts=counts) if campaign.state in REPORTED else None,
        "polling": campaign.state in UNDER_WAY and campaign.state not in FINAL,
        "time_zone": timezone.get_current_timezone_name(),
    }


@require_GET
@permission_required("notifications.view_campaign", raise_exception=True)
def campaign_detail(request, pk: int):
    campaign = _campaign(pk)
    return render(request, "notifications/campaigns/campaign_detail.html", _detail_context(request, campaign))


@require_GET
@permission_required("notifications.view_campaign", raise_exception=True)
def campaign_progress(request, pk: int):
    """The progress card as HTML and its figures, polled by campaign_progress.js every 2 s while the campaign runs.

    Not audited and no number in it: it is polled, and counts name nobody."""
    campaign = _campaign(pk)
    context = _progress_context(campaign)
    progress = context["progress"] or {}
    return JsonResponse({
        "state": campaign.state,
        "state_label": str(campaign.state_label),
        "final": campaign.state in FINAL,
        "progress": {key: value for key, value in progress.items() if isinstance(value, (int, float, str, bool, type(None)))},
        "html": render_to_string("notifications/campaigns/includes/progress.html", context, request=request),
    })


@require_POST
@permission_required("notifications.add_campaign", raise_exception=True)
def campaign_schedule(request, pk: int):
    campaign = _campaign(pk)
    form = CampaignScheduleForm(request.POST, instance=campaign)
    if campaign.state not in EDITABLE:
        messages.error(request, _("This campaign has started: its schedule can no longer change."))
        return redirect("notifications:campaign_detail", pk=campaign.pk)
    if form.is_valid():
        schedule = form.schedule()
        campaign.refresh_from_db()  # the form wrote its values onto the instance; the service decides what is saved
        try:
            was_approved = campaign.state == State.SCHEDULED
            campaign = flow.campaign_update_schedule(campaign=campaign, user=request.user, **schedule)
        except ValidationError as error:
            _attach(form, error)
        else:
            if was_approved and campaign.state != State.SCHEDULED:
                messages.warning(request, _("The schedule was saved; the campaign needs approval again."))
            else:
                messages.success(request, _("The schedule was saved."))
            return redirect("notifications:campaign_detail", pk=campaign.pk)
    campaign = _campaign(pk)
    return render(request, "notifications/campaigns/campaign_detail.html",
                  _detail_context(request, campaign, schedule_form=form), status=400)


@require_POST
@permission_required("notifications.add_campaign", raise_exception=True)
def campaign_upload(request, pk: int):
    """A corrected list: read again from the start, so it is mapped and checked again (and approved again)."""
    campaign = _campaign(pk)
    if campaign.state not in EDITABLE:
        messages.error(request, _("This campaign has started: its list and mapping can no longer change."))
        return redirect("notifications:campaign_detail", pk=campaign.pk)
    form = CampaignFileForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            check.campaign_load_file(campaign=campaign, uploaded_file=form.cleaned_data["file"])
        except CampaignFileError as error:
            form.add_error("file", _file_error(error))
        except ValidationError as error:
            _attach(form, error)
        else:
            messages.success(request, _("The corrected list was read. Check the mapping, then check every row again."))
            return redirect("notifications:campaign_mapping", pk=campaign.pk)
    campaign = _campaign(pk)
    return render(request, "notifications/campaigns/campaign_detail.html",
                  _detail_context(request, campaign, file_form=form), status=400)


@require_POST
@permission_required("notifications.view_campaign", raise_exception=True)
def campaign_action(request, pk: int):
    campaign = _campaign(pk)
    action = request.POST.get("action", "")
    if action not in ACTIONS:
        messages.error(request, _("Unknown action."))
        return redirect("notifications:campaign_detail", pk=campaign.pk)
    if not request.user.has_perm(ACTIONS[action]):
        raise PermissionDenied
    send_back_form = None
    try:
        if action == "submit":
            flow.campaign_submit(campaign=campaign, user=request.user)
            messages.success(request, _("The campaign was sent for approval. A manager who did not create it approves it."))
        elif action == "approve":
            flow.campaign_approve(campaign=campaign, user=request.user)
            messages.success(request, _("The campaign was approved."))
        elif action == "send_back":
            send_back_form = SendBackForm(request.POST)
            if not send_back_form.is_valid():
                return render(request, "notifications/campaigns/campaign_detail.html",
                              _detail_context(request, campaign, send_back_form=send_back_form), status=400)
            flow.campaign_send_back(campaign=campaign, user=request.user, reason=send_back_form.cleaned_data["reason"])
            messages.success(request, _("The campaign was sent back to its creator."))
        elif action == "pause":
            flow.campaign_pause(campaign=campaign, user=request.user)
            messages.success(request, _("The campaign is paused; calls already placed finish."))
        elif action == "resume":
            flow.campaign_resume(campaign=campaign, user=request.user)
            messages.success(request, _("The campaign goes on."))
        elif action == "cancel":
            flow.campaign_cancel(campaign=campaign, user=request.user)
            messages.success(request, _("The campaign was cancelled; calls already placed finish, the others are not sent."))
    except (ValidationError, PermissionDenied) as error:
        messages.error(request, _error_text(error))
    return redirect("notifications:campaign_detail", pk=campaign.pk)


# ----- rows and downloads -----
@require_GET
@permission_required("notifications.view_campaignrow", raise_exception=True)
def campaign_row_detail(request, pk: int, row_number: int):
    """One row of the list and every attempt made for it."""
    campaign = _campaign(pk)
    row = get_object_or_404(CampaignRow, campaign=campaign, row_number=row_number)
    calls = list(CallRecord.objects.filter(campaign_row=row).select_related("caller_number").order_by("created_at", "id"))
    full = user_sees_full_numbers(request.user)
    params = row.params if full else payload_mask(row.params)
    text = render_preview(campaign.tts_template.content, params) if campaign.tts_template else ""
    return render(request, "notifications/campaigns/campaign_row_detail.html", {
        "campaign": campaign, "row": row, "calls": calls, "params": params, "text": text,
        "refusal": row.refusal_message if full else text_mask(row.refusal_message),
        "raw_number": row.raw_number if full else text_mask(row.raw_number),
    })


def _csv_response(lines, filename: str) -> StreamingHttpResponse:
    response = StreamingHttpResponse(lines, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@require_GET
@permission_required("notifications.view_campaign", raise_exception=True)
def campaign_refused_csv(request, pk: int):
    """The refused rows with the number as typed, for the person who corrects the file: numbers in full only."""
    campaign = _campaign(pk)
    if not user_sees_full_numbers(request.user):
        raise PermissionDenied
    return _csv_response(check.refused_rows_csv(campaign=campaign), f"campaign-{campaign.pk}-refused.csv")


@require_GET
@permission_required("notifications.view_campaignrow", raise_exception=True)
def campaign_rows_csv(request, pk: int):
    campaign = _campaign(pk)
    return _csv_response(report.campaign_rows_csv(campaign=campaign, user=request.user), f"campaign-{campaign.pk}-rows.csv")


urlpatterns = [
    path("campaigns/", campaign_list, name="campaign_list"),
    path("campaigns/new/", campaign_create_view, name="campaign_create"),
    path("campaigns/<int:pk>/", campaign_detail, name="campaign_detail"),
    path("campaigns/<int:pk>/mapping/", campaign_mapping, name="campaign_mapping"),
    path("campaigns/<int:pk>/progress/", campaign_progress, name="campaign_progress"),
    path("campaigns/<int:pk>/schedule/", campaign_schedule, name="campaign_schedule"),
    path("campaigns/<int:pk>/upload/", campaign_upload, name="campaign_upload"),
    path("campaigns/<int:pk>/action/", campaign_action, name="campaign_action"),
    path("campaigns/<int:pk>/rows/<int:row_number>/", campaign_row_detail, name="campaign_row_detail"),
    path("campaigns/<int:pk>/refused.csv", campaign_refused_csv, name="campaign_refused_csv"),
    path("campaigns/<int:pk>/rows.csv", campaign_rows_csv, name="campaign_rows_csv"),
]
