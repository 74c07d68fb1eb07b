"""Fixtures that run the simulator on a free loopback port for the console's tests."""
import pytest

from simulator import Simulator, SimulatorConfig, start_server
from simulator.config import Faults

SIMULATOR_TIME_SCALE = 0.01  # a call plays out in well under a second


class SimulatorHandle:
    """What a test needs from a running simulator: its URLs, account, accepted calls, faults and time."""

    def __init__(self, app: Simulator, server):
        self.app = app
        self.server = server
        self.url = server.url
        self.control_url = server.url + "_simulator/"
        self.account = _AccountHelper(app)
        self.faults = app.config.faults

    @property
    def calls(self) -> list[dict]:
        """Accepted calls in order; each has the request parameters as `params` and is indexable by name (`["OutId"]`)."""
        return [_Call(call) for call in list(self.app.calls)]

    @property
    def pushed(self) -> list[dict]:
        """Every receipt push attempt: url, message_type, records, acknowledged."""
        return list(self.app.engine.pushed)

    def set_faults(self, **switches) -> None:
        self.faults.update(switches)

    def set_receipt_base_url(self, url: str) -> None:
        self.app.config.receipt_base_url = url if url.endswith("/") else url + "/"

    def set_time_scale(self, scale: float) -> None:
        self.app.config.time_scale = scale

    def wait_idle(self, timeout: float = 10.0) -> bool:
        return self.app.engine.wait_idle(timeout)

    def drain(self, timeout: float = 10.0) -> None:
        """Wait until every due receipt and review decision has been pushed (or given up)."""
        assert self.app.engine.wait_idle(timeout), "the simulator still had events scheduled"


class _Call(dict):
    """An accepted call: its own fields plus the request parameters by their provider names."""

    def __init__(self, call: dict):
        super().__init__(call["params"])
        self.update({key: value for key, value in call.items() if key != "params"})
        self.params = call["params"]


class _AccountHelper:
    def __init__(self, app: Simulator):
        self._account = app.account

    def add_template(self, code: str, content: str, *, mode: str = "public", kind: str = "notification",
                     status: str = "approved") -> None:
        self._account.merge({"templates": [{"code": code, "content": content, "mode": mode, "kind": kind, "status": status}]})

    def add_voice_file(self, code: str, *, mode: str = "public", status: str = "approved") -> None:
        self._account.merge({"voice_files": [{"code": code, "mode": mode, "status": status}]})

    def add_number(self, number: str, *, status: str = "active") -> None:
        self._account.merge({"numbers": [{"number": number, "status": status}]})

    def snapshot(self) -> dict:
        return self._account.snapshot()


@pytest.fixture(scope="session")
def _simulator_server():
    config = SimulatorConfig(access_key_id="LTAItestkey", access_key_secret="test-access-secret",
                             receipt_token="test-receipt-token", time_scale=SIMULATOR_TIME_SCALE)
    app = Simulator(config)
    server = start_server(app, host="127.0.0.1", port=0)
    yield app, server
    server.shutdown()
    server.server_close()
    app.engine.stop()


@pytest.fixture
def vms_simulator(_simulator_server, settings):
    """A simulator on a free loopback port; the console's client points at it. State is reset for each test."""
    app, server = _simulator_server
    app.engine.wait_idle(5)
    app.reset()
    app.config.faults = Faults()
    app.config.time_scale = SIMULATOR_TIME_SCALE
    app.config.receipt_base_url = ""  # receipts are kept, not pushed, until a test points them at a live server
    app.config.receipt_token = settings.RECEIPT_WEBHOOK_TOKEN
    app.account.access_keys = {settings.ALIYUN_ACCESS_KEY_ID: settings.ALIYUN_ACCESS_KEY_SECRET}
    app.config.access_key_secret = settings.ALIYUN_ACCESS_KEY_SECRET
    settings.ALIYUN_VMS_ENDPOINT = server.url
    settings.SIMULATOR_CONTROL_URL = server.url + "_simulator/"
    handle = SimulatorHandle(app, server)
    yield handle
    app.engine.clear()
