"""The Alerts page and the alert rule pages: who may see them, the rule form's errors, secrets kept secret, the
audit log, acknowledge and resolve, and the top bar's badge."""
import pytest
from django.test import Client
from django.urls import reverse

from notifications.models import Alert, AlertEvent, AlertRule, AuditEntry, CallRecord
from notifications.services.alerts import alerts_check

from .conftest import NOW, at, make_rule

pytestmark = pytest.mark.django_db
EN = {"HTTP_ACCEPT_LANGUAGE": "en"}
HOOK = "https://oapi.dingtalk.com/robot/send?access_token=abcdef0123456789token"
SECRET = "SEC0123456789abcdefsecret"


def rule_data(**overrides) -> dict:
    data = {
        "name": "接通率过低", "kind": "answer_rate", "active": "on", "email_recipients": "ops@example.com",
        "webhook_kind": "", "webhook_url": "", "webhook_secret": "",
        "answer_rate__threshold_percent": "40", "answer_rate__window": "calls", "answer_rate__window_size": "200",
        "answer_rate__min_calls": "20",
    }
    return {**data, **overrides}


@pytest.fixture
def open_alert(make_call) -> Alert:
    rule = make_rule("backlog", name="队列积压", params={"source": "queue", "minutes": 10})
    make_call(CallRecord.Status.QUEUED, created=at(minutes=-20))
    alerts_check(now=NOW)
    return Alert.objects.get(rule=rule)


# ----- who may -----

PAGES = [
    ("get", "notifications:alerts_page", False), ("get", "notifications:alerts_status", False),
    ("get", "notifications:alert_rule_list", False), ("get", "notifications:alert_rule_create", False),
    ("get", "notifications:alert_rule_edit", True), ("post", "notifications:alert_rule_toggle", True),
    ("post", "notifications:alert_acknowledge", True), ("post", "notifications:alert_resolve", True),
]


def _url(name, needs_pk, open_alert):
    if not needs_pk:
        return reverse(name)
    pk = open_alert.rule.pk if "rule" in name else open_alert.pk
    return reverse(name, args=[pk])


@pytest.mark.parametrize(("method", "name", "needs_pk"), PAGES)
def test_operators_are_refused_and_nothing_changes(client, operator, open_alert, method, name, needs_pk):
    client.force_login(operator)
    response = getattr(client, method)(_url(name, needs_pk, open_alert))
    assert response.status_code == 403
    open_alert.refresh_from_db()
    assert open_alert.state == Alert.State.OPEN and open_alert.rule.active


@pytest.mark.parametrize(("method", "name", "needs_pk"), PAGES)
def test_anonymous_visitors_are_sent_to_sign_in(client, open_alert, method, name, needs_pk):
    response = getattr(client, method)(_url(name, needs_pk, open_alert))
    assert response.status_code == 302 and response.url.startswith(reverse("login"))


@pytest.mark.parametrize("who", ["manager", "superuser"])
def test_managers_and_superusers_see_the_pages_and_the_menu(client, request, who, open_alert):
    client.force_login(request.getfixturevalue(who))
    page = client.get(reverse("notifications:alerts_page"), **EN).content.decode()
    assert "队列积压" in page and "Open" in page and "Acknowledge" in page
    assert reverse("notifications:alert_rule_list") in page
    assert client.get(reverse("notifications:alert_rule_list"), **EN).status_code == 200


def test_operators_have_no_alerts_in_their_menu(client, operator, open_alert):
    client.force_login(operator)
    page = client.get("/", **EN).content.decode()
    assert reverse("notifications:alerts_page") not in page and "data-va-alerts-count" not in page


def test_the_top_bar_counts_open_alerts_on_the_menu_and_the_link(client, manager, open_alert):
    client.force_login(manager)
    page = client.get("/", **EN).content.decode()
    assert page.count("data-va-alerts-count>1<") == 2
    assert reverse("notifications:alerts_page") in page
    assert client.get(reverse("notifications:alerts_status")).json()["open"] == 1


