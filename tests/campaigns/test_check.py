"""Checking a campaign's list: every row passes the rules of a test call, or is refused with its reason, row and column."""
import csv
import io
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from notifications.models import BlockedNumber, CallerNumber, CallRecord, Campaign, CampaignRow, Mode, ReviewStatus
from notifications.services import campaign_check as check
from notifications.services.campaign_check import (
    campaign_check,
    campaign_load_file,
    campaign_preview,
    refused_rows_csv,
)
from notifications.services.campaign_files import CampaignFileError
from tests.dialing.conftest import make_qualification, make_template, queued_call

from .test_files import csv_bytes, named, xlsx_bytes

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english", "media")]
HEADERS = ["手机号", "name", "order"]




@pytest.fixture
def notice(db):
    return make_template()  # 尊敬的${name}，您的订单${order}已发货。


def new_campaign(user, *, template=None, voice_file=None, callers=(), **fields) -> Campaign:
    campaign = Campaign.objects.create(name="延误通知", tts_template=template, voice_file=voice_file, created_by=user, **fields)
    campaign.caller_numbers.set(callers)
    return campaign


def loaded(user, rows, *, template=None, name="list.csv", data=None, **fields) -> Campaign:
    campaign = new_campaign(user, template=template, **fields)
    return campaign_load_file(campaign, named(data if data is not None else csv_bytes([HEADERS, *rows]), name))


def checked(campaign: Campaign, mapping: dict | None = None) -> dict:
    campaign.refresh_from_db()
    return campaign_check(campaign, mapping or campaign.mapping)


def rows_of(campaign: Campaign) -> dict[int, tuple[str, str]]:
    return {row.row_number: (row.state, row.refusal_code) for row in CampaignRow.objects.filter(campaign=campaign)}


def refused_fields(**kwargs) -> dict[str, list[str]]:
    with pytest.raises(ValidationError) as caught:
        campaign_check(**kwargs)
    return {field: [error.code for error in errors] for field, errors in caught.value.error_dict.items()}


# ----- loading the file ----------------------------------------------------------------------------------------

def test_loading_a_list_stores_it_with_headers_encoding_and_a_guessed_mapping(operator, notice):
    data = csv_bytes([["手机号", "Name", "${order}"], ["13800138000", "张三", "A1"]], encoding="gb18030")
    campaign = campaign_load_file(new_campaign(operator, template=notice), named(data, "C:\\Users\\王\\名单.csv"))
    campaign.refresh_from_db()
    assert campaign.headers == ["手机号", "Name", "${order}"]
    assert campaign.source_encoding == "gb18030" and campaign.source_name == "名单.csv"
    assert campaign.source_file.read() == data
    assert campaign.mapping == {"callee": "手机号", "params": {"name": "Name", "order": "${order}"}}
    assert campaign.state == Campaign.State.DRAFT
    assert checked(campaign)["valid"] == 1
    assert CampaignRow.objects.get(campaign=campaign).params == {"name": "张三", "order": "A1"}


def test_a_file_that_cannot_be_read_stores_nothing(operator, notice):
    campaign = loaded(operator, [["13800138000", "张三", "A1"]], template=notice)
    checked(campaign)
    with pytest.raises(CampaignFileError):
        campaign_load_file(campaign, named(b"phone,phone\n1,2\n", "new.csv"))
    campaign.refresh_from_db()
    assert campaign.state == Campaign.State.CHECKED and campaign.headers == HEADERS
    assert CampaignRow.objects.filter(campaign=campaign).count() == 1


def test_a_corrected_list_replaces_the_stored_file_and_the_first_one_is_deleted(operator, notice, django_capture_on_commit_callbacks):
    campaign = loaded(operator, [["13800138000", "张三", "A1"]], template=notice, name="first.csv")
    first = campaign.source_file.name
    storage = campaign.source_file.storage
    with django_capture_on_commit_callbacks(execute=True):
        campaign = campaign_load_file(campaign, named(csv_bytes([HEADERS, ["13900139000", "李四", "B2"]]), "corrected.csv"))
    assert campaign.source_file.name != first and storage.exists(campaign.source_file.name)
    assert not storage.exists(first), "the replaced list is not left behind with its callees' numbers"


