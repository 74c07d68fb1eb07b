"""OpenID Connect single sign-on (optional, OIDC_ENABLED): the backend that maps the provider's claims to a role.

The role group (Operators or Managers) is set from the mapped claim on every sign-in, so a change at the identity
provider takes effect at the next sign-in. SSO never grants superuser and never changes a superuser's groups. A sign-in
whose claims map to no role is refused; the reason is kept in the session for the failure page
(notifications/views/oidc.py) and written to the audit log.
"""
import logging

from django.conf import settings
from django.contrib.auth.models import Group
from mozilla_django_oidc.auth import OIDCAuthenticationBackend

from notifications.roles import MANAGERS, OPERATORS
from notifications.services.audit import Action, audit_record

logger = logging.getLogger(__name__)

BACKEND_PATH = "notifications.auth_oidc.VoiceAdminOIDCBackend"
FAILURE_SESSION_KEY = "va_oidc_failure"
ROLE_GROUPS = {"operator": OPERATORS, "manager": MANAGERS}


def parse_role_map(text: str) -> dict[str, str]:
    """"voice-operators=operator,voice-managers=manager" -> {claim value: role}; unknown roles are dropped."""
    mapping = {}
    for pair in (text or "").split(","):
        value, _, role = pair.partition("=")
        if value.strip() and role.strip().lower() in ROLE_GROUPS:
            mapping[value.strip()] = role.strip().lower()
    return mapping


def role_for_claims(claims: dict) -> str | None:
    """The highest mapped role among the claim's values (manager over operator), or None."""
    raw = claims.get(getattr(settings, "OIDC_ROLE_CLAIM", "groups"))
    values = [raw] if isinstance(raw, str) else list(raw or []) if isinstance(raw, list | tuple) else []
    mapping = parse_role_map(getattr(settings, "OIDC_ROLE_MAP", ""))
    roles = {mapping[str(v)] for v in values if str(v) in mapping}
    for role in ("manager", "operator"):
        if role in roles:
            return role
    return None


class VoiceAdminOIDCBackend(OIDCAuthenticationBackend):
    _refused = False

    def _refuse(self, reason: str, username: str = "") -> None:
        self._refused = True
        if getattr(self, "request", None) is not None and hasattr(self.request, "session"):
            self.request.session[FAILURE_SESSION_KEY] = reason
        audit_record(user=None, action=Action.SIGN_IN_FAILED, target=username or None,
                     details={"via": "oidc", "reason": reason, "username": username})

    def authenticate(self, request, **kwargs):
        self._refused = False
        try:
            user = super().authenticate(request, **kwargs)
        except Exception as exc:  # noqa: BLE001 - whatever the provider answers, a failure page and not a 500
            # Only the exception's class is logged: its text may quote the provider's answer or a URL.
            logger.warning("OIDC sign-in failed: %s", type(exc).__name__)
            user = None
        if user is not None and not user.is_active:
            self._refuse("inactive", user.get_username())
            return None
        if user is None and not self._refused and request is not None and request.GET.get("code"):
            self._refuse("provider_error")  # the refusals above already said why
        return user

    def verify_claims(self, claims):
        if role_for_claims(claims) is None:
            self._refuse("no_role", self.get_username(claims))
            return False
        return bool(self.get_username(claims))

    def get_username(self, claims):
        return str(claims.get("preferred_username") or claims.get("email") or claims.get("sub") or "")[:150]

    def filter_users_by_claims(self, claims):
        return self.UserModel.objects.filter(username=self.get_username(claims))

    def create_user(self, claims):
        # No usable password: the account signs in through the provider only.
        user = self.UserModel.objects.create_user(self.get_username(claims))
        return self.update_user(user, claims)

    def update_user(self, user, claims):
        for field, claim in (("email", "email"), ("first_name", "given_name"), ("last_name", "family_name")):
            if isinstance(claims.get(claim), str):
                setattr(user, field, claims[claim][:150])
        user.save()
        if not user.is_superuser:  # an SSO role never touches a superuser's groups
            role_group = Group.objects.get(name=ROLE_GROUPS[role_for_claims(claims)])
            user.groups.remove(*Group.objects.filter(name__in=ROLE_GROUPS.values()).exclude(pk=role_group.pk))
            user.groups.add(role_group)
        return user
