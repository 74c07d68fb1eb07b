"""Admin for call records, call events and the do-not-call list."""
from django.contrib import admin  # noqa: F401

from notifications.forms.dialing import BlockedNumberForm
from notifications.models import BlockedNumber


# ----- Do-not-call list -----
@admin.register(BlockedNumber)
class BlockedNumberAdmin(admin.ModelAdmin):
    list_display = ("number", "reason", "created_by", "created_at")
    search_fields = ("number", "reason")
    readonly_fields = ("created_by", "created_at")
    date_hierarchy = "created_at"

    form = BlockedNumberForm  # the same number checks as the console's page

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)