def test_a_formula_far_down_the_file_refuses_it_before_anything_is_stored(operator, notice):
    rows = [[13800000000 + index, "张三", "A1"] for index in range(50)] + [[13900139000, "=A2", "A1"]]
    campaign = new_campaign(operator, template=notice)
    with pytest.raises(CampaignFileError) as caught:
        campaign_load_file(campaign, named(xlsx_bytes([HEADERS, *rows]), "list.xlsx"))
    assert caught.value.row == 52
    campaign.refresh_from_db()
    assert not campaign.source_file and campaign.headers == []


def test_a_new_list_sends_a_checked_campaign_back_to_draft_and_drops_the_old_rows(operator, notice):
    campaign = loaded(operator, [["13800138000", "张三", "A1"]], template=notice)
    checked(campaign)
    campaign_load_file(campaign, named(csv_bytes([["phone", "name", "order"], ["13900139000", "李四", "B2"]]), "v2.csv"))
    campaign.refresh_from_db()
    assert campaign.state == Campaign.State.DRAFT and campaign.check_summary == {} and campaign.checked_at is None
    assert not CampaignRow.objects.filter(campaign=campaign).exists()
    assert campaign.mapping["callee"] == "phone"


def test_a_campaign_that_is_sending_takes_no_new_list(operator, notice):
    campaign = loaded(operator, [["13800138000", "张三", "A1"]], template=notice)
    Campaign.objects.filter(pk=campaign.pk).update(state=Campaign.State.SENDING)
    with pytest.raises(ValidationError) as caught:
        campaign_load_file(campaign, named(csv_bytes([HEADERS, ["13900139000", "a", "b"]]), "v2.csv"))
    assert "state" in [error.code for error in caught.value.error_dict["__all__"]]
    with pytest.raises(ValidationError):
        checked(campaign)


# ----- each row rule ---------------------------------------------------------------------------------------------

def test_valid_rows_wait_and_refused_rows_say_why_with_row_and_column(operator, notice):
    campaign = loaded(operator, [
        ["13800138000", "张三", "A1"],           # row 2: valid
        ["12345", "李四", "A2"],                 # row 3: not a number
        ["1.38E+10", "王五", "A3"],              # row 4: shortened by Excel
        ["", "赵六", "A4"],                      # row 5: no number
        ["13900139000", "", "A5"],              # row 6: a variable left blank
        ["13900139001", "见 http://x.cn", "A6"],  # row 7: a link
        ["+86 138-0013-8000", "张三", "A7"],     # row 8: the same callee as row 2
        ["1012345678", "北京", "A8"],            # row 9: a landline whose 0 Excel dropped
        ["", "", ""],                           # row 10: blank, skipped
        ["13800138000.0", "张三", "A9"],         # row 11: row 2 again
    ], template=notice)
    summary = checked(campaign)
    assert rows_of(campaign) == {
        2: ("waiting", ""), 3: ("refused", "number_invalid"), 4: ("refused", "number_shortened"),
        5: ("refused", "number_required"), 6: ("refused", "param_required"), 7: ("refused", "param_link"),
        8: ("refused", "duplicate"), 9: ("waiting", ""), 11: ("refused", "duplicate"),
    }
    assert (summary["total"], summary["valid"], summary["refused"]) == (9, 2, 7)
    assert summary["by_reason"] == {"number_invalid": 1, "number_shortened": 1, "number_required": 1,
                                    "param_required": 1, "param_link": 1, "duplicate": 2}
    errors = {error["row"]: error for error in summary["first_errors"]}
    assert errors[4]["column"] == "手机号" and "shortened by Excel to 1.38E+10" in errors[4]["message"]["en"]
    assert errors[6]["column"] == "name"
    assert "row 2" in errors[8]["message"]["en"]
    row = CampaignRow.objects.get(campaign=campaign, row_number=9)
    assert (row.called_number, row.raw_number, row.params) == ("01012345678", "1012345678", {"name": "北京", "order": "A8"})
    refused = CampaignRow.objects.get(campaign=campaign, row_number=6)
    assert refused.refusal_message.startswith("name: ") and refused.called_number == ""
    campaign.refresh_from_db()
    assert campaign.state == Campaign.State.CHECKED and campaign.checked_at and campaign.check_summary == summary


