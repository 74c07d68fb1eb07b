"""Brute-force protection of sign-in: lockouts per username and per address, the proxy header, unlocking, expiry,
open sessions, the audit trail and the logs."""
import logging

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.utils import translation

from notifications.models import AuditEntry

Action = AuditEntry.Action
LOGIN = "/accounts/login/"


@pytest.fixture(autouse=True)
def _limits(settings):
    settings.AXES_FAILURE_LIMIT = 3
    settings.AXES_COOLOFF_TIME = 15 / 60
    settings.SIGNIN_CLIENT_IP_HEADER = ""


@pytest.fixture
def staffer(db):
    return User.objects.create_user("staffer", password="correct horse battery")


def sign_in(client, username, password, address="10.0.0.1", **headers):
    return client.post(LOGIN, {"username": username, "password": password}, REMOTE_ADDR=address, **headers)


def locked(response) -> bool:
    return response.status_code == 429 and "locked for 15 minutes" in response.content.decode()


def test_threshold_locks_and_the_right_password_is_then_refused(client, staffer):
    with translation.override("en"):
        for _ in range(2):
            assert sign_in(client, "staffer", "wrong", HTTP_ACCEPT_LANGUAGE="en").status_code == 200
        third = sign_in(client, "staffer", "wrong", HTTP_ACCEPT_LANGUAGE="en")
        assert locked(third)
        assert "A manager can unlock it sooner." in third.content.decode()
        right = sign_in(client, "staffer", "correct horse battery", HTTP_ACCEPT_LANGUAGE="en")
    assert locked(right)
    assert "_auth_user_id" not in client.session


def test_lockout_page_in_chinese(client, staffer):
    for _ in range(3):
        response = sign_in(client, "staffer", "wrong")
    assert response.status_code == 429
    body = response.content.decode()
    assert "<html lang=\"zh-hans\"" in body and "登录失败次数过多。登录已锁定 15 分钟。" in body


def test_unknown_username_gets_the_same_page(client, staffer):
    for _ in range(3):
        known = sign_in(client, "staffer", "wrong", address="10.0.0.1", HTTP_ACCEPT_LANGUAGE="en")
    for _ in range(3):
        unknown = sign_in(Client(), "nobody-here", "wrong", address="10.0.0.2", HTTP_ACCEPT_LANGUAGE="en")
    assert locked(known) and locked(unknown)
    assert "staffer" not in known.content.decode()
    main = lambda response: response.content.decode().split("<main")[1]  # noqa: E731  (the header holds CSRF tokens)
    assert main(known) == main(unknown)


def test_one_username_from_many_addresses_is_locked(client, staffer):
    for n in range(3):
        response = sign_in(Client(), "staffer", "wrong", address=f"10.0.1.{n}", HTTP_ACCEPT_LANGUAGE="en")
    assert locked(response)
    assert locked(sign_in(Client(), "staffer", "correct horse battery", address="10.0.9.9", HTTP_ACCEPT_LANGUAGE="en"))


def test_one_address_trying_many_usernames_is_locked(client, staffer):
    for n in range(3):
        response = sign_in(Client(), f"guess{n}", "wrong", address="10.0.2.1", HTTP_ACCEPT_LANGUAGE="en")
    assert locked(response)
    # The address is locked even for a real account's right password; another address is not.
    assert locked(sign_in(Client(), "staffer", "correct horse battery", address="10.0.2.1", HTTP_ACCEPT_LANGUAGE="en"))
    assert sign_in(Client(), "staffer", "correct horse battery", address="10.0.2.2").status_code == 302


def test_without_a_configured_header_x_forwarded_for_cannot_dodge(staffer):
    for n in range(3):
        response = sign_in(Client(), f"guess{n}", "wrong", address="10.0.3.1", HTTP_X_FORWARDED_FOR=f"192.0.2.{n}",
                           HTTP_ACCEPT_LANGUAGE="en")
    assert locked(response)
    assert AuditEntry.objects.filter(action=Action.SIGN_IN_FAILED, details__address="10.0.3.1").count() == 3


def test_with_the_header_configured_its_last_address_counts(settings, staffer):
    """The proxy appends the address it saw; whatever a client put before it is forged and must not count."""
    settings.SIGNIN_CLIENT_IP_HEADER = "X-Forwarded-For"
    for n in range(3):  # one client behind the proxy, a new forged first address each time: still locked
        response = sign_in(Client(), f"guess{n}", "wrong", address="10.0.0.254", HTTP_X_FORWARDED_FOR=f"192.0.2.{n}, 198.51.100.7",
                           HTTP_ACCEPT_LANGUAGE="en")
    assert locked(response)
    assert AuditEntry.objects.filter(action=Action.SIGN_IN_FAILED, details__address="198.51.100.7").count() == 3
    assert not AuditEntry.objects.filter(details__address__startswith="192.0.2.").exists()
    # Another client behind the same proxy (same REMOTE_ADDR) is not locked with it.
    assert sign_in(Client(), "staffer", "correct horse battery", address="10.0.0.254",
                   HTTP_X_FORWARDED_FOR="198.51.100.8").status_code == 302


