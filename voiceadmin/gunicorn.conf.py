"""gunicorn settings for VoiceAdmin: `gunicorn -c voiceadmin/gunicorn.conf.py` (from anywhere).

Command-line options still win (`-b 0.0.0.0:8000 -w 4 --access-logfile /var/log/voiceadmin/access.log`), and
gunicorn reads WEB_CONCURRENCY for the number of workers. What this file adds: the access and error logs never
carry the receipt webhook's token (`/receipts/<MessageType>/<token>/` is logged as `.../[redacted]/`).
"""
import sys
from pathlib import Path

from gunicorn.glogging import Logger

PROJECT_DIR = Path(__file__).resolve().parent.parent
if str(PROJECT_DIR) not in sys.path:
    sys.path.insert(0, str(PROJECT_DIR))

from notifications.logging import RedactWebhookToken, redact  # noqa: E402  (needs the project on sys.path)


class RedactingLogger(Logger):
    """gunicorn's logger with the webhook token hidden in every access-log atom and every error-log line."""

    def setup(self, cfg):
        super().setup(cfg)
        # On the loggers, not the handlers: setup() replaces the handlers on every reload.
        for log in (self.error_log, self.access_log):
            if not any(isinstance(existing, RedactWebhookToken) for existing in log.filters):
                log.addFilter(RedactWebhookToken())

    def atoms(self, resp, req, environ, request_time):
        # %(r)s, %(U)s, {raw_uri}e, {referer}i ...: every string a format may pick is redacted before formatting.
        return {key: redact(value) if isinstance(value, str) else value
                for key, value in super().atoms(resp, req, environ, request_time).items()}


logger_class = RedactingLogger
wsgi_app = "voiceadmin.wsgi:application"
chdir = str(PROJECT_DIR)
bind = ["127.0.0.1:8000"]
accesslog = "-"  # stdout; --access-logfile PATH writes a file instead
errorlog = "-"
