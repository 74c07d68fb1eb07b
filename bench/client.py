"""Calls per second of our VMS client vs the official SDK, and the simulator's sustained requests/s.

    python bench/client.py [--calls 1000] [--rounds 3] [--seconds 5] [--threads 8]

The simulator runs in a child process (threaded HTTP/1.1 server on a free port) so it does not share the GIL
with the clients being measured. Figures depend on the machine; nothing here asserts a number.
"""
import argparse
import os
import socket
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

KEY_ID, SECRET = "LTAIbenchkey", "bench-secret"
SERVER = textwrap.dedent(f"""
    import sys
    sys.path.insert(0, {str(ROOT)!r})
    from simulator import Simulator, SimulatorConfig, start_server
    config = SimulatorConfig(access_key_id={KEY_ID!r}, access_key_secret={SECRET!r}, receipt_base_url="",
                             time_scale=1.0, qps_tts=10**9, qps_voice=10**9, qps_query=10**9)
    app = Simulator(config)
    app.account.merge({{"templates": [{{"code": "TTS_1", "content": "您好${{name}}，您的包裹已到。"}}]}})
    start_server(app, host="127.0.0.1", port=int(sys.argv[1]), background=False)
""")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for(port: int) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise SystemExit("the simulator did not start")


class Numbers:
    """Distinct callees, so per-callee flow control never refuses a measured call."""

    def __init__(self, start: int):
        self._next = start
        self._lock = threading.Lock()

    def take(self) -> str:
        with self._lock:
            self._next += 1
            return str(self._next)


def ours(url: str):
    from notifications.aliyun.client import VmsClient

    client = VmsClient(endpoint=url, access_key_id=KEY_ID, access_key_secret=SECRET, signature_version="v1")
    return lambda number: client.single_call_by_tts(called_number=number, tts_code="TTS_1", tts_params={"name": "x"},
                                                    out_id="bench").call_id


def official(url: str):
    from alibabacloud_dyvmsapi20170525 import models
    from alibabacloud_dyvmsapi20170525.client import Client
    from alibabacloud_tea_openapi import models as open_api_models

    client = Client(open_api_models.Config(access_key_id=KEY_ID, access_key_secret=SECRET, endpoint=url[7:-1], protocol="http"))
    return lambda number: client.single_call_by_tts(models.SingleCallByTtsRequest(
        called_number=number, tts_code="TTS_1", tts_param='{"name":"x"}', out_id="bench")).body.call_id


def calls_per_second(call, numbers: Numbers, count: int) -> tuple[float, float]:
    """Calls per second, and the client's own CPU time per call in microseconds (steadier on a busy machine)."""
    for _ in range(20):  # warm the connection pool
        call(numbers.take())
    started, cpu = time.perf_counter(), time.process_time()
    for _ in range(count):
        assert "^" in call(numbers.take())
    return count / (time.perf_counter() - started), (time.process_time() - cpu) / count * 1e6


def sustained(url: str, numbers: Numbers, seconds: float, threads: int) -> float:
    done = [0] * threads
    stop = time.monotonic() + seconds

    def worker(index: int) -> None:
        call = ours(url)  # one client (one keep-alive session) per thread
        while time.monotonic() < stop:
            call(numbers.take())
            done[index] += 1

    workers = [threading.Thread(target=worker, args=(i,)) for i in range(threads)]
    started = time.perf_counter()
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join()
    return sum(done) / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--threads", type=int, default=8)
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "voiceadmin.settings.test")
    port = free_port()
    server = subprocess.Popen([sys.executable, "-c", SERVER, str(port)])
    try:
        wait_for(port)
        url = f"http://127.0.0.1:{port}/"
        numbers = Numbers(13000000000)
        # Alternate rounds and keep each one's best: the machine is shared, so single runs are noisy.
        our_call, sdk_call = ours(url), official(url)
        ours_best, sdk_best = (0.0, float("inf")), (0.0, float("inf"))
        for _ in range(args.rounds):
            rate, cpu = calls_per_second(our_call, numbers, args.calls)
            ours_best = (max(ours_best[0], rate), min(ours_best[1], cpu))
            rate, cpu = calls_per_second(sdk_call, numbers, args.calls)
            sdk_best = (max(sdk_best[0], rate), min(sdk_best[1], cpu))
        print(f"our client (V1, requests, keep-alive):        {ours_best[0]:8.0f} calls/s  {ours_best[1]:6.0f} µs CPU/call")
        print(f"official SDK alibabacloud_dyvmsapi20170525:   {sdk_best[0]:8.0f} calls/s  {sdk_best[1]:6.0f} µs CPU/call")
        print(f"ratio ours / official:                        {ours_best[0] / sdk_best[0]:8.2f}  "
              f"(CPU per call {sdk_best[1] / ours_best[1]:.2f}x less)")
        rate = sustained(url, numbers, args.seconds, args.threads)
        print(f"simulator sustained, {args.threads} threads keep-alive:     {rate:8.0f} requests/s")
    finally:
        server.terminate()
        server.wait(timeout=5)


if __name__ == "__main__":
    main()
