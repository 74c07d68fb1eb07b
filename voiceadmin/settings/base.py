"""VoiceAdmin settings: everything comes from the environment (or a .env file) via django-environ."""
from pathlib import Path

import environ
import xstatic.pkg.bootstrap

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env")

DEBUG = env.bool("DJANGO_DEBUG", default=False)
# Secrets have no default outside debug: a missing key stops start-up with its name.
SECRET_KEY = env("DJANGO_SECRET_KEY") if not DEBUG else env("DJANGO_SECRET_KEY", default="insecure-debug-only-key")
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_filters",
    "django_rq",
    "notifications",
    # Two-factor sign-in: authenticator apps (TOTP) and one-time recovery codes.
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Two-factor sign-in: request.user.is_verified() from the session.
    "django_otp.middleware.OTPMiddleware",
    # Content-Security-Policy on every page; Cache-Control: no-store for signed-in users.
    "notifications.middleware.SecurityHeadersMiddleware",
    # Every page needs a login unless its view is marked @login_not_required.
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    # Two-factor sign-in: signed-in users who need a second factor go to /accounts/two-factor/ first.
    "notifications.two_factor_middleware.TwoFactorRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "voiceadmin.urls"
WSGI_APPLICATION = "voiceadmin.wsgi.application"
ASGI_APPLICATION = "voiceadmin.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "notifications.context_processors.health_banner",
                "notifications.two_factor_middleware.two_factor_context",  # Two-factor sign-in
            ],
        },
    },
]

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'var' / 'voiceadmin.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the webhook write while pages read; the busy timeout rides out short write locks. IMMEDIATE
    # transactions take the write lock up front, so a writer waits its turn instead of failing with "locked".
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"timeout": 20, "transaction_mode": "IMMEDIATE", "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"}
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AUTHENTICATION_BACKENDS = ["notifications.auth_backend.ModelBackendOneQuery"]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env("DJANGO_TIME_ZONE", default="Asia/Shanghai")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "var" / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static", ("vendor/bootstrap", xstatic.pkg.bootstrap.BASE_DIR)]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
MEDIA_URL = "media/"
MEDIA_ROOT = env.path("DJANGO_MEDIA_ROOT", default=BASE_DIR / "var" / "media")
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
DATA_UPLOAD_MAX_MEMORY_SIZE = 5_242_880