# ----- the rule form -----

def test_adding_a_rule_saves_its_thresholds_and_is_audited(client, manager):
    client.force_login(manager)
    response = client.post(reverse("notifications:alert_rule_create"),
                           rule_data(webhook_kind="dingtalk", webhook_url=HOOK, webhook_secret=SECRET), **EN)
    assert response.status_code == 302
    rule = AlertRule.objects.get()
    assert rule.params == {"threshold_percent": 40, "window": "calls", "window_size": 200, "min_calls": 20}
    assert (rule.webhook_url, rule.webhook_secret, rule.created_by) == (HOOK, SECRET, manager)
    entry = AuditEntry.objects.get(action=AuditEntry.Action.ALERT_RULE_CREATED)
    assert entry.username == "manager" and entry.target_label == "接通率过低"
    assert "token" not in str(entry.details) and SECRET not in str(entry.details) and entry.details["webhook_set"] is True


@pytest.mark.parametrize(("overrides", "field", "words"), [
    ({"answer_rate__threshold_percent": "150"}, "answer_rate__threshold_percent", "less than or equal to 100"),
    ({"answer_rate__window_size": ""}, "answer_rate__window_size", "This threshold is needed"),
    ({"kind": "expiry", "expiry__days": "0"}, "expiry__days", "greater than or equal to 1"),
    ({"email_recipients": "ops@example.com, not-an-address"}, "email_recipients", "Not an email address: not-an-address"),
    ({"webhook_kind": "wecom", "webhook_url": "http://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=x"}, "webhook_url", "https://"),
    ({"webhook_kind": "feishu"}, "webhook_url", "webhook address"),
    ({"webhook_url": HOOK}, "webhook_kind", "Choose which chat robot"),
    ({"name": ""}, "name", "This field is required"),
])
def test_bad_input_is_shown_next_to_its_field_and_nothing_is_saved(client, manager, overrides, field, words):
    client.force_login(manager)
    response = client.post(reverse("notifications:alert_rule_create"), rule_data(**overrides), **EN)
    assert response.status_code == 200
    page = response.content.decode()
    assert f'id="id_{field}_error">' in page
    error = page.split(f'id="id_{field}_error">', 1)[1].split("</div>", 1)[0]
    assert words in error
    assert not AlertRule.objects.exists()
    assert 'value="接通率过低"' in page or field == "name"  # what was typed is kept


def test_thresholds_of_other_kinds_do_not_block_saving(client, manager):
    client.force_login(manager)
    data = rule_data(kind="expiry", **{"expiry__days": "7", "answer_rate__threshold_percent": "", "backlog__minutes": "abc"})
    assert client.post(reverse("notifications:alert_rule_create"), data).status_code == 302
    assert AlertRule.objects.get().params == {"days": 7}


def test_saved_webhook_secrets_are_never_shown_back_and_empty_keeps_them(client, manager):
    rule = make_rule("expiry", name="号码到期", webhook_kind="dingtalk", webhook_url=HOOK, webhook_secret=SECRET)
    client.force_login(manager)
    for url in (reverse("notifications:alert_rule_edit", args=[rule.pk]), reverse("notifications:alert_rule_list")):
        page = client.get(url, **EN).content.decode()
        assert "abcdef0123456789token" not in page and SECRET not in page
        assert "https://oapi.dingtalk.com/…oken" in page
    response = client.post(reverse("notifications:alert_rule_edit", args=[rule.pk]),
                           rule_data(name="号码到期", kind="expiry", webhook_kind="dingtalk", **{"expiry__days": "7"}))
    assert response.status_code == 302
    rule.refresh_from_db()
    assert (rule.webhook_url, rule.webhook_secret, rule.params) == (HOOK, SECRET, {"days": 7})
    entry = AuditEntry.objects.get(action=AuditEntry.Action.ALERT_RULE_CHANGED)
    assert set(entry.details["changed"]) == {"params", "email_recipients"}


