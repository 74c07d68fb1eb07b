"""`{% load call_admin %}`: `{% call_record_result_list cl %}` is Django's `{% result_list cl %}` for call records.

Django formats each cell through generic lookups (field, display, empty-value and link checks), about half the
changelist's profiled time at fifty rows. The rows here are written directly from the columns the call record admin lists,
with the same markup; a test holds them equal to Django's own rows.
"""
from html import escape

from django import template
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.admin.templatetags.admin_list import result_headers, result_hidden_fields
from django.contrib.admin.templatetags.admin_urls import add_preserved_filters
from django.contrib.admin.utils import display_for_value
from django.utils.safestring import mark_safe
from django.utils.translation import gettext

register = template.Library()


@register.inclusion_tag("admin/change_list_results.html")
def call_record_result_list(cl):
    headers = list(result_headers(cl))
    select_label = gettext("Select this object for an action - {}")
    return {
        "cl": cl,
        "result_hidden_fields": list(result_hidden_fields(cl)),
        "result_headers": headers,
        "num_sorted_fields": sum(1 for header in headers if header["sortable"] and header["sorted"]),
        "results": [call_record_row(cl, record, select_label) for record in cl.result_list],
    }


def call_record_row(cl, record, select_label: str | None = None) -> list:
    """The cells of one row, for the columns `cl` lists (the checkbox column only where actions are offered).

    Plain string building with the standard library's escape, which is what Django's escape calls: Django's
    format_html checks every argument for lazy text first, which alone cost more than the rest of the row.
    """
    admin = cl.model_admin
    empty = admin.get_empty_value_display()  # safe: written as it is
    select_label = select_label or gettext("Select this object for an action - {}")

    def cell(name, value, nowrap=""):
        shown = empty if value is None or str(value).strip() == "" else escape(str(value))
        return mark_safe(f'<td class="field-{name}{nowrap}">{shown}</td>')

    def linked_out_id():  # the first listed column links to the call's change page
        url = add_preserved_filters({"preserved_filters": cl.preserved_filters, "opts": cl.opts}, cl.url_for_result(record))
        opener = f' data-popup-opener="{escape(str(record.pk))}"' if cl.is_popup else ""
        return mark_safe(f'<th class="field-out_id"><a href="{escape(url)}"{opener}>{escape(record.out_id) or empty}</a></th>')

    def checkbox():
        label = select_label.format(escape(str(record)))
        return mark_safe(f'<td class="action-checkbox"><input type="checkbox" name="{ACTION_CHECKBOX_NAME}" value="{record.pk}" '
                         f'class="action-select" aria-label="{label}"></td>')

    cells = {
        "action_checkbox": checkbox,
        "out_id": linked_out_id,
        "created": lambda: cell("created", admin.created(record)),
        "called_number": lambda: cell("called_number", record.called_number),
        "api_name": lambda: cell("api_name", admin.api_name(record)),
        "status_name": lambda: cell("status_name", admin.status_name(record)),
        "outcome_name": lambda: cell("outcome_name", admin.outcome_name(record)),
        "status_code": lambda: cell("status_code", record.status_code),
        "duration": lambda: cell("duration", display_for_value(record.duration, empty)),
        "requested_by": lambda: cell("requested_by", record.requested_by, nowrap=" nowrap"),
    }
    return [cells[name]() for name in cl.list_display]
