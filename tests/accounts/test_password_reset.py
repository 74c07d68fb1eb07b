"""Password reset by email: Django's flow, audited, without telling whether an address has an account."""
import re

import pytest
from django.contrib.auth.models import User
from django.core import mail
from django.test import Client

from notifications.models import AuditEntry
from tests.accounts.signin import signs_in

Action = AuditEntry.Action
pytestmark = pytest.mark.django_db
NEW_PASSWORD = "Silver-lantern-9043"


@pytest.fixture
def staffer(db) -> User:
    return User.objects.create_user("staffer", email="staffer@example.com", password="old-password-123")


def _reset_link(message) -> str:
    return re.search(r"https?://[^/\s]+(/accounts/password-reset/[^\s]+/)", message.body).group(1)


def test_login_page_links_to_the_reset(db):
    page = Client().get("/accounts/login/").content.decode()
    assert 'href="/accounts/password-reset/"' in page


def test_reset_pages_need_no_login(db):
    for url in ("/accounts/password-reset/", "/accounts/password-reset/done/", "/accounts/password-reset/complete/"):
        assert Client().get(url).status_code == 200, url


def test_known_and_unknown_address_get_the_same_page_only_known_gets_mail(staffer):
    known = Client().post("/accounts/password-reset/", {"email": "staffer@example.com"}, follow=True)
    unknown = Client().post("/accounts/password-reset/", {"email": "nobody@example.com"}, follow=True)
    assert known.redirect_chain[-1][0] == unknown.redirect_chain[-1][0] == "/accounts/password-reset/done/"
    def without_csrf(response):
        return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", response.content.decode())

    assert without_csrf(known) == without_csrf(unknown)
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["staffer@example.com"]
    entry = AuditEntry.objects.get(action=Action.PASSWORD_RESET_REQUESTED)
    assert entry.target_id == str(staffer.pk)


def test_reset_sets_the_password_once_and_is_audited(staffer):
    Client().post("/accounts/password-reset/", {"email": "staffer@example.com"})
    link = _reset_link(mail.outbox[0])
    visitor = Client()
    page = visitor.get(link, follow=True)
    set_url = page.redirect_chain[-1][0]
    done = visitor.post(set_url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert done.status_code == 302 and done["Location"] == "/accounts/password-reset/complete/"
    assert signs_in("staffer", NEW_PASSWORD)
    assert AuditEntry.objects.filter(action=Action.PASSWORD_CHANGED, target_id=str(staffer.pk)).count() == 1
    english = Client()
    english.cookies["django_language"] = "en"
    again = english.get(link, follow=True).content.decode()
    assert 'name="new_password1"' not in again and "The password reset link has expired or has already been used" in again


def test_mail_is_in_the_language_of_the_request(staffer):
    english = Client()
    english.cookies["django_language"] = "en"
    english.post("/accounts/password-reset/", {"email": "staffer@example.com"})
    assert mail.outbox[0].subject == "Reset your VoiceAdmin password"
    assert "Choose a new password with this link" in mail.outbox[0].body


def test_mail_server_down_still_shows_the_done_page(staffer, settings, caplog):
    settings.EMAIL_BACKEND = "tests.accounts.test_invitations.FailingBackend"
    response = Client().post("/accounts/password-reset/", {"email": "staffer@example.com"}, follow=True)
    assert response.status_code == 200 and response.redirect_chain[-1][0] == "/accounts/password-reset/done/"
    assert "hunter2" not in caplog.text and "could not be sent" in caplog.text
    assert AuditEntry.objects.filter(action=Action.PASSWORD_RESET_REQUESTED).exists()
