"""Admin for call records, call events and the do-not-call list."""
from django.contrib import admin  # noqa: F401
from django.contrib.admin.views.main import ChangeList
from django.core.paginator import Paginator
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _

from notifications.forms.dialing import BlockedNumberForm
from notifications.models import AuditEntry, BlockedNumber, CallEvent, CallRecord
from notifications.selectors import COUNT_CAP, call_record_count
from notifications.services.audit import audit_record
from notifications.services.blocked_numbers import block_details, company_today
from notifications.services.numbers import shown_masked, user_sees_full_numbers
from notifications.templatetags.call_admin import FAST_COLUMNS
from notifications.templatetags.times import stamp


# ----- Do-not-call list -----
class BlockStateFilter(admin.SimpleListFilter):
    """Blocks still refusing calls, or whose last day has passed (company time zone)."""

    title = _("state")
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return [("active", _("Blocking")), ("expired", _("Expired"))]

    def queryset(self, request, queryset):
        if self.value() == "active":
            return queryset.in_force(company_today())
        if self.value() == "expired":
            return queryset.expired(company_today())
        return queryset


@admin.register(BlockedNumber)
class BlockedNumberAdmin(admin.ModelAdmin):
    list_display = ("number", "reason", "expires_on", "state", "created_by", "created_at")
    list_filter = (BlockStateFilter,)
    search_fields = ("number", "reason")
    readonly_fields = ("created_by", "created_at")
    date_hierarchy = "created_at"

    form = BlockedNumberForm  # the same number and expiry checks as the console's page

    @admin.display(description=_("state"))
    def state(self, obj):
        return _("Expired") if obj.is_expired(company_today()) else _("Blocking")

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)
        action = AuditEntry.Action.BLOCKED_NUMBER_CHANGED if change else AuditEntry.Action.BLOCKED_NUMBER_ADDED
        audit_record(user=request.user, action=action, target=obj, details=block_details(obj))

    def delete_model(self, request, obj):
        details = block_details(obj)
        super().delete_model(request, obj)
        audit_record(user=request.user, action=AuditEntry.Action.BLOCKED_NUMBER_REMOVED, target=obj, details=details)

    def delete_queryset(self, request, queryset):
        for obj in queryset:  # one entry per number, as the console writes them
            self.delete_model(request, obj)


# ----- Call records and events (stays fast at millions of rows) -----
class EstimatedCountPaginator(Paginator):
    """Counts up to a cap (10,000); the changelist never counts the whole table. Past the cap the pages end, and
    the list says so (templates/admin/notifications/capped_pagination.html): dates, filters and search reach the rest."""

    cap = COUNT_CAP

    @cached_property
    def row_count(self):
        return call_record_count(self.object_list, cap=self.cap)

    @property
    def count(self):
        return self.row_count.value


class ProviderRecordAdmin(admin.ModelAdmin):
    """Calls and their events record what was sent and what the provider reported: shown, never added or edited by
    hand (an edit would also bypass the daily figures). Deleting stays possible, e.g. for test calls."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def get_object(self, request, object_id, from_field=None):
        obj = super().get_object(request, object_id, from_field)
        if obj is not None and not user_sees_full_numbers(request.user):
            shown_masked(obj)  # these pages only show the record (no change is accepted), so masking in memory is safe
        return obj

    def get_changelist(self, request, **kwargs):
        return MaskedChangeList


class MaskedChangeList(ChangeList):
    """A list whose rows show numbers masked to a staff user without `view_full_number`."""

    def get_results(self, request):
        super().get_results(request)
        if not user_sees_full_numbers(request.user):
            for obj in self.result_list:
                shown_masked(obj)


class CallEventInline(admin.TabularInline):
    model = CallEvent
    fields = ("created_at", "kind", "status_code", "message")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = False

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        if user_sees_full_numbers(request.user):
            return formset

        class MaskedEvents(formset):  # the provider's messages can name the callee
            def get_queryset(self):
                if not hasattr(self, "_masked"):
                    self._masked = [shown_masked(event) for event in super().get_queryset()]
                return self._masked

        return MaskedEvents

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class CallRecordChangeList(MaskedChangeList):
    # The columns the list shows: converting the other times and texts of fifty rows cost more than the query.
    LISTED = ("out_id", "created_at", "called_number", "api", "status", "outcome", "status_code", "duration", "requested_by__username")

    def get_queryset(self, request, exclude_parameters=None):
        queryset = super().get_queryset(request, exclude_parameters)
        fields = {field.name for field in self.model._meta.concrete_fields}
        added = [name for name in self.list_display if name not in FAST_COLUMNS]
        if all(isinstance(name, str) and name in fields for name in added):
            return queryset.only(*self.LISTED, *added)
        # A column a developer added (a method, a callable, a related lookup) may read any field: whole rows, one query.
        return queryset


class PlacedElsewhereFilter(admin.SimpleListFilter):
    """Calls another system of the account placed, or ours. Django's own boolean filter writes `WHERE flag`, which
    SQLite cannot seek callrecord_elsewhere_idx with; an IN list can (as the call log's filter does)."""

    title = _("placed elsewhere")
    parameter_name = "placed_elsewhere"

    def lookups(self, request, model_admin):
        return [("yes", _("Placed elsewhere")), ("no", _("From this console"))]

    def queryset(self, request, queryset):
        if self.value() in ("yes", "no"):
            return queryset.filter(placed_elsewhere__in=[self.value() == "yes"])
        return queryset


@admin.register(CallRecord)
class CallRecordAdmin(ProviderRecordAdmin):
    # The time as the console writes it and choices by their labels, from the methods below; the rows themselves
    # are written by templatetags/call_admin.py (see templates/admin/notifications/callrecord/change_list.html).
    list_display = ("out_id", "created", "called_number", "api_name", "status_name", "outcome_name", "status_code", "duration",
                    "requested_by")
    list_select_related = ("requested_by",)
    # Status lists every state, "outcome unknown" and "unclear, being checked" included.
    list_filter = ("status", "outcome", "api", "mode", PlacedElsewhereFilter)
    date_hierarchy = "created_at"
    # Exact matches on indexed columns: LIKE '%…%' or the admin's "=" (iexact) would scan a million rows.
    search_fields = ("out_id__exact", "call_id__exact", "called_number__exact")
    search_help_text = _("Exact OutId, CallId or callee number.")
    raw_id_fields = ("tts_template", "voice_file", "caller_number", "requested_by")
    show_full_result_count = False
    paginator = EstimatedCountPaginator
    list_per_page = 50
    inlines = (CallEventInline,)

    def get_changelist(self, request, **kwargs):
        return CallRecordChangeList

    @admin.display(description=_("created at"), ordering="created_at")
    def created(self, obj):
        return stamp(obj.created_at)

    @admin.display(description=_("API"), ordering="api")
    def api_name(self, obj):
        return str(obj.api_label)

    @admin.display(description=_("status"), ordering="status")
    def status_name(self, obj):
        return str(obj.status_label)

    @admin.display(description=_("outcome"), ordering="outcome")
    def outcome_name(self, obj):
        return str(obj.outcome_label) or None  # None shows the admin's empty mark, as an unset choice did


@admin.register(CallEvent)
class CallEventAdmin(ProviderRecordAdmin):
    list_display = ("created_at", "kind", "call", "status_code", "receipt_call_id", "receipt_out_id")
    list_select_related = ("call",)
    search_fields = ("receipt_call_id__exact", "receipt_out_id__exact")
    raw_id_fields = ("call",)
    show_full_result_count = False
    paginator = EstimatedCountPaginator
