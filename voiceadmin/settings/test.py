"""Settings for the test suite: the base settings with throwaway secrets and fast password hashing."""
import os
import tempfile

for name, value in {
    "DJANGO_SECRET_KEY": "test-only-secret-key-not-for-production-use-0123456789",
    "ALIYUN_ACCESS_KEY_ID": "LTAItestkey",
    "ALIYUN_ACCESS_KEY_SECRET": "test-access-secret",
    "RECEIPT_WEBHOOK_TOKEN": "test-receipt-token",
}.items():
    os.environ.setdefault(name, value)
os.environ["DJANGO_DEBUG"] = "0"

from .base import *  # noqa: E402,F403
from .base import BASE_DIR  # noqa: E402

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
MEDIA_ROOT = BASE_DIR / "var" / "test-media"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False

if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":  # noqa: F405
    # A file, not shared-cache memory: the live server and the simulator's pushes write from other threads, and only a
    # file database honours the busy timeout instead of failing at once with "table is locked".
    DATABASES["default"]["TEST"] = {"NAME": os.path.join(tempfile.gettempdir(), f"voiceadmin-test-{os.getpid()}.sqlite3")}  # noqa: F405
# Each page computes the health banner afresh: a report cached by one test would show in the next.
HEALTH_BANNER_CACHE_SECONDS = 0
# Two-factor sign-in off so the suite signs in with a password alone; tests/accounts turn it on.
VOICEADMIN_REQUIRE_2FA = False
