"""Reads shared by the call log, the export, the dashboard and the admin.

The call log pages by keyset on (created_at, id): page 10,000 costs what page 1 costs, and a total is only
counted up to a cap so a million rows never means a full scan. Each filter leads an index that ends in the log's
order: status → callrecord_status_idx, who placed it → callrecord_elsewhere_idx (placed_elsewhere, created_at, id),
the callee's last four digits → callrecord_suffix_idx (called_suffix, created_at, id), a campaign →
callrecord_campaign_idx (campaign, created_at, id).
"""
import re
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

import django_filters
from django import forms
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db.models import OuterRef, Q, QuerySet, Subquery
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from notifications.forms.common import CalendarDateInput, DayOrderCheck, explicit_dates_win
from notifications.models import CallerNumber, CallRecord, Campaign, Mode, TtsTemplate, VoiceFile
from notifications.rules.identifiers import normalize_mainland_number

PAGE_SIZE = 50
COUNT_CAP = 10_000
SEARCH_CAP = 10_000  # calls listed for one searched number; more is not a search any more

QUICK_RANGES = {"today": 0, "7d": 6, "30d": 29}
# Filters whose own index ends in the log's order (or that narrow to a handful of calls).
SEEKING_FILTERS = ("q", "status", "outcome", "status_code", "tts_template", "voice_file", "campaign", "callee", "caller",
                   "mine")
LAST_FOUR = re.compile(r"[0-9]{4}")  # ASCII only: str.isdigit() also takes full-width and other scripts' digits


def number_typed(raw: str) -> tuple[str, str]:
    """What a number box holds: ("last_four", digits), ("number", as stored) or ("text", stripped as typed)."""
    value = (raw or "").strip()
    if LAST_FOUR.fullmatch(value):
        return "last_four", value
    try:  # a number as people write it (138 0013 8000, +86 …, 0571-8888 1234) as it is stored
        return "number", normalize_mainland_number(value)[0]
    except ValidationError:
        return "text", value


def local_day_bounds(first, last) -> tuple[datetime, datetime]:
    """The aware instants [first 00:00, last+1 00:00) in the company's time zone."""
    tz = timezone.get_current_timezone()
    start = timezone.make_aware(datetime.combine(first, time.min), tz)
    end = timezone.make_aware(datetime.combine(last + timedelta(days=1), time.min), tz)
    return start, end


def quick_range_days(name: str):
    """(first, last) local dates of a quick range, or None for an unknown name."""
    if name not in QUICK_RANGES:
        return None
    today = timezone.localdate()
    return today - timedelta(days=QUICK_RANGES[name]), today


class CallLogForm(DayOrderCheck, forms.Form):
    day_order_error_field = "date_to"  # next to the filter, as the call log shows field errors


NUMBER_PLACEHOLDER = _("Full number or last 4 digits")
NUMBER_HELP = _("A full number as you would write it (+86, spaces and dashes are fine) or just its last 4 digits.")


