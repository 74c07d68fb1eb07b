"""The Dyvmsapi client over `requests`: signs, sends, and turns every answer into a result or a typed error."""
import json
import logging
import threading
import uuid
from datetime import UTC, datetime
from urllib.parse import urlsplit

import requests
from django.conf import settings

from . import signing, spec
from .errors import VmsError, VmsFlowControlled, VmsOutcomeUnknown, VmsRejected, VmsThrottled
from .results import CallDetail, CallPlaced, VoiceFileAudit

logger = logging.getLogger(__name__)

API_VERSION = "2017-05-25"
BEIJING = spec.BEIJING
# QueryCallDetailByCallId files a call under a product; which one a TTS notification uses is not documented,
# so the API's own product is tried first and the other one when nothing is found.
PROD_IDS = {"tts": ("11010000138001", "11000000300006"), "voice": ("11000000300006", "11010000138001")}
PROD_IDS["other"] = PROD_IDS["tts"]  # a call placed elsewhere may be either: both are tried
# The one table that sorts the provider's codes by "could sending again ring the person twice?".
# Codes not listed: isp.*/InternalError/any 5xx answer to a call request -> outcome unknown (the call may exist);
# anything else -> rejected (signature, parameters, template, number, account: sending again won't help).
THROTTLED_CODES = {"Throttling", "Throttling.User", "Throttling.Api", "ServiceUnavailable"}
FLOW_CONTROLLED_CODES = {"isv.BUSINESS_LIMIT_CONTROL"}
SERVER_FAULT_CODES = {"isp.SYSTEM_ERROR", "isp.GATEWAY_ERROR", "InternalError", "UnknownError"}
SECRET_TAIL = "server string to sign is:"


class _SignedUrlFilter(logging.Filter):
    """urllib3 logs request lines at DEBUG; ours carry the signature and phone numbers in the query string."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(arg.split("?", 1)[0] + "?[redacted]" if isinstance(arg, str) and "/?" in arg else arg
                                for arg in record.args)
        return True


logging.getLogger("urllib3.connectionpool").addFilter(_SignedUrlFilter())


def classify(*, code: str, http_status: int | None, placing: bool) -> type[VmsError]:
    """The error class for a failed answer. `placing` is True for requests that start a call."""
    if code in THROTTLED_CODES or http_status == 503:
        return VmsThrottled
    if code in FLOW_CONTROLLED_CODES:
        return VmsFlowControlled
    if code in SERVER_FAULT_CODES or (http_status or 0) >= 500:
        # For a query nothing was placed, so trying again later is harmless.
        return VmsOutcomeUnknown if placing else VmsThrottled
    return VmsRejected


def redact(message: str) -> str:
    """Cut the server's string-to-sign from SignatureDoesNotMatch messages: it holds phone numbers and parameters."""
    head, found, _ = message.partition(SECRET_TAIL)
    return f"{head.rstrip()} [string to sign redacted]" if found else message


