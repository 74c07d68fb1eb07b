"""The WSGI application: the Dyvmsapi RPC gateway at `/` and a control API under `/_simulator/`."""
import hashlib
import hmac
import itertools
import json
import logging
import random
import re
import threading
import time
import uuid
from collections import deque
from datetime import UTC, datetime
from urllib.parse import parse_qs
from xml.sax.saxutils import escape

from notifications.aliyun import spec  # the provider's published rules, shared with the console (no Django)

from . import signing
from .account import Account, template_review, voice_file_review
from .engine import Engine, post_json

logger = logging.getLogger("simulator")

VERSION = spec.API_VERSION
HOST_ID = "dyvmsapi.aliyuncs.com"
NONCE_TTL = 15 * 60
CLOCK_SKEW = 15 * 60
PROD_VOICE = spec.PROD_ID_VOICE_NOTIFICATION
PROD_TTS = spec.PROD_ID_VERIFICATION
CALLED_NUMBER = re.compile(r"^(1\d{10}|0\d{9,11})$")
_WINDOW_WORDS = {"minute": "分钟级", "hour": "小时级", "day": "天级"}
_DAY_SECONDS = spec.FLOW_CONTROL_WINDOWS[-1].length.total_seconds()
# TtsParam problems of the shared rules in the provider's words, most basic first (the provider names one reason).
_PARAM_ERRORS = {
    "missing": (spec.ERROR_MISSING_PARAMETERS, "模板变量缺少对应参数值"),
    "too_long": (spec.ERROR_PARAM_LENGTH, "参数超出长度限制"),
    "link": (spec.ERROR_PARAM_URL, "不支持url为变量"),
    "ip_address": (spec.ERROR_PARAM_URL, "不支持url为变量"),
    "code_value": (spec.ERROR_PARAMS_ILLEGAL, "验证码只能包含数字和字母"),
}
_AUDIT_STATE_OF = {"approved": "AUDIT_STATE_PASS", "rejected": "AUDIT_STATE_NOT_PASS", "pending": "AUDIT_STATE_INIT"}
STATUS_TEXT = {200: "200 OK", 400: "400 Bad Request", 403: "403 Forbidden", 404: "404 Not Found", 500: "500 Internal Server Error",
               503: "503 Service Unavailable"}


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str):
        super().__init__(code)
        self.status = status
        self.code = code
        self.message = message