# Production hardening; `manage.py check --deploy` passes with DJANGO_DEBUG off and HTTPS on.
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=False)
SESSION_COOKIE_SECURE = env.bool("DJANGO_SECURE_COOKIES", default=not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_HSTS_SECONDS = env.int("DJANGO_HSTS_SECONDS", default=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE_HSTS_SECONDS > 0
SECURE_HSTS_PRELOAD = SECURE_HSTS_SECONDS > 0
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if env.bool("DJANGO_BEHIND_PROXY", default=False) else None
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
# Scripts and styles come only from our static files (no inline <script>, on*= handlers or style= attributes);
# Bootstrap draws its select arrows and close buttons with data: SVG images.
# Empty (as in .env.example) means this default, never "no policy".
CONTENT_SECURITY_POLICY = env("DJANGO_CONTENT_SECURITY_POLICY", default="") or (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; "
    "base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)
# Path prefix -> policy for third-party pages we do not template: django-rq's dashboard has inline scripts.
CONTENT_SECURITY_POLICY_EXCEPTIONS = {
    "/admin/rq/": "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'",
}

# Two-factor sign-in. On (the default outside debug): superusers and managers must enrol an authenticator app
# and give a code after their password; anyone who has enrolled is asked for a code. Off: no code is asked.
VOICEADMIN_REQUIRE_2FA = env.bool("VOICEADMIN_REQUIRE_2FA", default=not DEBUG)
OTP_TOTP_ISSUER = "VoiceAdmin"
# Wrong codes: each one doubles the wait before the next try (1 s, 2 s, 4 s, ...), per device.
OTP_TOTP_THROTTLE_FACTOR = 1
OTP_STATIC_THROTTLE_FACTOR = 1

# Queue: RQ on Redis when REDIS_URL is set, otherwise jobs run in-process (embedded default).
REDIS_URL = env("REDIS_URL", default="")
RQ_QUEUES = {
    name: ({"URL": REDIS_URL, "DEFAULT_TIMEOUT": 300} if REDIS_URL else {"HOST": "127.0.0.1", "PORT": 6379, "DB": 0})
    for name in ("default",)
}
RQ_SHOW_ADMIN_LINK = True
# `manage.py rqworker` runs this class unless told otherwise: SimpleWorker (no fork per job) that outlives a Redis restart.
RQ = {"WORKER_CLASS": "notifications.worker.ReconnectingWorker"}

# Alibaba Cloud Voice Messaging Service. The default endpoint is the local simulator.
ALIYUN_VMS_ENDPOINT = env("ALIYUN_VMS_ENDPOINT", default="http://127.0.0.1:8001/")
ALIYUN_ACCESS_KEY_ID = env("ALIYUN_ACCESS_KEY_ID", default="LTAIsimulatorkey" if DEBUG else None)
ALIYUN_ACCESS_KEY_SECRET = env("ALIYUN_ACCESS_KEY_SECRET", default="simulator-secret" if DEBUG else None)
ALIYUN_VMS_SIGNATURE_VERSION = env("ALIYUN_VMS_SIGNATURE_VERSION", default="v1")  # v1 (HMAC-SHA1) or v3
ALIYUN_VMS_CONNECT_TIMEOUT = env.float("ALIYUN_VMS_CONNECT_TIMEOUT", default=3.0)
ALIYUN_VMS_READ_TIMEOUT = env.float("ALIYUN_VMS_READ_TIMEOUT", default=10.0)
RECEIPT_WEBHOOK_TOKEN = env("RECEIPT_WEBHOOK_TOKEN", default="local-receipt-token" if DEBUG else None)
# More accepted tokens, comma-separated, so the token can be rotated without losing a push: add the new one here,
# switch the provider to it, then remove the old one. RECEIPT_WEBHOOK_TOKEN stays accepted beside these.
RECEIPT_WEBHOOK_TOKENS = [token.strip() for token in env.str("RECEIPT_WEBHOOK_TOKENS", default="").split(",") if token.strip()]

# The receipt inbox: the largest push kept (a larger one gets 413), how long pushes are kept, and how long a
# receipt may stay unmatched before it is recorded as a call placed elsewhere (our own call's receipt can beat
# the API's answer by the length of a read timeout; a few minutes is plenty).
RECEIPT_BODY_MAX_BYTES = env.int("RECEIPT_BODY_MAX_BYTES", default=1_048_576)
RECEIPT_INBOX_KEEP_DAYS = env.int("RECEIPT_INBOX_KEEP_DAYS", default=90)
RECEIPT_ELSEWHERE_GRACE_MINUTES = env.float("RECEIPT_ELSEWHERE_GRACE_MINUTES", default=15)

# The simulator's control API (review decisions, account sync). Empty with the real provider.
SIMULATOR_CONTROL_URL = env("SIMULATOR_CONTROL_URL", default="")
# Where the simulator sends review decisions back to the console.
SIMULATOR_CONSOLE_URL = env("SIMULATOR_CONSOLE_URL", default="http://127.0.0.1:8000")

# Campaigns: quiet hours in TIME_ZONE ("21:00-08:00": no campaign call from 21:00 to 08:00; empty: none), the
# account's calls per second shared by all campaigns, the share of it kept free for test calls, and the list size.
CAMPAIGN_QUIET_HOURS = env("CAMPAIGN_QUIET_HOURS", default="21:00-08:00")
VMS_ACCOUNT_QPS = env.int("VMS_ACCOUNT_QPS", default=1000)
CAMPAIGN_TEST_CALL_SHARE = env.float("CAMPAIGN_TEST_CALL_SHARE", default=0.1)
CAMPAIGN_MAX_ROWS = env.int("CAMPAIGN_MAX_ROWS", default=100_000)
# The periodic task that starts the campaign sender (notifications/cron.py); a run then ticks every second while
# campaigns send, under the periodic tasks' lock, so one sender runs at a time.
CAMPAIGN_SEND_INTERVAL_SECONDS = env.int("CAMPAIGN_SEND_INTERVAL_SECONDS", default=5)

# The do-not-call list's import: the largest file (bytes) and the most rows one import takes.
BLOCKED_NUMBERS_IMPORT_MAX_BYTES = env.int("BLOCKED_NUMBERS_IMPORT_MAX_BYTES", default=10 * 1024 * 1024)
BLOCKED_NUMBERS_IMPORT_MAX_ROWS = env.int("BLOCKED_NUMBERS_IMPORT_MAX_ROWS", default=50_000)

# Dialing: per-user limit on test calls, and when the follow-up queries, settles and re-enqueues calls.
DIAL_RATE_LIMIT_PER_MINUTE = env.int("DIAL_RATE_LIMIT_PER_MINUTE", default=10)
CALL_DETAIL_QUERY_AFTER_MINUTES = env.float("CALL_DETAIL_QUERY_AFTER_MINUTES", default=5)
# How long a call may take from acceptance to its end, how late a receipt may still come (the provider's push retries),
# and how long past the client's timeouts a send may stay `sending` before it counts as interrupted (a killed worker).
CALL_EXPECTED_SECONDS = env.float("CALL_EXPECTED_SECONDS", default=180)
CALL_RECEIPT_RETRY_WINDOW_MINUTES = env.float("CALL_RECEIPT_RETRY_WINDOW_MINUTES", default=20)
CALL_SENDING_GRACE_SECONDS = env.float("CALL_SENDING_GRACE_SECONDS", default=60)
CALL_FOLLOW_UP_INTERVAL_SECONDS = env.int("CALL_FOLLOW_UP_INTERVAL_SECONDS", default=60)
# The other periodic tasks (notifications/cron.py): the dispatcher wake-up for queued calls left waiting, the receipt
# inbox's safety-net run (pushes whose wake-up was lost; receipts unmatched past their grace), and pruning the inbox.
CALL_DISPATCH_WAKE_INTERVAL_SECONDS = env.int("CALL_DISPATCH_WAKE_INTERVAL_SECONDS", default=30)
RECEIPT_INBOX_APPLY_INTERVAL_SECONDS = env.int("RECEIPT_INBOX_APPLY_INTERVAL_SECONDS", default=30)
RECEIPT_INBOX_PRUNE_INTERVAL_SECONDS = env.int("RECEIPT_INBOX_PRUNE_INTERVAL_SECONDS", default=3600)
# Voice files in review with a VoiceCode are asked about (QueryVoiceFileAuditInfo, 10 codes a request) this often, at
# most VOICE_FILE_AUDIT_QPS requests a second (the provider publishes no QPS for this API: keep it modest).
VOICE_FILE_AUDIT_SYNC_INTERVAL_SECONDS = env.int("VOICE_FILE_AUDIT_SYNC_INTERVAL_SECONDS", default=300)
VOICE_FILE_AUDIT_QPS = env.float("VOICE_FILE_AUDIT_QPS", default=5.0)
# Alerts (notifications/cron.py `alerts_check`): how often the rules are checked, and how a notification is sent:
# each try of a mail or a chat robot webhook waits at most ALERTS_DELIVERY_TIMEOUT_SECONDS, a failed one is tried again
# ALERTS_DELIVERY_RETRY_SECONDS later (by the next check at the earliest), up to ALERTS_DELIVERY_ATTEMPTS tries.
ALERTS_CHECK_INTERVAL_SECONDS = env.int("ALERTS_CHECK_INTERVAL_SECONDS", default=60)
ALERTS_DELIVERY_TIMEOUT_SECONDS = env.float("ALERTS_DELIVERY_TIMEOUT_SECONDS", default=5)
ALERTS_DELIVERY_ATTEMPTS = env.int("ALERTS_DELIVERY_ATTEMPTS", default=3)
ALERTS_DELIVERY_RETRY_SECONDS = env.int("ALERTS_DELIVERY_RETRY_SECONDS", default=60)
ALERTS_RECENT_DAYS = env.int("ALERTS_RECENT_DAYS", default=7)  # resolved alerts the Alerts page still lists
# Billing (notifications/cron.py `calls_bill`): ended calls get their units and cost this often. A task of its own, so a
# backlog or a failure there never holds up the follow-up's detail queries.
USAGE_BILL_INTERVAL_SECONDS = env.int("USAGE_BILL_INTERVAL_SECONDS", default=60)
# With two `runcron` processes, the standby starts enqueuing at most this long after the leader died.
CRON_LEADER_SECONDS = env.int("CRON_LEADER_SECONDS", default=15)

# Call history: mask callee numbers for users without the view_full_number permission.
PHONE_MASKING = env.bool("PHONE_MASKING", default=True)

# System health (the System health page, the console's banner, `manage.py health`): when each check turns warning or
# critical. A periodic task is stale (warning) after HEALTH_STALE_INTERVALS of its intervals without a run, critical
# after HEALTH_CRITICAL_INTERVALS; HEALTH_TASK_INTERVALS (name=seconds,...) sets intervals for tasks without a setting.
HEALTH_STALE_INTERVALS = env.float("HEALTH_STALE_INTERVALS", default=3)
HEALTH_CRITICAL_INTERVALS = env.float("HEALTH_CRITICAL_INTERVALS", default=10)
HEALTH_TASK_INTERVALS = env.dict("HEALTH_TASK_INTERVALS", cast={"value": float}, default={})
HEALTH_QUEUED_WARNING_SECONDS = env.float("HEALTH_QUEUED_WARNING_SECONDS", default=120)  # oldest due call still queued
HEALTH_QUEUED_CRITICAL_SECONDS = env.float("HEALTH_QUEUED_CRITICAL_SECONDS", default=600)
HEALTH_SENDING_WARNING_SECONDS = env.float("HEALTH_SENDING_WARNING_SECONDS", default=120)  # a call stuck in `sending`
HEALTH_SENDING_CRITICAL_SECONDS = env.float("HEALTH_SENDING_CRITICAL_SECONDS", default=900)
HEALTH_UNKNOWN_WARNING_MINUTES = env.float("HEALTH_UNKNOWN_WARNING_MINUTES", default=60)  # a call still unclear
HEALTH_UNKNOWN_CRITICAL_MINUTES = env.float("HEALTH_UNKNOWN_CRITICAL_MINUTES", default=1500)  # past the 24 h close-out
HEALTH_INBOX_WARNING_SECONDS = env.float("HEALTH_INBOX_WARNING_SECONDS", default=10)  # oldest push not yet applied
HEALTH_INBOX_CRITICAL_SECONDS = env.float("HEALTH_INBOX_CRITICAL_SECONDS", default=120)
HEALTH_RECEIPT_SILENCE_MINUTES = env.float("HEALTH_RECEIPT_SILENCE_MINUTES", default=30)  # accepted calls, no receipt since
HEALTH_REDIS_TIMEOUT_SECONDS = env.float("HEALTH_REDIS_TIMEOUT_SECONDS", default=1.0)
HEALTH_BANNER_CACHE_SECONDS = env.float("HEALTH_BANNER_CACHE_SECONDS", default=5)  # the banner's report is shared this long
HEALTH_PAGE_REFRESH_SECONDS = env.int("HEALTH_PAGE_REFRESH_SECONDS", default=10)

# The receipt webhook's token is in its path: the request and server loggers (every 4xx/5xx line, runserver's access
# log) hide it before any handler sees the record, and the console handler hides it in anything else that gets there.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"redact_webhook_token": {"()": "notifications.logging.RedactWebhookToken"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "django.server": {"()": "django.utils.log.ServerFormatter", "format": "[{server_time}] {message}", "style": "{"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["redact_webhook_token"]},
        "django.server": {"class": "logging.StreamHandler", "formatter": "django.server", "filters": ["redact_webhook_token"]},
    },
    "root": {"handlers": ["console"], "level": env("DJANGO_LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "django.request": {"filters": ["redact_webhook_token"]},
        # Django's own settings for runserver's access log, plus the filter.
        "django.server": {"handlers": ["django.server"], "level": "INFO", "propagate": False, "filters": ["redact_webhook_token"]},
    },
}

# Email, invitations, password reset and the idle session timeout.
# Mail: console backend in debug, SMTP otherwise; the password comes only from the environment.
# Empty (as in .env.example) means this default.
EMAIL_BACKEND = env("DJANGO_EMAIL_BACKEND", default="") or (
    "django.core.mail.backends.console.EmailBackend" if DEBUG else "django.core.mail.backends.smtp.EmailBackend")
EMAIL_HOST = env("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
EMAIL_HOST_USER = env("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=10)  # a hung SMTP server must not hang the page
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="VoiceAdmin <noreply@localhost>")
# How long an invitation link works (the password-reset link keeps PASSWORD_RESET_TIMEOUT, also 3 days by default).
INVITATION_DAYS = env.int("INVITATION_DAYS", default=3)
# Sign a user out after this many minutes without a request of their own (background polling does not count).
SESSION_IDLE_MINUTES = env.float("SESSION_IDLE_MINUTES", default=30)
# Paths (regular expressions) that pages poll on their own: they are not activity.
SESSION_IDLE_IGNORED_PATHS = [r"^/calls/\d+/status/$", r"^/system/health/status/$", r"^/campaigns/\d+/progress/$"]
# After MessageMiddleware, so the "signed out" message can be stored; before the view, so LoginRequiredMiddleware
# then sends the signed-out request to the login page.
MIDDLEWARE.insert(MIDDLEWARE.index("django.contrib.messages.middleware.MessageMiddleware") + 1,
                  "notifications.idle.IdleTimeoutMiddleware")

# --- Brute-force protection of sign-in (django-axes) ---
INSTALLED_APPS.append("axes")
MIDDLEWARE.append("axes.middleware.AxesMiddleware")  # last, as axes asks
AUTHENTICATION_BACKENDS.insert(0, "axes.backends.AxesStandaloneBackend")  # first: refuses locked sign-ins
# The lock guards the password sign-in only: a session already open elsewhere keeps working, or anyone who knows
# a username could sign its owner out by typing wrong passwords.
# Separate parameters: failures are summed per username and per client address, and either reaching the limit
# locks (a spray of one username from many addresses, or one address trying many usernames).
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_FAILURE_LIMIT = env.int("SIGNIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = env.float("SIGNIN_LOCKOUT_MINUTES", default=15) / 60  # hours
# A try while locked restarts the period, so the locked page's "N minutes" is true from that try (axes' default).
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = True
AXES_HANDLER = "axes.handlers.database.AxesDatabaseHandler"  # shared by every web process
# A success does not wipe failures: axes would wipe every failure from that address, for any username, so one
# valid account could keep resetting a guesser's count for another. Failures age out after the period instead.
AXES_RESET_ON_SUCCESS = False
# axes' log lines: only the lockout parameters (no user agent), masked; the audit log keeps who and where.
AXES_VERBOSE = False
AXES_SENSITIVE_PARAMETERS = ["username", "ip_address"]
# Client address: REMOTE_ADDR, or (behind a reverse proxy) only the header named here, e.g. X-Forwarded-For.
SIGNIN_CLIENT_IP_HEADER = env("SIGNIN_CLIENT_IP_HEADER", default="")
AXES_CLIENT_IP_CALLABLE = "notifications.services.lockouts.client_ip"
AXES_LOCKOUT_CALLABLE = "notifications.views.lockouts.locked_out"
AXES_USERNAME_FORM_FIELD = "username"
# --- end of brute-force protection ---

# --- Single sign-on with OpenID Connect (mozilla-django-oidc) and the switch for password sign-in ---
# Off by default. The client secret comes only from the environment. The provider's endpoints are set one by one,
# or read once at start-up from OIDC_OP_DISCOVERY_URL: one request, bounded by OIDC_TIMEOUT, that never raises (an
# unreachable provider leaves the endpoints empty: the SSO button leads to the failure page, and the console and
# the password sign-in keep working). Set the endpoints themselves to start without that request.
OIDC_ENABLED = env.bool("OIDC_ENABLED", default=False)
OIDC_PROVIDER_NAME = env("OIDC_PROVIDER_NAME", default="")  # the button's label; empty: "company account"
OIDC_RP_CLIENT_ID = env("OIDC_RP_CLIENT_ID", default="")
OIDC_RP_CLIENT_SECRET = env("OIDC_RP_CLIENT_SECRET", default="")
OIDC_RP_SIGN_ALGO = env("OIDC_RP_SIGN_ALGO", default="RS256")
OIDC_RP_SCOPES = env("OIDC_RP_SCOPES", default="openid email profile")
OIDC_OP_DISCOVERY_URL = env("OIDC_OP_DISCOVERY_URL", default="")
OIDC_OP_AUTHORIZATION_ENDPOINT = env("OIDC_OP_AUTHORIZATION_ENDPOINT", default="")
OIDC_OP_TOKEN_ENDPOINT = env("OIDC_OP_TOKEN_ENDPOINT", default="")
OIDC_OP_USER_ENDPOINT = env("OIDC_OP_USER_ENDPOINT", default="")
OIDC_OP_JWKS_ENDPOINT = env("OIDC_OP_JWKS_ENDPOINT", default="")
OIDC_TIMEOUT = env.float("OIDC_TIMEOUT", default=10.0)  # seconds, for every request to the provider
if OIDC_ENABLED and OIDC_OP_DISCOVERY_URL and not OIDC_OP_TOKEN_ENDPOINT:
    from notifications.auth_oidc_discovery import discover as _oidc_discover

    _found = _oidc_discover(OIDC_OP_DISCOVERY_URL, OIDC_TIMEOUT)
    OIDC_OP_AUTHORIZATION_ENDPOINT = _found.get("authorization_endpoint", "")
    OIDC_OP_TOKEN_ENDPOINT = _found.get("token_endpoint", "")
    OIDC_OP_USER_ENDPOINT = _found.get("userinfo_endpoint", "")
    OIDC_OP_JWKS_ENDPOINT = _found.get("jwks_uri", "")
# The claim holding the user's groups, and which of its values give which role; no mapped value: refused.
OIDC_ROLE_CLAIM = env("OIDC_ROLE_CLAIM", default="groups")
OIDC_ROLE_MAP = env("OIDC_ROLE_MAP", default="")  # "voice-operators=operator,voice-managers=manager"
# Off: the password sign-in is refused for everyone but superusers (the way in when the provider is down).
LOCAL_LOGIN_ENABLED = env.bool("LOCAL_LOGIN_ENABLED", default=True)
# Right after axes' backend, so a locked-out sign-in is refused before this one looks at the password.
AUTHENTICATION_BACKENDS.insert(AUTHENTICATION_BACKENDS.index("axes.backends.AxesStandaloneBackend") + 1,
                               "notifications.local_login.LocalLoginGateBackend")
if OIDC_ENABLED:
    AUTHENTICATION_BACKENDS.append("notifications.auth_oidc.VoiceAdminOIDCBackend")
# --- end of single sign-on ---