def test_a_missing_or_malformed_header_falls_back_to_remote_addr(settings, rf):
    from notifications.services.lockouts import client_ip

    settings.SIGNIN_CLIENT_IP_HEADER = "X-Real-IP"
    assert client_ip(rf.get("/", REMOTE_ADDR="10.0.0.254", HTTP_X_REAL_IP=" 198.51.100.9 ")) == "198.51.100.9"
    assert client_ip(rf.get("/", REMOTE_ADDR="10.0.0.254")) == "10.0.0.254"
    assert client_ip(rf.get("/", REMOTE_ADDR="10.0.0.254", HTTP_X_REAL_IP="not-an-address")) == "10.0.0.254"
    assert client_ip(rf.get("/", REMOTE_ADDR="10.0.0.254", HTTP_X_FORWARDED_FOR="198.51.100.9")) == "10.0.0.254"


def test_every_attempt_is_audited_and_never_the_password(client, staffer):
    sign_in(client, "staffer", "s3cret-wrong")
    sign_in(client, "ghost", "s3cret-wrong")
    assert sign_in(client, "staffer", "correct horse battery").status_code == 302
    failed = AuditEntry.objects.filter(action=Action.SIGN_IN_FAILED).order_by("id")
    assert [(e.user, e.details["username"], e.details["address"]) for e in failed] == [
        (staffer, "staffer", "10.0.0.1"), (None, "ghost", "10.0.0.1")]
    assert AuditEntry.objects.get(action=Action.SIGN_IN).user == staffer
    for entry in AuditEntry.objects.all():
        assert "s3cret" not in str(entry.details) and "correct horse" not in str(entry.details)
    for _ in range(3):
        sign_in(Client(), "ghost", "s3cret-wrong", address="10.0.4.1")
    lockout = AuditEntry.objects.filter(action=Action.LOCKOUT).first()
    assert lockout.user is None and lockout.details["username"] == "ghost"


def test_a_lock_is_audited_once_however_many_attempts_it_refuses(client, staffer, manager):
    for _ in range(10):
        sign_in(Client(), "staffer", "wrong", address="10.0.6.1")
    assert locked(sign_in(Client(), "staffer", "correct horse battery", address="10.0.6.1", HTTP_ACCEPT_LANGUAGE="en"))
    assert AuditEntry.objects.filter(action=Action.LOCKOUT).count() == 1  # when the lock began
    assert AuditEntry.objects.filter(action=Action.SIGN_IN_FAILED).count() == 11  # every attempt it refused
    client.force_login(manager)
    client.post("/accounts/lockouts/unlock/", {"kind": "username", "value": "staffer"})
    for _ in range(4):
        sign_in(Client(), "staffer", "wrong", address="10.0.6.1")
    assert AuditEntry.objects.filter(action=Action.LOCKOUT).count() == 2  # a new lock after the unlock


