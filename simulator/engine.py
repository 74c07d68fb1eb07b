"""Simulated time: calls play out, receipts and review decisions are pushed when due."""
import heapq
import itertools
import json
import logging
import random
import threading
import time
import urllib.error
import urllib.request
from collections import deque
from datetime import datetime, timedelta

from notifications.aliyun import spec  # pure: the provider's time format, shared with the console

logger = logging.getLogger("simulator")

RETRY_DELAYS = (60, 300, 600)  # simulated seconds after a failed push, as the provider documents

# Outcome by the callee's last digit: (final status_code, smart_status_code, rings, answered, talk seconds, receipts).
OUTCOMES = {
    "0": ("200000", "ANSWERED", True, True, 24, "normal"),
    "1": ("200001", "ANSWERED", True, True, 7, "normal"),
    "2": ("200002", "USER_BUSY", False, False, 0, "normal"),
    "3": ("200003", "NO_ANSWER", True, False, 0, "normal"),
    "4": ("200004", "INVALID_NUMBER", False, False, 0, "normal"),
    "5": ("200010", "POWERED_OFF", False, False, 0, "normal"),
    "6": ("200011", "SUSPEND", False, False, 0, "normal"),
    "7": ("200005", "UNAVAILABLE", False, False, 0, "normal"),
    "8": ("200000", "ANSWERED", True, True, 24, "lost"),
    "9": ("200000", "ANSWERED", True, True, 24, "shuffled"),
}
RING_SECONDS = 6
NO_ANSWER_RING_SECONDS = 40


def beijing(moment: datetime | None) -> str:
    """The provider's wall-clock form of a moment (Beijing time), "" when there is none."""
    return spec.format_provider_time(moment)


