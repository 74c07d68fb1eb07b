"""The simulator speaks the RPC gateway protocol: signatures, timestamps, nonces, parameters and error shapes."""
import hashlib
import uuid
from datetime import UTC, datetime, timedelta

import pytest
import requests

from notifications.aliyun import signing

KEY_ID, SECRET = "LTAItestkey", "test-access-secret"


def _v1_params(action="QueryCallDetailByCallId", **extra):
    params = {"Action": action, "Version": "2017-05-25", "AccessKeyId": KEY_ID, "SignatureMethod": "HMAC-SHA1",
              "SignatureVersion": "1.0", "SignatureNonce": uuid.uuid4().hex, "Format": "JSON",
              "Timestamp": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
              "CallId": "1^2", "ProdId": "11000000300006", "QueryDate": "1700000000000"}
    params.update(extra)
    return {k: v for k, v in params.items() if v is not None}


def _send(url, params, *, method="POST", secret=SECRET, sign=True, in_body=False):
    params = dict(params)
    if sign:
        params["Signature"] = signing.v1_sign(method, params, secret)
    if in_body:
        return requests.post(url, data=params, timeout=5)
    return requests.request(method, url + "?" + signing.canonical_query(params), timeout=5)


@pytest.fixture
def url(vms_simulator):
    return vms_simulator.url


def test_get_and_post_and_form_body_are_accepted(url):
    for method in ("GET", "POST"):
        answer = _send(url, _v1_params(), method=method)
        assert answer.status_code == 200 and answer.json()["Code"] == "OK" and answer.json()["Data"] == ""
    assert _send(url, _v1_params(), in_body=True).json()["Code"] == "OK"


def test_blank_values_are_signed_and_kept(url):
    assert _send(url, _v1_params(SignatureType="", RegionId="")).json()["Code"] == "OK"


def test_xml_is_the_default_format(url):
    answer = _send(url, _v1_params(Format=None))
    assert answer.text.startswith("<?xml") and "<Code>OK</Code>" in answer.text


@pytest.mark.parametrize("change, status, code", [
    ({"secret": "wrong"}, 400, "SignatureDoesNotMatch"),
    ({"params": {"AccessKeyId": "LTAInobody"}}, 404, "InvalidAccessKeyId.NotFound"),
    ({"params": {"Timestamp": (datetime.now(UTC) - timedelta(minutes=16)).strftime("%Y-%m-%dT%H:%M:%SZ")}}, 400,
     "InvalidTimeStamp.Expired"),
    ({"params": {"Timestamp": "yesterday"}}, 400, "InvalidTimeStamp.Format"),
    ({"params": {"Action": "SingleCallByTTS"}}, 404, "InvalidApi.NotFound"),
    ({"params": {"Version": "2017-05-26"}}, 400, "InvalidVersion"),
    ({"params": {"Format": "YAML"}}, 400, "InvalidParameter.Format"),
    ({"params": {"CallId": None}}, 400, "MissingCallId"),
    ({"params": {"SignatureNonce": None}}, 400, "MissingSignatureNonce"),
    ({"params": {"SignatureMethod": "HMAC-SHA256"}}, 400, "InvalidSignatureMethod"),
])
def test_gateway_errors(url, change, status, code):
    answer = _send(url, _v1_params(**change.get("params", {})), secret=change.get("secret", SECRET))
    body = answer.json()
    assert answer.status_code == status and body["Code"] == code
    assert {"RequestId", "HostId", "Code", "Message", "Recommend"} <= body.keys()


def test_tampered_signature_is_rejected(url):
    params = _v1_params()
    params["Signature"] = signing.v1_sign("POST", params, SECRET)
    params["CallId"] = "3^4"
    answer = _send(url, params, sign=False)
    assert answer.json()["Code"] == "SignatureDoesNotMatch"


def test_signature_over_another_method_is_rejected(url):
    params = _v1_params()
    params["Signature"] = signing.v1_sign("GET", params, SECRET)
    assert _send(url, params, sign=False).json()["Code"] == "SignatureDoesNotMatch"


def test_reused_nonce_is_rejected(url):
    params = _v1_params()
    assert _send(url, params).json()["Code"] == "OK"
    assert _send(url, params).json()["Code"] == "SignatureNonceUsed"


def _v3_headers(url, query, *, action="QueryCallDetailByCallId", secret=SECRET, body=b"", extra=None):
    headers = {"host": url.split("/")[2], "x-acs-action": action, "x-acs-version": "2017-05-25",
               "x-acs-date": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"), "x-acs-signature-nonce": uuid.uuid4().hex,
               "x-acs-content-sha256": hashlib.sha256(body).hexdigest(), **(extra or {})}
    headers["Authorization"] = signing.v3_authorization("POST", query, headers, KEY_ID, secret,
                                                        headers["x-acs-content-sha256"])
    return headers


QUERY = {"CallId": "1^2", "ProdId": "11000000300006", "QueryDate": "1700000000000"}


def test_v3_signed_request(url):
    answer = requests.post(url + "?" + signing.canonical_query(QUERY), headers=_v3_headers(url, QUERY), timeout=5)
    assert answer.json()["Code"] == "OK"


def test_v3_unsigned_acs_header_is_rejected(url):
    headers = _v3_headers(url, QUERY)
    headers["x-acs-extra"] = "sneaked-in"
    answer = requests.post(url + "?" + signing.canonical_query(QUERY), headers=headers, timeout=5)
    assert answer.json()["Code"] == "IncompleteSignature"


def test_v3_body_must_match_its_hash(url):
    headers = _v3_headers(url, QUERY, body=b"")
    answer = requests.post(url + "?" + signing.canonical_query(QUERY), headers=headers, data=b"x=1", timeout=5)
    assert answer.status_code == 400 and answer.json()["Code"] == "InvalidParameter.ContentSHA256"


def test_v3_tampered_query_and_reused_nonce(url):
    headers = _v3_headers(url, QUERY)
    tampered = {**QUERY, "CallId": "9^9"}
    assert requests.post(url + "?" + signing.canonical_query(tampered), headers=headers, timeout=5).json()["Code"] == \
        "SignatureDoesNotMatch"
    assert requests.post(url + "?" + signing.canonical_query(QUERY), headers=headers, timeout=5).json()["Code"] == "OK"
    assert requests.post(url + "?" + signing.canonical_query(QUERY), headers=headers, timeout=5).json()["Code"] == \
        "SignatureNonceUsed"


def test_account_qps_limit(url, vms_simulator):
    vms_simulator.app.config.qps_query = 2
    codes = [_send(url, _v1_params()).json()["Code"] for _ in range(5)]  # two windows at most: one gets three
    assert "Throttling.User" in codes


def test_xml_errors_have_the_error_root(url):
    answer = _send(url, _v1_params(Format="XML"), secret="wrong")
    assert answer.status_code == 400 and answer.text.startswith("<?xml") and "<Error>" in answer.text
    assert "<Code>SignatureDoesNotMatch</Code>" in answer.text