def test_refusals_are_kept_in_every_language_whoever_ran_the_check(operator, notice):
    """A check run by someone reading Chinese reads in English for a manager who reads English, and back."""
    for _n in range(20):
        queued_call(notice, called_number="13900139009")
    campaign = loaded(operator, [["1.38E+10", "王五", "A1"],
                                 ["13900139000", "", "A2"],
                                 ["13900139001", "张三", "A3"],
                                 ["13900139001", "李四", "A4"],
                                 ["13900139009", "赵六", "A5"]], template=notice)
    with translation.override("zh-hans"):
        summary = checked(campaign)
    errors = {error["row"]: error["message"] for error in summary["first_errors"]}
    assert "Excel 缩写成了 1.38E+10" in errors[2]["zh-hans"] and "shortened by Excel to 1.38E+10" in errors[2]["en"]
    assert "in row 4 of the list" in errors[5]["en"] and "名单第 4 行" in errors[5]["zh-hans"]
    # The day's flow control, its plural chosen per language from the same count of minutes.
    assert "called 20 times in the last 24 hours" in errors[6]["en"] and "minutes." in errors[6]["en"]
    assert "24 小时" in errors[6]["zh-hans"]
    blank = CampaignRow.objects.get(campaign=campaign, row_number=3)
    assert blank.refusal_messages["en"].startswith("name: ") and blank.refusal_messages["zh-hans"].startswith("name：")
    with translation.override("en"):
        assert blank.refusal_message.startswith("name: ")
        assert "shortened by Excel" in "".join(refused_rows_csv(campaign))
    with translation.override("zh-hans"):
        assert blank.refusal_message.startswith("name：")
        assert "Excel 缩写成了" in "".join(refused_rows_csv(campaign))


def test_rows_written_by_the_check_have_every_other_field_at_its_default(operator, notice):
    campaign = loaded(operator, [["13800138000", "张三", "A1"]], template=notice)
    checked(campaign)
    row = CampaignRow.objects.get(campaign=campaign)
    assert (row.attempts, row.next_attempt_at, row.last_call, row.outcome, row.final_status) == (0, None, None, "", "")
    campaign.refresh_from_db()
    assert row.updated_at == campaign.checked_at
    fields = {field.name for field in CampaignRow._meta.concrete_fields if not field.primary_key}
    assert set(check._RowWriter.SET) <= fields  # the rest are written with their defaults


def test_a_row_refused_for_its_parameters_does_not_take_its_number_from_a_later_row(operator, notice):
    campaign = loaded(operator, [["13800138000", "", "A1"], ["13800138000", "张三", "A2"]], template=notice)
    checked(campaign)
    assert rows_of(campaign) == {2: ("refused", "param_required"), 3: ("waiting", "")}


def test_the_do_not_call_list_refuses_a_row(operator, notice):
    BlockedNumber.objects.create(number="13900139000", reason="投诉")
    campaign = loaded(operator, [["13800138000", "张三", "A1"], ["139 0013 9000", "李四", "A2"]], template=notice)
    checked(campaign)
    assert rows_of(campaign)[3] == ("refused", "blocked")


def test_a_verification_template_refuses_a_code_with_other_characters(operator):
    template = make_template(content="您的验证码是${code}。", kind="verification")
    campaign = loaded(operator, [], template=template, data=csv_bytes([["phone", "code"], ["13800138000", "12-34"],
                                                                         ["13900139000", "1234"]]))
    checked(campaign)
    assert rows_of(campaign) == {2: ("refused", "param_code_value"), 3: ("waiting", "")}


def test_all_values_together_too_long_are_refused(operator, notice):
    campaign = loaded(operator, [["13800138000", "长" * 600, "A1"]], template=notice)
    summary = checked(campaign)
    assert summary["by_reason"] == {"param_too_long": 1}
    assert summary["first_errors"][0]["column"] == ""


def _calls(template, number: str, count: int, *, ago: timedelta = timedelta(hours=2)):
    now = timezone.now()
    for index in range(count):
        queued_call(template, called_number=number, created_at=now - ago - timedelta(minutes=index))


def test_a_callee_called_20_times_today_is_refused_but_19_is_not(operator, notice):
    _calls(notice, "13800138000", 20)
    _calls(notice, "13900139000", 19)
    campaign = loaded(operator, [["13800138000", "a", "b"], ["13900139000", "a", "b"]], template=notice)
    summary = checked(campaign)
    assert rows_of(campaign) == {2: ("refused", "flow_control"), 3: ("waiting", "")}
    assert "20 times in the last 24 hours" in summary["first_errors"][0]["message"]["en"]


