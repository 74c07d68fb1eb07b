from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotificationsConfig(AppConfig):
    name = "notifications"
    verbose_name = _("Voice notifications")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        # Brute-force protection of sign-in: audit every sign-in attempt, lockout and unlock (signal receivers).
        from notifications.services import lockouts  # noqa: F401
