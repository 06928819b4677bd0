"""Throughput and latency over HTTP (issue 17; R7.1, R6.11b), printed beside a bare peer
measured in the same run on the same machine (never asserted in tests).

    uv run python benchmarks/bench_http.py [--seconds 15] [--connections 16] [--workers 2]

1. Seeds a fresh demo lab (SQLite, `metrolab demo` in a throw-away METROLAB_VAR_DIR, stopped
   once it answers), then issues an API token for the demo administrator (roles: admin) and
   signs the administrator in for the page.
2. Starts the product, `metrolab serve --web-workers N --no-worker`, and the bare peer
   (`benchmarks/http_peer.py`: Django + django-ninja, one `/health` operation, no middleware,
   no database) under the same uvicorn with N workers, each on a free loopback port.
3. Loads each target for `--seconds` with `--connections` keep-alive connections: with `wrk`
   when it is installed (`apt-get install wrk`), else with a Python client (threads; it then
   shares the 2 cores with the servers, so its figures are lower than wrk's). Targets: the
   peer's `/health`, the product's `/api/v1/health`, three list operations with the token
   (`commissions`, `items`, `audit/events`, `?limit=20`), one page (`/commissions/`, signed
   in), and the readings ingestion (`POST /api/v1/environment/readings`, batches of 1 000 new
   readings of the demo's sensors, alarms on): always the Python client (each body is new).
4. Prints requests/s, p50 and p99 per target, and the ratios to the peer's `/health`.

Goals on the 2-core development machine (issue 17): health ≥ 0.8× the peer; list operations
≥ 0.5× the peer with p99 ≤ 3× the peer's; ingestion ≥ 10 000 readings/s.
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import http.cookiejar
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BATCH = 1000


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(url: str, proc: subprocess.Popen, timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"{proc.args} exited early with {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2):  # noqa: S310 - a loopback URL
                return
        except OSError:
            time.sleep(0.3)
    raise SystemExit(f"{url} did not answer within {timeout} s")


def stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()


def metrolab(env: dict, *args: str, **kwargs) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "metrolab.cli", *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        **kwargs,
    )


SETUP = """
from metrolab.core.models import User
from metrolab.core.services import api_token_create
from metrolab.environment.models import Sensor
admin = User.objects.get(username="admin")
_token, raw = api_token_create(user=admin, name="bench-http", roles=["admin"], actor=admin)
# the demo's device reports for every active sensor of this throw-away lab
device = User.objects.get(username="device")
for sensor in Sensor.objects.filter(active=True):
    sensor.device = device
    sensor.save(update_fields=["device"])
_token, raw_device = api_token_create(
    user=device, name="bench-http", roles=["device"], actor=device
)
sensors = list(Sensor.objects.filter(active=True).values_list("code", flat=True))
from metrolab.core.demo import DEMO_PASSWORD
print("BENCH", raw, raw_device, ",".join(sensors), DEMO_PASSWORD)
"""


def prepare(env: dict) -> tuple[str, str, list[str], str]:
    """Seed the demo lab (once), then the administrator's and the device's tokens and the
    sensors' codes, and the demo users' password."""
    port = free_port()
    demo = metrolab(env, "demo", "--port", str(port))
    try:
        wait_for(f"http://127.0.0.1:{port}/api/v1/health", demo, timeout=600)
    finally:
        stop(demo)
    out = subprocess.run(
        [sys.executable, "-m", "metrolab.cli", "shell", "-c", SETUP],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    if out.returncode:
        raise SystemExit(f"setting up the tokens failed:\n{out.stderr}")
    out = out.stdout
    token, device, sensors, password = re.search(
        r"^BENCH (\S+) (\S+) (\S*) (\S+)$", out, re.M
    ).groups()
    return token, device, [s for s in sensors.split(",") if s], password


def session_cookie(base: str, password: str) -> str:
    """Sign the demo administrator in; the session cookie for the page."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    html = opener.open(f"{base}/login/").read().decode()
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)
    data = urllib.parse.urlencode(
        {"username": "admin", "password": password, "csrfmiddlewaretoken": csrf}
    ).encode()
    signin = urllib.request.Request(f"{base}/login/", data=data, headers={"Referer": base})  # noqa: S310
    opener.open(signin)
    return "; ".join(f"{c.name}={c.value}" for c in jar)


# --- load --------------------------------------------------------------------------------


def run_wrk(url: str, headers: dict, seconds: int, connections: int) -> dict:
    command = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency"]
    for key, value in headers.items():
        command += ["-H", f"{key}: {value}"]
    out = subprocess.run([*command, url], capture_output=True, text=True, check=True).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))

    def percentile(p: str) -> float:
        value, unit = re.search(rf"^\s+{p}%\s+([\d.]+)(us|ms|s)$", out, re.M).groups()
        return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]

    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {
        "rate": rate,
        "p50": percentile("50"),
        "p99": percentile("99"),
        "errors": int(errors.group(1)) if errors else 0,
        "client": "wrk",
    }


