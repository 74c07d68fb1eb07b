"""The call log's callee and caller filters: a number as people write it, or its last four digits."""
import re

import pytest
from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone, translation
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from notifications.management.commands.seed_calls import MOBILE_PREFIXES
from notifications.models import AuditEntry, CallerNumber, CallRecord, Mode
from notifications.selectors import NUMBER_PLACEHOLDER, call_record_filtered, call_record_list

URL = reverse("notifications:call_record_list")
Action = AuditEntry.Action


def out_ids(response) -> set[str]:
    return set(re.findall(r">(T\d{10})</a>", response.content.decode()))


def shown(**data) -> set[str]:
    return set(call_record_filtered(call_record_list(data=data)).values_list("out_id", flat=True))


@pytest.fixture
def callees(make_call):
    """Two calls to one mobile, one each to a landline and to numbers that share or nearly share its last four."""
    return {
        "mobile": make_call(callee="13900001231"),
        "mobile_again": make_call(callee="13900001231"),
        "landline": make_call(callee="057188881231"),
        "other_mobile": make_call(callee="15912341231"),
        "near": make_call(callee="13900001232"),
        "inside": make_call(callee="13912310000"),  # 1231 in the middle, not at the end
    }


def ids(calls, *names) -> set[str]:
    return {calls[name].out_id for name in names}


@pytest.mark.parametrize("typed", ["+86 139-0000-1231", "139 0000 1231", "+8613900001231", "86 139 0000 1231"])
def test_callee_as_people_write_a_mobile(callees, typed):
    assert shown(callee=typed) == ids(callees, "mobile", "mobile_again")


@pytest.mark.parametrize("typed", ["0571-8888-1231", "0571-8888 1231", "(0571) 88881231", "+86 571 8888 1231"])
def test_callee_as_people_write_a_landline_with_its_area_code(callees, typed):
    assert shown(callee=typed) == ids(callees, "landline")


def test_callee_by_last_four_finds_every_call_ending_in_them_and_only_those(callees, make_call):
    assert shown(callee="1231") == ids(callees, "mobile", "mobile_again", "landline", "other_mobile")
    assert shown(callee=" 1232 ") == ids(callees, "near")
    assert shown(callee="9999") == set()
    odd = make_call(callee="12345")  # neither a number nor a last four: compared as typed
    make_call(callee="13900012345")
    assert shown(callee=" 12345 ") == {odd.out_id}
    assert shown(callee="１２３１") == set()  # full-width digits are not a last four


def test_callee_filter_through_the_page_with_its_placeholder(client, operator, callees):
    client.force_login(operator)
    response = client.get(URL, {"callee": "1231"})
    assert out_ids(response) == ids(callees, "mobile", "mobile_again", "landline", "other_mobile")
    with translation.override(response.wsgi_request.LANGUAGE_CODE):  # the page's language, whichever it is
        placeholder = f'placeholder="{NUMBER_PLACEHOLDER}"'
    assert response.content.decode().count(placeholder) == 2  # callee and caller


@pytest.fixture
def callers(make_call, register):
    qualification = register["number"].qualification  # make_call(dedicated=True) calls from its 057188880001
    mobile = CallerNumber.objects.create(number="13700000001", qualification=qualification, status=CallerNumber.Status.ACTIVE)
    near = CallerNumber.objects.create(number="057188880002", qualification=qualification, status=CallerNumber.Status.ACTIVE)
    return {
        "landline": make_call(dedicated=True),
        "mobile": make_call(dedicated=True, caller_number=mobile),
        "near": make_call(dedicated=True, caller_number=near),
        "public": make_call(callee="13900000001"),  # the public pool: no caller number, though its callee ends in 0001
    }


@pytest.mark.parametrize(("typed", "expected"), [
    ("0571-8888-0001", {"landline"}),
    ("+86 571 8888 0001", {"landline"}),
    ("+86 137-0000-0001", {"mobile"}),
    ("137 0000 0001", {"mobile"}),
])
def test_caller_as_people_write_it(callers, typed, expected):
    assert shown(caller=typed) == ids(callers, *expected)


