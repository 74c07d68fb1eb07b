"""The provider's published facts, in one place for the console and the simulator alike.

Plain Python only: nothing here imports Django, so the simulator (a separate component) can use it too.
Section numbers (§) refer to the provider reference (reference/aliyun-vms.md in the project brief).

The check functions are pure and speak in problem keys (`Problem("link", {"link": "example.cn"})`), never in
sentences: the console's `notifications.rules` turns a key into a translated message next to the field, the
simulator turns it into the provider's error code (`isv.PARAM_NOT_SUPPORT_URL`). One function, two voices, so
the two cannot disagree about what the provider refuses.
"""
import ipaddress
import itertools
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import NamedTuple

# ----- Time (§6.4, §3.3) -----------------------------------------------------------------------------------------

# The provider's wall-clock times (`yyyy-MM-dd HH:mm:ss`) are Beijing time, whatever the console's TIME_ZONE.
BEIJING = timezone(timedelta(hours=8), "Asia/Shanghai")
PROVIDER_TIME_FORMAT = "%Y-%m-%d %H:%M:%S"


def parse_provider_time(text: str) -> datetime:
    """`2024-03-06 16:21:30` (or an ISO variant) as an aware datetime; a time without an offset is Beijing time.

    Raises ValueError for anything else.
    """
    # fromisoformat reads `yyyy-MM-dd HH:mm:ss` several times faster than strptime.
    parsed = datetime.fromisoformat(text)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=BEIJING)


def format_provider_time(moment: datetime | None) -> str:
    """An aware datetime as the provider writes it (Beijing wall clock); "" for None, as in an unanswered call."""
    return moment.astimezone(BEIJING).strftime(PROVIDER_TIME_FORMAT) if moment else ""


# ----- API facts (§0, §3) -----------------------------------------------------------------------------------------

API_VERSION = "2017-05-25"
PROD_ID_VOICE_NOTIFICATION = "11000000300006"  # the doc ties it to SingleCallByVoice
PROD_ID_VERIFICATION = "11010000138001"  # the doc ties it to SingleCallByTts

MODE_PUBLIC = "public"
MODE_DEDICATED = "dedicated"
KIND_NOTIFICATION = "notification"
KIND_VERIFICATION = "verification"

# ----- TTS template rules (§1.6) ----------------------------------------------------------------------------------

TEMPLATE_MIN_LENGTH = 1
TEMPLATE_MAX_LENGTH = 1000  # characters, variables included
TEMPLATE_NAME_MAX_LENGTH = 30
# The Chinese page lists # / : - % ¥ 【 】, the English one renders them as # / : - % $ [ ]: both sets are refused.
# They are checked outside ${...} only, where `$` and the braces belong to the variable syntax.
FORBIDDEN_SYMBOLS = "#/:-%¥【】[]$"
RESERVED_NAMES = frozenset({"email", "mobile", "id", "nick", "site"})
CODE_KEYWORDS = ("验证码", "注册码", "校验码", "动态码")
MAX_PUBLIC_VARIABLES = 2  # public pool; dedicated mode has no limit
VERIFICATION_VARIABLES = 1

# Anything that looks like a placeholder, well-formed or not, so a bad name can be reported.
PLACEHOLDER = re.compile(r"\$\{([^}]*)\}")
VARIABLE_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*")

