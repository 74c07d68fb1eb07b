"""The provider's facts module: importable without Django, and the provider's times read as Beijing time everywhere."""
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest
from django.test import override_settings

from notifications.aliyun import get_vms_client, spec
from simulator.engine import OUTCOMES


def test_the_spec_imports_no_django_and_neither_does_the_simulator():
    code = ("import sys, notifications.aliyun.spec, simulator; "
            "loaded = sorted(m for m in sys.modules if m == 'django' or m.startswith('django.')); "
            "assert not loaded, loaded")
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.parametrize("zone", ["UTC", "America/Los_Angeles", "Asia/Shanghai"])
def test_provider_times_are_beijing_time_whatever_time_zone_says(zone):
    with override_settings(TIME_ZONE=zone):
        moment = spec.parse_provider_time("2024-03-06 16:21:30")
        assert moment == datetime(2024, 3, 6, 8, 21, 30, tzinfo=UTC)
        assert spec.format_provider_time(moment) == "2024-03-06 16:21:30"
        assert spec.parse_provider_time("2024-03-06T16:21:30+08:00") == moment
        assert spec.format_provider_time(None) == ""
    with pytest.raises(ValueError):
        spec.parse_provider_time("06/03/2024 16:21")


@pytest.mark.parametrize("zone", ["UTC", "America/Los_Angeles"])
def test_detail_query_times_are_the_instants_the_simulator_recorded(vms_simulator, zone):
    """The simulator writes Beijing wall-clock times; the console must read back the same instants, not shifted ones."""
    vms_simulator.account.add_voice_file("abc.wav")
    with override_settings(TIME_ZONE=zone):
        client = get_vms_client()
        client.single_call_by_voice(called_number="13800000010", voice_code="abc.wav", out_id="t1")
        vms_simulator.drain()
        call = vms_simulator.calls[0]
        detail = client.query_call_detail(call_id=call["call_id"], api="voice", query_date=datetime.now(UTC))
    accepted = call["accepted_at"].replace(microsecond=0)
    assert detail.created_at == accepted
    assert detail.created_at.utcoffset() == timedelta(hours=8)
    assert detail.start_time > detail.created_at and detail.end_time > detail.start_time
    # Receipts of the same call carry only codes of the published tables, with the same wall-clock times.
    records = [(push["message_type"], record) for push in vms_simulator.pushed for record in push["records"]]
    assert {record["status_code"] for kind, record in records if kind == "VoiceCallReport"} <= spec.CALL_PROGRESS_CODES.keys()
    report = next(record for kind, record in records if kind == "VoiceReport")
    assert report["status_code"] in spec.STATUS_CODES
    assert spec.parse_provider_time(report["originate_time"]) == accepted


def test_the_simulator_only_reports_codes_the_provider_publishes():
    for status, smart, *_ in OUTCOMES.values():
        assert status in spec.STATUS_CODES and smart in spec.SMART_STATUS_CODES
    assert spec.ANSWERED_STATUS_CODES <= spec.STATUS_CODES.keys()