class CallRecordFilter(django_filters.FilterSet):
    """The call log's filters; every one lives in the URL so a view can be bookmarked."""

    RANGE_CHOICES = [("today", _("Today")), ("7d", _("Last 7 days")), ("30d", _("Last 30 days"))]
    ORDER_CHOICES = [("new", _("Newest first")), ("old", _("Oldest first"))]
    # Calls another system of the account placed are recorded from their receipts; by default the log shows both.
    PLACED_CHOICES = [("ours", _("From this console")), ("elsewhere", _("Placed elsewhere"))]

    q = django_filters.CharFilter(label=_("Number, CallId or OutId"), method="filter_search",
                                  widget=forms.TextInput(attrs={"placeholder": _("Exact number, CallId or OutId")}))
    range = django_filters.ChoiceFilter(label=_("Quick range"), choices=RANGE_CHOICES, method="filter_range", empty_label=_("Any time"))
    date_from = django_filters.DateFilter(label=_("From"), method="filter_date_from", widget=CalendarDateInput())
    date_to = django_filters.DateFilter(label=_("To"), method="filter_date_to", widget=CalendarDateInput())
    status = django_filters.ChoiceFilter(label=_("Status"), choices=CallRecord.Status.choices)
    outcome = django_filters.ChoiceFilter(label=_("Outcome"), choices=CallRecord.Outcome.choices)
    status_code = django_filters.CharFilter(label=_("Status code"))
    api = django_filters.ChoiceFilter(label=_("API"), choices=CallRecord.Api.choices)
    mode = django_filters.ChoiceFilter(label=_("Mode"), choices=Mode.choices)
    tts_template = django_filters.ModelChoiceFilter(label=_("TTS template"), queryset=TtsTemplate.objects.only("id", "name"))
    voice_file = django_filters.ModelChoiceFilter(label=_("Voice file"), queryset=VoiceFile.objects.only("id", "name"))
    # A campaign's attempts: callrecord_campaign_idx (campaign, created_at, id) serves it in the log's order.
    campaign = django_filters.ModelChoiceFilter(label=_("Campaign"), queryset=Campaign.objects.only("id", "name"))
    callee = django_filters.CharFilter(label=_("Callee"), method="filter_callee", help_text=NUMBER_HELP,
                                       widget=forms.TextInput(attrs={"placeholder": NUMBER_PLACEHOLDER}))
    # A text box, not a select: one query less per page, and numbers are typed or pasted anyway.
    caller = django_filters.CharFilter(label=_("Caller number"), method="filter_caller", help_text=NUMBER_HELP,
                                       widget=forms.TextInput(attrs={"placeholder": NUMBER_PLACEHOLDER}))
    placed = django_filters.ChoiceFilter(label=_("Who placed it"), choices=PLACED_CHOICES, method="filter_placed",
                                         empty_label=_("Anyone (whole account)"))
    mine = django_filters.BooleanFilter(label=_("Only my calls"), method="filter_mine", widget=forms.CheckboxInput)
    order = django_filters.ChoiceFilter(label=_("Order"), choices=ORDER_CHOICES, method="filter_noop", empty_label=None)

    class Meta:
        model = CallRecord
        form = CallLogForm
        fields: list = []

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.request is not None and not self.request.user.has_perm("notifications.dial_callrecord"):
            del self.filters["mine"]  # who cannot place calls has none of their own
        for field in self.form.fields.values():
            if isinstance(field.widget, forms.Select):
                field.widget.attrs["class"] = "form-select form-select-sm"
            elif not isinstance(field.widget, forms.CheckboxInput):
                field.widget.attrs["class"] = "form-control form-control-sm"

    def filter_search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        # Exact matches only, each on its own index. The ids are collected first: an OR of the three next to
        # ORDER BY created_at makes PostgreSQL walk the whole created_at index instead.
        try:  # a number as people write it (138 0013 8000, +86 …) as it is stored
            number, _kind = normalize_mainland_number(value)
        except ValidationError:
            number = value
        ids = CallRecord.objects.filter(called_number=number).order_by().values_list("id", flat=True).union(
            CallRecord.objects.filter(out_id=value).order_by().values_list("id", flat=True),
            CallRecord.objects.filter(call_id=value).order_by().values_list("id", flat=True),
        )
        return queryset.filter(id__in=list(ids[:SEARCH_CAP]))

    def filter_callee(self, queryset, name, value):
        kind, value = number_typed(value)
        if not value:
            return queryset
        if kind == "last_four":  # seeks callrecord_suffix_idx (called_suffix, created_at, id) in the log's order
            return queryset.filter(called_suffix=value)
        return queryset.filter(called_number=value)

    def filter_caller(self, queryset, name, value):
        kind, value = number_typed(value)
        if not value:
            return queryset
        # The ids first, from the account's handful of numbers: joined, PostgreSQL walks every call in created_at
        # order to find that none matches (4 s at 1,000,000); by id it seeks callrecord_caller_idx, or asks nothing.
        lookup = "number__endswith" if kind == "last_four" else "number"
        numbers = list(CallerNumber.objects.filter(**{lookup: value}).values_list("id", flat=True))
        return queryset.filter(caller_number__in=numbers)

    def filter_range(self, queryset, name, value):
        days = quick_range_days(value)
        if days is None:
            return queryset
        start, end = local_day_bounds(*days)
        return queryset.filter(created_at__gte=start, created_at__lt=end)

    def filter_date_from(self, queryset, name, value):
        return queryset.filter(created_at__gte=local_day_bounds(value, value)[0])

    def filter_date_to(self, queryset, name, value):
        return queryset.filter(created_at__lt=local_day_bounds(value, value)[1])

    def filter_placed(self, queryset, name, value):
        # IN, not =: Django writes a boolean equality as `WHERE flag` / `WHERE NOT flag`, which SQLite cannot seek
        # callrecord_elsewhere_idx (placed_elsewhere, created_at, id) with; it walks that index in the log's order.
        # Our own calls are nearly all of them, though: beside a filter that leads an index of its own, a plain test
        # leaves SQLite (which keeps no statistics) to seek that index instead of walking this one over the range.
        if value == "ours" and any(self.form.cleaned_data.get(other) for other in SEEKING_FILTERS):
            return queryset.filter(placed_elsewhere=False)
        return queryset.filter(placed_elsewhere__in=[value == "elsewhere"])

    def filter_mine(self, queryset, name, value):
        return queryset.filter(requested_by=self.request.user) if value and self.request else queryset

    def filter_noop(self, queryset, name, value):
        return queryset

    @property
    def newest_first(self) -> bool:
        return self.form.cleaned_data.get("order") != "old" if self.form.is_valid() else True

    def active_filters(self) -> dict:
        """The non-empty filter values, for the export record; as typed when they are not valid."""
        if not self.form.is_valid():
            return {key: str(self.data[key]) for key in self.form.fields if self.data.get(key) not in (None, "")}
        return {key: str(getattr(value, "pk", value)) for key, value in self.form.cleaned_data.items() if value not in (None, "", False)}