# Links: the strings http/https anywhere (the template rules name them literally), a scheme separator, `www.`,
# and bare domains such as `example.cn` or `12306.cn` — glued to Chinese text too, hence ASCII look-arounds
# instead of \b (a Chinese character counts as a word character).
# Common TLDs only: `wang`, `ren` and the like would turn "Mr.Wang" into a link.
_TLDS = (
    "com|cn|net|org|gov|edu|info|biz|top|xyz|io|cc|me|co|tv|vip|link|ly|shop|site|club|online|tech|app|dev|mobi|"
    "asia|cloud|hk|tw|us|uk|jp|kr"
)
LINK = re.compile(
    r"https?(?::/*[\x21-\x7e]*)?"  # the string itself, with what follows a scheme
    r"|://[\x21-\x7e]*"
    r"|www\.[A-Za-z0-9.-]*"
    r"|(?<![A-Za-z0-9-])[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?\.(?:" + _TLDS + r")(?![A-Za-z0-9])"
    r"|[^\s.]\.(?:中国|公司|网络)",
    re.IGNORECASE,
)
# Any dotted quad counts as an IP address, 999.1.1.1 included: the provider's filter is not published, and refusing
# a version number written as four numbers costs the writer less than a refusal at dial time.
IPV4 = re.compile(r"(?<!\d)\d{1,3}(?:\.\d{1,3}){3}(?!\d)")
# IPv6 candidates are confirmed by `ipaddress`, so a time such as 10:30:00 is not one.
_IPV6_CANDIDATE = re.compile(r"[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7}")

# ----- Call parameters (§3.1, §3.2, §1.6 runtime limits) ----------------------------------------------------------

MAX_PARAM_TOTAL = 250  # all TtsParam values together must stay *under* this many characters
VERIFICATION_CODE_VALUE = re.compile(r"[A-Za-z0-9]+")
PLAY_TIMES_RANGE = (1, 3)
PLAY_TIMES_DEFAULT = 3
VOLUME_RANGE = (0, 100)
VOLUME_DEFAULT = 100
SPEED_RANGE = (-500, 500)
OUT_ID_MAX_BYTES = 15
# Request parameter name -> inclusive range.
CALL_OPTION_RANGES = {"PlayTimes": PLAY_TIMES_RANGE, "Volume": VOLUME_RANGE, "Speed": SPEED_RANGE}


# ----- Flow control (§5.1) ----------------------------------------------------------------------------------------

class FlowWindow(NamedTuple):
    length: timedelta
    permits: int
    name: str  # "minute", "hour" or "day"


# Per qualification + number purpose + callee, sliding; failed calls count too.
FLOW_CONTROL_WINDOWS = (
    FlowWindow(timedelta(minutes=1), 1, "minute"),
    FlowWindow(timedelta(hours=1), 5, "hour"),
    FlowWindow(timedelta(hours=24), 20, "day"),
)


# ----- Results (§6.5, §6.6) ---------------------------------------------------------------------------------------

# Intermediate codes of an outbound single call (VoiceCallReport).
CALL_PROGRESS_CODES = {
    "200101": "calling started",
    "200201": "callee ringing",
    "200102": "callee answered",
    "200100": "call ended",
    "300000": "DTMF key message",
}
# Final carrier results (VoiceReport status_code, QueryCallDetailByCallId state).
STATUS_CODES = {
    "200000": "user listened to the whole message",
    "200001": "user hung up before the message finished",
    "200002": "busy",
    "200003": "rang, not answered",
    "200004": "invalid number",
    "200005": "unreachable (carrier issue, handset anti-spam, public-pool number flagged as spam)",
    "200006": "playback failed: audio format wrong",
    "200007": "unreachable / out of service area",
    "200008": "timeout waiting for key press",
    "200010": "powered off",
    "200011": "suspended",
    "200100": "call ended (two-leg)",
    "200101": "connecting caller",
    "200102": "caller connected, connecting callee",
    "200103": "call established, talking",
    "200104": "caller number restricted",
    "200105": "callee number restricted (two-leg)",
    "200111": "callee rejected (two-leg)",
    "200112": "callee busy (two-leg)",
    "200113": "callee did not answer (two-leg)",
    "200116": "callee number invalid (two-leg)",
    "200117": "display number used against carrier rules",
    "200118": "supplier time-window restriction",
    "200119": "supplier frequency restriction",
    "200120": "callee out of service area (two-leg)",
    "200121": "over concurrency limit",
    "300000": "DTMF message",
    "9996": "call not established or already ended",
    "999999": "system error",
    "500": "carrier error",
    "400": "network element busy",
    "482": "callee number unavailable",
    "476": "number forcibly reclaimed",
    "473": "callee over frequency",
}
# "Answered" for a notification: connected, whether or not the callee heard it to the end.
ANSWERED_STATUS_CODES = frozenset({"200000", "200001"})
SMART_STATUS_CODES = {
    "ANSWERED": "answered",
    "CANCEL": "caller cancelled",
    "CALL_REJECTED": "rejected",
    "CALL_FORWARDING": "diverted (forwarding, answering assistant, secretary)",
    "INCOMING_CALL_BARRED": "callee bars incoming calls",
    "INVALID_NUMBER": "nonexistent number",
    "NO_ANSWER": "no answer",
    "NO_USER_RESPONDING": "out of service area",
    "NETWORK_BUSY": "network busy",
    "OPERATOR_BLOCK": "carrier blocked",
    "POWERED_OFF": "powered off",
    "SUSPEND": "suspended",
    "USER_BUSY": "user busy",
    "UNAVAILABLE": "temporarily unreachable or undetermined",
    "OTHER": "other",
}

