"""The call log: filters, search, keyset pagination, masking."""
import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from notifications.selectors import PAGE_SIZE

URL = reverse("notifications:call_record_list")


def out_ids(response) -> list[str]:
    return re.findall(r">(T\d{10})</a>", response.content.decode())


def test_needs_permission(client, django_user_model):
    user = django_user_model.objects.create_user("nobody", password="x")
    client.force_login(user)
    assert client.get(URL).status_code == 403


def test_lists_newest_first_with_time_zone(client, operator, make_call):
    older = make_call(created_at=timezone.now() - timedelta(hours=2))
    newer = make_call(created_at=timezone.now() - timedelta(hours=1))
    client.force_login(operator)
    response = client.get(URL)
    assert out_ids(response) == [newer.out_id, older.out_id]
    assert "Asia/Shanghai" in response.content.decode()
    assert reverse("notifications:call_record_detail", args=[newer.pk]) in response.content.decode()
    assert out_ids(client.get(URL, {"order": "old"})) == [older.out_id, newer.out_id]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"outcome": "busy"}, "busy"),
        ({"status_code": "200002"}, "busy"),
        ({"api": "voice"}, "voice"),
        ({"mode": "dedicated"}, "dedicated"),
        ({"callee": "13800000001"}, "other_callee"),
        ({"caller": "057188880001"}, "dedicated"),
        ({"range": "today"}, None),
    ],
)
def test_filters(client, operator, make_call, params, expected):
    calls = {
        "busy": make_call(code="200002"),
        "voice": make_call(api="voice"),
        "dedicated": make_call(dedicated=True),
        "other_callee": make_call(callee="13800000001"),
        "old": make_call(created_at=timezone.now() - timedelta(days=3)),
    }
    client.force_login(operator)
    shown = set(out_ids(client.get(URL, params)))
    if expected is None:
        assert calls["old"].out_id not in shown and calls["busy"].out_id in shown
    else:
        assert shown == {calls[expected].out_id}


def test_date_range_and_template_filter(client, operator, make_call, register):
    today = timezone.localdate()
    inside = make_call(created_at=timezone.now() - timedelta(days=2))
    make_call(created_at=timezone.now() - timedelta(days=10))
    client.force_login(operator)
    params = {"date_from": str(today - timedelta(days=5)), "date_to": str(today), "tts_template": register["template"].pk}
    assert out_ids(client.get(URL, params)) == [inside.out_id]


def test_mine_shows_only_my_calls(client, operator, manager, make_call):
    mine = make_call(user=operator)
    make_call(user=manager)
    client.force_login(operator)
    assert out_ids(client.get(URL, {"mine": "1"})) == [mine.out_id]
    assert 'name="mine"' in client.get(URL).content.decode()
    client.force_login(manager)  # places no calls: the box would only ever show an empty log
    assert 'name="mine"' not in client.get(URL).content.decode()


@pytest.mark.parametrize("typed", ["159 1234 0000", "159-1234-0000", "+86 159 1234 0000"])
def test_a_number_is_found_as_people_write_it(client, operator, make_call, typed):
    call = make_call(callee="15912340000")
    make_call(callee="15912340001")
    client.force_login(operator)
    assert out_ids(client.get(URL, {"q": typed})) == [call.out_id]


def test_a_range_that_ends_before_it_starts_is_a_field_error(client, operator, make_call):
    make_call()
    client.force_login(operator)
    client.cookies["django_language"] = "en"
    today = timezone.localdate()
    response = client.get(URL, {"date_from": str(today), "date_to": str(today - timedelta(days=3))})
    assert response.context["filter"].form.errors == {"date_to": ["The first day must not be after the last day."]}
    assert "The first day must not be after the last day." in response.content.decode()


@pytest.mark.parametrize("field", ["called_number", "out_id", "call_id"])
def test_search_is_an_exact_lookup(client, operator, make_call, field):
    wanted = make_call(callee="13912345678")
    make_call(callee="13912345679")
    client.force_login(operator)
    assert out_ids(client.get(URL, {"q": getattr(wanted, field)})) == [wanted.out_id]
    assert out_ids(client.get(URL, {"q": getattr(wanted, field)[:-1]})) == []