def test_manager_sees_and_unlocks_and_it_is_audited(client, staffer, manager):
    for _ in range(3):
        sign_in(Client(), "staffer", "wrong", address="10.0.5.1")
    client.force_login(manager)
    page = client.get("/accounts/lockouts/", HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 200
    body = page.content.decode()
    assert "Unlock staffer" in body and "Unlock 10.0.5.1" in body  # the username and the address are both locked
    response = client.post("/accounts/lockouts/unlock/", {"kind": "username", "value": "staffer"}, HTTP_ACCEPT_LANGUAGE="en",
                           follow=True)
    assert "Sign-in unlocked for staffer." in response.content.decode()
    entry = AuditEntry.objects.get(action=Action.UNLOCK, details__username="staffer")
    assert entry.user == manager
    # Unlocking the username forgets its failures, which were also the address's: nothing is left locked, and the
    # right password works at once, from that address too.
    assert "No sign-in is locked." in response.content.decode()
    assert sign_in(Client(), "staffer", "correct horse battery", address="10.0.5.1").status_code == 302


def test_unlocking_an_address_lets_its_other_users_in(client, staffer, manager):
    for n in range(3):
        sign_in(Client(), f"guess{n}", "wrong", address="10.0.5.2")
    assert locked(sign_in(Client(), "staffer", "correct horse battery", address="10.0.5.2", HTTP_ACCEPT_LANGUAGE="en"))
    client.force_login(manager)
    client.post("/accounts/lockouts/unlock/", {"kind": "ip_address", "value": "10.0.5.2"})
    assert AuditEntry.objects.get(action=Action.UNLOCK).details["ip_address"] == "10.0.5.2"
    assert sign_in(Client(), "staffer", "correct horse battery", address="10.0.5.2").status_code == 302


def test_a_lock_leaves_a_session_open_elsewhere_but_refuses_a_new_sign_in(staffer):
    """Decision: the lock guards the password sign-in. A session already open keeps working (otherwise anyone who
    knows a username could sign its owner out by typing wrong passwords); a new sign-in, even with the right
    password, is refused until the lock ends."""
    at_desk = Client()
    assert sign_in(at_desk, "staffer", "correct horse battery", address="10.0.8.1").status_code == 302
    for _ in range(3):
        sign_in(Client(), "staffer", "wrong", address="203.0.113.5")
    assert AuditEntry.objects.filter(action=Action.LOCKOUT, details__username="staffer").exists()
    page = at_desk.get("/", HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 200 and "staffer" in page.content.decode()
    laptop = Client()
    assert locked(sign_in(laptop, "staffer", "correct horse battery", address="10.0.8.2", HTTP_ACCEPT_LANGUAGE="en"))
    assert laptop.get("/").status_code == 302  # not signed in: sent to the login page


def test_the_lock_ends_by_itself_after_the_period(client, staffer):
    from datetime import timedelta

    from axes.models import AccessAttempt
    from django.utils import timezone

    for _ in range(3):
        sign_in(client, "staffer", "wrong")
    assert locked(sign_in(client, "staffer", "correct horse battery", HTTP_ACCEPT_LANGUAGE="en"))
    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(minutes=14))
    assert locked(sign_in(client, "staffer", "correct horse battery", HTTP_ACCEPT_LANGUAGE="en"))  # still within 15
    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(minutes=16))
    assert sign_in(client, "staffer", "correct horse battery").status_code == 302


def test_another_accounts_success_does_not_reset_a_guessers_count(staffer, operator):
    """From one address: two wrong guesses at staffer, a colleague's good sign-in, then a third guess elsewhere."""
    operator.set_password("operator pw")
    operator.save()
    for _ in range(2):
        sign_in(Client(), "staffer", "wrong", address="10.0.9.1")
    assert sign_in(Client(), "operator", "operator pw", address="10.0.9.1").status_code == 302
    assert locked(sign_in(Client(), "staffer", "wrong", address="10.0.9.2", HTTP_ACCEPT_LANGUAGE="en"))


def test_logs_name_no_password_username_or_address(client, staffer, caplog):
    caplog.set_level(logging.DEBUG)
    for _ in range(3):
        sign_in(client, "staffer", "s3cret-wrong", address="198.51.100.77")
    sign_in(Client(), "staffer", "correct horse battery", address="198.51.100.78")
    text = "\n".join(record.getMessage() for record in caplog.records)
    assert "AXES: Locking out" in text  # axes did log; its lines mask who and where
    for secret in ("s3cret", "correct horse", "staffer", "198.51.100.77"):
        assert secret not in text
    from axes.models import AccessAttempt

    stored = "".join(AccessAttempt.objects.values_list("post_data", flat=True))  # axes' copy of the form
    assert "username=" in stored and "s3cret" not in stored


def test_unlocking_needs_csrf(staffer, manager):
    csrf_client = Client(enforce_csrf_checks=True)
    csrf_client.force_login(manager)
    for _ in range(3):
        sign_in(Client(), "staffer", "wrong", address="10.0.6.1")
    assert csrf_client.post("/accounts/lockouts/unlock/", {"kind": "username", "value": "staffer"}).status_code == 403
    assert not AuditEntry.objects.filter(action=Action.UNLOCK).exists()


def test_operator_cannot_see_or_unlock(client, staffer, operator):
    for _ in range(3):
        sign_in(Client(), "staffer", "wrong", address="10.0.7.1")
    client.force_login(operator)
    assert client.get("/accounts/lockouts/").status_code == 403
    assert client.post("/accounts/lockouts/unlock/", {"kind": "username", "value": "staffer"}).status_code == 403
    assert not AuditEntry.objects.filter(action=Action.UNLOCK).exists()
    assert "Locked sign-ins" not in client.get("/", HTTP_ACCEPT_LANGUAGE="en").content.decode()


def test_superuser_may_unlock_and_menu_shows(client, superuser):
    client.force_login(superuser)
    assert "Locked sign-ins" in client.get("/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert client.get("/accounts/lockouts/").status_code == 200
