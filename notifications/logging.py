"""Keep the receipt webhook's secret path segment out of every log line.

The provider pushes to `/receipts/<MessageType>/<token>/`, so the token is in the path that Django's request and
server loggers (and gunicorn's access and error logs, see voiceadmin/gunicorn.conf.py) write. Whoever can read a
log could otherwise forge receipts. This module imports nothing of Django: gunicorn's master loads it too.
"""
import copy
import logging
import re

REDACTED = "[redacted]"

# The segment after /receipts/<type>/, whatever the type, token or prefix (SCRIPT_NAME, scheme and host): a wrong
# or old token is hidden too, since a near miss or a rotated-out token is still worth something to whoever reads it.
_WEBHOOK_PATH = re.compile(r"(/receipts/[^/?#\s\"']*/)([^/?#\s\"']+)")
# Configured tokens are also hidden wherever they appear; short ones would blank out ordinary words.
_MIN_TOKEN_LENGTH = 8


def _configured_tokens() -> list[str]:
    """The tokens in Django's settings, once they are loaded; never loads them (gunicorn's master has none)."""
    try:
        from django.conf import settings

        if not settings.configured:
            return []
        tokens = [*getattr(settings, "RECEIPT_WEBHOOK_TOKENS", []), getattr(settings, "RECEIPT_WEBHOOK_TOKEN", None)]
    except Exception:  # a log line must never fail because of this
        return []
    return [token for token in tokens if isinstance(token, str) and len(token) >= _MIN_TOKEN_LENGTH]


def redact(text: str) -> str:
    """`text` with the webhook token replaced by [redacted]."""
    if "/receipts/" in text:
        text = _WEBHOOK_PATH.sub(lambda match: match.group(1) + REDACTED, text)
    for token in _configured_tokens():
        if token in text:
            text = text.replace(token, REDACTED)
    return text


def _redact_value(value):
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, bytes | int | float | bool) or value is None:
        return value  # numbers keep their %d / %s formatting
    shown = str(value)  # e.g. a request object, whose repr holds its path
    redacted = redact(shown)
    return redacted if redacted != shown else value


def _redacted_request(request):
    """A copy of an HttpRequest whose path, META and URL kwargs hold no token (the real request is left alone)."""
    if not (hasattr(request, "path_info") and hasattr(request, "META")):
        return request  # django.server passes the socket as `request`
    clone = copy.copy(request)
    clone.path = redact(request.path)
    clone.path_info = redact(request.path_info)
    clone.META = {key: redact(value) if isinstance(value, str) else value for key, value in request.META.items()}
    if hasattr(request, "environ"):
        clone.environ = clone.META
    # The URL match holds the token as a view argument; Django cannot copy it, and a log has no use for it.
    clone.resolver_match = None
    return clone


def redact_record(record: logging.LogRecord) -> None:
    """Redact a log record in place: message, arguments, traceback text and the request it carries."""
    if isinstance(record.msg, str):
        record.msg = redact(record.msg)
    if isinstance(record.args, dict):
        # In place: gunicorn passes a dict subclass that answers "-" for atoms it lacks.
        for key, value in list(record.args.items()):
            record.args[key] = _redact_value(value)
    elif isinstance(record.args, tuple):
        record.args = tuple(_redact_value(value) for value in record.args)
    if record.exc_info and not record.exc_text:
        record.exc_text = logging.Formatter().formatException(record.exc_info)
    if record.exc_text:
        record.exc_text = redact(record.exc_text)
    if record.stack_info:
        record.stack_info = redact(record.stack_info)
    request = getattr(record, "request", None)
    if request is not None and redact(getattr(request, "path", "")) != getattr(request, "path", ""):
        record.request = _redacted_request(request)


class RedactWebhookToken(logging.Filter):
    """A logging filter (for loggers and handlers) that keeps every record but hides the webhook token in it."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            redact_record(record)
        except Exception:
            # Never let a log line fail (or leak) because of this: keep only the redacted text.
            record.msg, record.args = redact(_safe_message(record)), ()
            record.request = None
        return True


def _safe_message(record: logging.LogRecord) -> str:
    try:
        return record.getMessage()
    except Exception:
        return str(record.msg)
