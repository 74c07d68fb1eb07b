"""Admin for campaigns and their rows: listed for developers; every change of state goes through the console's pages
and `manage.py campaign` (the services), so the admin shows them read-only."""
from django.contrib import admin
from django.contrib.admin.views.main import ChangeList
from django.utils.translation import gettext_lazy as _

from notifications.models import Campaign, CampaignRow
from notifications.services.numbers import number_mask, payload_mask, text_mask, user_sees_full_numbers

from .calls import EstimatedCountPaginator


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Campaign)
class CampaignAdmin(ReadOnlyAdmin):
    list_display = ("name", "state", "created_by", "created_at")
    list_filter = ("state",)
    search_fields = ("name",)
    list_select_related = ("created_by",)
    raw_id_fields = ("tts_template", "voice_file", "created_by", "approved_by")
    date_hierarchy = "created_at"


def _masked_row(row: CampaignRow) -> CampaignRow:
    """In memory only, for pages that show the row (nothing is saved from them), as the call record admin masks."""
    deferred = row.get_deferred_fields()
    for name, mask in (("called_number", number_mask), ("raw_number", text_mask), ("params", payload_mask),
                       ("refusal_messages", payload_mask)):
        if name not in deferred:
            setattr(row, name, mask(getattr(row, name)))
    return row


@admin.register(CampaignRow)
class CampaignRowAdmin(ReadOnlyAdmin):
    list_display = ("campaign", "row_number", "shown_callee", "state", "attempts", "outcome", "refusal_code")
    list_filter = ("state",)
    # Exact row numbers: the rows of a 100,000-row list are found by the number the operator sees in the file.
    search_fields = ("row_number__exact",)
    search_help_text = _("Exact row number, as in the file.")
    list_select_related = ("campaign",)
    raw_id_fields = ("campaign", "last_call")
    show_full_result_count = False
    paginator = EstimatedCountPaginator
    list_per_page = 50

    @admin.display(description=_("callee"), ordering="called_number")
    def shown_callee(self, obj):
        return obj.called_number or "—"

    def get_object(self, request, object_id, from_field=None):
        obj = super().get_object(request, object_id, from_field)
        if obj is not None and not user_sees_full_numbers(request.user):
            _masked_row(obj)
        return obj

    def get_changelist(self, request, **kwargs):
        return MaskedRowChangeList


class MaskedRowChangeList(ChangeList):
    def get_results(self, request):
        super().get_results(request)
        if not user_sees_full_numbers(request.user):
            for obj in self.result_list:
                _masked_row(obj)
