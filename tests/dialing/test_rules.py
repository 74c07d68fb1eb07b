"""The dialing rules as pure functions: each refusal says what is wrong, the allowed case passes."""
from datetime import UTC, datetime, timedelta

from notifications.models import Mode, Purpose, ReviewStatus
from notifications.rules import dialing as rules

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def codes(errors) -> list[str]:
    return [error.code for error in errors]


def test_ranges_of_play_times_volume_and_speed():
    assert rules.check_play_times(1) == rules.check_play_times(3) == []
    assert codes(rules.check_play_times(0)) == codes(rules.check_play_times(4)) == ["range"]
    assert rules.check_volume(0) == rules.check_volume(100) == []
    assert codes(rules.check_volume(101)) == ["range"]
    assert rules.check_speed(None) == rules.check_speed(-500) == rules.check_speed(500) == []
    assert codes(rules.check_speed(501)) == ["range"]


def test_only_approved_content_can_be_dialled():
    assert rules.check_resource_approved(ReviewStatus.APPROVED) == []
    for status in (ReviewStatus.DRAFT, ReviewStatus.SUBMITTED, ReviewStatus.REJECTED):
        assert codes(rules.check_resource_approved(status)) == ["not_approved"]


def test_public_content_takes_no_caller_number_and_dedicated_needs_a_usable_one():
    assert rules.check_caller_number(mode=Mode.PUBLIC, has_caller_number=False) == []
    assert codes(rules.check_caller_number(mode=Mode.PUBLIC, has_caller_number=True)) == ["public_with_number"]
    assert codes(rules.check_caller_number(mode=Mode.DEDICATED, has_caller_number=False)) == ["required"]
    good = {"mode": Mode.DEDICATED, "has_caller_number": True, "number_active": True, "same_qualification": True,
            "qualification_approved": True}
    assert rules.check_caller_number(**good) == []
    assert codes(rules.check_caller_number(**(good | {"number_active": False}))) == ["inactive"]
    assert codes(rules.check_caller_number(**(good | {"same_qualification": False}))) == ["qualification"]
    assert codes(rules.check_caller_number(**(good | {"qualification_approved": False}))) == ["qualification"]


def test_every_variable_needs_a_value_and_no_extra_ones():
    errors = rules.param_errors(variables=["name", "order"], values={"name": "张三", "colour": "红"}, kind=Purpose.NOTIFICATION)
    assert codes(errors["order"]) == ["required"]
    assert codes(errors[""]) == ["extra"]
    assert "colour" in errors[""][0].message % errors[""][0].params
    assert rules.param_errors(variables=["name"], values={"name": "张三"}, kind=Purpose.NOTIFICATION) == {}


def test_values_together_stay_under_250_characters():
    assert rules.param_errors(variables=["a", "b"], values={"a": "x" * 200, "b": "y" * 49}, kind=Purpose.NOTIFICATION) == {}
    errors = rules.param_errors(variables=["a", "b"], values={"a": "x" * 200, "b": "y" * 50}, kind=Purpose.NOTIFICATION)
    assert codes(errors[""]) == ["too_long"]


def test_links_are_refused_in_values():
    for value in ("http://a.example", "see www.example.org", "taobao.com", "HTTPS"):
        errors = rules.param_errors(variables=["name"], values={"name": value}, kind=Purpose.NOTIFICATION)
        assert codes(errors["name"]) == ["link"], value
    assert rules.param_errors(variables=["name"], values={"name": "3.5 公斤"}, kind=Purpose.NOTIFICATION) == {}


def test_verification_codes_are_letters_and_digits_only():
    assert rules.param_errors(variables=["code"], values={"code": "A1b2C3"}, kind=Purpose.VERIFICATION) == {}
    errors = rules.param_errors(variables=["code"], values={"code": "12 34"}, kind=Purpose.VERIFICATION)
    assert codes(errors["code"]) == ["code_value"]
    assert rules.param_errors(variables=["code"], values={"code": "12 34"}, kind=Purpose.NOTIFICATION) == {}


def test_flow_control_allows_one_call_a_minute():
    assert rules.flow_control_error(previous_calls=[], now=NOW) is None
    error = rules.flow_control_error(previous_calls=[NOW - timedelta(seconds=30)], now=NOW)
    assert error.code == "flow_control"
    assert error.params["minutes"] == 1
    assert rules.flow_control_error(previous_calls=[NOW - timedelta(seconds=61)], now=NOW) is None


def test_flow_control_allows_five_calls_an_hour_sliding():
    calls = [NOW - timedelta(minutes=m) for m in (59, 40, 30, 20, 10)]
    error = rules.flow_control_error(previous_calls=calls, now=NOW)
    assert error.code == "flow_control"
    assert error.params["minutes"] == 1  # the 59-minute-old call leaves the window in a minute
    assert rules.flow_control_error(previous_calls=calls, now=NOW + timedelta(minutes=1, seconds=1)) is None


def test_flow_control_allows_twenty_calls_a_day():
    calls = [NOW - timedelta(hours=h + 0.5) for h in range(20)]
    assert rules.flow_control_error(previous_calls=calls, now=NOW).code == "flow_control"
    assert rules.flow_control_error(previous_calls=calls[:19], now=NOW) is None


def test_per_user_rate_limit():
    assert rules.rate_limit_error(calls_last_minute=9, limit=10) is None
    assert rules.rate_limit_error(calls_last_minute=10, limit=10).code == "rate_limit"


def test_ip_addresses_and_bare_domains_are_refused_in_values():
    for value, code in (("请回电 1.2.3.4", "ip_address"), ("地址 2001:db8::1", "ip_address"), ("详见example.cn", "link"),
                        ("登录12306.cn", "link")):
        errors = rules.param_errors(variables=["name"], values={"name": value}, kind=Purpose.NOTIFICATION)
        assert codes(errors["name"]) == [code], value
    error = rules.param_errors(variables=["name"], values={"name": "请回电 1.2.3.4"}, kind=Purpose.NOTIFICATION)["name"][0]
    assert "1.2.3.4" in error.message % error.params
    for value in ("明天10:30", "版本1.2.3", "Mr.Wang"):
        assert rules.param_errors(variables=["name"], values={"name": value}, kind=Purpose.NOTIFICATION) == {}, value


def test_a_blank_value_gets_one_message():
    errors = rules.param_errors(variables=["code"], values={"code": " "}, kind=Purpose.VERIFICATION)
    assert codes(errors["code"]) == ["required"]


def test_the_flow_control_windows_are_the_providers():
    assert [(window, allowed) for window, allowed in rules.FLOW_CONTROL_WINDOWS] == [
        (timedelta(minutes=1), 1), (timedelta(hours=1), 5), (timedelta(hours=24), 20)]