class Simulator:
    """A WSGI callable. State lives in memory and is reset with `reset()`."""

    def __init__(self, config):
        self.config = config
        self.account = Account({config.access_key_id: config.access_key_secret})
        if config.account_file:
            self.account.load_file(config.account_file)
        self.engine = Engine(config)
        self._lock = threading.Lock()
        self._nonces: dict[str, float] = {}
        self._nonce_order: deque = deque()
        self._qps: dict[str, tuple[int, int]] = {}
        self._flow: dict[str, deque] = {}
        self._throttled_once: set[str] = set()
        self._call_seq = itertools.count(116_000_000_000 + int(time.time()) % 1_000_000 * 1000)
        self.calls: list[dict] = []
        self._calls_by_id: dict[str, dict] = {}
        self.clock = time.monotonic  # flow-control windows are in real seconds; tests may move this clock

    def reset(self) -> None:
        self.clock = time.monotonic
        with self._lock:
            self._nonces.clear()
            self._nonce_order.clear()
            self._qps.clear()
            self._flow.clear()
            self._throttled_once.clear()
            self.calls.clear()
            self._calls_by_id.clear()
        self.account.clear()
        self.engine.clear()

    # -- WSGI ---------------------------------------------------------------------------------------

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "/") or "/"
        try:
            if path.startswith("/_simulator/"):
                status, body, content_type = self._control(environ, path)
            else:
                status, body, content_type = self._gateway(environ)
        except Exception:
            logger.exception("simulator request failed")
            status, body, content_type = 500, b'{"Code":"InternalError"}', "application/json"
        start_response(STATUS_TEXT.get(status, f"{status} Error"),
                       [("Content-Type", content_type), ("Content-Length", str(len(body)))])
        return [body]

    # -- gateway ------------------------------------------------------------------------------------

    def _gateway(self, environ):
        request_id = str(uuid.uuid4()).upper()
        method = environ.get("REQUEST_METHOD", "GET")
        body = _read_body(environ)
        query = _parse(environ.get("QUERY_STRING", ""))
        params = dict(query)
        content_type = environ.get("CONTENT_TYPE", "")
        if body and content_type.startswith("application/x-www-form-urlencoded"):
            params.update(_parse(body.decode("utf-8")))
        response_format = (params.get("Format") or ("JSON" if environ.get("HTTP_AUTHORIZATION") else "XML")).upper()
        action = params.get("Action") or environ.get("HTTP_X_ACS_ACTION", "")
        try:
            if method not in ("GET", "POST"):
                raise ApiError(400, "UnsupportedHTTPMethod", "This http method is not supported.")
            if response_format not in ("JSON", "XML"):
                response_format = "JSON"
                raise ApiError(400, "InvalidParameter.Format", "Specified parameter Format is not valid.")
            self._authenticate(environ, method, query, params, body)
            version = params.get("Version") or environ.get("HTTP_X_ACS_VERSION", "")
            if not action:
                raise ApiError(400, "MissingAction", "Action is mandatory for this request.")
            handler = {"SingleCallByTts": self._single_call_by_tts, "SingleCallByVoice": self._single_call_by_voice,
                       "QueryCallDetailByCallId": self._query_call_detail,
                       "QueryVoiceFileAuditInfo": self._query_voice_file_audit}.get(action)
            if handler is None:
                raise ApiError(404, "InvalidApi.NotFound", "Specified api is not found, please check your url and method.")
            if version != VERSION:
                raise ApiError(400, "InvalidVersion", "Specified parameter Version is not valid.")
            self._delay()
            payload = handler(params)
            if payload.pop("_hold", False):
                # The call exists now, but the answer comes later than the client waits.
                time.sleep(self.config.faults.read_timeout_seconds)
            status = 200
            if payload.get("Code") == spec.ERROR_FLOW_CONTROL:
                status = 200  # the SMS-family gateway delivers flow control with HTTP 200
            elif payload.get("Code", "OK") != "OK":
                status = 400
            result = {"RequestId": request_id, **payload}
        except ApiError as exc:
            status = exc.status
            result = {"RequestId": request_id, "HostId": HOST_ID, "Code": exc.code, "Message": exc.message,
                      "Recommend": f"https://api.aliyun.com/troubleshoot?q={exc.code}&product=Dyvmsapi"}
        logger.debug("simulator %s %s -> %s", action, request_id, result.get("Code"))
        if response_format == "XML":
            root = f"{action}Response" if status == 200 else "Error"
            return status, _xml(root, result), "text/xml;charset=utf-8"
        return status, json.dumps(result, ensure_ascii=False).encode(), "application/json;charset=utf-8"

    def _delay(self) -> None:
        if self.config.faults.latency_ms:
            time.sleep(self.config.faults.latency_ms / 1000)

    def _authenticate(self, environ, method, query, params, body) -> None:
        authorization = environ.get("HTTP_AUTHORIZATION", "")
        if authorization:
            self._authenticate_v3(environ, method, query, body, authorization)
            return
        for name in ("AccessKeyId", "Signature", "SignatureMethod", "SignatureNonce", "SignatureVersion", "Timestamp"):
            if name not in params:
                raise ApiError(400, f"Missing{name}", f"{name} is mandatory for this action.")
        secret = self._secret(params["AccessKeyId"])
        if params["SignatureMethod"] != "HMAC-SHA1":
            raise ApiError(400, "InvalidSignatureMethod", "Specified signature method is not supported.")
        if params["SignatureVersion"] != "1.0":
            raise ApiError(400, "InvalidSignatureVersion", "Specified signature version is not supported.")
        self._check_time(params["Timestamp"])
        expected = signing.v1_signature(method, params, secret)
        if not hmac.compare_digest(expected, params["Signature"]):
            raise ApiError(400, "SignatureDoesNotMatch", "Specified signature is not matched with our calculation. "
                           f"server string to sign is:{signing.v1_string_to_sign(method, params)}")
        self._use_nonce(params["SignatureNonce"])

    def _authenticate_v3(self, environ, method, query, body, authorization) -> None:
        parts = signing.parse_authorization(authorization)
        if parts is None:
            raise ApiError(400, "IncompleteSignature", "The request signature does not conform to Aliyun standards.")
        secret = self._secret(parts["Credential"])
        signed_headers = parts["SignedHeaders"].split(";")
        headers = {name: _header(environ, name) for name in signed_headers}
        sent_acs = {key[5:].lower().replace("_", "-") for key in environ if key.startswith("HTTP_X_ACS_")}
        required = {"host", "x-acs-date", "x-acs-signature-nonce", "x-acs-content-sha256"} | sent_acs
        if not required <= set(signed_headers) or signed_headers != sorted(signed_headers):
            raise ApiError(400, "IncompleteSignature", "The request signature does not conform to Aliyun standards.")
        payload_hash = hashlib.sha256(body).hexdigest()
        if headers["x-acs-content-sha256"] != payload_hash:
            raise ApiError(400, "InvalidParameter.ContentSHA256", "The x-acs-content-sha256 header does not match the body.")
        self._check_time(headers["x-acs-date"])
        string_to_sign = signing.v3_string_to_sign(method, environ.get("PATH_INFO") or "/", query, headers, signed_headers,
                                                   payload_hash)
        if not hmac.compare_digest(signing.v3_signature(string_to_sign, secret), parts["Signature"]):
            raise ApiError(400, "SignatureDoesNotMatch", "Specified signature is not matched with our calculation. "
                           f"server string to sign is:{string_to_sign}")
        self._use_nonce(headers["x-acs-signature-nonce"])

    def _secret(self, key_id: str) -> str:
        secret = self.account.access_keys.get(key_id)
        if secret is None:
            raise ApiError(404, "InvalidAccessKeyId.NotFound", "Specified access key is not found.")
        return secret

    @staticmethod
    def _check_time(value: str) -> None:
        try:
            moment = datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
        except ValueError:
            raise ApiError(400, "InvalidTimeStamp.Format", "Specified time stamp or date value is not well formatted.") from None
        if abs((datetime.now(UTC) - moment).total_seconds()) > CLOCK_SKEW:
            raise ApiError(400, "InvalidTimeStamp.Expired", "Specified time stamp or date value is expired.")

    def _use_nonce(self, nonce: str) -> None:
        now = time.monotonic()
        with self._lock:
            while self._nonce_order and self._nonce_order[0][0] < now:
                _, old = self._nonce_order.popleft()
                self._nonces.pop(old, None)
            if nonce in self._nonces:
                raise ApiError(400, "SignatureNonceUsed", "Specified signature nonce was used already.")
            self._nonces[nonce] = now + NONCE_TTL
            self._nonce_order.append((now + NONCE_TTL, nonce))

    def _take_qps(self, action: str, limit: int) -> None:
        second = int(time.monotonic())
        with self._lock:
            window, used = self._qps.get(action, (second, 0))
            if window != second:
                window, used = second, 0
            if used >= limit:
                raise ApiError(400, "Throttling.User", "Request was denied due to user flow control.")
            self._qps[action] = (window, used + 1)

    # -- actions ------------------------------------------------------------------------------------

    def _single_call_by_tts(self, params):
        self._take_qps("SingleCallByTts", self.config.qps_tts)
        code = _required(params, "TtsCode")
        callee = _required(params, "CalledNumber")
        template = self.account.template(code)
        if template is None or template["status"] != "approved":
            return _fail(spec.ERROR_TTS_TEMPLATE, "模板不合法(不存在或者未审核通过)")
        problem = tts_param_problem(params.get("TtsParam", ""), template)
        if problem:
            return _fail(*problem)
        return self._place("tts", params, callee, template["mode"], code)

    def _single_call_by_voice(self, params):
        self._take_qps("SingleCallByVoice", self.config.qps_voice)
        code = _required(params, "VoiceCode")
        callee = _required(params, "CalledNumber")
        voice_file = self.account.voice_file(code)
        if voice_file is None or voice_file["status"] != "approved":
            return _fail(spec.ERROR_VOICE_FILE, "语音文件不合法(不存在或者未审核通过)")
        return self._place("voice", params, callee, voice_file["mode"], code)

    def _place(self, api: str, params, callee: str, mode: str, code: str):
        if not CALLED_NUMBER.match(callee):
            return _fail(spec.ERROR_MOBILE_NUMBER, "号码格式非法")
        show_number = params.get("CalledShowNumber", "")
        if show_number:
            number = self.account.number(show_number)
            if number is None or number["status"] != "active":
                return _fail(spec.ERROR_DISPLAY_NUMBER, "号码不合法(不属于本账号或未开通)")
            if mode != "dedicated":
                return _fail(spec.ERROR_TTS_TEMPLATE if api == "tts" else spec.ERROR_VOICE_FILE, "模板与外显号码的模式不一致")
        elif mode != "public":
            return _fail(spec.ERROR_DISPLAY_NUMBER, "专属模式须指定外显号码")
        problem = call_option_problem(params)
        if problem:
            return _fail(*problem)
        out_id = params.get("OutId", "")
        faults = self.config.faults
        if random.random() < faults.error_5xx_share:
            raise ApiError(500, "isp.SYSTEM_ERROR", "系统异常")
        with self._lock:
            first_try = callee not in self._throttled_once
            if callee.startswith("170") or faults.throttle_first_attempt:
                self._throttled_once.add(callee)
            else:
                first_try = False
        if first_try or random.random() < faults.throttle_share:
            raise ApiError(400, "Throttling.User", "Request was denied due to user flow control.")
        limited = self._flow_control(callee)
        if limited:
            return _fail(spec.ERROR_FLOW_CONTROL, limited)
        call_id = f"{next(self._call_seq):012d}^{random.randrange(10**11, 10**12)}"
        call = {
            "call_id": call_id, "api": api, "callee": callee, "caller": show_number or f"0571{random.randrange(10**7, 10**8)}",
            "out_id": out_id, "code": code, "params": dict(params), "accepted_at": datetime.now(UTC), "detail": None,
        }
        with self._lock:
            self.calls.append(call)
            self._calls_by_id[call_id] = call
        self.engine.play_call(call)
        payload = {"Code": "OK", "Message": "OK", "CallId": call_id}
        if random.random() < faults.read_timeout_share:
            payload["_hold"] = True
        return payload

    def _flow_control(self, callee: str) -> str:
        """Sliding windows per callee; every accepted attempt counts, whatever the call's outcome."""
        now = self.clock()
        with self._lock:
            history = self._flow.setdefault(callee, deque())
            while history and history[0] <= now - _DAY_SECONDS:
                history.popleft()
            limit = spec.flow_control_limit(history, now)
            if limit:
                return f"触发{_WINDOW_WORDS[limit.window.name]}流控Permits:{limit.window.permits}"
            history.append(now)
        return ""

    def _query_call_detail(self, params):
        self._take_qps("QueryCallDetailByCallId", self.config.qps_query)
        call_id = _required(params, "CallId")
        prod_id = _required(params, "ProdId")
        query_date = _required(params, "QueryDate")
        if not _is_int(query_date):
            return _fail(spec.ERROR_INVALID_PARAMETERS, "参数QueryDate不合法")
        call = self._calls_by_id.get(call_id)
        wanted = PROD_TTS if call and call["api"] == "tts" else PROD_VOICE
        if call is None or call["detail"] is None or prod_id != wanted:
            return {"Code": "OK", "Message": "OK", "Data": ""}
        return {"Code": "OK", "Message": "OK", "Data": json.dumps(call["detail"], ensure_ascii=False)}

    def _query_voice_file_audit(self, params):
        self._take_qps("QueryVoiceFileAuditInfo", self.config.qps_audit)
        codes = [code.strip() for code in _required(params, "VoiceCodes").split(",") if code.strip()]
        business_type = params.get("BusinessType") or spec.AUDIT_BUSINESS_NOTIFICATION
        if business_type not in spec.AUDIT_BUSINESS_TYPES:
            return _fail(spec.ERROR_INVALID_PARAMETERS, "参数BusinessType不合法")
        if not codes or len(codes) > spec.AUDIT_QUERY_MAX_CODES:
            return _fail(spec.ERROR_INVALID_PARAMETERS, f"最多查询{spec.AUDIT_QUERY_MAX_CODES}个语音文件")
        faults = self.config.faults
        if random.random() < faults.error_5xx_share:
            raise ApiError(500, "isp.SYSTEM_ERROR", "系统异常")
        if random.random() < faults.throttle_share:
            raise ApiError(400, "Throttling.User", "Request was denied due to user flow control.")
        data = []
        for code in codes:
            voice_file = self.account.voice_file(code)
            if voice_file is None:
                continue  # a code the account never had: no entry for it
            status = voice_file["status"]
            # An account may hold any provider state (AUDIT_...) as it is, or one of our three words.
            state = status if status in spec.AUDIT_STATES else _AUDIT_STATE_OF.get(status, "AUDIT_STATE_INIT")
            data.append({"VoiceCode": code, "AuditState": state,
                         "RejectInfo": voice_file.get("reason", "") if state == "AUDIT_STATE_NOT_PASS" else ""})
        return {"Code": "OK", "Message": "OK", "Data": data}

    # -- control API --------------------------------------------------------------------------------

    def _control(self, environ, path):
        key = environ.get("HTTP_X_SIMULATOR_KEY", "")
        if not hmac.compare_digest(key.encode(), self.config.access_key_secret.encode()):
            return _json(403, {"error": "forbidden"})
        method = environ.get("REQUEST_METHOD", "GET")
        body = _read_body(environ)
        try:
            data = json.loads(body) if body else {}
        except ValueError:
            return _json(400, {"error": "invalid JSON"})
        if path == "/_simulator/account":
            if method == "PUT":
                self.account.merge(data)
            return _json(200, self.account.snapshot())
        if path == "/_simulator/faults":
            if method == "PUT":
                try:
                    self.config.faults.update(data)
                except (ValueError, TypeError) as exc:
                    return _json(400, {"error": f"unknown or invalid switch: {exc}"})
            return _json(200, self.config.faults.as_dict())
        if path == "/_simulator/calls" and method == "GET":
            with self._lock:
                calls = [{**{k: v for k, v in call.items() if k != "accepted_at"}, "accepted_at": call["accepted_at"].isoformat()}
                         for call in self.calls]
            return _json(200, calls)
        if path == "/_simulator/reviews" and method == "POST":
            if data.get("kind") == "voice_file":
                return self._upload_voice_file(data)
            if data.get("kind") != "tts_template" or not data.get("callback_url"):
                return _json(400, {"error": "kind and callback_url are required"})
            self.engine.schedule(30, self._decide_review, data)
            return _json(202, {"accepted": True})
        return _json(404, {"error": "not found"})

    def _upload_voice_file(self, data: dict):
        """A voice file arrives as the upload API receives one: it gets its voiceCode now and waits for review in the
        account (AUDIT_STATE_INIT). The decision is written to the account only; the console learns it by asking
        QueryVoiceFileAuditInfo, as it would from the provider. A code passed in (a restarted simulator being told
        again) is kept."""
        code = str(data.get("voice_code") or "") or f"{uuid.uuid4()}.wav"
        if self.account.voice_file(code) is not None:
            return _json(202, {"code": "OK", "msg": "success", "data": {"voiceCode": code}})  # known: nothing changes
        self.account.merge({"voice_files": [{"code": code, "mode": data.get("mode") or "public", "status": "pending"}]})
        self.engine.schedule(30, self._decide_voice_file, code, data)
        return _json(202, {"code": "OK", "msg": "success", "data": {"voiceCode": code}})

    def _decide_voice_file(self, code: str, review: dict) -> None:
        reason = voice_file_review(name=review.get("name", ""), content=review.get("content", ""))
        voice_file = self.account.voice_file(code)
        if voice_file is None or voice_file["status"] != "pending":
            return  # forgotten (a reset) or decided already
        self.account.merge({"voice_files": [{**voice_file, "status": "rejected" if reason else "approved", "reason": reason}]})

    def _decide_review(self, review: dict) -> None:
        """A TTS template's review: the provider has no query for templates, so the decision is pushed to the console."""
        mode = review.get("mode") or "public"
        reason = template_review(content=review.get("content", ""), mode=mode,
                                 template_kind=review.get("template_kind") or "notification", name=review.get("name", ""))
        code = self.account.new_template_code()  # unique across restarts, unlike a counter from a constant
        resource = {"templates": [{"code": code, "mode": mode, "kind": review.get("template_kind") or "notification",
                                   "content": review.get("content", ""), "status": "approved"}]}
        if not reason:
            self.account.merge(resource)
        decision = {"kind": review["kind"], "ref": review.get("ref", ""), "decision": "rejected" if reason else "approved",
                    "code": "" if reason else code, "reason": reason}
        for _ in range(3):
            if post_json(review["callback_url"], decision, timeout=5.0, headers={"X-Simulator-Key": self.config.access_key_secret}):
                return
            time.sleep(0.2)
        logger.warning("simulator could not deliver the review decision for %s", review.get("ref"))


