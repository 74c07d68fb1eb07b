"""`manage.py campaign`: the shell's way through the same services as the pages."""
import pytest
from django.core.management import CommandError, call_command

from notifications.models import AuditEntry, Campaign
from tests.campaigns.test_pages import NOTICE, checked_campaign, list_csv
from tests.dialing.conftest import make_template

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english", "media")]
State = Campaign.State




def run(*args) -> str:
    from io import StringIO

    out = StringIO()
    call_command("campaign", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def list_file(tmp_path):
    path = tmp_path / "名单.csv"
    path.write_bytes(list_csv([("138 0013 8000", "王先生", "A1001"), ("13900001231", "李女士", "A1002"), ("12345", "张", "A3")],
                              encoding="gb18030"))
    return path


def test_create_check_submit_approve_and_show(operator, manager, list_file):
    template = make_template(content=NOTICE, code="TTS_555001")
    out = run("create", "--name", "Parcel delay", "--template", "TTS_555001", "--file", str(list_file), "--user", "operator")
    campaign = Campaign.objects.get()
    assert f"campaign {campaign.pk}" in out and "手机号" in out
    assert (campaign.tts_template, campaign.created_by, campaign.state) == (template, operator, State.DRAFT)

    out = run("check", str(campaign.pk))
    assert "rows 3, valid 2, refused 1" in out and "row 4" in out
    run("submit", str(campaign.pk), "--user", "operator")
    with pytest.raises(CommandError, match="Only a manager may approve"):
        run("approve", str(campaign.pk), "--user", "operator")  # the creator, and not a manager
    out = run("approve", str(campaign.pk), "--user", "manager")
    assert "Scheduled" in out
    assert AuditEntry.objects.filter(action=AuditEntry.Action.CAMPAIGN_APPROVED, username="manager").exists()
    out = run("show", str(campaign.pk))
    assert "state: Scheduled" in out and "rows 3, valid 2, refused 1" in out and "rate:" in out


def test_check_takes_an_explicit_mapping(operator, tmp_path):
    make_template(content=NOTICE, code="TTS_555002")
    path = tmp_path / "list.csv"
    path.write_bytes(list_csv([("13900001230", "王先生", "A1001")], header=("联系方式", "称呼", "单号")))
    run("create", "--name", "Odd headers", "--template", "TTS_555002", "--file", str(path), "--user", "operator")
    campaign = Campaign.objects.get()
    with pytest.raises(CommandError):
        run("check", str(campaign.pk))  # nothing could be guessed: no callee column
    out = run("check", str(campaign.pk), "--map", "callee=联系方式", "--map", "name=称呼", "--map", "order=单号")
    assert "rows 1, valid 1, refused 0" in out
    campaign.refresh_from_db()
    assert campaign.mapping["callee"] == "联系方式" and campaign.state == State.CHECKED


def test_pause_resume_cancel(operator, manager):
    campaign = checked_campaign(operator, state=State.SENDING, approved_by=manager)
    assert "Paused" in run("pause", str(campaign.pk), "--user", "manager")
    run("resume", str(campaign.pk), "--user", "manager")
    campaign.refresh_from_db()
    assert campaign.state in (State.SCHEDULED, State.SENDING)
    assert "Cancelled" in run("cancel", str(campaign.pk), "--user", "manager")


def test_refusals_are_errors_with_the_reason(operator, list_file, tmp_path):
    with pytest.raises(CommandError, match="No user"):
        run("create", "--name", "x", "--template", "TTS_0", "--file", str(list_file), "--user", "ghost")
    with pytest.raises(CommandError, match="No TTS template"):
        run("create", "--name", "x", "--template", "TTS_0", "--file", str(list_file), "--user", "operator")
    make_template(content=NOTICE, code="TTS_555003")
    bad = tmp_path / "list.csv"
    bad.write_bytes(b"%PDF-1.4\n" + bytes(range(256)))
    with pytest.raises(CommandError, match="Refused"):
        run("create", "--name", "x", "--template", "TTS_555003", "--file", str(bad), "--user", "operator")
    assert not Campaign.objects.exists()
    with pytest.raises(CommandError, match="No campaign"):
        run("show", "999")


def test_start_refuses_a_campaign_not_approved(operator):
    campaign = checked_campaign(operator)
    with pytest.raises(CommandError, match="only an approved campaign"):
        run("start", str(campaign.pk))


def test_show_warns_of_rows_whose_retries_would_not_fit_the_day_limit(operator):
    campaign = checked_campaign(operator, max_retries=2)
    campaign.check_summary["day_room"] = {"1": {"count": 1, "rows": [4]}}
    campaign.save(update_fields=["check_summary"])
    assert "warning: 1 row may not get all its retries within the provider's 20 calls a day (first rows: 4)" in run(
        "show", str(campaign.pk))