def test_caller_by_last_four_finds_every_call_from_a_number_ending_in_them_and_only_those(callers):
    assert shown(caller="0001") == ids(callers, "landline", "mobile")
    assert shown(caller="0002") == ids(callers, "near")
    assert shown(caller="8888") == set()  # in the middle of 057188880001, not at its end


def test_suffix_filled_by_bulk_create_and_by_update(register):
    fields = {"api": "tts", "mode": Mode.PUBLIC, "tts_template": register["template"], "created_at": timezone.now()}
    CallRecord.objects.bulk_create([
        CallRecord(called_number="13900004321", out_id="B0000000001", **fields),
        CallRecord(called_number="", out_id="B0000000002", placed_elsewhere=True, **{**fields, "tts_template": None}),
    ])
    assert CallRecord.objects.get(out_id="B0000000001").called_suffix == "4321"
    # A call placed elsewhere learns its callee from a later receipt, written by .update().
    CallRecord.objects.filter(out_id="B0000000002").update(called_number="057188885678")
    assert CallRecord.objects.get(out_id="B0000000002").called_suffix == "5678"
    assert shown(callee="5678") == {"B0000000002"}


def test_last_four_seeks_the_suffix_index(callees):
    queryset = call_record_filtered(call_record_list(data={"callee": "1231"})).order_by("-created_at", "-id")[:51]
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:  # a handful of rows: a sequential scan would win otherwise
                cursor.execute("SET LOCAL enable_seqscan = off")
        assert "callrecord_suffix_idx" in queryset.explain()


# ----- the audit of a masked role's searches -----
def test_a_masked_roles_full_number_in_the_callee_filter_finds_the_calls_and_is_recorded(client, manager, callees):
    client.force_login(manager)
    assert out_ids(client.get(URL, {"callee": "+86 139-0000-1231"})) == ids(callees, "mobile", "mobile_again")
    (entry,) = AuditEntry.objects.filter(action=Action.FULL_NUMBER_SEARCH)
    assert (entry.user, entry.target_label, entry.details) == (manager, "139****1231", {"field": "callee", "number": "139****1231"})


def test_a_masked_roles_last_four_search_finds_the_calls_and_is_not_recorded(client, manager, callees):
    client.force_login(manager)
    assert out_ids(client.get(URL, {"callee": "1231"})) == ids(callees, "mobile", "mobile_again", "landline", "other_mobile")
    assert out_ids(client.get(URL, {"caller": "0001"})) == set()
    assert not AuditEntry.objects.filter(action=Action.FULL_NUMBER_SEARCH).exists()


def test_a_masked_roles_caller_search_is_not_a_full_number_search(client, manager, callers):
    # Caller numbers are the account's own and shown whole to every role: searching one reveals nothing masked.
    client.force_login(manager)
    assert out_ids(client.get(URL, {"caller": "0571-8888-0001"})) == ids(callers, "landline")
    assert not AuditEntry.objects.filter(action=Action.FULL_NUMBER_SEARCH).exists()


# ----- any way of writing a mobile -----
_separator = st.sampled_from(["", "", "", " ", "-"])
_mobile = st.tuples(st.sampled_from(MOBILE_PREFIXES), st.from_regex(r"[0-9]{8}", fullmatch=True)).map("".join)


@st.composite
def _written(draw):
    number = draw(_mobile)
    prefix = draw(st.sampled_from(["", "+86", "+86 ", "+86-", "86 ", "0086 "]))
    body = number[0] + "".join(draw(_separator) + digit for digit in number[1:])
    return number, draw(st.sampled_from(["", " "])) + prefix + body + draw(st.sampled_from(["", " "]))


@settings(max_examples=60, deadline=None, database=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=_written())
def test_any_way_of_writing_a_mobile_finds_its_call(make_call, case):
    number, typed = case
    call = make_call(callee=number)
    try:
        assert shown(callee=typed) == {call.out_id}, typed
    finally:
        call.delete()
