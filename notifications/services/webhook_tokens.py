"""Which receipt webhook tokens are accepted: RECEIPT_WEBHOOK_TOKENS (for rotation) plus RECEIPT_WEBHOOK_TOKEN."""
import hashlib
import hmac

from django.conf import settings


def webhook_tokens_configured() -> list[str]:
    """Every accepted token, read from settings at each call (never cached at import)."""
    tokens = [token for token in getattr(settings, "RECEIPT_WEBHOOK_TOKENS", None) or [] if token]
    single = getattr(settings, "RECEIPT_WEBHOOK_TOKEN", None)
    if single and single not in tokens:
        tokens.append(single)
    return tokens


def _digest(value: str) -> bytes:
    # Comparing fixed-length digests hides the tokens' lengths too; surrogatepass: a path can hold anything.
    return hashlib.sha256(value.encode("utf-8", "surrogatepass")).digest()


def webhook_token_valid(token: str) -> bool:
    """True when `token` is one of the accepted tokens; False when none is configured.

    Every configured token is compared, in constant time, whichever matches: the time taken says nothing about
    which token matched or how much of one was right.
    """
    tokens = webhook_tokens_configured()
    if not tokens or not isinstance(token, str) or not token:
        return False
    presented = _digest(token)
    matched = False
    for expected in tokens:
        matched |= hmac.compare_digest(presented, _digest(expected))
    return matched
