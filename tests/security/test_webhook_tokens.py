"""Two webhook tokens at once, so the token can be rotated without losing a push."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from notifications.services import webhook_tokens
from notifications.services.webhook_tokens import webhook_token_valid

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def tokens(settings):
    def configure(single=None, many=()):
        settings.RECEIPT_WEBHOOK_TOKEN = single
        settings.RECEIPT_WEBHOOK_TOKENS = list(many)

    return configure


def test_nothing_configured_accepts_nothing(tokens):
    tokens(single=None, many=[])
    assert webhook_token_valid("") is False
    assert webhook_token_valid("anything") is False
    tokens(single="", many=[""])
    assert webhook_token_valid("") is False


def test_the_single_token_alone_still_works(tokens):
    tokens(single="old-token-2024")
    assert webhook_token_valid("old-token-2024") is True
    assert webhook_token_valid("old-token-202") is False
    assert webhook_token_valid("old-token-2024 ") is False
    assert webhook_token_valid("OLD-TOKEN-2024") is False


def test_during_rotation_both_tokens_are_accepted_and_only_those(tokens):
    tokens(single="old-token-2024", many=["new-token-2025"])
    assert webhook_token_valid("old-token-2024") is True
    assert webhook_token_valid("new-token-2025") is True
    assert webhook_token_valid("new-token-2025,old-token-2024") is False
    assert webhook_token_valid("") is False
    tokens(single=None, many=["new-token-2025"])  # rotation done: the old one is refused
    assert webhook_token_valid("old-token-2024") is False
    assert webhook_token_valid("new-token-2025") is True


def test_settings_are_read_at_each_call(tokens):
    tokens(many=["first-token-aaaa"])
    assert webhook_token_valid("first-token-aaaa")
    tokens(many=["second-token-bbbb"])
    assert not webhook_token_valid("first-token-aaaa")


def test_odd_input_is_refused_not_an_error(tokens):
    tokens(many=["new-token-2025"])
    for presented in ("\ud800", "令牌", "x" * 100_000, None, b"new-token-2025"):
        assert webhook_token_valid(presented) is False


def test_every_token_is_compared_whichever_matches(tokens, monkeypatch):
    """Constant time: no early exit, so the time taken does not tell which token (or how much of one) matched."""
    calls = []
    real = webhook_tokens.hmac.compare_digest

    def counting(a, b):
        calls.append((len(a), len(b)))
        return real(a, b)

    monkeypatch.setattr(webhook_tokens.hmac, "compare_digest", counting)
    tokens(single="short", many=["a-much-longer-new-token-2025", "middle-token"])
    for presented in ("a-much-longer-new-token-2025", "short", "wrong"):
        calls.clear()
        webhook_token_valid(presented)
        assert len(calls) == 3
        assert set(calls) == {(32, 32)}  # fixed-length digests: the lengths of the tokens do not show either


@pytest.mark.django_db
def test_a_push_with_either_token_is_acknowledged_during_rotation(client, tokens):
    from notifications.models import ReceiptDelivery

    tokens(single="old-token-2024", many=["new-token-2025"])
    for token in ("old-token-2024", "new-token-2025"):
        response = client.post(f"/receipts/VoiceReport/{token}/", data="[]", content_type="application/json")
        assert response.status_code == 200, token
    assert client.post("/receipts/VoiceReport/other-token/", data="[]", content_type="application/json").status_code == 403
    assert ReceiptDelivery.objects.count() == 2


def _settings_in_a_fresh_process(**environment) -> dict:
    env = {key: value for key, value in os.environ.items() if not key.startswith("RECEIPT_WEBHOOK_TOKEN")}
    env.update(environment, DJANGO_SETTINGS_MODULE="voiceadmin.settings.base", DJANGO_SECRET_KEY="x" * 50)
    code = ("import json; from django.conf import settings; "
            "print(json.dumps([settings.RECEIPT_WEBHOOK_TOKEN, settings.RECEIPT_WEBHOOK_TOKENS]))")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60,
                            check=True)
    single, many = json.loads(result.stdout)
    return {"single": single, "many": many}


def test_tokens_setting_is_a_comma_separated_list():
    parsed = _settings_in_a_fresh_process(RECEIPT_WEBHOOK_TOKENS=" new-token-2025 , old-token-2024,,", DJANGO_DEBUG="0")
    assert parsed == {"single": None, "many": ["new-token-2025", "old-token-2024"]}
    parsed = _settings_in_a_fresh_process(RECEIPT_WEBHOOK_TOKEN="only-one", DJANGO_DEBUG="0")
    assert parsed == {"single": "only-one", "many": []}
    parsed = _settings_in_a_fresh_process(RECEIPT_WEBHOOK_TOKENS="", DJANGO_DEBUG="1")
    assert parsed == {"single": "local-receipt-token", "many": []}  # `make run` keeps its debug default