def filters_described(recorded: list[dict]) -> list[list[tuple[str, str]]]:
    """(label, value in words) for each recorded set of call log filters, as the export list shows them: choices by
    their label, a template or voice file by its name, a value that means nothing (any more) as it was recorded."""
    fields = CallRecordFilter().form.fields
    names: dict[tuple[str, str], str] = {}  # one lookup per template or voice file, however many exports name it

    def shown(key: str, value: str) -> str:
        field = fields[key]
        if isinstance(field, forms.ModelChoiceField):
            if (key, value) not in names:
                found = field.queryset.filter(pk=value).first() if value.isdigit() else None
                names[key, value] = str(found) if found else value
            return names[key, value]
        if isinstance(field, forms.ChoiceField):
            return str(dict(field.choices).get(value, value))
        if isinstance(field, forms.BooleanField) and value == "True":
            return str(_("yes"))
        return value

    return [[(str(fields[key].label), shown(key, value)) if key in fields else (key, value) for key, value in filters.items()]
            for filters in recorded]


# What a line of the call log shows. Parameters, receipt texts and the other times stay in the database: reading
# and converting them cost more than the page's queries.
LOG_LINE_FIELDS = ("created_at", "out_id", "called_number", "api", "status", "outcome", "status_code", "duration",
                   "tts_template", "voice_file", "caller_number", "requested_by", "placed_elsewhere")


def _column_of(model, name: str, key: str) -> Subquery:
    return Subquery(model.objects.filter(pk=OuterRef(key)).values(name))