def test_walks_every_page_forward_and_back(client, operator, make_call):
    from tests.history.conftest import make_many

    calls = make_many(make_call, PAGE_SIZE * 2 + 3)
    client.force_login(operator)
    first = client.get(URL)
    assert out_ids(first) == [c.out_id for c in calls[:PAGE_SIZE]]
    assert 'rel="prev"' not in first.content.decode()
    assert (first.context["count"].value, first.context["count"].exact) == (PAGE_SIZE * 2 + 3, True)
    second = client.get(URL, {"after": first.context["page"].next_cursor})
    third = client.get(URL, {"after": second.context["page"].next_cursor})
    assert out_ids(third) == [c.out_id for c in calls[PAGE_SIZE * 2:]]
    assert third.context["page"].next_cursor is None
    back = client.get(URL, {"before": third.context["page"].prev_cursor})
    assert out_ids(back) == out_ids(second)
    back_to_first = client.get(URL, {"before": back.context["page"].prev_cursor})
    assert out_ids(back_to_first) == out_ids(first)
    assert back_to_first.context["page"].prev_cursor is None


def test_ties_on_created_at_are_not_skipped(client, operator, make_call):
    moment = timezone.now()
    calls = [make_call(created_at=moment) for _ in range(PAGE_SIZE + 5)]
    client.force_login(operator)
    first = client.get(URL)
    second = client.get(URL, {"after": first.context["page"].next_cursor})
    assert sorted(out_ids(first) + out_ids(second)) == sorted(c.out_id for c in calls)


@pytest.mark.parametrize("cursor", ["garbage", "1.2.3", "abc.def", "-5.-1", ""])
def test_tampered_cursor_shows_first_page(client, operator, make_call, cursor):
    call = make_call()
    client.force_login(operator)
    response = client.get(URL, {"after": cursor})
    assert response.status_code == 200
    assert out_ids(response) == [call.out_id]


def test_empty_result(client, operator, make_call):
    make_call()
    client.force_login(operator)
    response = client.get(URL, {"q": "00000"})
    assert response.context["page"].rows == [] and out_ids(response) == []
    assert (response.context["count"].value, response.context["count"].exact) == (0, True)


def test_count_is_capped(client, operator, make_call, monkeypatch):
    from tests.history.conftest import make_many

    monkeypatch.setattr("notifications.selectors.call_record_count.__kwdefaults__", {"cap": 5})
    make_many(make_call, 7)
    client.force_login(operator)
    count = client.get(URL).context["count"]
    assert (count.value, count.exact, count.capped) == (5, False, True)


def test_numbers_masked_for_managers_not_operators(client, operator, manager, make_call):
    make_call(callee="15912340000")
    client.force_login(manager)
    body = client.get(URL).content.decode()
    assert "159****0000" in body and "15912340000" not in body
    client.force_login(operator)
    assert "15912340000" in client.get(URL).content.decode()


def test_masking_can_be_turned_off(client, manager, make_call, settings):
    settings.PHONE_MASKING = False
    make_call(callee="15912340000")
    client.force_login(manager)
    assert "15912340000" in client.get(URL).content.decode()


def test_an_invalid_filter_matches_nothing(client, operator, make_call):
    make_call()
    client.force_login(operator)
    response = client.get(URL, {"date_from": "not-a-date"})
    assert response.status_code == 200 and out_ids(response) == []
    assert response.context["filter"].form.errors


def test_a_line_names_the_template_or_voice_file_the_caller_number_and_who_placed_it(client, operator, make_call, register):
    dedicated = make_call(api="tts", dedicated=True, user=operator)
    public = make_call(api="voice")
    client.force_login(operator)
    lines = {line.split("</a>")[0].rsplit(">", 1)[-1]: line
             for line in client.get(URL, headers={"accept-language": "en"}).content.decode().split("<tr>")[2:]}
    assert register["template"].name in lines[dedicated.out_id] and register["number"].number in lines[dedicated.out_id]
    assert f"<td>{operator.username}</td>" in lines[dedicated.out_id]
    assert register["voice"].name in lines[public.out_id] and "Public pool" in lines[public.out_id]
    assert "<td>—</td>" in lines[public.out_id]
