"""`{% load call_log %}`: `{% call_log_rows page.rows %}` writes the call log's table rows.

Written here rather than in the template: fifty rows of ten cells through the template language were a fifth of the
page's time. The markup and texts are those the template had.
"""
from html import escape

from django import template
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.utils.translation import gettext, gettext_noop

from notifications.models import CallRecord
from notifications.services.numbers import number_mask, user_sees_full_numbers
from notifications.templatetags.times import stamp

register = template.Library()

_NONE = "—"
# The same words as the call detail page, so a tooltip in the log and the page never disagree.
OUTCOME_UNKNOWN_EXPLAINED = gettext_noop("The provider's answer never came; the call may have been placed. It was not redialled.")
UNCLEAR_EXPLAINED = gettext_noop("No clear answer from the provider yet; a receipt or a detail query will settle it.")
ELSEWHERE_EXPLAINED = gettext_noop("Placed by another system using this account; details come from its receipts and detail queries.")


@register.simple_tag(takes_context=True)
def call_log_rows(context, calls):
    # Plain string building with the standard library's escape, which is what Django's escape calls: format_html
    # checks every argument for lazy text first, which cost more than the rest of a row.
    full_numbers = user_sees_full_numbers(context["request"].user)
    public_pool = f'<span class="text-muted">{escape(gettext("Public pool"))}</span>'
    seconds = gettext("%(seconds)s s")
    # A call placed elsewhere has no template, caller number or user of ours: a dash that says why, not a blank
    # that reads as "none" or "public pool".
    not_known = (f'<span class="text-muted" title="{escape(gettext("Not known: another system using this account placed this call"))}">'
                 f'{_NONE}</span>')
    elsewhere_badge = (f'<span class="va-state va-elsewhere" title="{escape(gettext(ELSEWHERE_EXPLAINED))}">'
                       f'{escape(gettext("Placed elsewhere"))}</span>')
    status_titles = {CallRecord.Status.OUTCOME_UNKNOWN: escape(gettext(OUTCOME_UNKNOWN_EXPLAINED)),
                     CallRecord.Status.UNKNOWN: escape(gettext(UNCLEAR_EXPLAINED))}
    rows = []
    for call in calls:
        callee = call.called_number if full_numbers else number_mask(call.called_number)
        outcome = (f'<span class="va-state va-state-{escape(call.outcome)}">{escape(str(call.outcome_label))}</span>'
                   if call.outcome else _NONE)
        duration = escape(seconds % {"seconds": call.duration}) if call.duration is not None else _NONE
        title = status_titles.get(call.status)
        title_attr = f' title="{title}"' if title else ""
        status = f'<span class="va-state va-state-{escape(call.status)}"{title_attr}>{escape(str(call.status_label))}</span>'
        if call.placed_elsewhere:
            row_open, caller, resource, placed_by = '<tr class="va-row-elsewhere">', not_known, not_known, elsewhere_badge
        else:
            name = call.template_name if call.tts_template_id else call.voice_file_name
            row_open = "<tr>"
            caller = escape(call.caller_number_text) if call.caller_number_text else public_pool
            resource = f'{escape(str(call.api_label))}: {escape(name or "")}'
            placed_by = escape(call.placed_by or _NONE)
        rows.append(
            f'{row_open}<td class="text-nowrap">{stamp(call.created_at)}</td>'
            f'<td class="va-mono"><a href="{escape(reverse("notifications:call_record_detail", args=[call.pk]))}">'
            f'{escape(call.out_id)}</a></td>'
            f'<td class="va-mono">{escape(callee) or _NONE}</td>'
            f'<td class="va-mono">{caller}</td>'
            f'<td>{resource}</td>'
            f'<td>{status}</td>'
            f'<td>{outcome}</td><td class="va-mono">{escape(call.status_code) or _NONE}</td><td>{duration}</td>'
            f'<td>{placed_by}</td></tr>'
        )
    return mark_safe("\n".join(rows))
