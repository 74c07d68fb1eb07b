"""`SIMULATOR_RECEIPT_BASE_URL=` (set, empty) switches the simulator's receipt pushing off, as the README says."""
import pytest

from notifications.aliyun import get_vms_client
from simulator import Simulator, SimulatorConfig, start_server
from simulator.config import DEFAULT_RECEIPT_BASE_URL
from tests.simulator.test_calls import Collector


def _config(monkeypatch, **environment) -> SimulatorConfig:
    monkeypatch.delenv("SIMULATOR_RECEIPT_BASE_URL", raising=False)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("SIMULATOR_TIME_SCALE", "0.01")
    return SimulatorConfig.from_env(access_key_id="LTAItestkey", access_key_secret="test-access-secret",
                                    receipt_token="test-receipt-token")


def test_unset_means_the_default_and_empty_means_off(monkeypatch):
    assert _config(monkeypatch).receipt_base_url == DEFAULT_RECEIPT_BASE_URL
    assert _config(monkeypatch, SIMULATOR_RECEIPT_BASE_URL="").receipt_base_url == ""
    assert _config(monkeypatch, SIMULATOR_RECEIPT_BASE_URL="  ").receipt_base_url == ""
    # The push path is appended to it, so a base without its final slash still gives .../receipts/VoiceReport/...
    assert _config(monkeypatch, SIMULATOR_RECEIPT_BASE_URL="http://h:9/receipts").receipt_base_url == "http://h:9/receipts/"


@pytest.fixture
def simulator_from_env(monkeypatch, settings):
    """A simulator configured as `runsimulator` does (from the environment), serving on a free port."""
    servers = []

    def start(**environment):
        app = Simulator(_config(monkeypatch, **environment))
        server = start_server(app, host="127.0.0.1", port=0)
        servers.append((app, server))
        app.account.merge({"voice_files": [{"code": "abc.wav", "mode": "public", "status": "approved"}]})
        settings.ALIYUN_VMS_ENDPOINT = server.url
        return app

    yield start
    for app, server in servers:
        server.shutdown()
        server.server_close()
        app.engine.stop()


def _place_a_call(app) -> None:
    get_vms_client().single_call_by_voice(called_number="13800000010", voice_code="abc.wav", out_id="off-1")
    assert app.engine.wait_idle(15), "the call did not play out"


def test_empty_base_url_keeps_receipts_and_pushes_none(simulator_from_env):
    collector = Collector()
    try:
        # Control: with the collector as base URL the same call's receipts arrive there.
        _place_a_call(simulator_from_env(SIMULATOR_RECEIPT_BASE_URL=collector.url))
        assert collector.records("VoiceReport")
        collector.posts.clear()

        app = simulator_from_env(SIMULATOR_RECEIPT_BASE_URL="")
        _place_a_call(app)
    finally:
        collector.server.shutdown()
    kept = app.engine.pushed
    assert {entry["message_type"] for entry in kept} == {"VoiceCallReport", "VoiceReport"}  # the receipts exist...
    assert all(entry["url"] == "" and not entry["acknowledged"] for entry in kept)  # ...and went nowhere
    assert collector.posts == []