def test_rows_whose_retries_would_not_fit_the_day_limit_are_counted_for_the_retries_set_later(operator, notice):
    _calls(notice, "13800138000", 19)  # room for 1 attempt
    _calls(notice, "13900139000", 17)  # room for 3
    _calls(notice, "13700137000", 16)  # room for 4: every attempt fits
    campaign = loaded(operator, [["13800138000", "a", "b"], ["13900139000", "a", "b"], ["13700137000", "a", "b"],
                                 ["13600136000", "a", "b"]], template=notice)
    summary = checked(campaign)
    assert rows_of(campaign) == {2: ("waiting", ""), 3: ("waiting", ""), 4: ("waiting", ""), 5: ("waiting", "")}
    assert summary["day_room"] == {"1": {"count": 1, "rows": [2]}, "3": {"count": 1, "rows": [3]}}
    # Retries may still change before sending: the warning is worked out with the number set at the time.
    assert check.retries_short(summary, 0) is None
    assert check.retries_short(summary, 2) == {"count": 1, "rows": [2], "allowed": 20}
    assert check.retries_short(summary, 3) == {"count": 2, "rows": [2, 3], "allowed": 20}


def test_a_call_a_minute_ago_only_delays_the_first_attempt(operator, notice):
    _calls(notice, "13800138000", 5, ago=timedelta(seconds=20))  # minute and hour windows full: the sender waits
    campaign = loaded(operator, [["13800138000", "a", "b"]], template=notice)
    checked(campaign)
    assert rows_of(campaign) == {2: ("waiting", "")}


def test_calls_under_another_qualification_or_long_ago_do_not_count(operator, notice):
    _calls(make_template(), "13800138000", 20)  # another qualification
    _calls(notice, "13900139000", 20, ago=timedelta(hours=25))
    campaign = loaded(operator, [["13800138000", "a", "b"], ["13900139000", "a", "b"]], template=notice)
    checked(campaign)
    assert rows_of(campaign) == {2: ("waiting", ""), 3: ("waiting", "")}


def test_a_campaign_starting_tomorrow_counts_the_calls_still_in_its_day_window(operator, notice):
    _calls(notice, "13800138000", 20, ago=timedelta(hours=2))
    later = loaded(operator, [["13800138000", "a", "b"]], template=notice, start_at=timezone.now() + timedelta(hours=23))
    checked(later)
    assert rows_of(later) == {2: ("waiting", "")}


def test_the_check_reads_the_upload_itself_when_the_copy_as_read_is_missing_or_not_its_own(operator, notice):
    campaign = loaded(operator, [["13800138000", "张三", "A1"], ["bad", "李四", "A2"]], template=notice, name="l.xlsx",
                      data=xlsx_bytes([HEADERS, [13800138000, "张三", "A1"], ["bad", "李四", "A2"]]))
    storage = campaign.source_file.storage
    storage.delete(check._table_copy_name(campaign))
    assert checked(campaign)["by_reason"] == {"number_invalid": 1}
    storage.save(check._table_copy_name(campaign), io.BytesIO(b"campaigns/other.csv\n\"\xe6\x89\x8b\"\n2,1\n"))
    assert checked(campaign)["total"] == 2
    assert campaign_preview(campaign, campaign.mapping)[0]["callee"] == "13800138000"


def test_a_list_refused_at_the_check_is_an_error_of_the_file_field(operator, notice, settings):
    campaign = loaded(operator, [["13800138000", "a", "b"], ["13900139000", "a", "b"]], template=notice)
    campaign.source_file.storage.delete(check._table_copy_name(campaign))
    settings.CAMPAIGN_MAX_ROWS = 1
    assert refused_fields(campaign=campaign, mapping=campaign.mapping) == {"file": ["too_many_rows"]}
    assert not CampaignRow.objects.filter(campaign=campaign).exists()


def test_a_voice_file_campaign_checks_numbers_only(operator):
    from notifications.models import VoiceFile

    voice = VoiceFile.objects.create(name="停水通知", audio="voice/t.wav", audio_format="wav", mode=Mode.PUBLIC,
                                     qualification=make_qualification(), voice_code="v-1.wav", status=ReviewStatus.APPROVED)
    campaign = new_campaign(operator, voice_file=voice)
    campaign_load_file(campaign, named(csv_bytes([["电话", "备注"], ["13800138000", "=x"], ["bad", ""]]), "l.csv"))
    assert checked(campaign)["by_reason"] == {"number_invalid": 1}
    assert campaign_preview(campaign, campaign.mapping)[0]["text"] == "(the recording “停水通知”)"


