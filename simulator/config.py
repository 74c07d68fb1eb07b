"""Plain configuration values for the simulator (filled from the environment or by the caller)."""
import os
from dataclasses import dataclass, field


@dataclass
class Faults:
    """Switches that make the simulator misbehave the way a real gateway sometimes does."""

    latency_ms: int = 0
    error_5xx_share: float = 0.0  # isp.SYSTEM_ERROR 500 before anything is placed
    read_timeout_share: float = 0.0  # the call is placed, then the answer is held back
    read_timeout_seconds: float = 15.0
    throttle_share: float = 0.0  # Throttling.User before anything is placed
    throttle_first_attempt: bool = False  # each callee's first attempt is throttled, the next accepted
    drop_receipts_share: float = 0.0
    duplicate_receipts_share: float = 0.0

    def update(self, values: dict) -> None:
        for name, value in values.items():
            if not hasattr(self, name):
                raise ValueError(name)
            current = getattr(self, name)
            setattr(self, name, type(current)(value))

    def as_dict(self) -> dict:
        return dict(self.__dict__)


def _env_float(name: str, default: float) -> float:
    value = os.environ.get(name, "")
    return float(value) if value else default


DEFAULT_RECEIPT_BASE_URL = "http://127.0.0.1:8000/receipts/"


def _receipt_base_url(value: str | None) -> str:
    if value is None:
        return DEFAULT_RECEIPT_BASE_URL
    value = value.strip()
    if not value:
        return ""
    return value if value.endswith("/") else value + "/"  # the push path is appended as <type>/<token>/


@dataclass
class SimulatorConfig:
    access_key_id: str
    access_key_secret: str
    receipt_base_url: str = DEFAULT_RECEIPT_BASE_URL
    receipt_token: str = ""
    # Simulated seconds per real second are 1 / time_scale: 0.1 plays a 40 s call in 4 s.
    time_scale: float = 0.1
    qps_tts: int = 1000
    qps_voice: int = 1200
    qps_query: int = 100
    # QueryVoiceFileAuditInfo: the reference publishes no QPS for it, so the simulator's is a setting of its own.
    qps_audit: int = 20
    account_file: str = ""
    faults: Faults = field(default_factory=Faults)

    @classmethod
    def from_env(cls, *, access_key_id: str, access_key_secret: str, receipt_token: str = "") -> "SimulatorConfig":
        """Environment variables win over the values passed in (which come from the console's settings)."""
        env = os.environ
        faults = Faults(
            latency_ms=int(_env_float("SIMULATOR_FAULT_LATENCY_MS", 0)),
            error_5xx_share=_env_float("SIMULATOR_FAULT_5XX_SHARE", 0.0),
            read_timeout_share=_env_float("SIMULATOR_FAULT_READ_TIMEOUT_SHARE", 0.0),
            read_timeout_seconds=_env_float("SIMULATOR_FAULT_READ_TIMEOUT_SECONDS", 15.0),
            throttle_share=_env_float("SIMULATOR_FAULT_THROTTLE_SHARE", 0.0),
            throttle_first_attempt=env.get("SIMULATOR_FAULT_THROTTLE_FIRST_ATTEMPT", "") in ("1", "true", "yes"),
            drop_receipts_share=_env_float("SIMULATOR_FAULT_DROP_RECEIPTS_SHARE", 0.0),
            duplicate_receipts_share=_env_float("SIMULATOR_FAULT_DUPLICATE_RECEIPTS_SHARE", 0.0),
        )
        return cls(
            access_key_id=env.get("SIMULATOR_ACCESS_KEY_ID") or access_key_id,
            access_key_secret=env.get("SIMULATOR_ACCESS_KEY_SECRET") or access_key_secret,
            # Set but empty switches pushing off (receipts are kept for inspection); unset means the default.
            receipt_base_url=_receipt_base_url(env.get("SIMULATOR_RECEIPT_BASE_URL")),
            receipt_token=env.get("SIMULATOR_RECEIPT_TOKEN") or receipt_token,
            time_scale=_env_float("SIMULATOR_TIME_SCALE", 0.1),
            qps_tts=int(_env_float("SIMULATOR_QPS_TTS", 1000)),
            qps_voice=int(_env_float("SIMULATOR_QPS_VOICE", 1200)),
            qps_query=int(_env_float("SIMULATOR_QPS_QUERY", 100)),
            qps_audit=int(_env_float("SIMULATOR_QPS_AUDIT", 20)),
            account_file=env.get("SIMULATOR_ACCOUNT_FILE", ""),
            faults=faults,
        )