def test_switching_a_rule_off_resolves_its_alerts_and_is_audited(client, manager, open_alert):
    client.force_login(manager)
    client.post(reverse("notifications:alert_rule_toggle", args=[open_alert.rule.pk]))
    open_alert.refresh_from_db()
    assert open_alert.state == Alert.State.RESOLVED and open_alert.resolved_by == manager
    assert not AlertRule.objects.get().active
    entry = AuditEntry.objects.get(action=AuditEntry.Action.ALERT_RULE_CHANGED)
    assert entry.details["changed"]["active"] == [True, False]
    assert alerts_check(now=NOW).opened == 0  # switched off: not checked


# ----- acknowledge and resolve -----

def test_acknowledge_then_resolve_by_hand_keeps_the_history(client, manager, open_alert):
    client.force_login(manager)
    client.post(reverse("notifications:alert_acknowledge", args=[open_alert.pk]))
    open_alert.refresh_from_db()
    assert (open_alert.state, open_alert.acknowledged_by) == (Alert.State.ACKNOWLEDGED, manager)
    assert alerts_check(now=NOW).opened == 0  # still holds: the same alert stays, acknowledged
    client.post(reverse("notifications:alert_resolve", args=[open_alert.pk]))
    open_alert.refresh_from_db()
    assert (open_alert.state, open_alert.resolved_by) == (Alert.State.RESOLVED, manager)
    kinds = list(open_alert.events.values_list("kind", flat=True))
    assert kinds == [AlertEvent.Kind.FIRED, AlertEvent.Kind.ACKNOWLEDGED, AlertEvent.Kind.RESOLVED]
    assert AuditEntry.objects.filter(action__in=["alert_acknowledged", "alert_resolved"]).count() == 2
    page = client.get(reverse("notifications:alerts_page") + "?state=resolved", **EN).content.decode()
    assert "Resolved" in page and "manager" in page
    assert reverse("notifications:alert_resolve", args=[open_alert.pk]) not in page  # nothing left to do


def test_acknowledge_needs_the_csrf_token(manager, open_alert):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(manager)
    assert browser.post(reverse("notifications:alert_acknowledge", args=[open_alert.pk])).status_code == 403
    open_alert.refresh_from_db()
    assert open_alert.state == Alert.State.OPEN


def test_the_state_filter_lists_only_that_state(client, manager, open_alert, make_call):
    other = make_rule("backlog", name="收据积压", params={"source": "queue", "minutes": 5})
    alerts_check(now=NOW)
    Alert.objects.filter(rule=other).update(state=Alert.State.ACKNOWLEDGED)
    client.force_login(manager)
    page = client.get(reverse("notifications:alerts_page") + "?state=acknowledged", **EN).content.decode()
    assert "收据积压" in page and "队列积压" not in page
    assert client.get(reverse("notifications:alerts_status")).json()["by_state"] == {"open": 1, "acknowledged": 1, "resolved": 0}


def test_a_failed_notification_shows_not_delivered_with_its_reason(client, manager, make_call, settings):
    settings.ALERTS_DELIVERY_ATTEMPTS = 1
    make_rule("backlog", name="队列积压", params={"source": "queue", "minutes": 10},
              webhook_kind="wecom", webhook_url="http://127.0.0.1:9/cgi-bin/webhook/send?key=k")
    make_call(CallRecord.Status.QUEUED, created=at(minutes=-20))
    alerts_check(now=NOW)
    client.force_login(manager)
    page = client.get(reverse("notifications:alerts_page"), **EN).content.decode()
    assert "WeCom" in page and "Not delivered" in page and "could not connect" in page


def test_the_page_in_chinese(client, manager, open_alert):
    client.force_login(manager)
    response = client.get(reverse("notifications:alerts_page"), HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert response.status_code == 200 and 'lang="zh-hans"' in response.content.decode()