# Business error codes of a refused request (§4.1) that the parameter and template rules lead to.
ERROR_FLOW_CONTROL = "isv.BUSINESS_LIMIT_CONTROL"
ERROR_MOBILE_NUMBER = "isv.MOBILE_NUMBER_ILLEGAL"
ERROR_DISPLAY_NUMBER = "isv.DISPLAY_NUMBER_ILLEGAL"
ERROR_TTS_TEMPLATE = "isv.TTS_TEMPLATE_ILLEGAL"
ERROR_VOICE_FILE = "isv.VOICE_FILE_ILLEGAL"
ERROR_PARAMS_ILLEGAL = "isv.TEMPLATE_PARAMS_ILLEGAL"
ERROR_MISSING_PARAMETERS = "isv.TEMPLATE_MISSING_PARAMETERS"
ERROR_PARAM_URL = "isv.PARAM_NOT_SUPPORT_URL"
ERROR_PARAM_LENGTH = "isv.PARAM_LENGTH_LIMIT"
ERROR_INVALID_PARAMETERS = "isv.INVALID_PARAMETERS"

# QueryVoiceFileAuditInfo (§3.4, §7.3): up to 10 comma-separated VoiceCodes a request; BusinessType 0 = notification
# file (the default), 2 = recording file. Its QPS is not published (§5.2 lists other APIs only): a setting on each side.
AUDIT_QUERY_MAX_CODES = 10
AUDIT_BUSINESS_NOTIFICATION, AUDIT_BUSINESS_RECORDING = "0", "2"
AUDIT_BUSINESS_TYPES = (AUDIT_BUSINESS_NOTIFICATION, AUDIT_BUSINESS_RECORDING)
AUDIT_PENDING, AUDIT_APPROVED, AUDIT_REJECTED, AUDIT_CANCELLED = "pending", "approved", "rejected", "cancelled"
# Every AuditState of §7.3, spelled as the API spells it (AUDIT_SATE_CANCEL sic), and what it means for the register.
# Only AUDIT_STATE_PASS may be dialled: "approved, being uploaded" is still waiting.
AUDIT_STATES = {
    "AUDIT_STATE_INIT": AUDIT_PENDING,
    "AUDIT_STATE_PASS": AUDIT_APPROVED,
    "AUDIT_STATE_NOT_PASS": AUDIT_REJECTED,
    "AUDIT_STATE_UPLOADING": AUDIT_PENDING,
    "AUDIT_STATE_REDOING": AUDIT_PENDING,
    "AUDIT_SATE_CANCEL": AUDIT_CANCELLED,
    "AUDIT_PAUSE": AUDIT_PENDING,
    "AUDIT_ORDER_FINISHED": AUDIT_PENDING,
}


# ----- Pure checks ------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Problem:
    """One broken rule: a stable key and the values a message about it may quote."""

    key: str
    params: Mapping = field(default_factory=dict)


