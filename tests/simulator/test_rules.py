"""Per-callee flow control windows, fault switches, and the simulator's independence from Django."""
import subprocess
import sys

import pytest

from notifications.aliyun import VmsFlowControlled, VmsRejected, VmsThrottled, get_vms_client


class Clock:
    def __init__(self):
        self.now = 1_000_000.0

    def __call__(self):
        return self.now


@pytest.fixture
def clock(vms_simulator):
    clock = Clock()
    vms_simulator.app.clock = clock
    return clock  # the fixture's reset puts the real clock back


@pytest.fixture
def call(vms_simulator):
    vms_simulator.account.add_voice_file("abc.wav")
    client = get_vms_client()
    return lambda callee="13800000000": client.single_call_by_voice(called_number=callee, voice_code="abc.wav", out_id="f")


def _limited_message(call):
    with pytest.raises(VmsFlowControlled) as info:
        call()
    return info.value.message


def test_minute_hour_and_day_windows_slide(call, clock):
    call()
    assert "分钟级" in _limited_message(call)
    for _ in range(4):
        clock.now += 61
        call()
    clock.now += 61
    assert "小时级" in _limited_message(call)
    clock.now += 3600 - 5 * 61 + 1  # the first call of the hour has left the window
    call()
    for _ in range(14):
        clock.now += 3601
        call()
    clock.now += 3601
    assert "天级" in _limited_message(call)


def test_other_callees_are_not_limited(call):
    call("13800000000")
    call("13800000001")


def test_throttle_share_and_first_attempt_faults(call, vms_simulator):
    vms_simulator.set_faults(throttle_share=1.0)
    with pytest.raises(VmsThrottled):
        call()
    vms_simulator.set_faults(throttle_share=0.0, throttle_first_attempt=True)
    with pytest.raises(VmsThrottled):
        call("13800000002")
    call("13800000002")
    assert len(vms_simulator.calls) == 1


def test_duplicate_receipts_fault(call, vms_simulator):
    vms_simulator.set_faults(duplicate_receipts_share=1.0)
    call("13800000000")
    vms_simulator.drain()
    reports = [p for p in vms_simulator.pushed if p["message_type"] == "VoiceReport"]
    assert len(reports) == 2 and reports[0]["records"] == reports[1]["records"]


def test_the_simulator_package_does_not_need_django():
    code = "import sys, simulator; assert not any(name.startswith('django') for name in sys.modules)"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_a_failed_call_counts_towards_flow_control(call, vms_simulator):
    call("13800000002")  # ends busy
    vms_simulator.drain()
    with pytest.raises(VmsFlowControlled):
        call("13800000002")


# ----- The published template and parameter rules, as the simulator applies them (shared with the console) -----

@pytest.mark.parametrize(("content", "reason"), [
    ("请访问www.example.com了解详情。", "模板内容不能包含链接：www.example.com"),
    ("详情见example.cn。", "模板内容不能包含链接：example.cn"),
    ("服务器1.2.3.4已恢复。", "模板内容不能包含IP地址：1.2.3.4"),
    ("您好${name} ${order}已发货。", "变量不能相邻"),  # a space does not separate two variables
    ("您好${name}、${order}已发货。", "变量不能相邻"),
    ("您好${Mobile}，订单已发货。", "变量名不合规：Mobile"),
])
def test_templates_with_links_ips_or_adjacent_variables_are_rejected(content, reason):
    from simulator.account import template_review

    assert template_review(content=content, mode="dedicated", template_kind="notification") == reason


def test_a_good_template_and_a_long_name():
    from simulator.account import template_review

    assert template_review(content="您好${name}，订单${order}已发货。", mode="public", template_kind="notification") == ""
    assert template_review(content="您好", mode="public", template_kind="notification", name="名" * 31) == "模板名称不能超过30个字符"


@pytest.mark.parametrize(("value", "code"), [
    ("请回电 1.2.3.4", "isv.PARAM_NOT_SUPPORT_URL"),
    ("详见example.cn", "isv.PARAM_NOT_SUPPORT_URL"),
    ("服务器 fe80::1", "isv.PARAM_NOT_SUPPORT_URL"),
])
def test_values_with_ips_or_bare_domains_are_refused_over_http(vms_simulator, value, code):
    vms_simulator.account.add_template("TTS_1", "您好${name}，请留意。")
    with pytest.raises(VmsRejected) as info:
        get_vms_client().single_call_by_tts(called_number="13800000000", tts_code="TTS_1", tts_params={"name": value}, out_id="x")
    assert info.value.code == code
    assert vms_simulator.calls == []


def test_times_and_prices_in_values_are_not_links(vms_simulator):
    vms_simulator.account.add_template("TTS_1", "您好${name}，请留意。")
    get_vms_client().single_call_by_tts(called_number="13800000000", tts_code="TTS_1", tts_params={"name": "明天10:30取3.5公斤"},
                                        out_id="x")
    assert len(vms_simulator.calls) == 1