def call_record_list(*, data, request=None) -> CallRecordFilter:
    """The call log's filter set over call records, each with the names a line of the log shows.

    The names come from one-row subqueries rather than joins: PostgreSQL spent about 2 ms planning the four joins
    of a query that then ran in 0.3 ms; the subqueries plan in 0.2 ms.
    """
    queryset = CallRecord.objects.only(*LOG_LINE_FIELDS).annotate(
        template_name=_column_of(TtsTemplate, "name", "tts_template_id"),
        voice_file_name=_column_of(VoiceFile, "name", "voice_file_id"),
        caller_number_text=_column_of(CallerNumber, "number", "caller_number_id"),
        placed_by=_column_of(get_user_model(), "username", "requested_by_id"),
    )
    return CallRecordFilter(data=explicit_dates_win(data), queryset=queryset, request=request)


def call_record_filtered(filterset: CallRecordFilter) -> QuerySet:
    """The matching calls; an invalid filter (a bad date, an unknown choice) matches nothing rather than everything."""
    return filterset.qs if filterset.is_valid() else filterset.queryset.none()


# ----- keyset pagination -----
def cursor_encode(record, time_field: str = "created_at") -> str:
    micros = int(getattr(record, time_field).timestamp() * 1_000_000)
    return f"{micros}.{record.pk}"


def cursor_decode(value: str | None):
    """(time, id) from a cursor, or None when it is missing or has been tampered with."""
    if not value:
        return None
    try:
        micros, pk = value.split(".")
        created = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=int(micros))
        pk = int(pk)
    except (ValueError, OverflowError):
        return None
    if pk < 1:
        return None
    return created, pk


@dataclass
class KeysetPage:
    rows: list
    next_cursor: str | None
    prev_cursor: str | None
    is_first: bool


def keyset_page(queryset: QuerySet, *, after: str | None = None, before: str | None = None, newest_first: bool = True,
                size: int = PAGE_SIZE, time_field: str = "created_at") -> KeysetPage:
    """One page after (or before) a cursor on (time_field, id): the call log, the audit log and the receipt
    deliveries page alike. Fetches size+1 rows to know whether another page exists."""
    after_key, before_key = cursor_decode(after), cursor_decode(before)
    # "Later in the list" is older when newest first, newer when oldest first.
    forward = before_key is None
    key = after_key if forward else before_key
    descending = newest_first == forward
    if key is not None:
        moment, pk = key
        # The plain range on the time is redundant but lets the planner seek the index instead of filtering an OR.
        if descending:
            queryset = queryset.filter(Q(**{f"{time_field}__lt": moment}) | Q(**{time_field: moment, "id__lt": pk}),
                                       **{f"{time_field}__lte": moment})
        else:
            queryset = queryset.filter(Q(**{f"{time_field}__gt": moment}) | Q(**{time_field: moment, "id__gt": pk}),
                                       **{f"{time_field}__gte": moment})
    ordering = (f"-{time_field}", "-id") if descending else (time_field, "id")
    rows = list(queryset.order_by(*ordering)[: size + 1])
    more = len(rows) > size
    rows = rows[:size]
    if not forward:
        rows.reverse()
    if forward:
        has_next, has_prev = more, key is not None
    else:
        has_next, has_prev = True, more
    return KeysetPage(
        rows=rows,
        next_cursor=cursor_encode(rows[-1], time_field) if rows and has_next else None,
        prev_cursor=cursor_encode(rows[0], time_field) if rows and has_prev else None,
        is_first=not has_prev,
    )


@dataclass
class RowCount:
    value: int
    exact: bool
    capped: bool


def call_record_count(queryset: QuerySet, *, cap: int = COUNT_CAP) -> RowCount:
    """Exact count up to `cap`, else "more than cap": never a scan of every matching row."""
    counted = queryset.order_by().values("id")[: cap + 1].count()
    if counted <= cap:
        return RowCount(counted, exact=True, capped=False)
    return RowCount(cap, exact=False, capped=True)
