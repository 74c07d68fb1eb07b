"""Validators: credit codes, numbers and every TTS template rule of reference §1.6."""
import pytest
from django.core.exceptions import ValidationError

from notifications.models import Mode, Purpose
from notifications.rules import templates as rules
from notifications.rules.identifiers import normalize_credit_code, normalize_mainland_number


def codes(errors) -> list[str]:
    return [error.code for error in errors]


@pytest.mark.parametrize("code", ["91350100M000100Y43", "91110000600037341L", "91350100m000100y43"])
def test_valid_credit_codes_are_accepted_in_upper_case(code):
    assert normalize_credit_code(code) == code.upper()


@pytest.mark.parametrize(
    ("code", "reason"),
    [
        ("91350100M000100Y4", "length"),
        ("91350100M000100Y44", "checksum"),
        ("91350100M000100YI3", "alphabet"),
        ("9135A100M000100Y43", "region"),
        ("", "length"),
    ],
)
def test_invalid_credit_codes_are_refused_with_the_reason(code, reason):
    with pytest.raises(ValidationError) as excinfo:
        normalize_credit_code(code)
    assert excinfo.value.code == reason


def test_mainland_numbers_are_normalised():
    assert normalize_mainland_number("138 0013 8000") == ("13800138000", "mobile")
    assert normalize_mainland_number("0571-8888 0001") == ("057188880001", "landline")


@pytest.mark.parametrize("number", ["12345", "+1 650 253 0000", "abc"])
def test_numbers_outside_the_mainland_or_malformed_are_refused(number):
    with pytest.raises(ValidationError):
        normalize_mainland_number(number)


def test_a_good_template_breaks_no_rule():
    assert rules.template_errors(content="尊敬的${name}，您的订单${order}已发货。", kind=Purpose.NOTIFICATION, mode=Mode.PUBLIC) == []


def test_rule_length():
    assert codes(rules.check_length("")) == ["length"]
    assert codes(rules.check_length("好" * 1001)) == ["length"]
    assert rules.check_length("好" * 1000) == []


@pytest.mark.parametrize("symbol", list("#/:-%¥【】[]"))
def test_rule_forbidden_symbols(symbol):
    assert codes(rules.check_symbols(f"您好{symbol}欢迎")) == ["symbols"]


def test_rule_dollar_only_inside_placeholders():
    assert codes(rules.check_symbols("价格$100")) == ["symbols"]
    assert rules.check_symbols("您好${name}") == []


def test_rule_no_links():
    assert codes(rules.check_links("请访问 HTTPS example.com")) == ["link"]
    assert rules.check_links("请访问官网") == []


def test_rule_no_ip_addresses():
    assert codes(rules.check_ip_addresses("服务器192.168.1.20已恢复")) == ["ip_address"]
    assert rules.check_ip_addresses("版本1.2.3已发布") == []


def test_rule_variable_name_syntax():
    assert codes(rules.check_variable_names("您好${1abc}")) == ["variable_name"]
    assert codes(rules.check_variable_names("您好${a-b}")) == ["variable_name"]
    assert rules.check_variable_names("您好${user_name2}") == []


def test_rule_reserved_names():
    assert codes(rules.check_reserved_names("您好${mobile}")) == ["reserved_name"]
    assert rules.check_reserved_names("您好${phone}") == []


def test_rule_no_adjacent_variables():
    assert codes(rules.check_adjacent_variables("您好${a},${b}欢迎")) == ["adjacent"]
    assert codes(rules.check_adjacent_variables("您好${a}${b}欢迎")) == ["adjacent"]
    assert rules.check_adjacent_variables("您好${a}，订单${b}已发货") == []


def test_rule_not_only_variables():
    assert codes(rules.check_not_only_variables("${a}，")) == ["only_variables"]
    assert rules.check_not_only_variables("您好${a}") == []


def test_rule_each_variable_once():
    assert codes(rules.check_each_variable_once("您好${a}，再见${a}")) == ["repeated"]


def test_rule_public_mode_at_most_two_variables():
    content = "您好${a}，订单${b}，时间${c}"
    assert codes(rules.check_public_variable_count(content, Mode.PUBLIC)) == ["public_variables"]
    assert rules.check_public_variable_count(content, Mode.DEDICATED) == []


def test_rule_verification_code_has_exactly_one_variable():
    assert codes(rules.check_code_variable_count("验证码${a}，序号${b}", Purpose.VERIFICATION)) == ["code_variables"]
    assert codes(rules.check_code_variable_count("验证码已发送", Purpose.VERIFICATION)) == ["code_variables"]
    assert rules.check_code_variable_count("验证码${code}", Purpose.VERIFICATION) == []


def test_rule_verification_code_keyword():
    assert codes(rules.check_code_keyword("您的密码是${code}", Purpose.VERIFICATION)) == ["code_keyword"]
    assert rules.check_code_keyword("您的动态码是${code}", Purpose.VERIFICATION) == []
    assert rules.check_code_keyword("您的密码是${code}", Purpose.NOTIFICATION) == []


def test_every_broken_rule_gets_its_own_message():
    errors = rules.template_errors(content="${mobile}${mobile}#", kind=Purpose.VERIFICATION, mode=Mode.PUBLIC)
    assert {"symbols", "reserved_name", "adjacent", "only_variables", "repeated", "code_keyword"} <= set(codes(errors))


@pytest.mark.parametrize("content", ["请访问www.example.com了解详情", "详情见example.cn。", "登录12306.cn购票", "访问例子.中国"])
def test_rule_no_links_without_a_scheme(content):
    errors = rules.check_links(content)
    assert codes(errors) == ["link"]
    found = errors[0].params["link"]
    assert found and found in content and found in str(errors[0].message % errors[0].params)


def test_rule_dotted_numbers_that_are_no_link_or_ip():
    for content in ("重量3.5公斤", "版本1.2.3已发布", "王先生Mr.Wang您好"):
        assert rules.check_links(content) == rules.check_ip_addresses(content) == [], content


def test_rule_a_space_or_punctuation_does_not_separate_variables():
    for content in ("您好${a} ${b}欢迎", "您好${a}、${b}欢迎", "您好${a}。${b}欢迎"):
        assert codes(rules.check_adjacent_variables(content)) == ["adjacent"], content
