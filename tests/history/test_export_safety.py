"""The CSV export opened in a spreadsheet: no cell runs as a formula, numbers stay numbers, choices read as words.

Runs on whichever database the suite uses: SQLite prints the CSV, PostgreSQL writes it with COPY.
"""
import csv
import io
import re

import pytest
from django.contrib.auth.models import User
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from notifications.models import CallRecord
from notifications.services.exports import FORMULA_START

FORMULA_CHARACTERS = ("=", "+", "-", "@", "\t", "\r")
HOSTILE = ["=cmd|' /C calc'!A0", "+SUM(1,2)", "-2+3", "@SUM(A1)", "\tleading tab", "\rleading return",
           "'=already quoted", "''-twice", "=HYPERLINK(\"http://x\",\"点我\")"]


def _export(client, language="zh-hans") -> tuple[list[str], list[list[str]]]:
    response = client.get(reverse("notifications:call_record_export"), headers={"accept-language": language})
    assert response.status_code == 200
    header, *rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    return header, rows


def _is_number(text: str) -> bool:
    return re.fullmatch(r"[-+]?[0-9]+(\.[0-9]+)?", text) is not None


def _unquoted(cell: str) -> str:
    """What a reader of the export does to get the text back: take off the one apostrophe the export added."""
    return cell[1:] if cell.startswith("'") and re.match(FORMULA_START, cell) else cell


def _looks_like_formula(cell: str) -> bool:
    return cell.startswith(FORMULA_CHARACTERS) and not _is_number(cell)


@pytest.mark.parametrize("hostile", HOSTILE)
def test_hostile_usernames_and_provider_text_cannot_run_as_formulas(client, manager, make_call, hostile):
    person = User.objects.create_user(username=hostile[:150])
    make_call(user=person, status_msg=hostile, smart_status_code=hostile[:32], api_code=hostile[:64],
              hangup_direction=hostile[:16], call_id=hostile[:64])
    client.force_login(manager)
    header, (row,) = _export(client, "en")
    cells = {name: row[header.index(name)] for name in ("Placed by", "Status message", "Smart status code", "API code",
                                                       "Hung up by", "Hung up by (code)", "CallId")}
    for name, cell in cells.items():
        assert not _looks_like_formula(cell), (name, cell)
        assert cell.startswith("'"), (name, cell)  # every hostile text is written as text
    assert _unquoted(cells["Placed by"]) == hostile
    assert _unquoted(cells["Status message"]) == hostile
    assert _unquoted(cells["Hung up by (code)"]) == hostile[:16]


def test_plain_text_is_written_untouched(client, manager, make_call):
    person = User.objects.create_user(username="li.si")
    make_call(user=person, status_msg="用户忙 - 稍后再拨 = 2 次", api_code="OK")
    client.force_login(manager)
    header, (row,) = _export(client)
    assert row[header.index("发起人")] == "li.si"
    assert row[header.index("状态描述")] == "用户忙 - 稍后再拨 = 2 次"  # a formula character inside, not first


@pytest.mark.parametrize("number", ["-5", "+5", "-0.25", "12", "-120"])
def test_numbers_in_text_cells_stay_numbers(client, manager, make_call, number):
    make_call(status_code=number, api_code=number, code="200000", duration=30)
    client.force_login(manager)
    header, (row,) = _export(client, "en")
    assert row[header.index("Status code")] == number
    assert row[header.index("API code")] == number
    assert row[header.index("Duration (s)")] == "30"


@pytest.mark.parametrize("almost", ["-5+1", "-5.", "+.5", "-1e3", "--5", "-5\n"])
def test_text_that_only_starts_like_a_number_is_neutralised(client, manager, make_call, almost):
    make_call(status_msg=almost)
    client.force_login(manager)
    header, (row,) = _export(client, "en")
    assert row[header.index("Status message")] == "'" + almost


def test_a_masked_callee_placed_elsewhere_cannot_run_as_a_formula(client, manager, make_call):
    """Calls placed elsewhere carry whatever number the provider's receipt gave; masking keeps its first character."""
    make_call(api=CallRecord.Api.OTHER, placed_elsewhere=True, callee="=1+2345678901")
    client.force_login(manager)
    header, (row,) = _export(client, "en")
    callee = row[header.index("Callee")]
    assert callee == "'=1+******8901"
    assert row[header.index("Placed elsewhere")] == "Yes"


