"""`{% load call_log %}`: `{% call_log_rows page.rows %}` writes the call log's table rows.

Written here rather than in the template: fifty rows of ten cells through the template language were a fifth of the
page's time. The markup and texts are those the template had.
"""
from html import escape

from django import template
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.utils.translation import gettext

from notifications.services.numbers import number_mask, user_sees_full_numbers
from notifications.templatetags.times import stamp

register = template.Library()

_NONE = "—"


@register.simple_tag(takes_context=True)
def call_log_rows(context, calls):
    # Plain string building with the standard library's escape, which is what Django's escape calls: format_html
    # checks every argument for lazy text first, which cost more than the rest of a row.
    full_numbers = user_sees_full_numbers(context["request"].user)
    public_pool = f'<span class="text-muted">{escape(gettext("Public pool"))}</span>'
    seconds = gettext("%(seconds)s s")
    rows = []
    for call in calls:
        callee = call.called_number if full_numbers else number_mask(call.called_number)
        resource = call.template_name if call.tts_template_id else call.voice_file_name
        outcome = (f'<span class="va-state va-state-{escape(call.outcome)}">{escape(str(call.outcome_label))}</span>'
                   if call.outcome else _NONE)
        duration = escape(seconds % {"seconds": call.duration}) if call.duration is not None else _NONE
        rows.append(
            f'<tr><td class="text-nowrap">{stamp(call.created_at)}</td>'
            f'<td class="va-mono"><a href="{escape(reverse("notifications:call_record_detail", args=[call.pk]))}">'
            f'{escape(call.out_id)}</a></td>'
            f'<td class="va-mono">{escape(callee)}</td>'
            f'<td class="va-mono">{escape(call.caller_number_text) if call.caller_number_text else public_pool}</td>'
            f'<td>{escape(str(call.api_label))}: {escape(resource or "")}</td>'
            f'<td><span class="va-state va-state-{escape(call.status)}">{escape(str(call.status_label))}</span></td>'
            f'<td>{outcome}</td><td class="va-mono">{escape(call.status_code) or _NONE}</td><td>{duration}</td>'
            f'<td>{escape(call.placed_by or _NONE)}</td></tr>'
        )
    return mark_safe("\n".join(rows))