def test_an_xlsx_list_is_checked_like_a_csv(operator, notice):
    data = xlsx_bytes([HEADERS, [13800138000, "张三", "A1"], [1012345678, "北京", 17], [None, None, None],
                       ["1.38E+10", "王五", "A3"]])
    campaign = loaded(operator, [], template=notice, name="list.xlsx", data=data)
    checked(campaign)
    assert rows_of(campaign) == {2: ("waiting", ""), 3: ("waiting", ""), 5: ("refused", "number_shortened")}
    assert CampaignRow.objects.get(campaign=campaign, row_number=3).params == {"name": "北京", "order": "17"}


# ----- campaign-level problems store nothing -----------------------------------------------------------------------

def test_a_template_no_longer_approved_stores_nothing(operator, notice):
    campaign = loaded(operator, [["13800138000", "a", "b"]], template=notice)
    notice.status = ReviewStatus.REJECTED
    notice.save()
    assert refused_fields(campaign=campaign, mapping=campaign.mapping) == {"resource": ["not_approved"]}
    campaign.refresh_from_db()
    assert campaign.state == Campaign.State.DRAFT and not CampaignRow.objects.filter(campaign=campaign).exists()


def test_no_callee_column_or_an_unmapped_variable_is_refused_by_field(operator, notice):
    campaign = loaded(operator, [["13800138000", "a", "b"]], template=notice)
    errors = refused_fields(campaign=campaign, mapping={"callee": None, "params": {"name": "name", "order": None}})
    assert errors == {"callee": ["required"], "param_order": ["required"]}
    errors = refused_fields(campaign=campaign, mapping={"callee": "nope", "params": {"name": "name", "order": "order"}})
    assert errors == {"callee": ["invalid"]}
    assert not CampaignRow.objects.filter(campaign=campaign).exists()


def test_dedicated_content_needs_active_caller_numbers_of_its_qualification(operator):
    qualification = make_qualification()
    template = make_template(mode=Mode.DEDICATED, qualification=qualification)
    campaign = loaded(operator, [["13800138000", "a", "b"]], template=template)
    assert refused_fields(campaign=campaign, mapping=campaign.mapping)["caller_numbers"] == ["required"]
    active = CallerNumber.objects.create(number="057188886666", qualification=qualification, status=CallerNumber.Status.ACTIVE)
    suspended = CallerNumber.objects.create(number="057188886667", qualification=qualification, status=CallerNumber.Status.SUSPENDED)
    stranger = CallerNumber.objects.create(number="057188886668", qualification=make_qualification(), status=CallerNumber.Status.ACTIVE)
    campaign.caller_numbers.set([active, suspended, stranger])
    assert sorted(refused_fields(campaign=campaign, mapping=campaign.mapping)["caller_numbers"]) == ["inactive", "qualification"]
    campaign.caller_numbers.set([active])
    assert checked(campaign)["valid"] == 1


def test_public_pool_content_takes_no_caller_number(operator, notice):
    number = CallerNumber.objects.create(number="057188886666", qualification=notice.qualification, status=CallerNumber.Status.ACTIVE)
    campaign = loaded(operator, [["13800138000", "a", "b"]], template=notice)
    campaign.caller_numbers.set([number])
    assert refused_fields(campaign=campaign, mapping=campaign.mapping) == {"caller_numbers": ["public_with_number"]}


def test_a_check_replaces_the_rows_of_the_last_one_and_after_approval_must_be_approved_again(operator, manager, notice):
    campaign = loaded(operator, [["13800138000", "a", "b"], ["13900139000", "a", "b"]], template=notice)
    checked(campaign)
    Campaign.objects.filter(pk=campaign.pk).update(state=Campaign.State.SCHEDULED, approved_by=manager,
                                                   approved_at=timezone.now())
    summary = checked(campaign, {"callee": "手机号", "params": {"name": "order", "order": "name"}})
    assert summary["total"] == 2 and CampaignRow.objects.filter(campaign=campaign).count() == 2
    campaign.refresh_from_db()
    assert campaign.state == Campaign.State.CHECKED and campaign.approved_by is None
    assert campaign.mapping["params"] == {"name": "order", "order": "name"}