def test_choices_are_words_in_chinese_with_their_codes_beside(client, manager, make_call):
    make_call(code="200000", hangup_direction="user")
    client.force_login(manager)
    header, (row,) = _export(client, "zh-hans")
    shown = dict(zip(header, row, strict=True))
    assert (shown["状态"], shown["状态代码"]) == ("已完成", "completed")
    assert (shown["呼叫结果"], shown["呼叫结果代码"]) == ("已接听，完整收听", "listened")
    assert (shown["模式"], shown["模式代码"]) == ("公共号池", "public")
    assert (shown["接口代码"], shown["挂断方"], shown["挂断方代码"]) == ("tts", "被叫号码", "user")
    assert shown["其他系统发起"] == "否"


def test_choices_are_words_in_english_including_the_new_states(client, manager, make_call):
    make_call(code="", status=CallRecord.Status.OUTCOME_UNKNOWN, api="voice", dedicated=True)
    make_call(code="", status=CallRecord.Status.UNKNOWN, hangup_direction="platform")
    make_call(api=CallRecord.Api.OTHER, placed_elsewhere=True, code="200002", hangup_direction="robot")
    client.force_login(manager)
    header, rows = _export(client, "en")
    assert {"Status", "Status (code)", "Outcome", "Outcome (code)", "API", "API (code)", "Mode", "Mode (code)",
            "Hung up by", "Hung up by (code)", "Placed elsewhere"} <= set(header)
    shown = [dict(zip(header, row, strict=True)) for row in rows]
    columns = ("Status", "Status (code)", "API", "API (code)", "Mode", "Placed elsewhere", "Outcome", "Hung up by",
               "Hung up by (code)")
    assert [tuple(row[name] for name in columns) for row in shown] == [
        ("Outcome unknown", "outcome_unknown", "Voice file", "voice", "Dedicated", "No", "", "", ""),
        ("Unclear, being checked", "unknown", "TTS", "tts", "Public pool", "No", "", "Platform", "platform"),
        ("Failed", "failed", "Not known (placed elsewhere)", "other", "Public pool", "Yes", "Busy", "robot", "robot"),
    ]


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_hostile_text_is_neutralised_when_helper_processes_print_the_export(client, manager, make_call, monkeypatch):
    """A large SQLite export is printed by other processes on their own connections: the same SQL applies there."""
    from tests.history.conftest import make_many

    monkeypatch.setattr("notifications.services.exports.PRINT_BLOCK", 4)
    make_many(make_call, 12, status_msg="=cmd|' /C calc'!A0", status_code="-5")
    client.force_login(manager)
    header, rows = _export(client, "en")
    assert len(rows) == 12
    assert {row[header.index("Status message")] for row in rows} == {"'=cmd|' /C calc'!A0"}
    assert {row[header.index("Status code")] for row in rows} == {"-5"}


# Any text at all, with the starts that matter made likely. PostgreSQL cannot store NUL characters, nor can a receipt.
_character = st.characters(exclude_categories=["Cs"], exclude_characters="\x00")
_text = st.one_of(
    st.text(_character, max_size=40),
    st.builds(str.__add__, st.sampled_from(["=", "+", "-", "@", "\t", "\r", "'", "'=", "''+", "-1", "+2."]),
              st.text(_character, max_size=30)),
    st.from_regex(r"\A[-+]?[0-9]{1,6}(\.[0-9]{1,3})?\Z"),
)
_CELLS = {"username": "Placed by", "status_msg": "Status message", "smart_status_code": "Smart status code",
          "api_code": "API code", "hangup_direction": "Hung up by (code)", "request_id": "RequestId",
          "status_code": "Status code"}


@settings(max_examples=60, deadline=None, database=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(values=st.fixed_dictionaries({"username": _text, "status_msg": _text, "smart_status_code": _text.map(lambda t: t[:32]),
                                     "api_code": _text, "hangup_direction": _text.map(lambda t: t[:16]),
                                     "request_id": _text, "status_code": _text.map(lambda t: t[:16])}))
def test_any_text_is_exported_as_text_that_never_starts_a_formula(client, manager, make_call, values):
    CallRecord.objects.all().delete()
    User.objects.exclude(pk=manager.pk).delete()
    fields = {name: value for name, value in values.items() if name != "username"}
    make_call(user=User.objects.create(username=values["username"] or "-"), **fields)  # as given: no normalising
    client.force_login(manager)
    header, (row,) = _export(client, "en")
    for name, column in _CELLS.items():
        cell = row[header.index(column)]
        assert not _looks_like_formula(cell), (column, cell)
        assert _unquoted(cell) == (values[name] or "-" if name == "username" else values[name]), column
