"""Admin for the receipt inbox: every push as received, read-only, with Replay as an action."""
from contextvars import ContextVar

from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from notifications.admin.calls import EstimatedCountPaginator
from notifications.models import ReceiptDelivery
from notifications.services.numbers import text_mask, user_sees_full_numbers
from notifications.services.receipt_inbox import problem_text, receipt_deliveries_replay

# Who is looking, for the read-only body (a field callable gets only the object); per request, thread-safe.
_viewer: ContextVar = ContextVar("receipt_delivery_viewer", default=None)


@admin.register(ReceiptDelivery)
class ReceiptDeliveryAdmin(admin.ModelAdmin):
    list_display = ("id", "received_at", "message_type", "state", "item_count", "applied_count", "unmatched_count",
                    "invalid_count", "size")
    list_filter = ("message_type", "state")
    date_hierarchy = "received_at"
    paginator = EstimatedCountPaginator
    show_full_result_count = False
    actions = ["replay"]
    exclude = ("body", "problems")
    readonly_fields = ("message_type", "received_at", "size", "state", "item_count", "applied_count", "unmatched_count",
                       "invalid_count", "problems_shown", "applied_at", "apply_runs", "body_shown")

    def get_queryset(self, request):
        return super().get_queryset(request).defer("body")

    def has_add_permission(self, request):
        return False  # pushes come from the provider only

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description=_("problems"))
    def problems_shown(self, delivery):
        return "\n".join(f"#{p['index']}: {problem_text(p)}" if p.get("index") is not None else problem_text(p)
                         for p in delivery.problems) or "—"

    @admin.display(description=_("body"))
    def body_shown(self, delivery):
        text = delivery.body_text
        viewer = _viewer.get()
        return text if viewer is not None and user_sees_full_numbers(viewer) else text_mask(text)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        token = _viewer.set(request.user)
        try:
            return super().change_view(request, object_id, form_url, extra_context)
        finally:
            _viewer.reset(token)

    @admin.action(description=_("Replay (apply again)"), permissions=["replay"])
    def replay(self, request, queryset):
        count = receipt_deliveries_replay(deliveries=queryset)
        self.message_user(request, ngettext("%(count)d push queued to be applied again.",
                                            "%(count)d pushes queued to be applied again.", count) % {"count": count},
                          messages.SUCCESS)

    def has_replay_permission(self, request):
        return request.user.has_perm("notifications.replay_receiptdelivery")
