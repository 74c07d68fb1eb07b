"""Reading the provider's OpenID configuration once at start-up, from the settings: bounded by OIDC_TIMEOUT and never
raising, so an unreachable provider leaves single sign-on unavailable but the console starting."""
import logging

import requests

logger = logging.getLogger(__name__)


def discover(url: str, timeout: float) -> dict:
    try:
        response = requests.get(url, timeout=timeout)
        response.raise_for_status()
        found = response.json()
    except Exception as exc:  # noqa: BLE001 - whatever goes wrong, start without single sign-on
        logger.warning("OIDC discovery failed (%s): single sign-on is unavailable", type(exc).__name__)
        return {}
    if not isinstance(found, dict):
        logger.warning("OIDC discovery answered no JSON object: single sign-on is unavailable")
        return {}
    return {key: value for key, value in found.items() if isinstance(value, str)}