class Engine:
    """One worker thread running due events from a heap; simulated seconds are multiplied by the time scale."""

    def __init__(self, config):
        self.config = config
        self._heap: list = []
        self._seq = itertools.count()
        self._cond = threading.Condition()
        self._busy = 0
        self._stopped = False
        self._thread = threading.Thread(target=self._run, name="simulator-engine", daemon=True)
        self._thread.start()
        self.pushed: deque[dict] = deque(maxlen=5000)  # recent push attempts: url, records, acknowledged

    # -- scheduling -------------------------------------------------------------------------------

    def schedule(self, simulated_delay: float, action, *args) -> None:
        due = time.monotonic() + simulated_delay * self.config.time_scale
        with self._cond:
            heapq.heappush(self._heap, (due, next(self._seq), action, args))
            self._cond.notify()

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._stopped and (not self._heap or self._heap[0][0] > time.monotonic()):
                    timeout = self._heap[0][0] - time.monotonic() if self._heap else None
                    self._cond.wait(timeout)
                if self._stopped:
                    return
                due_now = []
                while self._heap and self._heap[0][0] <= time.monotonic():
                    due_now.append(heapq.heappop(self._heap))
                self._busy += 1
            try:
                self._run_due([(action, args) for _, _, action, args in due_now])
            except Exception:
                logger.exception("simulator event failed")
            finally:
                with self._cond:
                    self._busy -= 1
                    self._cond.notify_all()

    def _run_due(self, events) -> None:
        """Receipts due together go out as one batch per message type; other events run one by one."""
        batches: dict[str, list] = {}
        for action, args in events:
            if action == "receipt":
                message_type, records, attempt = args
                batches.setdefault((message_type, attempt), []).extend(records)
            else:
                action(*args)
        for (message_type, attempt), records in batches.items():
            self._push(message_type, records, attempt)

    def wait_idle(self, timeout: float) -> bool:
        """Wait until nothing is scheduled or running; False when the timeout passed first."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._heap or self._busy:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._cond.wait(min(remaining, 0.05))
        return True

    def clear(self) -> None:
        with self._cond:
            self._heap.clear()
            self.pushed.clear()

    def stop(self) -> None:
        with self._cond:
            self._stopped = True
            self._cond.notify_all()

    # -- receipts ---------------------------------------------------------------------------------

    def send_receipt(self, simulated_delay: float, message_type: str, record: dict, mode: str) -> None:
        faults = self.config.faults
        if mode == "lost" or random.random() < faults.drop_receipts_share:
            return
        self.schedule(simulated_delay, "receipt", message_type, [record], 0)
        if mode == "shuffled" or random.random() < faults.duplicate_receipts_share:
            # A duplicate that arrives before the original: the console must deduplicate and not go backwards.
            self.schedule(max(simulated_delay - 0.5, 0), "receipt", message_type, [dict(record)], 0)

    def _push(self, message_type: str, records: list, attempt: int) -> None:
        if not self.config.receipt_base_url:
            # Pushing is switched off: keep the records for inspection only.
            self.pushed.append({"url": "", "message_type": message_type, "records": records, "acknowledged": False})
            return
        url = f"{self.config.receipt_base_url}{message_type}/{self.config.receipt_token}/"
        acknowledged = post_json(url, records, timeout=2.0, ack_required=True)
        self.pushed.append({"url": url, "message_type": message_type, "records": records, "acknowledged": acknowledged})
        if not acknowledged and attempt < len(RETRY_DELAYS):
            self.schedule(RETRY_DELAYS[attempt], "receipt", message_type, records, attempt + 1)
        elif not acknowledged:
            logger.warning("simulator gave up pushing %d %s record(s)", len(records), message_type)

    # -- calls ------------------------------------------------------------------------------------

    def play_call(self, call: dict) -> None:
        """Schedule the VoiceCallReport steps, the final VoiceReport and the detail record of an accepted call."""
        status, smart, rings, answered, talk, receipts = OUTCOMES[call["callee"][-1]]
        accepted_at: datetime = call["accepted_at"]
        ring_at = accepted_at + timedelta(seconds=2) if rings else None
        ring_length = RING_SECONDS if answered else NO_ANSWER_RING_SECONDS
        start_at = ring_at + timedelta(seconds=ring_length) if answered else None
        end_at = (start_at + timedelta(seconds=talk)) if answered else (
            ring_at + timedelta(seconds=ring_length) if rings else accepted_at + timedelta(seconds=3))
        steps = [(accepted_at + timedelta(seconds=1), "200101")]
        if ring_at:
            steps.append((ring_at, "200201"))
        if start_at:
            steps.append((start_at, "200102"))
        steps.append((end_at, "200100"))
        for moment, code in steps:
            # The refined result is known once the call has ended; earlier steps carry none.
            record = {"call_id": call["call_id"], "status_code": code, "smart_status_code": smart if code == "200100" else "",
                      "status_time": beijing(moment), "out_id": call["out_id"]}
            self.send_receipt((moment - accepted_at).total_seconds(), "VoiceCallReport", record, receipts)
        duration = int((end_at - start_at).total_seconds()) if start_at else 0
        report = {
            "call_id": call["call_id"], "out_id": call["out_id"], "caller": call["caller"], "callee": call["callee"],
            "originate_time": beijing(accepted_at), "ring_time": beijing(ring_at), "start_time": beijing(start_at),
            "end_time": beijing(end_at if start_at else None), "duration": str(duration),
            "status_code": status, "smart_status_code": smart, "status_msg": "执行完成",
            "hangup_direction": "用户" if status == "200001" else "机器", "early_media_code": "",
            "voice_type": "voice", "toll_type": "UNKNOWN", "dtmf": "", "extend": "",
            "b_originate_time": beijing(accepted_at), "b_ring_time": beijing(ring_at), "b_start_time": beijing(start_at),
            "b_end_time": beijing(end_at if start_at else None), "b_duration": duration,
        }
        detail = {
            "callId": call["call_id"], "caller": call["caller"], "callee": call["callee"],
            "callerShowNumber": call["caller"], "calleeShowNumber": call["callee"], "gmtCreate": beijing(accepted_at),
            "startDate": beijing(start_at), "endDate": beijing(end_at if start_at else None), "duration": duration,
            "state": status, "stateDesc": status, "aRingTime": "", "aEndTime": "",
            "bRingTime": beijing(ring_at), "bStartTime": beijing(start_at), "bEndTime": beijing(end_at),
            "hangupDirection": 1 if status == "200001" else 0,
        }
        ended_after = (end_at - accepted_at).total_seconds()
        self.schedule(ended_after, self._finish, call, detail)
        self.send_receipt(ended_after + 1, "VoiceReport", report, receipts)

    @staticmethod
    def _finish(call: dict, detail: dict) -> None:
        call["detail"] = detail


def post_json(url: str, payload, *, timeout: float, ack_required: bool = False, headers: dict | None = None) -> bool:
    """POST JSON. A push needs HTTP 200 with a numeric `code` equal to 0; other posts need a 2xx or a 4xx (no use retrying)."""
    body = json.dumps(payload, ensure_ascii=False).encode()
    request = urllib.request.Request(url, data=body, method="POST",
                                     headers={"Content-Type": "application/json; charset=utf-8", **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            status, answer = response.status, response.read()
    except urllib.error.HTTPError as exc:
        status, answer = exc.code, b""
    except (urllib.error.URLError, OSError, ValueError) as exc:
        logger.info("simulator push to %s failed: %s", url.rsplit("/", 2)[0], exc)
        return False
    if not ack_required:
        return status < 500
    if status != 200:
        return False
    try:
        code = json.loads(answer).get("code")
    except (ValueError, AttributeError):
        return False
    return isinstance(code, int | float) and not isinstance(code, bool) and code == 0
