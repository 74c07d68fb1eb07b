"""The audit log page: who did what and when, filtered by person, action and days, a page at a time."""
from django.contrib.auth.decorators import permission_required
from django.shortcuts import render
from django.urls import NoReverseMatch, path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET

from notifications.forms.audit import AuditFilterForm
from notifications.models import AuditEntry, CallerNumber, ReviewStatus
from notifications.selectors import call_record_count, filters_described, keyset_page, local_day_bounds
from notifications.services.numbers import text_mask, user_sees_full_numbers

Action = AuditEntry.Action

# Where an entry's object is shown, by (app label, model).
TARGET_URLS = {
    "callrecord": ("notifications:call_record_detail", True),
    "qualification": ("notifications:qualification_detail", True),
    "callernumber": ("notifications:caller_number_detail", True),
    "voicefile": ("notifications:voice_file_detail", True),
    "ttstemplate": ("notifications:tts_template_detail", True),
    "callexport": ("notifications:call_export_list", False),
    "blockednumber": ("notifications:blocked_number_list", False),
}


def _target_url(entry: AuditEntry) -> str:
    if entry.target_type_id is None:
        return ""
    name, by_pk = TARGET_URLS.get(entry.target_type.model, (None, False))
    if name is None or (by_pk and not entry.target_id.isdigit()):
        return ""
    if entry.action == Action.BLOCKED_NUMBER_REMOVED:
        return ""  # no longer on the list
    try:
        return reverse(name, args=[int(entry.target_id)]) if by_pk else reverse(name)
    except NoReverseMatch:
        return ""


def _summary(entry: AuditEntry) -> list[str]:
    """The entry's details in words, in the reader's language."""
    details = entry.details or {}
    if entry.action == Action.REVIEW_DECISION:
        words = [str(dict(ReviewStatus.choices).get(details.get("status"), details.get("status", "")))]
        if details.get("code"):
            words.append(_("code %(code)s") % {"code": details["code"]})
        if details.get("reason"):
            words.append(_("reason: %(reason)s") % {"reason": details["reason"]})
        if details.get("source") == "provider_query":
            words.append(_("reported by the provider's review query"))
        return words
    if entry.action == Action.NUMBER_TRANSITION:
        labels = dict(CallerNumber.Status.choices)
        return [f"{labels.get(details.get('from'), details.get('from'))} → {labels.get(details.get('to'), details.get('to'))}"]
    if entry.action == Action.DIAL:
        return [_("callee %(number)s") % {"number": details.get("callee", "")}]
    if entry.action == Action.EXPORT:
        words = [_("numbers masked") if details.get("masked") else _("full numbers")]
        described = filters_described([details.get("filters") or {}])[0]
        words += [f"{label}: {value}" for label, value in described] or [_("all calls")]
        return words
    if entry.action == Action.FULL_NUMBER_SEARCH:
        return [_("searched for %(number)s") % {"number": details.get("number", "")}]
    if entry.action in (Action.BLOCKED_NUMBER_ADDED, Action.BLOCKED_NUMBER_REMOVED, Action.BLOCKED_NUMBER_CHANGED):
        words = [_("reason: %(reason)s") % {"reason": details["reason"]}] if details.get("reason") else []
        if details.get("expires"):
            words.append(_("blocked until %(date)s") % {"date": details["expires"]})
        if details.get("file"):
            words.append(_("from the file %(file)s") % {"file": details["file"]})
        return words
    if entry.action == Action.BLOCKED_NUMBERS_EXPORTED:
        count = details.get("numbers", 0)
        words = [ngettext("%(count)s number as %(format)s", "%(count)s numbers as %(format)s", count) % {
                     "count": count, "format": str(details.get("format", "")).upper()},
                 _("numbers masked") if details.get("masked") else _("full numbers")]
        if state := {"active": _("Blocking"), "expired": _("Expired")}.get(details.get("state")):
            words.append(state)
        if details.get("searched"):
            words.append(_("narrowed by a search"))
        return words
    if entry.action == Action.BLOCKED_NUMBERS_IMPORTED:
        return [_("%(added)s added, %(updated)s updated, %(unchanged)s unchanged, of %(rows)s rows") % {
            key: details.get(key, 0) for key in ("added", "updated", "unchanged", "rows")}]
    return [f"{key}: {value}" for key, value in details.items()]


@require_GET
@permission_required("notifications.view_auditentry", raise_exception=True)
def audit_log(request):
    form = AuditFilterForm(request.GET or None)
    entries = AuditEntry.objects.select_related("target_type")
    if form.is_bound and not form.is_valid():
        entries = entries.none()  # a bad date or an unknown person or action matches nothing, and says so by the field
    elif form.is_bound:
        data = form.cleaned_data
        if data["user"]:
            entries = entries.filter(user=data["user"])
        if data["action"]:
            entries = entries.filter(action=data["action"])
        if data["date_from"]:
            entries = entries.filter(created_at__gte=local_day_bounds(data["date_from"], data["date_from"])[0])
        if data["date_to"]:
            entries = entries.filter(created_at__lt=local_day_bounds(data["date_to"], data["date_to"])[1])
    # The call log's keyset pages over (created_at, id) and its capped count: the same cost on page 1 and page 1,000.
    page = keyset_page(entries, after=request.GET.get("after"), before=request.GET.get("before"))
    masked = not user_sees_full_numbers(request.user)
    for entry in page.rows:
        entry.url = _target_url(entry)
        entry.summary = [text_mask(str(words)) if masked else str(words) for words in _summary(entry)]
    return render(request, "notifications/audit_log.html", {
        "form": form,
        "page": page,
        "count": call_record_count(entries),
        "time_zone": timezone.get_current_timezone_name(),
    })


urlpatterns = [
    path("audit/", audit_log, name="audit_log"),
]
