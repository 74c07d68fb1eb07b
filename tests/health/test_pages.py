"""The System health page, its refresh endpoint, the menu entry and the banner on every console page."""
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from notifications.models import CallRecord, PeriodicRun
from notifications.services.health import EXPECTED_TASKS
from tests.health.conftest import ago, all_tasks_fresh, run

pytestmark = pytest.mark.django_db
PAGE = "notifications:system_health"
STATUS = "notifications:system_health_status"


def _get(client, name, language="en", **params):
    return client.get(reverse(name), params, headers={"accept-language": language})


@pytest.mark.parametrize("who", ["manager", "superuser"])
def test_managers_and_developers_see_the_health_page(client, request, who):
    client.force_login(request.getfixturevalue(who))
    run("calls_follow_up", finished=ago(seconds=5), summary="2 detail queries")
    response = _get(client, PAGE)
    assert response.status_code == 200
    page = response.content.decode()
    assert "<h1 class=\"h3 mb-0\">System health</h1>" in page
    assert 'data-check="task:calls_follow_up" data-state="ok"' in page
    assert 'data-check="task:dispatch_wake" data-state="critical"' in page
    assert '<span class="va-state va-health-critical">Critical</span>' in page  # the state in words and in colour
    assert "Never ran: no scheduler has started it." in page
    assert "2 detail queries" in page
    assert 'src="/static/js/health.js"' in page
    assert "<script>" not in page  # no inline script: the page keeps working under the CSP


def test_a_run_written_by_a_chinese_scheduler_reads_in_each_readers_language(client, manager):
    from django.utils import translation

    from notifications.services.alerts import AlertsCheckSummary
    from notifications.services.calls_follow_up import FollowUpSummary
    from notifications.services.periodic import periodic_task_run

    with translation.override("zh-hans"):  # runconsole's scheduler thread speaks the console's default
        periodic_task_run("calls_follow_up", lambda: FollowUpSummary(queried=2, found=1), interval=60)
        periodic_task_run("alerts_check", lambda: AlertsCheckSummary(rules=3), interval=60)
    client.force_login(manager)
    english = _get(client, PAGE, "en").content.decode()
    assert "2 detail queries (1 answered)" in english and "3 rules checked, 0 alerts opened" in english
    chinese = _get(client, PAGE, "zh-hans").content.decode()
    assert "2 次详情查询（1 次有结果）" in chinese and "已检查 3 条规则" in chinese
    assert "detail queries" not in chinese and "rules checked" not in chinese


def test_the_page_speaks_chinese_by_default(client, manager):
    client.force_login(manager)
    all_tasks_fresh()
    PeriodicRun.objects.filter(name="dispatch_wake").delete()
    page = client.get(reverse(PAGE)).content.decode()
    assert 'lang="zh-hans"' in page
    assert '<h1 class="h3 mb-0">系统状态</h1>' in page
    assert '<th scope="row" class="fw-normal">呼叫跟进 <span class="va-mono text-muted small">calls_follow_up</span></th>' in page
    assert '<span class="va-state va-health-ok">正常</span>' in page
    assert '<span class="va-state va-health-critical">严重</span>' in page
    assert "从未运行：没有调度器启动它。" in page
    assert "上次完成于 2 秒前。" in page or "上次完成于 3 秒前。" in page


def test_operators_are_refused_the_page_and_its_data(client, operator):
    client.force_login(operator)
    assert _get(client, PAGE).status_code == 403
    assert _get(client, STATUS).status_code == 403


def test_signed_out_visitors_are_sent_to_log_in(client):
    response = client.get(reverse(PAGE))
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_the_refresh_endpoint_returns_the_report_and_the_fragment(client, manager, make_call):
    client.force_login(manager)
    make_call(CallRecord.Status.QUEUED, created=ago(minutes=4))
    response = _get(client, STATUS)
    assert response.status_code == 200
    assert "no-cache" in response["Cache-Control"]
    data = response.json()
    assert data["state"] == "critical"
    queued = {c["key"]: c for c in data["checks"]}["calls_queued"]
    assert (queued["state"], queued["figures"]["count"]) == ("warning", 1)
    assert 'data-check="calls_queued" data-state="warning"' in data["html"]
    assert "<html" not in data["html"]  # a fragment, not a page


def test_the_menu_links_the_page_for_managers_only(client, manager, operator):
    link = f'href="{reverse(PAGE)}"'
    client.force_login(manager)
    assert link in _get(client, "notifications:home").content.decode()
    client.force_login(operator)
    assert link not in _get(client, "notifications:home").content.decode()


# ----- the banner -----

def test_managers_see_a_banner_naming_what_is_stale_with_a_link(client, manager):
    client.force_login(manager)
    all_tasks_fresh()
    run("calls_follow_up", finished=ago(minutes=5))  # 5 intervals of 60 s: stale
    page = _get(client, "notifications:call_record_list").content.decode()
    assert 'class="alert alert-warning d-flex flex-wrap align-items-center gap-2 va-health-banner"' in page
    assert "System health: warning" in page
    assert 'Call follow-up <span class="va-state va-health-warning">Warning</span>' in page
    assert f'href="{reverse(PAGE)}">Open System health</a>' in page


def test_a_critical_banner_is_red(client, superuser):
    client.force_login(superuser)  # nothing ever ran
    page = _get(client, "notifications:home").content.decode()
    assert 'class="alert alert-danger' in page
    assert "System health: critical" in page


def test_no_banner_when_everything_runs(client, manager, monkeypatch):
    monkeypatch.setattr("notifications.context_processors.scheduler_running", lambda: True)
    client.force_login(manager)
    all_tasks_fresh()
    assert "va-health-banner" not in _get(client, "notifications:home").content.decode()


def test_operators_see_a_plain_delay_notice_only_when_calls_are_affected(client, operator, monkeypatch):
    monkeypatch.setattr("notifications.context_processors.scheduler_running", lambda: True)
    client.force_login(operator)
    all_tasks_fresh()
    PeriodicRun.objects.filter(name="receipt_inbox_prune").delete()  # housekeeping late: calls are not affected
    assert "va-health-banner" not in _get(client, "notifications:home").content.decode()

    run("dispatch_wake", finished=ago(hours=1))
    page = _get(client, "notifications:home").content.decode()
    assert "The system is delayed: calls may be sent, or their results shown, later than usual." in page
    assert "System health:" not in page
    assert f'href="{reverse(PAGE)}"' not in page  # a page they could not open


def test_the_banner_is_shared_for_a_few_seconds(client, manager, settings):
    settings.HEALTH_BANNER_CACHE_SECONDS = 30
    client.force_login(manager)
    _get(client, "notifications:call_record_list")  # computes and keeps it
    for name in EXPECTED_TASKS:
        run(name, finished=ago(seconds=1))
    with CaptureQueriesContext(connection) as queries:
        page = _get(client, "notifications:call_record_list").content.decode()
    assert "System health: critical" in page  # the kept report, not yet the new one
    assert not any("notifications_periodicrun" in q["sql"] for q in queries)


def test_the_health_page_itself_shows_no_banner(client, manager):
    client.force_login(manager)
    assert "va-health-banner" not in _get(client, PAGE).content.decode()
