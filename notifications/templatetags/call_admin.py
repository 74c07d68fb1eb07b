"""`{% load call_admin %}`: `{% call_record_result_list cl %}` is Django's `{% result_list cl %}` for call records.

Django formats each cell through generic lookups (field, display, empty-value and link checks), about half the
changelist's profiled time at fifty rows. The cells of the columns the call record admin lists are written directly here,
with the same markup; any other column (one a developer adds, or one that links somewhere else) is left to Django's
own cell rendering. Tests hold the rows equal to Django's own.
"""
import copy
from html import escape

from django import template
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.admin.templatetags.admin_list import items_for_result, result_headers, result_hidden_fields, results
from django.contrib.admin.templatetags.admin_urls import add_preserved_filters
from django.contrib.admin.utils import display_for_value
from django.utils.safestring import mark_safe
from django.utils.translation import gettext

register = template.Library()

# The columns written here; every other column goes through Django. `out_id` is written as Django writes the row's
# first link; anywhere else (or any other linked column) Django writes it.
FAST_COLUMNS = frozenset({"action_checkbox", "out_id", "created", "called_number", "api_name", "status_name", "outcome_name",
                          "status_code", "duration", "requested_by"})


@register.inclusion_tag("admin/change_list_results.html")
def call_record_result_list(cl):
    headers = list(result_headers(cl))
    if getattr(cl, "formset", None):  # editable rows carry their form fields: only Django writes those
        rows = list(results(cl))
    else:
        plan = row_plan(cl, gettext("Select this object for an action - {}"))
        rows = [[render(record) for render in plan] for record in cl.result_list]
    return {
        "cl": cl,
        "result_hidden_fields": list(result_hidden_fields(cl)),
        "result_headers": headers,
        "num_sorted_fields": sum(1 for header in headers if header["sortable"] and header["sorted"]),
        "results": rows,
    }


def call_record_row(cl, record, select_label: str | None = None) -> list:
    """The cells of one row, for the columns `cl` lists (the checkbox column only where actions are offered)."""
    return [render(record) for render in row_plan(cl, select_label or gettext("Select this object for an action - {}"))]


def _linked_columns(cl) -> list[bool]:
    """Which columns Django links to the change page (its items_for_result rule): the first one when no links are
    named, the named ones otherwise, none when list_display_links is None."""
    linked = []
    for index, name in enumerate(cl.list_display):
        if cl.list_display_links is None:
            linked.append(False)
        else:
            linked.append((index == 0 and not cl.list_display_links) or name in cl.list_display_links)
    return linked


def _django_cell(cl, index: int, linked: list[bool]):
    """Django's own rendering of column `index`, through a copy of the changelist that lists just that column.

    A lambda's cell class names its position, and a second linked column is a <td>, not a <th>: those two are
    rendered with the columns before them, which keeps Django's numbering and its first-link rule."""
    name = cl.list_display[index]
    view = copy.copy(cl)
    if (callable(name) and name.__name__ == "<lambda>") or (linked[index] and any(linked[:index])):
        view.list_display = list(cl.list_display[: index + 1])
    else:
        view.list_display = [name]
        view.list_display_links = [name] if linked[index] else None
    return lambda record: list(items_for_result(view, record, None))[-1]


def row_plan(cl, select_label: str) -> list:
    """One renderer per listed column, worked out once per page.

    Plain string building with the standard library's escape, which is what Django's escape calls: Django's
    format_html checks every argument for lazy text first, which alone cost more than the rest of the row.
    """
    admin = cl.model_admin
    empty = admin.get_empty_value_display()  # safe: written as it is

    def cell(name, value, nowrap=""):
        shown = empty if value is None or str(value).strip() == "" else escape(str(value))
        return mark_safe(f'<td class="field-{name}{nowrap}">{shown}</td>')

    def linked_out_id(record):  # the first linked column links to the call's change page
        url = add_preserved_filters({"preserved_filters": cl.preserved_filters, "opts": cl.opts}, cl.url_for_result(record))
        opener = f' data-popup-opener="{escape(str(record.pk))}"' if cl.is_popup else ""
        return mark_safe(f'<th class="field-out_id"><a href="{escape(url)}"{opener}>{escape(record.out_id) or empty}</a></th>')

    def checkbox(record):
        label = select_label.format(escape(str(record)))
        return mark_safe(f'<td class="action-checkbox"><input type="checkbox" name="{ACTION_CHECKBOX_NAME}" value="{record.pk}" '
                         f'class="action-select" aria-label="{label}"></td>')

    plain = {
        "action_checkbox": checkbox,
        "out_id": lambda record: cell("out_id", record.out_id),
        "created": lambda record: cell("created", admin.created(record)),
        "called_number": lambda record: cell("called_number", record.called_number),
        "api_name": lambda record: cell("api_name", admin.api_name(record)),
        "status_name": lambda record: cell("status_name", admin.status_name(record)),
        "outcome_name": lambda record: cell("outcome_name", admin.outcome_name(record)),
        "status_code": lambda record: cell("status_code", record.status_code),
        "duration": lambda record: cell("duration", display_for_value(record.duration, empty)),
        "requested_by": lambda record: cell("requested_by", record.requested_by, nowrap=" nowrap"),
    }
    linked = _linked_columns(cl)
    plan = []
    for index, name in enumerate(cl.list_display):
        known = isinstance(name, str) and name in FAST_COLUMNS
        if known and not linked[index]:
            plan.append(plain[name])
        elif known and name == "out_id" and not any(linked[:index]):
            plan.append(linked_out_id)
        else:
            plan.append(_django_cell(cl, index, linked))
    return plan
