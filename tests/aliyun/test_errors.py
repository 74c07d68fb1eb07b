"""The one table that sorts provider answers by whether sending again could ring someone twice."""
import pytest

from notifications.aliyun import VmsFlowControlled, VmsOutcomeUnknown, VmsRejected, VmsThrottled
from notifications.aliyun.client import classify, redact


@pytest.mark.parametrize("code, status, placing, expected", [
    ("Throttling.User", 400, True, VmsThrottled),
    ("Throttling", 400, True, VmsThrottled),
    ("ServiceUnavailable", 503, True, VmsThrottled),
    ("HTTP503", 503, True, VmsThrottled),
    ("isv.BUSINESS_LIMIT_CONTROL", 200, True, VmsFlowControlled),
    ("isp.SYSTEM_ERROR", 500, True, VmsOutcomeUnknown),
    ("InternalError", 500, True, VmsOutcomeUnknown),
    ("HTTP502", 502, True, VmsOutcomeUnknown),
    ("isp.SYSTEM_ERROR", 500, False, VmsThrottled),
    ("isv.MOBILE_NUMBER_ILLEGAL", 400, True, VmsRejected),
    ("isv.TTS_TEMPLATE_ILLEGAL", 200, True, VmsRejected),
    ("SignatureDoesNotMatch", 400, True, VmsRejected),
    ("InvalidAccessKeyId.NotFound", 404, False, VmsRejected),
])
def test_classification(code, status, placing, expected):
    assert classify(code=code, http_status=status, placing=placing) is expected


def test_flow_control_is_a_rejection_and_not_retryable_now():
    assert issubclass(VmsFlowControlled, VmsRejected)


def test_the_server_string_to_sign_is_cut():
    message = "Specified signature is not matched. server string to sign is:POST&%2F&CalledNumber%3D13800000000"
    assert "13800000000" not in redact(message) and redact(message).startswith("Specified signature")
    assert redact("plain message") == "plain message"