def tts_param_problem(raw: str, template: dict) -> tuple[str, str] | None:
    """(error code, message) for a TtsParam the provider refuses for this template, or None."""
    if raw == "":
        values = {}
    else:
        try:
            values = json.loads(raw)
        except ValueError:
            return spec.ERROR_INVALID_PARAMETERS, "TtsParam不是合法的JSON"
        if not isinstance(values, dict):
            return spec.ERROR_INVALID_PARAMETERS, "TtsParam须为JSON对象"
    kind = spec.KIND_VERIFICATION if template["kind"] == "verification" else spec.KIND_NOTIFICATION
    found = {problem.key for problems in spec.param_problems(variables=template["variables"], values=values, kind=kind).values()
             for problem in problems}
    for key, error in _PARAM_ERRORS.items():
        if key in found:
            return error
    return None


def call_option_problem(params: dict) -> tuple[str, str] | None:
    """(error code, message) for PlayTimes, Volume, Speed or OutId outside the published limits, or None."""
    for name, bounds in spec.CALL_OPTION_RANGES.items():
        value = params.get(name, "")
        if value != "" and not (_is_int(value) and spec.range_problem(int(value), bounds) is None):
            return spec.ERROR_INVALID_PARAMETERS, f"参数{name}不合法"
    if spec.out_id_problem(params.get("OutId", "")):
        return spec.ERROR_INVALID_PARAMETERS, "参数OutId不合法"
    return None