class VmsClient:
    def __init__(self, *, endpoint: str, access_key_id: str, access_key_secret: str, signature_version: str = "v1",
                 connect_timeout: float = 3.0, read_timeout: float = 10.0):
        if signature_version not in ("v1", "v3"):
            raise ValueError("signature_version must be 'v1' or 'v3'")
        self.endpoint = endpoint if endpoint.endswith("/") else endpoint + "/"
        self._host = urlsplit(self.endpoint).netloc
        self._key_id = access_key_id
        self._secret = access_key_secret
        self._version = signature_version
        self._timeout = (connect_timeout, read_timeout)
        self._session = requests.Session()
        # Proxy variables are read once here instead of scanning the environment on every request (a large share
        # of the per-call cost); CA bundle and auth from the environment are not used.
        self._proxies = requests.utils.get_environ_proxies(self.endpoint)
        self._session.trust_env = False

    def __repr__(self) -> str:
        return f"<VmsClient {self.endpoint} {self._version}>"

    # -- operations ---------------------------------------------------------------------------------

    def single_call_by_tts(self, *, called_number: str, tts_code: str, tts_params: dict | None, out_id: str,
                           show_number: str | None = None, play_times: int | None = None, volume: int | None = None,
                           speed: int | None = None) -> CallPlaced:
        params = {"CalledNumber": called_number, "TtsCode": tts_code, "OutId": out_id}
        if tts_params:
            params["TtsParam"] = json.dumps({k: str(v) for k, v in tts_params.items()}, ensure_ascii=False, separators=(",", ":"))
        self._add_call_options(params, show_number, play_times, volume, speed)
        return _placed(self._request("SingleCallByTts", params, placing=True))

    def single_call_by_voice(self, *, called_number: str, voice_code: str, out_id: str, show_number: str | None = None,
                             play_times: int | None = None, volume: int | None = None, speed: int | None = None) -> CallPlaced:
        params = {"CalledNumber": called_number, "VoiceCode": voice_code, "OutId": out_id}
        self._add_call_options(params, show_number, play_times, volume, speed)
        return _placed(self._request("SingleCallByVoice", params, placing=True))

    def query_call_detail(self, *, call_id: str, api: str, query_date: datetime) -> CallDetail | None:
        millis = str(int(query_date.timestamp() * 1000))
        for prod_id in PROD_IDS[api]:
            answer = self._request("QueryCallDetailByCallId", {"CallId": call_id, "ProdId": prod_id, "QueryDate": millis},
                                   placing=False)
            data = answer.get("Data") or ""
            record = json.loads(data) if isinstance(data, str) and data.strip() else data
            if record:
                return _call_detail(call_id, record, answer.get("RequestId", ""))
        return None

    def query_voice_file_audit(self, *, voice_codes: list[str]) -> list[VoiceFileAudit]:
        """The review state of up to 10 voice files (notification files, BusinessType 0), one entry per code answered.

        A code the provider does not know has no entry. An answer of the wrong shape raises VmsThrottled (a query:
        asking again later is harmless); an AuditState outside the published table comes back as state "unknown".
        """
        if not 1 <= len(voice_codes) <= spec.AUDIT_QUERY_MAX_CODES:
            raise ValueError(f"between 1 and {spec.AUDIT_QUERY_MAX_CODES} voice codes a request")
        answer = self._request("QueryVoiceFileAuditInfo", {"VoiceCodes": ",".join(voice_codes),
                                                           "BusinessType": spec.AUDIT_BUSINESS_NOTIFICATION}, placing=False)
        data = answer.get("Data")
        if data is None:
            data = []
        if not isinstance(data, list) or not all(isinstance(item, dict) and item.get("VoiceCode") for item in data):
            logger.warning("vms QueryVoiceFileAuditInfo request_id=%s: answer of an unknown shape", answer.get("RequestId", ""))
            raise VmsThrottled("The provider's answer had an unknown shape.", request_id=answer.get("RequestId", ""),
                               cause=VmsError.MALFORMED)
        return [
            VoiceFileAudit(voice_code=str(item["VoiceCode"]), state=spec.AUDIT_STATES.get(str(item.get("AuditState", "")), "unknown"),
                           provider_state=str(item.get("AuditState", "")), reject_info=str(item.get("RejectInfo") or ""))
            for item in data
        ]

    # -- transport ----------------------------------------------------------------------------------

    @staticmethod
    def _add_call_options(params, show_number, play_times, volume, speed) -> None:
        if show_number:
            params["CalledShowNumber"] = show_number
        for name, value in (("PlayTimes", play_times), ("Volume", volume), ("Speed", speed)):
            if value is not None:
                params[name] = str(value)

    def _signed_request(self, action: str, params: dict[str, str]) -> tuple[str, dict[str, str]]:
        timestamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        nonce = uuid.uuid4().hex
        if self._version == "v1":
            query = {**params, "Action": action, "Version": API_VERSION, "Format": "JSON", "AccessKeyId": self._key_id,
                     "SignatureMethod": "HMAC-SHA1", "SignatureVersion": "1.0", "SignatureNonce": nonce, "Timestamp": timestamp}
            canonical = signing.canonical_query(query)
            signature = signing.v1_sign_canonical("POST", canonical, self._secret)
            return f"{self.endpoint}?{canonical}&Signature={signing.percent_encode(signature)}", {}
        headers = {"host": self._host, "x-acs-action": action, "x-acs-version": API_VERSION, "x-acs-date": timestamp,
                   "x-acs-signature-nonce": nonce, "x-acs-content-sha256": signing.EMPTY_BODY_SHA256}
        headers["Authorization"] = signing.v3_authorization("POST", params, headers, self._key_id, self._secret)
        return f"{self.endpoint}?{signing.canonical_query(params)}", headers

    def _prepare(self, url: str, headers: dict[str, str]) -> requests.PreparedRequest:
        """Our URL is already percent-encoded ASCII, so requests' URL re-parsing (a third of its cost) is skipped."""
        prepared = requests.PreparedRequest()
        prepared.method, prepared.url, prepared.body = "POST", url, None
        prepared.headers = requests.structures.CaseInsensitiveDict({**self._session.headers, **headers, "Content-Length": "0"})
        prepared.hooks = {"response": []}
        return prepared

    def _request(self, action: str, params: dict[str, str], *, placing: bool) -> dict:
        url, headers = self._signed_request(action, params)
        try:
            response = self._session.send(self._prepare(url, headers), timeout=self._timeout, proxies=self._proxies,
                                          allow_redirects=False)
        except (requests.ConnectionError, requests.Timeout) as exc:
            # Connection refused or a connect timeout: nothing left. A read timeout or a connection dropped while
            # waiting for the answer: the request may have been processed (a stale keep-alive connection lands here
            # too; calling that "unknown" is the safe side, as it is never redialled).
            left = isinstance(exc, requests.ReadTimeout) or (
                isinstance(exc, requests.ConnectionError) and not isinstance(exc, requests.ConnectTimeout)
                and "RemoteDisconnected" in str(exc))
            logger.warning("vms %s: no answer (%s)", action, type(exc).__name__)
            if left and placing:
                raise VmsOutcomeUnknown("No answer from the provider after the request was sent.",
                                        cause=VmsError.NO_ANSWER) from None
            raise VmsThrottled("The provider could not be reached.", cause=VmsError.UNREACHABLE) from None
        try:
            answer = response.json()
        except ValueError:
            answer = {}
        if not isinstance(answer, dict):
            answer = {}
        code = str(answer.get("Code") or ("OK" if response.ok else f"HTTP{response.status_code}"))
        request_id = answer.get("RequestId", "")
        logger.info("vms %s request_id=%s code=%s http=%s", action, request_id, code, response.status_code)
        if code == "OK" and response.ok:
            return answer
        error_class = classify(code=code, http_status=response.status_code, placing=placing)
        raise error_class(redact(str(answer.get("Message") or code)), code=code, request_id=request_id,
                          http_status=response.status_code)


