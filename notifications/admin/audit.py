"""The audit log in the admin: read-only, as on the console's page."""
from django.contrib import admin

from notifications.models import AuditEntry


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    list_display = ("created_at", "username", "action", "target_label")
    list_filter = ("action", "created_at")
    search_fields = ("username__exact", "target_label")
    date_hierarchy = "created_at"
    list_select_related = ()
    raw_id_fields = ("user",)
    readonly_fields = ("created_at", "user", "username", "action", "target_type", "target_id", "target_label", "details")
    show_full_result_count = False

    # Written by the services only: nobody adds, edits or deletes an entry, superusers included.
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
