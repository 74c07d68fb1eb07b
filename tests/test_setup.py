"""Set-up as the README says: its commands work as pasted after `make run`, the first login shows a call history, and
the call record admin's fast changelist renders any column a developer adds."""
import io
import os
import re
import shutil
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from django.contrib import admin
from django.contrib.admin.templatetags.admin_list import items_for_result, results
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from notifications.admin.calls import CallRecordAdmin
from notifications.models import CallEvent, CallRecord, Campaign, CampaignRow
from notifications.templatetags.call_admin import call_record_result_list, call_record_row

ROOT = Path(__file__).resolve().parent.parent


def _seed() -> str:
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


# ----- 1. The README's commands, pasted in a fresh clone after `make run` -----
def _readme_manage_commands() -> list[str]:
    readme = (ROOT / "README.md").read_text()
    assert not re.search(r"(?<![\w/.-])python manage\.py", readme), "a README command uses the system python"
    return sorted(set(re.findall(r"\.venv/bin/python manage\.py (\w+)", readme)))


@pytest.fixture
def fresh_clone(tmp_path):
    """The project's files as a clone has them (no .env, no var/), its .venv linked, then `make .env` as `make run` does."""
    clone = tmp_path / "clone"
    shutil.copytree(ROOT, clone, ignore=shutil.ignore_patterns(".venv", "var", ".git", ".env", ".hypothesis", "*_cache", "__pycache__"))
    (clone / ".venv").symlink_to(Path(sys.executable).resolve().parent.parent if not (ROOT / ".venv").exists() else ROOT / ".venv")
    subprocess.run(["make", "--no-print-directory", ".env"], cwd=clone, check=True, capture_output=True, timeout=30)
    (clone / "var").mkdir()
    return clone


def _shell_env() -> dict:
    # What a fresh shell has: none of Django's variables, none of the test run's.
    return {key: value for key, value in os.environ.items()
            if not key.startswith(("DJANGO_", "PYTEST", "DATABASE_URL", "REDIS_URL", "ALIYUN_", "RECEIPT_"))}


def test_every_manage_py_command_in_the_readme_starts_in_a_fresh_clone_after_make_run(fresh_clone):
    commands = _readme_manage_commands()
    assert {"seed_demo", "dial", "health", "check"} <= set(commands)
    checked = subprocess.run([".venv/bin/python", "manage.py", "check"], cwd=fresh_clone, env=_shell_env(),
                             capture_output=True, text=True, timeout=120)
    assert checked.returncode == 0, checked.stderr
    for command in commands:
        shown = subprocess.run([".venv/bin/python", "manage.py", command, "--help"], cwd=fresh_clone, env=_shell_env(),
                               capture_output=True, text=True, timeout=120)
        assert shown.returncode == 0, (command, shown.stderr[-2000:])


def test_without_the_env_file_make_run_writes_the_readme_commands_stop_on_the_missing_secret(fresh_clone):
    (fresh_clone / ".env").unlink()
    result = subprocess.run([".venv/bin/python", "manage.py", "seed_demo", "--help"], cwd=fresh_clone, env=_shell_env(),
                            capture_output=True, text=True, timeout=120)
    assert result.returncode != 0 and "DJANGO_SECRET_KEY" in result.stderr


def test_make_run_keeps_an_existing_env_file(fresh_clone):
    (fresh_clone / ".env").write_text("DJANGO_DEBUG=0\n")
    subprocess.run(["make", "--no-print-directory", ".env"], cwd=fresh_clone, check=True, capture_output=True, timeout=30)
    assert (fresh_clone / ".env").read_text() == "DJANGO_DEBUG=0\n"


# ----- 2. The first login shows a call history -----
@pytest.fixture
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.mark.django_db
def test_seed_demo_leaves_a_checked_campaign_for_the_manager_to_approve_once(media_root):
    output = _seed()
    campaign = Campaign.objects.get()
    assert "Demo campaign '发货延迟通知（示例）': 10 row(s) to call, 2 refused by the check" in output
    assert campaign.state == Campaign.State.AWAITING_APPROVAL and campaign.created_by.username == "operator"
    assert campaign.source_encoding == "gb18030" and campaign.mapping == {"callee": "手机号", "params": {"name": "name", "date": "date"}}
    refused = dict(campaign.rows.filter(state=CampaignRow.State.REFUSED).values_list("row_number", "refusal_code"))
    assert refused == {12: "number_shortened", 13: "duplicate"}
    assert "Demo campaign" not in _seed() and Campaign.objects.count() == 1