def test_first_errors_stop_at_twenty(operator, notice):
    campaign = loaded(operator, [["bad", "a", "b"]] * 30, template=notice)
    summary = checked(campaign)
    assert summary["refused"] == 30 and len(summary["first_errors"]) == 20
    assert [error["row"] for error in summary["first_errors"]] == list(range(2, 22))


def test_the_queries_do_not_grow_with_the_rows(operator, notice):
    rows = [[str(13800000000 + index), "张三", "A1"] for index in range(2 * check.BATCH + 5)]
    campaign = loaded(operator, rows, template=notice)
    campaign.refresh_from_db()
    with CaptureQueriesContext(connection) as queries:
        campaign_check(campaign, campaign.mapping)
    reads = [query["sql"] for query in queries.captured_queries if query["sql"].lstrip().upper().startswith("SELECT")]
    assert len(reads) <= 12  # the campaign, its content and numbers, then 2 per batch of BATCH rows (3 batches)
    assert CampaignRow.objects.filter(campaign=campaign, state=CampaignRow.State.WAITING).count() == len(rows)


# ----- preview and the refused rows' CSV -------------------------------------------------------------------------

def test_the_preview_shows_the_first_rows_as_they_will_be_spoken(operator, notice):
    rows = [["138 0013 8000", "张三", "A1"], ["bad", "李四", "A2"]] + [["13900139000", "王五", "A3"]] * 10
    campaign = loaded(operator, rows, template=notice)
    preview = campaign_preview(campaign, campaign.mapping, n=5)
    assert len(preview) == 5
    assert preview[0] == {"row": 2, "callee": "13800138000", "text": "尊敬的张三，您的订单A1已发货。"}
    assert preview[1]["callee"] == "bad"
    partial = campaign_preview(campaign, {"callee": "手机号", "params": {"name": "name"}}, n=1)
    assert partial[0]["text"] == "尊敬的张三，您的订单${order}已发货。"
    assert not CampaignRow.objects.filter(campaign=campaign).exists()


def test_the_refused_rows_csv_opens_in_excel_and_runs_no_formula(operator, notice):
    campaign = loaded(operator, [["=cmd|' /C calc'!A0", "a", "b"], ["13800138000", "a", "b"], ["+12", "a", "b"],
                                 ["@SUM(1)", "a", "b"]], template=notice)
    checked(campaign)
    body = "".join(refused_rows_csv(campaign))
    assert body.startswith("\ufeff")
    lines = list(csv.reader(io.StringIO(body.lstrip("\ufeff"))))
    assert lines[0] == ["Row", "Number as in the file", "Reason"]
    assert [line[:2] for line in lines[1:]] == [["2", "'=cmd|' /C calc'!A0"], ["4", "+12"], ["5", "'@SUM(1)"]]
    assert all(line[2].startswith("手机号: ") for line in lines[1:])


# ----- any input -------------------------------------------------------------------------------------------------

cell = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",), exclude_characters="\x00"), max_size=15)


@given(st.lists(st.tuples(cell, cell, cell), min_size=1, max_size=8))
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
def test_any_cells_are_checked_each_row_passing_or_refused_with_a_reason(operator, notice, rows):
    data = csv_bytes([HEADERS, *[list(row) for row in rows]])
    campaign = new_campaign(operator, template=notice)
    try:
        campaign_load_file(campaign, named(data, "any.csv"))
    except CampaignFileError as error:
        assert error.messages
        return
    summary = checked(campaign)
    stored = list(CampaignRow.objects.filter(campaign=campaign))
    assert summary["total"] == len(stored) == summary["valid"] + summary["refused"]
    for row in stored:
        if row.state == CampaignRow.State.WAITING:
            assert row.called_number.isdigit() and not row.refusal_code
        else:
            assert row.state == CampaignRow.State.REFUSED and row.refusal_code and row.refusal_message
    assert "".join(refused_rows_csv(campaign)).count("\n") >= summary["refused"]


def test_a_call_record_links_are_untouched_by_a_new_check(operator, notice):
    """Rows deleted by a new check leave no call pointing at them (a campaign that has not started has none)."""
    campaign = loaded(operator, [["13800138000", "a", "b"]], template=notice)
    checked(campaign)
    record = queued_call(notice, campaign=campaign, campaign_row=CampaignRow.objects.get(campaign=campaign))
    checked(campaign)
    record.refresh_from_db()
    assert record.campaign_row is None and CallRecord.objects.filter(pk=record.pk).exists()