def _fail(code: str, message: str) -> dict:
    return {"Code": code, "Message": message}


def _required(params, name: str) -> str:
    value = params.get(name)
    if value is None or value == "":
        raise ApiError(400, f"Missing{name}", f"{name} is mandatory for this action.")
    return value


def _is_int(value: str) -> bool:
    return bool(re.fullmatch(r"-?\d+", value))


def _parse(text: str) -> dict[str, str]:
    return {key: values[-1] for key, values in parse_qs(text, keep_blank_values=True).items()}


def _read_body(environ) -> bytes:
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    return environ["wsgi.input"].read(length) if length > 0 else b""


def _header(environ, name: str) -> str:
    if name == "content-type":
        return environ.get("CONTENT_TYPE", "")
    if name == "content-length":
        return environ.get("CONTENT_LENGTH", "")
    return environ.get("HTTP_" + name.upper().replace("-", "_"), "")


def _json(status: int, data) -> tuple[int, bytes, str]:
    return status, json.dumps(data, ensure_ascii=False, default=str).encode(), "application/json"


def _xml(root: str, data: dict) -> bytes:
    def render(value) -> str:
        if isinstance(value, list):
            return "".join(f"<item>{render(item)}</item>" for item in value)
        if isinstance(value, dict):
            return "".join(f"<{k}>{render(v)}</{k}>" for k, v in value.items())
        return escape(str(value))
    return f'<?xml version="1.0" encoding="UTF-8"?><{root}>{render(data)}</{root}>'.encode()