def run_python(
    host: str,
    port: int,
    method: str,
    path: str,
    headers: dict,
    seconds: float,
    connections: int,
    body=None,
) -> dict:
    """Keep-alive connections in threads, each sending its next request when the answer is
    in; `body()` makes each request's body."""
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    end = time.monotonic() + seconds

    def client():
        conn = http.client.HTTPConnection(host, port, timeout=30)
        mine = []
        while time.monotonic() < end:
            payload = body() if body else None
            start = time.perf_counter()
            conn.request(method, path, body=payload, headers=headers)
            response = conn.getresponse()
            response.read()
            mine.append(time.perf_counter() - start)
            if response.status >= 400:
                errors[0] += 1
        conn.close()
        with lock:
            latencies.extend(mine)

    started = time.monotonic()
    threads = [threading.Thread(target=client) for _ in range(connections)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - started
    latencies.sort()
    q = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else [0.0] * 99
    return {
        "rate": len(latencies) / elapsed,
        "p50": q[49] * 1000,
        "p99": q[98] * 1000,
        "errors": errors[0],
        "client": "python",
    }


def readings_body(sensors: list[str]):
    """A new batch each call: BATCH readings, each sensor's times one second apart and never
    repeated (a repeated time would be refused as a duplicate, the cheap path)."""
    lock = threading.Lock()
    state = {"t": int(time.time()) - 6 * 3600}

    def make() -> bytes:
        with lock:
            first = state["t"]
            state["t"] += BATCH
        readings = [
            {
                "sensor": sensors[i % len(sensors)],
                "time": first + i,
                "value": 20.0 + (i % 10) / 10,
            }
            for i in range(BATCH)
        ]
        return json.dumps({"readings": readings}).encode()

    return make


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2)
    options = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

    var_dir = tempfile.mkdtemp(prefix="metrolab-bench-http-")
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL"}}
    env |= {
        "METROLAB_VAR_DIR": var_dir,
        "PYTHONUNBUFFERED": "1",
        "METROLAB_DEMO_INSTRUMENTS_PORT": str(free_port()),
    }
    print(f"Seeding a demo lab in {var_dir} ...", flush=True)
    token, device_token, sensors, password = prepare(env)
    product_port, peer_port = free_port(), free_port()
    product = metrolab(
        env,
        "serve",
        "--web-workers",
        str(options.workers),
        "--no-worker",
        "--port",
        str(product_port),
    )
    peer = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "http_peer:app",
            "--app-dir",
            str(ROOT / "benchmarks"),
            "--workers",
            str(options.workers),
            "--port",
            str(peer_port),
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
    )
    try:
        base = f"http://127.0.0.1:{product_port}"
        wait_for(f"{base}/api/v1/health", product)
        wait_for(f"http://127.0.0.1:{peer_port}/health", peer)
        cookie = session_cookie(base, password)
        bearer = {"Authorization": f"Bearer {token}"}
        wrk = shutil.which("wrk")
        targets = [
            ("peer /health (baseline)", peer_port, "/health", {}),
            ("/api/v1/health", product_port, "/api/v1/health", {}),
            (
                "GET /api/v1/commissions/?limit=20",
                product_port,
                "/api/v1/commissions/?limit=20",
                bearer,
            ),
            ("GET /api/v1/items/?limit=20", product_port, "/api/v1/items/?limit=20", bearer),
            (
                "GET /api/v1/audit/events?limit=20",
                product_port,
                "/api/v1/audit/events?limit=20",
                bearer,
            ),
            ("page /commissions/ (signed in)", product_port, "/commissions/", {"Cookie": cookie}),
        ]
        results = []
        for name, port, path, headers in targets:
            print(f"  loading {name} for {options.seconds} s ...", flush=True)
            if wrk:
                row = run_wrk(
                    f"http://127.0.0.1:{port}{path}", headers, options.seconds, options.connections
                )
            else:
                row = run_python(
                    "127.0.0.1", port, "GET", path, headers, options.seconds, options.connections
                )
            results.append((name, row))
        print(f"  loading the readings ingestion for {options.seconds} s ...", flush=True)
        ingest = run_python(
            "127.0.0.1",
            product_port,
            "POST",
            "/api/v1/environment/readings",
            {"Authorization": f"Bearer {device_token}", "Content-Type": "application/json"},
            options.seconds,
            min(options.connections, 4),
            body=readings_body(sensors),
        )
    finally:
        stop(product)
        stop(peer)
        shutil.rmtree(var_dir, ignore_errors=True)

    peer_row = results[0][1]
    print()
    print(
        f"HTTP, {options.workers} uvicorn workers each, {options.connections} connections, "
        f"{options.seconds} s per target, client {peer_row['client']}, "
        f"{dt.date.today().isoformat()}"
    )
    head = ("target", "req/s", "p50 ms", "p99 ms", "ratio", "p99/peer", "errors")
    print("   {:<38} {:>9} {:>8} {:>8} {:>6} {:>9} {:>6}".format(*head))
    for name, row in results:
        print(
            f"   {name:<38} {row['rate']:>9,.0f} {row['p50']:>8.1f} {row['p99']:>8.1f} "
            f"{row['rate'] / peer_row['rate']:>6.2f} {row['p99'] / peer_row['p99']:>9.2f} "
            f"{row['errors']:>6}"
        )
    print(
        f"   {'POST readings, batches of ' + str(BATCH):<38} {ingest['rate']:>9,.0f} "
        f"{ingest['p50']:>8.1f} {ingest['p99']:>8.1f}   → {ingest['rate'] * BATCH:,.0f} readings/s"
        f" ({min(options.connections, 4)} connections, python client, errors {ingest['errors']})"
    )


if __name__ == "__main__":
    main()
