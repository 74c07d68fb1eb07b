"""Sending an alert: by email through Django's mail backend, and to a chat robot's incoming webhook.

Each send is one try with a short timeout that either returns or raises `DeliveryFailed` with a reason fit to show
on the Alerts page: the webhook address and secret never appear in it (nor in the log), since the address itself is
the robot's credential.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import time
from urllib.parse import quote_plus

import requests
from django.conf import settings
from django.core.mail import EmailMessage, get_connection

logger = logging.getLogger(__name__)

REASON_MAX_CHARS = 300


class DeliveryFailed(Exception):
    """The channel did not take the message; the text is the reason shown to managers."""


def email_send(*, recipients: list[str], subject: str, body: str) -> None:
    if not recipients:
        raise DeliveryFailed("no recipient")
    try:
        connection = get_connection(timeout=settings.ALERTS_DELIVERY_TIMEOUT_SECONDS)
        EmailMessage(subject=subject, body=body, to=recipients, connection=connection).send(fail_silently=False)
    except Exception as error:  # any backend's failure: refused, timed out, authentication
        raise DeliveryFailed(f"{type(error).__name__}: {error}"[:REASON_MAX_CHARS]) from None


def dingtalk_signed_url(url: str, secret: str, timestamp_ms: int) -> str:
    """DingTalk's signing: HMAC-SHA256 keyed by the secret over "timestamp\\nsecret", base64, URL-encoded."""
    digest = hmac.new(secret.encode(), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256).digest()
    separator = "&" if "?" in url else "?"
    return f"{url}{separator}timestamp={timestamp_ms}&sign={quote_plus(base64.b64encode(digest).decode())}"


def feishu_sign(secret: str, timestamp: int) -> str:
    """Feishu's signing: HMAC-SHA256 keyed by "timestamp\\nsecret" over an empty message, base64."""
    return base64.b64encode(hmac.new(f"{timestamp}\n{secret}".encode(), b"", hashlib.sha256).digest()).decode()


def webhook_request(*, kind: str, url: str, secret: str, text: str, now: float | None = None) -> tuple[str, dict]:
    """The address and JSON body for one text message in the service's own shape."""
    now = time.time() if now is None else now
    if kind == "dingtalk":
        body = {"msgtype": "text", "text": {"content": text}}
        return (dingtalk_signed_url(url, secret, int(now * 1000)) if secret else url), body
    if kind == "wecom":
        return url, {"msgtype": "text", "text": {"content": text}}
    if kind == "feishu":
        body = {"msg_type": "text", "content": {"text": text}}
        if secret:
            timestamp = int(now)
            body = {"timestamp": str(timestamp), "sign": feishu_sign(secret, timestamp), **body}
        return url, body
    raise DeliveryFailed(f"unknown chat robot {kind!r}")


def webhook_send(*, kind: str, url: str, secret: str, text: str) -> None:
    target, body = webhook_request(kind=kind, url=url, secret=secret, text=text)
    timeout = settings.ALERTS_DELIVERY_TIMEOUT_SECONDS
    try:
        response = requests.post(target, json=body, timeout=(timeout, timeout))
    except requests.Timeout:
        raise DeliveryFailed(f"no answer within {timeout:g} s") from None
    except requests.RequestException as error:
        # The exception's text holds the address (and DingTalk's signature): name the kind of failure only.
        raise DeliveryFailed(f"could not connect ({type(error).__name__})") from None
    if response.status_code >= 300:
        raise DeliveryFailed(f"HTTP {response.status_code}")
    try:
        answer = response.json()
    except ValueError:
        answer = {}
    # All three answer 200 with an error code in the body when they refuse (bad signature, keyword, rate limit).
    code = answer.get("errcode", answer.get("code", answer.get("StatusCode", 0))) if isinstance(answer, dict) else 0
    if code not in (0, None, "0"):
        message = str(answer.get("errmsg") or answer.get("msg") or "")[:200]
        raise DeliveryFailed(f"refused: code {code} {message}".strip()[:REASON_MAX_CHARS])
