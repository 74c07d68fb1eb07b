"""The users page: who sees it, role changes, deactivation, and what a manager may never do."""
import pytest
from django.contrib.auth.models import Group, User
from django.test import Client

from notifications.models import AuditEntry
from notifications.roles import MANAGERS, OPERATORS
from tests.accounts.signin import signs_in

Action = AuditEntry.Action
pytestmark = pytest.mark.django_db


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _groups(user) -> set[str]:
    return set(User.objects.get(pk=user.pk).groups.values_list("name", flat=True))


def test_managers_and_superusers_see_the_list_operators_get_403(operator, manager, superuser):
    operator.email = "op@example.com"
    operator.save()
    page = _client(manager).get("/accounts/users/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "op@example.com" in html and "root" in html
    assert _client(superuser).get("/accounts/users/").status_code == 200
    assert _client(operator).get("/accounts/users/").status_code == 403
    assert _client(operator).post(f"/accounts/users/{manager.pk}/deactivate/").status_code == 403
    assert User.objects.get(pk=manager.pk).is_active


def test_users_menu_entry_only_for_managers(operator, manager):
    assert 'href="/accounts/users/"' in _client(manager).get("/").content.decode()
    assert 'href="/accounts/users/"' not in _client(operator).get("/").content.decode()


def test_anonymous_is_sent_to_login(db):
    response = Client().get("/accounts/users/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_manager_changes_role_both_ways_and_it_is_audited(operator, manager):
    client = _client(manager)
    assert client.post(f"/accounts/users/{operator.pk}/role/", {"role": MANAGERS}).status_code == 302
    assert _groups(operator) == {MANAGERS}
    entry = AuditEntry.objects.get(action=Action.USER_ROLE_CHANGED)
    assert entry.user == manager and entry.details == {"from": OPERATORS, "to": MANAGERS}
    client.post(f"/accounts/users/{operator.pk}/role/", {"role": OPERATORS})
    assert _groups(operator) == {OPERATORS}


@pytest.mark.parametrize("role", ["superuser", "admin", ""])
def test_posting_another_role_by_hand_makes_no_superuser(operator, manager, role):
    client = _client(manager)
    for target in (operator, manager):
        response = client.post(f"/accounts/users/{target.pk}/role/", {"role": role, "is_superuser": "1"})
        assert response.status_code == 403
    for target in (operator, manager):
        fresh = User.objects.get(pk=target.pk)
        assert not fresh.is_superuser and not fresh.is_staff
    assert not AuditEntry.objects.filter(action=Action.USER_ROLE_CHANGED).exists()


def test_manager_cannot_touch_a_superuser(manager, superuser):
    client = _client(manager)
    assert client.post(f"/accounts/users/{superuser.pk}/role/", {"role": OPERATORS}).status_code == 403
    assert client.post(f"/accounts/users/{superuser.pk}/deactivate/").status_code == 403
    fresh = User.objects.get(pk=superuser.pk)
    assert fresh.is_superuser and fresh.is_active and not fresh.groups.exists()


def test_manager_cannot_lock_themselves_out(manager):
    client = _client(manager)
    assert client.post(f"/accounts/users/{manager.pk}/deactivate/").status_code == 403
    assert client.post(f"/accounts/users/{manager.pk}/role/", {"role": OPERATORS}).status_code == 403
    assert User.objects.get(pk=manager.pk).is_active and _groups(manager) == {MANAGERS}


def test_deactivate_ends_the_open_session_and_activate_restores_sign_in(operator, manager):
    operator.set_password("pass-for-the-test-123")
    operator.save()
    operator_client = _client(operator)
    assert operator_client.get("/").status_code == 200
    response = _client(manager).post(f"/accounts/users/{operator.pk}/deactivate/")
    assert response.status_code == 302
    assert not User.objects.get(pk=operator.pk).is_active
    # The open session of the deactivated user: the next request is anonymous, sent to the login page.
    response = operator_client.get("/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert not signs_in("operator", "pass-for-the-test-123")
    _client(manager).post(f"/accounts/users/{operator.pk}/activate/")
    assert signs_in("operator", "pass-for-the-test-123")
    actions = list(AuditEntry.objects.filter(target_id=str(operator.pk)).values_list("action", flat=True))
    assert Action.USER_DEACTIVATED in actions and Action.USER_ACTIVATED in actions


def test_project_backend_refuses_an_inactive_user(operator):
    from notifications.auth_backend import ModelBackendOneQuery

    backend = ModelBackendOneQuery()
    assert backend.get_user(operator.pk) == operator
    operator.is_active = False
    operator.save()
    assert backend.get_user(operator.pk) is None


def test_superuser_may_manage_managers_but_still_makes_no_superuser(manager, superuser):
    client = _client(superuser)
    client.post(f"/accounts/users/{manager.pk}/role/", {"role": OPERATORS})
    assert _groups(manager) == {OPERATORS}
    assert client.post(f"/accounts/users/{manager.pk}/role/", {"role": "superuser"}).status_code == 403
    assert not User.objects.get(pk=manager.pk).is_superuser


def test_page_speaks_both_languages(manager):
    client = _client(manager)
    assert "用户" in client.get("/accounts/users/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    client.cookies["django_language"] = "en"
    assert "Invite a user" in client.get("/accounts/users/").content.decode()


def test_group_fixture_sanity(db):
    assert set(Group.objects.values_list("name", flat=True)) >= {OPERATORS, MANAGERS}


def test_manager_resets_a_lost_phone_from_the_users_page(operator, manager, superuser):
    from django_otp.plugins.otp_totp.models import TOTPDevice

    for person in (operator, superuser):
        TOTPDevice.objects.create(user=person, name="app", confirmed=True)
    client = _client(manager)
    page = client.get("/accounts/users/", headers={"accept-language": "en"}).content.decode()
    assert f"Reset two-factor sign-in of {operator.username}" in page
    assert f"Reset two-factor sign-in of {superuser.username}" not in page  # a superuser's row has no actions
    response = client.post(f"/accounts/users/{operator.pk}/two-factor-reset/", follow=True,
                           headers={"accept-language": "en"})
    assert "they set it up again at their next sign-in" in response.content.decode()
    assert not TOTPDevice.objects.filter(user=operator).exists()
    entry = AuditEntry.objects.get(action=Action.TWO_FACTOR_RESET)
    assert entry.user == manager and entry.target_id == str(operator.pk)
    # Posted by hand: a manager cannot reset a superuser, an operator cannot reset anyone.
    assert client.post(f"/accounts/users/{superuser.pk}/two-factor-reset/").status_code == 403
    assert _client(operator).post(f"/accounts/users/{manager.pk}/two-factor-reset/").status_code == 403
    assert TOTPDevice.objects.filter(user=superuser).exists()
