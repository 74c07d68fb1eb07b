"""Conformance of the console's rules with the simulator's (and so with the provider's published rules).

The promise to a user: whatever the provider (here its simulator) would refuse, the console refuses first, next to
the field, with a message in their language — and the console refuses nothing the provider accepts, except for its
two written policies on call values (a blank value, a value for a variable the template does not have).

Thousands of generated templates and TtsParam objects go through both sides: the simulator's own checking functions
directly, and a sample over real HTTP (SingleCallByTts and the review control API).
"""
import json
import threading
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from notifications.aliyun import VmsRejected, get_vms_client, spec
from notifications.models import TtsTemplate
from notifications.rules import dialing as dialing_rules
from notifications.rules import templates as template_rules
from simulator.account import template_review
from simulator.app import call_option_problem, tts_param_problem

from . import strategies as gen

# Budgets: the whole module runs in well under 20 s while trying several thousand cases in total.
FAST = settings(max_examples=250, deadline=None, database=None)
MEDIUM = settings(max_examples=200, deadline=None, database=None)
HTTP = settings(max_examples=6, deadline=None, database=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

KINDS_AND_MODES = [("notification", "public"), ("notification", "dedicated"), ("verification", "public"),
                   ("verification", "dedicated")]
CONSOLE_ONLY_PARAM_CODES = {"required", "extra"}  # the console's own policies, beyond the provider's rules


def _console_template(content: str, kind: str, mode: str) -> list[str]:
    errors = template_rules.template_errors(content=content, kind=kind, mode=mode)
    # Every message must render in full: a key without wording or a missing %(param)s fails here.
    return [str(error.message % error.params if error.params else error.message) for error in errors]


def _agree_on_template(content: str, kind: str, mode: str) -> tuple[str, list[str]]:
    """Both verdicts; fails when one side refuses what the other accepts."""
    refused_by_simulator = template_review(content=content, mode=mode, template_kind=kind)
    refused_by_console = _console_template(content, kind, mode)
    if refused_by_simulator:
        assert refused_by_console, f"the simulator refuses {content!r} ({refused_by_simulator}) but the console accepts it"
    else:
        assert not refused_by_console, f"the console refuses {content!r} ({refused_by_console}) but the simulator accepts it"
    return refused_by_simulator, refused_by_console


# ----- Templates ---------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("kind", "mode"), KINDS_AND_MODES)
@FAST
@given(data=st.data())
def test_templates_the_reference_allows_pass_both(kind, mode, data):
    content = data.draw(gen.clean_templates(kind=kind, mode=mode))
    assert _agree_on_template(content, kind, mode) == ("", []), content


@pytest.mark.parametrize(("kind", "mode"), KINDS_AND_MODES)
@FAST
@given(data=st.data())
def test_templates_the_reference_forbids_are_refused_by_both(kind, mode, data):
    content, defect = data.draw(gen.broken_templates(kind=kind, mode=mode))
    simulator_reason, console_messages = _agree_on_template(content, kind, mode)
    assert simulator_reason and console_messages, f"{defect}: {content!r} passed"


@FAST
@given(content=gen.fuzz_templates, kind_mode=st.sampled_from(KINDS_AND_MODES))
def test_any_text_gets_the_same_verdict_from_both(content, kind_mode):
    _agree_on_template(content, *kind_mode)


@MEDIUM
@given(before=gen.plain_words, domain=gen.bare_domains, after=st.one_of(st.just(""), gen.plain_words))
def test_bare_domains_are_links_for_both(before, domain, after):
    """`example.cn` has no scheme, no `www.` and no forbidden symbol: only the link pattern can catch it."""
    simulator_reason, console_messages = _agree_on_template(f"{before}{domain}{after}", "notification", "dedicated")
    assert simulator_reason and console_messages
    simulator_error, codes = _agree_on_params(["a"], {"a": f"{before}{domain}{after}"}, "notification")
    assert simulator_error[0] == "isv.PARAM_NOT_SUPPORT_URL" and codes == {"link"}


@pytest.mark.parametrize("content", [
    "请访问www.example.com了解详情", "详情见example.cn。", "登录12306.cn购票", "请访问 HTTPS 官网", "服务器1.2.3.4已恢复",
    "您好${name}，${order}已发货", "您好${name}${order}已发货", "您好${name} ${order}已发货",
])
def test_the_issues_examples_are_refused_by_both(content):
    simulator_reason, console_messages = _agree_on_template(content, "notification", "dedicated")
    assert simulator_reason and console_messages


def test_a_link_is_named_in_the_message():
    from django.utils import translation

    with translation.override("en"):
        assert _console_template("详情见example.cn。", "notification", "public") == [
            "Links and web addresses are not allowed (found example.cn)."]
    with translation.override("zh-hans"):
        assert "example.cn" in _console_template("详情见example.cn。", "notification", "public")[0]
    assert template_review(content="详情见example.cn。", mode="public", template_kind="notification") == "模板内容不能包含链接：example.cn"


def test_the_template_name_limit_is_the_providers():
    assert TtsTemplate._meta.get_field("name").max_length == spec.TEMPLATE_NAME_MAX_LENGTH
    assert TtsTemplate._meta.get_field("content").max_length == spec.TEMPLATE_MAX_LENGTH
    assert template_review(content="您好", mode="public", template_kind="notification", name="名" * 31)
    assert not template_review(content="您好", mode="public", template_kind="notification", name="名" * 30)


# ----- TtsParam values ---------------------------------------------------------------------------------------------

def _agree_on_params(variables: list[str], values: dict[str, str], kind: str):
    """(simulator error or None, console error codes); fails on any disagreement the console's policies do not explain."""
    simulator_error = tts_param_problem(json.dumps(values, ensure_ascii=False) if values else "",
                                        {"variables": variables, "kind": kind})
    console = dialing_rules.param_errors(variables=variables, values=values, kind=kind)
    for errors in console.values():
        for error in errors:
            str(error.message % error.params if error.params else error.message)
    codes = {error.code for errors in console.values() for error in errors}
    if simulator_error:
        assert codes, f"the simulator refuses {values!r} with {simulator_error} but the console accepts it"
    provider_rule_codes = codes - CONSOLE_ONLY_PARAM_CODES
    if provider_rule_codes:
        assert simulator_error, f"the console refuses {values!r} ({provider_rule_codes}) but the simulator accepts it"
    if codes and not simulator_error:
        blank = [name for name in variables if name in values and not values[name].strip()]
        extra = set(values) - set(variables)
        assert blank or extra, f"the console refuses {values!r} ({codes}) for no written reason"
    return simulator_error, codes


@st.composite
def _variables(draw, kind):
    if kind == "verification":
        return [draw(gen.valid_names)]
    return draw(st.lists(gen.valid_names, min_size=1, max_size=3, unique=True))


@pytest.mark.parametrize("kind", ["notification", "verification"])
@FAST
@given(data=st.data())
def test_values_the_reference_allows_pass_both(kind, data):
    variables = data.draw(_variables(kind))
    value = gen.verification_codes if kind == "verification" else gen.clean_values
    values = {name: data.draw(value) for name in variables}
    if sum(map(len, values.values())) >= spec.MAX_PARAM_TOTAL:
        return
    assert _agree_on_params(variables, values, kind) == (None, set()), values


@pytest.mark.parametrize("kind", ["notification", "verification"])
@FAST
@given(data=st.data())
def test_links_and_ip_addresses_in_values_are_refused_by_both(kind, data):
    variables = data.draw(_variables(kind))
    values = {name: data.draw(gen.verification_codes if kind == "verification" else gen.clean_values) for name in variables}
    target = data.draw(st.sampled_from(variables))
    bad = data.draw(st.one_of(gen.links, gen.ip_addresses))
    values[target] = f"{data.draw(gen.plain_words)}{bad}{data.draw(st.one_of(st.just(''), gen.plain_words))}"[:200]
    if bad not in values[target]:
        return  # cut off by the length cap
    simulator_error, codes = _agree_on_params(variables, values, kind)
    assert simulator_error is not None and codes
    if sum(map(len, values.values())) < spec.MAX_PARAM_TOTAL:
        assert simulator_error[0] == "isv.PARAM_NOT_SUPPORT_URL", (values, simulator_error)
        assert {"link", "ip_address"} & codes


@MEDIUM
@given(data=st.data())
def test_the_total_length_limit_is_the_same_on_both_sides(data):
    variables = data.draw(st.lists(gen.valid_names, min_size=1, max_size=4, unique=True))
    total = data.draw(st.integers(spec.MAX_PARAM_TOTAL - 3, spec.MAX_PARAM_TOTAL + 3))
    cuts = sorted(data.draw(st.lists(st.integers(1, total - 1), min_size=len(variables) - 1, max_size=len(variables) - 1,
                                     unique=True)))
    lengths = [b - a for a, b in zip([0, *cuts], [*cuts, total], strict=True)]
    values = {name: "字" * length for name, length in zip(variables, lengths, strict=True)}
    simulator_error, codes = _agree_on_params(variables, values, "notification")
    if total < spec.MAX_PARAM_TOTAL:
        assert simulator_error is None and not codes
    else:
        assert simulator_error[0] == "isv.PARAM_LENGTH_LIMIT" and "too_long" in codes


@MEDIUM
@given(data=st.data(), kind=st.sampled_from(["notification", "verification"]))
def test_missing_blank_and_extra_values(data, kind):
    variables = data.draw(_variables(kind))
    values = {name: data.draw(gen.verification_codes if kind == "verification" else gen.clean_values) for name in variables}
    change = data.draw(st.sampled_from(["missing", "blank", "extra"]))
    name = data.draw(st.sampled_from(variables))
    if change == "missing":
        del values[name]
    elif change == "blank":
        values[name] = data.draw(st.sampled_from(["", " ", "  "]))
    else:
        extra = data.draw(gen.valid_names.filter(lambda candidate: candidate not in variables))
        values[extra] = "张三"
    if sum(map(len, values.values())) >= spec.MAX_PARAM_TOTAL:
        return
    simulator_error, codes = _agree_on_params(variables, values, kind)
    if change == "missing":
        assert simulator_error[0] == "isv.TEMPLATE_MISSING_PARAMETERS" and "required" in codes
    else:
        assert codes  # the console's policy; what the provider does with these is not published


@FAST
@given(variables=st.lists(gen.valid_names, min_size=1, max_size=3, unique=True), kind=st.sampled_from(["notification", "verification"]),
       data=st.data())
def test_any_values_get_the_same_verdict_from_both(variables, kind, data):
    values = {name: data.draw(gen.fuzz_values) for name in variables}
    _agree_on_params(variables, values, kind)


def test_the_issues_value_example():
    simulator_error, codes = _agree_on_params(["phone"], {"phone": "请回电 1.2.3.4"}, "notification")
    assert simulator_error[0] == "isv.PARAM_NOT_SUPPORT_URL" and codes == {"ip_address"}


# ----- PlayTimes, Volume, Speed --------------------------------------------------------------------------------------

@MEDIUM
@given(name=st.sampled_from(["PlayTimes", "Volume", "Speed"]), value=st.integers(-600, 600))
def test_play_times_volume_and_speed_ranges_agree(name, value):
    check = {"PlayTimes": dialing_rules.check_play_times, "Volume": dialing_rules.check_volume,
             "Speed": dialing_rules.check_speed}[name]
    assert bool(check(value)) == bool(call_option_problem({name: str(value)}))


# ----- Flow control --------------------------------------------------------------------------------------------------

def _reference_allows(accepted: list[float], now: float) -> bool:
    """§5.1 read literally: at most 1 call in any minute, 5 in any hour, 20 in any 24 hours, windows sliding."""
    return all(sum(1 for moment in accepted if moment > now - seconds) < permits
               for seconds, permits in ((60, 1), (3600, 5), (86400, 20)))


@settings(max_examples=120, deadline=None, database=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(gaps=st.lists(st.one_of(st.integers(0, 90), st.integers(500, 1500), st.integers(3000, 7300)), min_size=1, max_size=45))
def test_flow_control_windows_agree(vms_simulator, gaps):
    app = vms_simulator.app
    app._flow.clear()
    clock = [1_000_000.0]
    app.clock = lambda: clock[0]
    start = datetime(2026, 1, 1, tzinfo=UTC)
    accepted: list[float] = []
    for gap in gaps:
        clock[0] += gap
        now = start + timedelta(seconds=clock[0])
        console_refuses = dialing_rules.flow_control_error(previous_calls=[start + timedelta(seconds=t) for t in accepted],
                                                          now=now) is not None
        simulator_refuses = bool(app._flow_control("13900000000"))
        assert console_refuses == simulator_refuses == (not _reference_allows(accepted, clock[0])), (accepted, clock[0])
        if not simulator_refuses:
            accepted.append(clock[0])


# ----- Over real HTTP ----------------------------------------------------------------------------------------------

@pytest.fixture
def tts_account(vms_simulator):
    vms_simulator.account.add_template("TTS_C1", "您好${a}，订单${b}已发货。")
    vms_simulator.account.add_template("TTS_C2", "您的验证码是${code}，五分钟内有效。", kind="verification")
    return vms_simulator


_http_calls = iter(range(10_000_000))


@HTTP
@given(cases=st.lists(st.tuples(
    st.sampled_from(["notification", "verification"]),
    st.one_of(gen.clean_values, gen.links, gen.ip_addresses, gen.fuzz_values, st.just("请回电 1.2.3.4")),
), min_size=8, max_size=8))
def test_a_sample_over_http_gets_the_answers_of_the_checking_functions(tts_account, cases):
    client = get_vms_client()
    for kind, value in cases:
        variables = ["code"] if kind == "verification" else ["a", "b"]
        values = {name: value for name in variables}
        simulator_error, codes = _agree_on_params(variables, values, kind)
        # A fresh callee each time, so flow control never answers instead of the parameter rules.
        callee = f"139{next(_http_calls):08d}"
        try:
            client.single_call_by_tts(called_number=callee, tts_code="TTS_C2" if kind == "verification" else "TTS_C1",
                                      tts_params=values, out_id="c")
        except VmsRejected as exc:
            assert simulator_error is not None and exc.code == simulator_error[0], (values, exc.code)
            assert codes, f"the provider refused {values!r} ({exc.code}) but the console would have sent it"
        else:
            assert simulator_error is None, (values, simulator_error)


class _Decisions(BaseHTTPRequestHandler):
    received: list = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.received.append(json.loads(body))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def decision_url():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Decisions)
    _Decisions.received = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


@HTTP
@given(cases=st.lists(st.sampled_from(KINDS_AND_MODES).flatmap(
    lambda kind_mode: st.tuples(st.just(kind_mode), st.one_of(
        gen.clean_templates(kind=kind_mode[0], mode=kind_mode[1]),
        gen.broken_templates(kind=kind_mode[0], mode=kind_mode[1]).map(lambda pair: pair[0]),
        gen.fuzz_templates,
    ))), min_size=8, max_size=8))
def test_a_sample_of_reviews_over_http_gets_the_consoles_verdict(vms_simulator, decision_url, cases):
    import requests

    _Decisions.received = []
    headers = {"X-Simulator-Key": vms_simulator.app.config.access_key_secret}
    for ref, ((kind, mode), content) in enumerate(cases):
        answer = requests.post(vms_simulator.control_url + "reviews", timeout=5, headers=headers, json={
            "kind": "tts_template", "ref": str(ref), "content": content, "mode": mode, "template_kind": kind,
            "name": "一致性", "callback_url": decision_url})
        assert answer.status_code == 202
    vms_simulator.drain()
    decisions = {decision["ref"]: decision for decision in _Decisions.received}
    assert len(decisions) == len(cases)
    for ref, ((kind, mode), content) in enumerate(cases):
        refused_by_console = _console_template(content, kind, mode)
        decision = decisions[str(ref)]
        assert (decision["decision"] == "rejected") == bool(refused_by_console), (content, decision, refused_by_console)