def template_variables(content: str) -> list[str]:
    """Variable names in order of first appearance (each once)."""
    return list(dict.fromkeys(PLACEHOLDER.findall(content or "")))


def text_outside_placeholders(content: str) -> str:
    return PLACEHOLDER.sub(" ", content or "")


def is_filler(text: str) -> bool:
    """True for text made only of punctuation and spaces: it does not separate two variables."""
    return all(ch.isspace() or unicodedata.category(ch)[0] in "PZ" for ch in text)


def find_link(text: str) -> str:
    """The first thing in the text that reads as a link or web address, or ""."""
    match = LINK.search(text or "")
    return match.group(0) if match else ""


def find_ip_address(text: str) -> str:
    """The first IPv4 (any dotted quad) or IPv6 address in the text, or ""."""
    text = text or ""
    match = IPV4.search(text)
    if match:
        return match.group(0)
    for candidate in _IPV6_CANDIDATE.findall(text):
        try:
            ipaddress.IPv6Address(candidate)
        except ValueError:
            continue
        return candidate
    return ""


def template_length_problem(content: str) -> Problem | None:
    length = len(content or "")
    if TEMPLATE_MIN_LENGTH <= length <= TEMPLATE_MAX_LENGTH:
        return None
    return Problem("length", {"length": length, "max": TEMPLATE_MAX_LENGTH})


def template_name_problem(name: str) -> Problem | None:
    length = len(name or "")
    return Problem("name_length", {"length": length, "max": TEMPLATE_NAME_MAX_LENGTH}) if length > TEMPLATE_NAME_MAX_LENGTH else None


def symbols_problem(content: str) -> Problem | None:
    found = sorted({ch for ch in text_outside_placeholders(content) if ch in FORBIDDEN_SYMBOLS})
    return Problem("symbols", {"symbols": found}) if found else None


def template_link_problem(content: str) -> Problem | None:
    # The whole content: "http" is refused even inside a variable name.
    link = find_link(content)
    return Problem("link", {"link": link}) if link else None


def template_ip_problem(content: str) -> Problem | None:
    ip = find_ip_address(text_outside_placeholders(content))
    return Problem("ip_address", {"ip": ip}) if ip else None


def variable_name_problem(content: str) -> Problem | None:
    bad = [name for name in template_variables(content) if not VARIABLE_NAME.fullmatch(name)]
    return Problem("variable_name", {"names": bad}) if bad else None


def reserved_name_problem(content: str) -> Problem | None:
    reserved = [name for name in template_variables(content) if name.lower() in RESERVED_NAMES]
    return Problem("reserved_name", {"names": reserved}) if reserved else None


def adjacent_problem(content: str) -> Problem | None:
    """Two variables with nothing but spaces or punctuation between them (`${name},${content}` is the doc's example)."""
    content = content or ""
    for left, right in itertools.pairwise(PLACEHOLDER.finditer(content)):
        if is_filler(content[left.end() : right.start()]):
            return Problem("adjacent", {"left": left.group(0), "right": right.group(0)})
    return None


def only_variables_problem(content: str) -> Problem | None:
    if PLACEHOLDER.search(content or "") and is_filler(text_outside_placeholders(content)):
        return Problem("only_variables")
    return None


def repeated_problem(content: str) -> Problem | None:
    names = PLACEHOLDER.findall(content or "")
    repeated = sorted({name for name in names if names.count(name) > 1})
    return Problem("repeated", {"names": repeated}) if repeated else None


def public_variable_count_problem(content: str, mode: str) -> Problem | None:
    count = len(template_variables(content))
    if mode == MODE_PUBLIC and count > MAX_PUBLIC_VARIABLES:
        return Problem("public_variables", {"max": MAX_PUBLIC_VARIABLES, "count": count})
    return None