@pytest.mark.django_db
def test_seed_demo_leaves_a_week_of_finished_calls_the_dashboard_shows_once(client, media_root):
    output = _seed()
    assert "Demo call history: 48 call(s)" in output
    calls = CallRecord.objects.all()
    assert calls.count() == 48
    now = timezone.now()
    assert all(now - timedelta(days=6, minutes=16) <= call.created_at <= now - timedelta(minutes=14) for call in calls)
    assert all(call.status in CallRecord.FINAL_STATUSES and call.status_code for call in calls)
    assert {CallRecord.Status.COMPLETED, CallRecord.Status.FAILED} <= set(calls.values_list("status", flat=True))
    assert CallEvent.objects.filter(kind=CallEvent.Kind.VOICE_REPORT).count() == 48
    assert len({call.called_number for call in calls}) > 40

    from django.contrib.auth.models import User
    client.force_login(User.objects.get(username="manager"))
    page = client.get(reverse("notifications:home"))
    assert sum(row["count"] for row in page.context["figures"]["by_day"]) == 48
    assert page.context["in_flight_count"].value == 0

    assert "no demo calls added" in _seed()  # safe to run again
    assert CallRecord.objects.count() == 48
    # The seeded rows carry ids 1-48; the next call the console places still gets a free one.
    placed = CallRecord.objects.get(pk=1)
    placed.pk, placed.out_id, placed.call_id = None, "NEXT-CALL", "NEXT^1"
    placed.save()
    assert placed.pk == 49


@pytest.mark.django_db
def test_seed_demo_adds_no_demo_calls_to_a_database_that_has_calls(media_root):
    _seed()
    CallRecord.objects.exclude(pk=CallRecord.objects.order_by("pk").first().pk).delete()
    _seed()
    assert CallRecord.objects.count() == 1


# ----- 3. The call record changelist with columns of a developer's own -----
def _in_hours(record):
    return record.duration / 3600 if record.duration else None


class ExtendedCallRecordAdmin(CallRecordAdmin):
    list_display = ("id", *CallRecordAdmin.list_display, "call_id", "api_code", _in_hours, "callee_tail", "requested_by__username")

    @admin.display(description="tail")
    def callee_tail(self, obj):
        return obj.called_number[-4:]


class LinkedElsewhereAdmin(CallRecordAdmin):
    list_display = (*CallRecordAdmin.list_display, "call_id", lambda record: record.status_code)
    list_display_links = ("called_number", "call_id")


@pytest.mark.django_db
@pytest.mark.parametrize("model_admin", [ExtendedCallRecordAdmin, LinkedElsewhereAdmin, CallRecordAdmin])
def test_the_fast_changelist_renders_added_columns_as_django_does(rf, superuser, media_root, model_admin):
    _seed()
    request = rf.get(reverse("admin:notifications_callrecord_changelist"))
    request.user = superuser
    changelist = model_admin(CallRecord, admin.site).get_changelist_instance(request)
    changelist.formset = None  # as changelist_view sets it when no column is editable
    assert len(changelist.result_list) == 48
    for record in changelist.result_list:
        assert call_record_row(changelist, record) == list(items_for_result(changelist, record, None))
    assert call_record_result_list(changelist)["results"] == [list(row) for row in results(changelist)]


# A site of its own serves the subclass: the project's admin URLs are bound to the registered instance.
extended_site = admin.AdminSite(name="extended_admin")
extended_site.register(CallRecord, ExtendedCallRecordAdmin)


def _urlpatterns():
    from django.urls import path

    from voiceadmin.urls import urlpatterns

    return [path("extended-admin/", extended_site.urls), *urlpatterns]


urlpatterns = _urlpatterns()


@pytest.mark.django_db
@pytest.mark.urls(__name__)
def test_the_admin_changelist_page_with_an_added_column_is_served(client, superuser, media_root):
    _seed()
    client.force_login(superuser)
    page = client.get(reverse("extended_admin:notifications_callrecord_changelist"))
    assert page.status_code == 200
    body = page.content.decode()
    record = CallRecord.objects.order_by("-created_at", "-pk").first()
    assert f'<td class="field-call_id">{record.call_id}</td>' in body
    assert f'<td class="field-callee_tail">{record.called_number[-4:]}</td>' in body
    assert body.count('class="field-_in_hours') == 48
