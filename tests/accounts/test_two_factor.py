"""Two-factor sign-in: who must enrol, enrolment, codes (reuse, time windows, recovery), throttling and reset."""
import time

import pytest
from django.contrib.auth.models import User
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from notifications.models.audit import AuditEntry
from notifications.services.two_factor import two_factor_reset

SETUP = "/accounts/two-factor/setup/"
VERIFY = "/accounts/two-factor/"


@pytest.fixture(autouse=True)
def two_factor_on(settings):
    settings.VOICEADMIN_REQUIRE_2FA = True


@pytest.fixture(autouse=True)
def steady_window():
    """Codes are computed here and checked by the server a moment later: start well inside a 30-second window."""
    if time.time() % 30 > 25:
        time.sleep(30 - time.time() % 30 + 0.1)


def code(device, steps_back=0):
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time() - steps_back * device.step
    return f"{totp.token():06d}"


def enrolled(user):
    device = TOTPDevice.objects.create(user=user, name="app", confirmed=True)
    static = StaticDevice.objects.create(user=user, name="recovery", confirmed=True)
    static.token_set.create(token="abcd2345ef")
    return device


def unthrottle(device):
    device.refresh_from_db()
    device.throttle_reset()


def test_manager_must_enrol_before_any_page(client, manager):
    client.force_login(manager)
    response = client.get("/calls/")
    assert response.status_code == 302
    assert response["Location"].startswith(SETUP + "?next=")
    page = client.get(SETUP)
    assert page.status_code == 200
    assert b"<svg" in page.content and b"data:image" not in page.content
    device = TOTPDevice.objects.get(user=manager, confirmed=False)
    import base64
    assert base64.b32encode(device.bin_key).decode()[:4] in page.content.decode()


def test_superuser_must_enrol(client, superuser):
    client.force_login(superuser)
    assert client.get("/").headers["Location"].startswith(SETUP)


def test_operator_is_not_required_but_may_enrol(client, operator):
    client.force_login(operator)
    page = client.get("/")
    assert page.status_code == 200
    assert SETUP.encode() in page.content  # the top bar's link
    assert client.get(SETUP).status_code == 200


def test_operator_who_enrolled_is_asked_for_a_code(client, operator):
    enrolled(operator)
    client.force_login(operator)
    assert client.get("/").headers["Location"].startswith(VERIFY + "?next=")


def test_setting_off_asks_nobody(client, manager, settings):
    settings.VOICEADMIN_REQUIRE_2FA = False
    enrolled(manager)
    client.force_login(manager)
    assert client.get("/calls/").status_code == 200


def test_exempt_pages_stay_open_for_unverified_manager(client, manager):
    client.force_login(manager)
    assert client.get("/healthz").status_code in (200, 503)
    assert client.post("/i18n/setlang/", {"language": "en", "next": "/"}).status_code == 302
    assert client.post("/accounts/logout/").status_code == 302
    assert client.get("/calls/").headers["Location"].startswith("/accounts/login/")


def test_enrolment_confirms_with_correct_code_only(client, manager):
    client.force_login(manager)
    client.get(SETUP)
    device = TOTPDevice.objects.get(user=manager)
    wrong = f"{(int(code(device)) + 1) % 1000000:06d}"
    refused = client.post(SETUP, {"code": wrong})
    assert refused.status_code == 200
    assert refused.context["form"].errors["code"]
    device.refresh_from_db()
    assert not device.confirmed
    assert not AuditEntry.objects.filter(action=AuditEntry.Action.TWO_FACTOR_ENROLLED).exists()

    unthrottle(device)
    done = client.post(SETUP, {"code": code(device), "next": "/calls/"})
    assert done.status_code == 200
    codes = done.context["codes"]
    assert len(codes) == 10 and len(set(codes)) == 10
    for recovery in codes:
        assert recovery in done.content.decode()
    device.refresh_from_db()
    assert device.confirmed
    entry = AuditEntry.objects.get(action=AuditEntry.Action.TWO_FACTOR_ENROLLED)
    assert entry.user == manager
    # Verified in this session: the pages open now.
    assert client.get("/calls/").status_code == 200
    # The codes are not shown again, and the secret cannot be re-read.
    again = client.get(SETUP)
    assert again.status_code == 302
    assert codes[0] not in client.get("/").content.decode()


def test_verify_with_code_then_reused_code_refused(client, manager):
    device = enrolled(manager)
    client.force_login(manager)
    current = code(device)
    assert client.post(VERIFY, {"code": current, "next": "/calls/"}).headers["Location"] == "/calls/"
    assert client.get("/calls/").status_code == 200

    client.logout()
    client.force_login(manager)
    unthrottle(device)
    reused = client.post(VERIFY, {"code": current})
    assert reused.status_code == 200
    assert reused.context["form"].errors["code"]
    assert client.get("/calls/").status_code == 302


def test_previous_window_accepted_once_and_old_code_refused(client, manager):
    device = enrolled(manager)
    client.force_login(manager)
    old = client.post(VERIFY, {"code": code(device, steps_back=3)})
    assert old.status_code == 200 and old.context["form"].errors["code"]

    unthrottle(device)
    previous = code(device, steps_back=1)
    assert client.post(VERIFY, {"code": previous}).status_code == 302
    client.logout()
    client.force_login(manager)
    again = client.post(VERIFY, {"code": previous})
    assert again.status_code == 200 and again.context["form"].errors["code"]


def test_recovery_code_works_once(client, manager):
    enrolled(manager)
    client.force_login(manager)
    first = client.post(VERIFY, {"code": "ABCD 2345 EF", "next": "/calls/"})
    assert first.headers["Location"] == "/calls/"
    assert not StaticToken.objects.filter(token="abcd2345ef").exists()
    client.logout()
    client.force_login(manager)
    second = client.post(VERIFY, {"code": "abcd2345ef"})
    assert second.status_code == 200 and second.context["form"].errors["code"]


def test_wrong_codes_are_throttled_and_the_page_says_so(client, manager):
    device = enrolled(manager)
    client.force_login(manager)
    client.cookies["django_language"] = "en"
    page = client.get(VERIFY)
    assert "twice as long" in page.content.decode()
    wrong = f"{(int(code(device)) + 1) % 1000000:06d}"
    client.post(VERIFY, {"code": wrong})
    # Straight after a wrong code even the right one is refused, with a wait.
    blocked = client.post(VERIFY, {"code": code(device)})
    assert "Wait 1 second" in " ".join(blocked.context["form"].errors["code"])
    device.refresh_from_db()
    assert device.throttling_failure_count == 1
    assert client.get("/calls/").status_code == 302


def test_unverified_manager_cannot_open_calls(client, manager):
    enrolled(manager)
    client.force_login(manager)
    response = client.get("/calls/")
    assert response.status_code == 302
    assert response["Location"] == VERIFY + "?next=%2Fcalls%2F"


def test_reset_removes_devices_and_is_audited(client, manager, superuser):
    enrolled(manager)
    TOTPDevice.objects.create(user=manager, name="pending", confirmed=False)
    two_factor_reset(user=manager, by=superuser)
    assert not TOTPDevice.objects.filter(user=manager).exists()
    assert not StaticDevice.objects.filter(user=manager).exists()
    entry = AuditEntry.objects.get(action=AuditEntry.Action.TWO_FACTOR_RESET)
    assert entry.user == superuser
    assert entry.target_id == str(manager.pk)
    # They enrol again at their next sign-in.
    client.force_login(User.objects.get(pk=manager.pk))
    assert client.get("/").headers["Location"].startswith(SETUP)