def code_variable_count_problem(content: str, kind: str) -> Problem | None:
    count = len(template_variables(content))
    if kind == KIND_VERIFICATION and count != VERIFICATION_VARIABLES:
        return Problem("code_variables", {"count": count})
    return None


def code_keyword_problem(content: str, kind: str) -> Problem | None:
    if kind == KIND_VERIFICATION and not any(word in (content or "") for word in CODE_KEYWORDS):
        return Problem("code_keyword", {"keywords": list(CODE_KEYWORDS)})
    return None


# Order matters only for who reports first (the simulator gives one reason, the console all of them).
_CONTENT_RULES = (
    template_length_problem, symbols_problem, template_link_problem, template_ip_problem, variable_name_problem,
    reserved_name_problem, adjacent_problem, only_variables_problem, repeated_problem,
)


def template_problems(*, content: str, kind: str, mode: str) -> list[Problem]:
    """Every published template rule this content breaks, one problem per rule; [] when it is acceptable."""
    found = [rule(content) for rule in _CONTENT_RULES]
    found += [public_variable_count_problem(content, mode), code_variable_count_problem(content, kind),
              code_keyword_problem(content, kind)]
    return [problem for problem in found if problem]


def param_value_problems(value: str, *, kind: str) -> list[Problem]:
    """What the provider refuses in one TtsParam value: links, IP addresses, a code that is not letters and digits."""
    text = str(value)
    found = []
    link = find_link(text)
    if link:
        found.append(Problem("link", {"link": link}))
    ip = find_ip_address(text)
    if ip:
        found.append(Problem("ip_address", {"ip": ip}))
    if kind == KIND_VERIFICATION and not VERIFICATION_CODE_VALUE.fullmatch(text):
        found.append(Problem("code_value"))
    return found


def param_problems(*, variables: Iterable[str], values: Mapping[str, object], kind: str) -> dict[str, list[Problem]]:
    """Problems per variable name for a TtsParam object; the key "" holds those about the values as a whole.

    Keys: `missing` (a template variable has no value), `link`, `ip_address`, `code_value`, and under "" `too_long`.
    """
    problems: dict[str, list[Problem]] = {}
    for name in variables:
        if name not in values:
            problems.setdefault(name, []).append(Problem("missing"))
    for name, value in values.items():
        found = param_value_problems(str(value), kind=kind)
        if found:
            problems.setdefault(name, []).extend(found)
    total = sum(len(str(value)) for value in values.values())
    if total >= MAX_PARAM_TOTAL:
        problems.setdefault("", []).append(Problem("too_long", {"total": total, "max": MAX_PARAM_TOTAL}))
    return problems


def range_problem(value: int | None, bounds: tuple[int, int]) -> Problem | None:
    """None when the value is absent (the provider's default applies) or within the inclusive bounds."""
    low, high = bounds
    if value is None or low <= value <= high:
        return None
    return Problem("range", {"min": low, "max": high})


def out_id_problem(out_id: str) -> Problem | None:
    size = len((out_id or "").encode())
    return Problem("out_id", {"bytes": size, "max": OUT_ID_MAX_BYTES}) if size > OUT_ID_MAX_BYTES else None


class FlowLimit(NamedTuple):
    """A flow-control window that is full: how many calls it holds and when the oldest counted one leaves it."""

    window: FlowWindow
    count: int
    free_at: object  # same type as `now`: a datetime, or seconds on the caller's clock


def flow_control_limit(previous: Iterable, now) -> FlowLimit | None:
    """The first full window for one callee, or None when one more call is allowed.

    `previous` and `now` are datetimes or plain seconds (the simulator's monotonic clock) — the same kind for both.
    """
    moments = list(previous)
    for window in FLOW_CONTROL_WINDOWS:
        span = window.length if isinstance(now, datetime) else window.length.total_seconds()
        in_window = sorted(moment for moment in moments if moment > now - span)
        if len(in_window) >= window.permits:
            # The call that must leave the window before another one fits.
            return FlowLimit(window, len(in_window), in_window[-window.permits] + span)
    return None