def _placed(answer: dict) -> CallPlaced:
    if not answer.get("CallId"):
        # "OK" without a CallId (e.g. a proxy's page): the call may or may not exist.
        raise VmsOutcomeUnknown("The provider's answer had no CallId.", request_id=answer.get("RequestId", ""),
                                cause=VmsError.NO_CALL_ID)
    return CallPlaced(call_id=answer["CallId"], request_id=answer.get("RequestId", ""))


def _parse_time(value) -> datetime | None:
    if not value:
        return None
    try:
        return spec.parse_provider_time(str(value))  # Beijing wall clock, whatever TIME_ZONE says
    except ValueError:
        return None


def _parse_int(value) -> int | None:
    try:
        return int(float(value))
    except (TypeError, ValueError):
        return None


def _call_detail(call_id: str, record: dict, request_id: str) -> CallDetail:
    return CallDetail(
        call_id=str(record.get("callId") or call_id), state=str(record.get("state", "")),
        state_desc=str(record.get("stateDesc", "")), caller=str(record.get("caller", "")), callee=str(record.get("callee", "")),
        caller_show_number=str(record.get("callerShowNumber", "")), created_at=_parse_time(record.get("gmtCreate")),
        ring_time=_parse_time(record.get("bRingTime") or record.get("aRingTime")),
        start_time=_parse_time(record.get("startDate") or record.get("bStartTime")), end_time=_parse_time(record.get("endDate")),
        duration=_parse_int(record.get("duration")), hangup_direction=str(record.get("hangupDirection", "")),
        request_id=request_id, raw=record,
    )


_clients: dict[tuple, VmsClient] = {}
_clients_lock = threading.Lock()


def get_vms_client() -> VmsClient:
    """One client (and so one connection pool) per settings combination, built from settings read now."""
    key = (settings.ALIYUN_VMS_ENDPOINT, settings.ALIYUN_ACCESS_KEY_ID, settings.ALIYUN_ACCESS_KEY_SECRET,
           settings.ALIYUN_VMS_SIGNATURE_VERSION, settings.ALIYUN_VMS_CONNECT_TIMEOUT, settings.ALIYUN_VMS_READ_TIMEOUT)
    with _clients_lock:
        client = _clients.get(key)
        if client is None:
            client = _clients[key] = VmsClient(
                endpoint=key[0], access_key_id=key[1], access_key_secret=key[2], signature_version=key[3],
                connect_timeout=key[4], read_timeout=key[5])
        return client
