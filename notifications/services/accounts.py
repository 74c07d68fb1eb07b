"""Managing the console's people: invite, change role, deactivate, activate. Each action is audited.

The rules (for a manager; a superuser may do the same, and nothing here ever makes a superuser):
- roles are only Operators and Managers;
- a superuser's account is not changed from the users page;
- nobody deactivates themselves or takes away their own manager role (no lockout by one click).
"""
import logging

from django.conf import settings
from django.contrib.auth.models import Group, User
from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.core.exceptions import PermissionDenied
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.utils.crypto import constant_time_compare
from django.utils.encoding import force_bytes
from django.utils.http import base36_to_int, urlsafe_base64_encode

from notifications.models import AuditEntry
from notifications.roles import MANAGERS, OPERATORS
from notifications.services.audit import audit_record

logger = logging.getLogger(__name__)
Action = AuditEntry.Action
ROLES = (OPERATORS, MANAGERS)


class InvitationTokenGenerator(PasswordResetTokenGenerator):
    """Django's one-time reset token (it hashes the password and last sign-in, so it stops working once used), with
    its own salt, so a reset link is no invitation, and its own lifetime, INVITATION_DAYS."""

    key_salt = "notifications.services.accounts.InvitationTokenGenerator"

    def check_token(self, user, token):
        if not (user and token):
            return False
        try:
            ts = base36_to_int(token.split("-")[0])
        except ValueError:
            return False
        if not any(constant_time_compare(self._make_token_with_timestamp(user, ts, secret), token)
                   for secret in [self.secret, *self.secret_fallbacks]):
            return False
        return self._num_seconds(self._now()) - ts <= settings.INVITATION_DAYS * 86400


invitation_token_generator = InvitationTokenGenerator()


def role_of(user: User) -> str:
    if user.is_superuser:
        return "superuser"
    names = {group.name for group in user.groups.all()}
    return MANAGERS if MANAGERS in names else OPERATORS if OPERATORS in names else ""


def can_manage_users(user) -> bool:
    return user.is_authenticated and user.is_active and (user.is_superuser or user.groups.filter(name=MANAGERS).exists())


def _check_may_change(actor: User, target: User) -> None:
    if not can_manage_users(actor):
        raise PermissionDenied
    if target.is_superuser and not actor.is_superuser:
        raise PermissionDenied  # a manager never changes a superuser


def send_mail_safely(*, subject: str, body: str, to: str) -> bool:
    """Send one mail; a failure (SMTP down) is logged without the message or credentials and reported as False."""
    try:
        send_mail(subject.strip(), body, None, [to])
    except Exception as error:  # noqa: BLE001 - any backend failure must not break the page
        logger.warning("mail could not be sent: %s", type(error).__name__)
        return False
    return True


def invitation_link(request, user: User) -> str:
    from django.urls import reverse

    uidb64 = urlsafe_base64_encode(force_bytes(user.pk))
    token = invitation_token_generator.make_token(user)
    return request.build_absolute_uri(reverse("accounts:invitation", args=[uidb64, token]))


@transaction.atomic
def invite(*, actor: User, email: str, role: str, first_name: str = "", last_name: str = "") -> User:
    """Create an account without a usable password in `role`; the caller mails the link (see `send_invitation`)."""
    if not can_manage_users(actor) or role not in ROLES:
        raise PermissionDenied
    user = User(username=email, email=email, first_name=first_name, last_name=last_name, is_active=True)
    user.set_unusable_password()
    user.save()
    user.groups.add(Group.objects.get(name=role))
    audit_record(user=actor, action=Action.USER_INVITED, target=user, details={"role": role})
    return user


def send_invitation(request, user: User) -> bool:
    context = {"user": user, "link": invitation_link(request, user), "days": settings.INVITATION_DAYS}
    return send_mail_safely(subject=render_to_string("accounts/invitation_subject.txt", context),
                            body=render_to_string("accounts/invitation_email.txt", context), to=user.email)


@transaction.atomic
def set_role(*, actor: User, target: User, role: str) -> None:
    if role not in ROLES:
        raise PermissionDenied  # "superuser" or anything else posted by hand
    _check_may_change(actor, target)
    if target == actor and role != MANAGERS and not actor.is_superuser:
        raise PermissionDenied  # a manager does not take away their own access to this page
    before = role_of(target)
    if before == role:
        return
    target.groups.remove(*Group.objects.filter(name__in=ROLES))
    target.groups.add(Group.objects.get(name=role))
    audit_record(user=actor, action=Action.USER_ROLE_CHANGED, target=target, details={"from": before, "to": role})


@transaction.atomic
def deactivate(*, actor: User, target: User) -> None:
    _check_may_change(actor, target)
    if target == actor:
        raise PermissionDenied
    if target.is_active:
        target.is_active = False
        target.save(update_fields=["is_active"])
        audit_record(user=actor, action=Action.USER_DEACTIVATED, target=target)


def reset_two_factor(*, actor: User, target: User) -> None:
    """A lost phone: the person's authenticator and recovery codes go, and they enrol again at their next sign-in."""
    from notifications.services.two_factor import two_factor_reset

    _check_may_change(actor, target)
    two_factor_reset(user=target, by=actor)


@transaction.atomic
def activate(*, actor: User, target: User) -> None:
    _check_may_change(actor, target)
    if not target.is_active:
        target.is_active = True
        target.save(update_fields=["is_active"])
        audit_record(user=actor, action=Action.USER_ACTIVATED, target=target)
