"""Every URL the console serves, tried without signing in: only the sign-in pages and the webhooks answer."""
import uuid

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

# Open by design: signing in (password, reset, invitation, single sign-on), the language switch, the load balancer's
# probe, and the two webhooks that carry their own secret.
PUBLIC = {
    "login", "set_language", "healthz",
    "accounts:invitation", "accounts:password_reset", "accounts:password_reset_done",
    "accounts:password_reset_confirm", "accounts:password_reset_complete",
    "oidc_authentication_init", "oidc_authentication_callback", "oidc_failure",
    "notifications:receipt_webhook", "notifications:simulator_review",
}
SAMPLE_ARGUMENT = {"int": "1", "str": "x", "slug": "x", "path": "x", "uuid": str(uuid.uuid4())}


def console_patterns(patterns=None, prefix="", namespace=""):
    """(path with sample arguments, name, view) for every URL but Django's admin, which has its own sign-in."""
    for entry in patterns if patterns is not None else get_resolver().url_patterns:
        if isinstance(entry, URLResolver):
            if str(entry.pattern).startswith("admin/"):
                continue
            inner = ":".join(filter(None, [namespace, entry.namespace])) if entry.namespace else namespace
            yield from console_patterns(entry.url_patterns, prefix + str(entry.pattern), inner)
        elif isinstance(entry, URLPattern):
            route = prefix + str(entry.pattern)
            for converter, value in SAMPLE_ARGUMENT.items():
                while f"<{converter}:" in route:
                    start = route.index(f"<{converter}:")
                    route = route[:start] + value + route[route.index(">", start) + 1:]
            name = ":".join(filter(None, [namespace, entry.name]))
            yield "/" + route, name, entry.callback


def test_only_the_sign_in_pages_and_the_webhooks_are_open():
    open_views = {name for _, name, view in console_patterns() if not getattr(view, "login_required", True)}
    assert open_views == PUBLIC


@pytest.mark.parametrize("method", ["get", "post"])
def test_every_other_url_sends_an_anonymous_visitor_to_sign_in(client, db, method):
    tried = 0
    for path, name, _ in console_patterns():
        if name in PUBLIC:
            continue
        response = getattr(client, method)(path)
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login/"), (path, name)
        tried += 1
    assert tried > 50  # the crawl really walked the console, not an empty list


def test_the_developers_tools_ask_for_their_own_sign_in(client, db):
    for path in ("/admin/", "/admin/rq/", "/admin/notifications/callrecord/"):
        response = client.get(path)
        assert response.status_code == 302 and "login" in response["Location"], path
