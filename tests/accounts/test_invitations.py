"""Inviting a user: the account, the one-time link, its lifetime, and a mail server that is down."""
import re
import time
from datetime import datetime

import pytest
from django.contrib.auth.models import User
from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend
from django.test import Client

from notifications.models import AuditEntry
from notifications.roles import MANAGERS, OPERATORS
from tests.accounts.signin import signs_in

Action = AuditEntry.Action
pytestmark = pytest.mark.django_db
PASSWORD = "Quiet-harbour-7431"


class FailingBackend(BaseEmailBackend):
    """The edge: an SMTP server that refuses the connection."""

    def send_messages(self, email_messages):
        raise ConnectionRefusedError("smtp.example.com:25 refused (password=hunter2)")


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _invite(manager, email="new.person@example.com", role=OPERATORS) -> str:
    response = _client(manager).post("/accounts/users/invite/", {"email": email, "role": role, "first_name": "New"})
    assert response.status_code == 302
    return response


def _link(message) -> str:
    return re.search(r"https?://[^/\s]+(/accounts/invitation/[^\s]+/)", message.body).group(1)


def test_invite_creates_a_user_without_password_in_the_group_and_mails_a_link(manager):
    _invite(manager, role=MANAGERS)
    user = User.objects.get(email="new.person@example.com")
    assert not user.has_usable_password() and user.is_active and not user.is_superuser
    assert set(user.groups.values_list("name", flat=True)) == {MANAGERS}
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["new.person@example.com"]
    assert "/accounts/invitation/" in mail.outbox[0].body
    entry = AuditEntry.objects.get(action=Action.USER_INVITED)
    assert entry.user == manager and entry.details == {"role": MANAGERS}


def test_invited_user_sets_a_password_once_and_signs_in(manager):
    _invite(manager)
    link = _link(mail.outbox[0])
    visitor = Client()
    page = visitor.get(link, follow=True)
    assert page.status_code == 200 and 'name="new_password1"' in page.content.decode()
    set_url = page.redirect_chain[-1][0]
    weak = visitor.post(set_url, {"new_password1": "12345678", "new_password2": "12345678"})
    assert weak.status_code == 200 and "invalid-feedback" in weak.content.decode()  # the password validators
    done = visitor.post(set_url, {"new_password1": PASSWORD, "new_password2": PASSWORD})
    assert done.status_code == 302 and done["Location"] == "/accounts/login/"
    assert signs_in("new.person@example.com", PASSWORD)
    assert AuditEntry.objects.filter(action=Action.PASSWORD_CHANGED).count() == 1
    # Used once: the same link now explains itself instead of offering the form.
    english = Client()
    english.cookies["django_language"] = "en"
    again = english.get(link, follow=True).content.decode()
    assert 'name="new_password1"' not in again and "This link no longer works" in again


def test_expired_link_is_refused_in_both_languages(manager, settings, monkeypatch):
    settings.INVITATION_DAYS = 1
    _invite(manager)
    link = _link(mail.outbox[0])
    later = time.time() + 2 * 86400
    monkeypatch.setattr("django.contrib.auth.tokens.PasswordResetTokenGenerator._now",
                        lambda self: datetime.fromtimestamp(later))
    english = Client()
    english.cookies["django_language"] = "en"
    page = english.get(link, follow=True).content.decode()
    assert 'name="new_password1"' not in page
    assert "The invitation link has expired or has already been used" in page
    chinese = Client().get(link, follow=True)
    assert 'name="new_password1"' not in chinese.content.decode()
    assert 'lang="zh-hans"' in chinese.content.decode()


def test_link_still_works_within_invitation_days(manager, settings, monkeypatch):
    settings.INVITATION_DAYS = 5
    settings.PASSWORD_RESET_TIMEOUT = 3600  # the reset timeout does not cut an invitation short
    _invite(manager)
    link = _link(mail.outbox[0])
    later = time.time() + 4 * 86400
    monkeypatch.setattr("django.contrib.auth.tokens.PasswordResetTokenGenerator._now",
                        lambda self: datetime.fromtimestamp(later))
    assert 'name="new_password1"' in Client().get(link, follow=True).content.decode()


def test_a_password_reset_token_is_no_invitation(manager):
    from django.contrib.auth.tokens import default_token_generator

    _invite(manager)
    user = User.objects.get(email="new.person@example.com")
    uid = _link(mail.outbox[0]).split("/")[3]
    forged = f"/accounts/invitation/{uid}/{default_token_generator.make_token(user)}/"
    assert 'name="new_password1"' not in Client().get(forged, follow=True).content.decode()


def test_mail_server_down_keeps_the_invitation_and_says_so(manager, settings, caplog):
    settings.EMAIL_BACKEND = "tests.accounts.test_invitations.FailingBackend"
    response = _client(manager).post("/accounts/users/invite/", {"email": "x@example.com", "role": OPERATORS},
                                     follow=True)
    assert response.status_code == 200
    assert User.objects.filter(email="x@example.com").exists()
    assert AuditEntry.objects.filter(action=Action.USER_INVITED).exists()
    assert "alert-warning" in response.content.decode()
    assert "hunter2" not in caplog.text and "mail could not be sent" in caplog.text


def test_duplicate_email_and_role_tampering_are_refused(manager, operator):
    operator.email = "op@example.com"
    operator.save()
    client = _client(manager)
    page = client.post("/accounts/users/invite/", {"email": "op@example.com", "role": OPERATORS})
    assert page.status_code == 200 and "invalid-feedback" in page.content.decode()
    tampered = client.post("/accounts/users/invite/", {"email": "boss@example.com", "role": "superuser"})
    assert tampered.status_code == 200
    assert not User.objects.filter(email="boss@example.com").exists()
    assert not mail.outbox


def test_operators_cannot_invite(operator):
    assert _client(operator).post("/accounts/users/invite/", {"email": "a@example.com", "role": OPERATORS}).status_code == 403
    assert not User.objects.filter(email="a@example.com").exists()
