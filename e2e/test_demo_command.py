"""README command one, as a new user runs it: `metrolab demo` on a fresh directory serves the
login page, the demo users can sign in, and `metrolab audit verify` passes on the demo
database, then fails once a row is edited behind the application's back."""

from __future__ import annotations

import http.cookiejar
import os
import random
import re
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _free_base_port() -> int:
    """A base port whose next three are free too (the simulated bench's four instruments)."""
    for _attempt in range(50):
        base = random.randint(20000, 60000)  # noqa: S311 - not a secret
        sockets = []
        try:
            for port in range(base, base + 4):
                sockets.append(socket.socket())
                sockets[-1].bind(("127.0.0.1", port))
            return base
        except OSError:
            continue
        finally:
            for s in sockets:
                s.close()
    raise RuntimeError("no four free consecutive ports")


def _wait_for(url: str, proc: subprocess.Popen, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"demo exited early with {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.3)
    raise AssertionError(f"{url} did not answer within {timeout} s")


# The demo always runs on SQLite (it takes no DATABASE_URL): the suite's PostgreSQL pass would
# run the very same thing again.
pytestmark = pytest.mark.skipif(
    bool(os.environ.get("DATABASE_URL")), reason="the demo runs on SQLite only"
)


@pytest.fixture
def demo(tmp_path):
    port = _free_port()
    env = {
        k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "DJANGO_SETTINGS_MODULE"}
    }
    env |= {
        "METROLAB_VAR_DIR": str(tmp_path),
        "PYTHONUNBUFFERED": "1",
        # the simulated instruments (a demo child) on free ports, not the fixed default
        "METROLAB_DEMO_INSTRUMENTS_PORT": str(_free_base_port()),
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "metrolab.cli", "demo", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        _wait_for(f"http://127.0.0.1:{port}/api/v1/health", proc)
        yield f"http://127.0.0.1:{port}", tmp_path, env, proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()


def _sign_in(base: str, username: str, password: str) -> tuple[int, str, str]:
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    html = opener.open(f"{base}/login/").read().decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)
    data = urllib.parse.urlencode(
        {"username": username, "password": password, "csrfmiddlewaretoken": token}
    ).encode()
    request = urllib.request.Request(
        f"{base}/login/", data=data, headers={"Referer": f"{base}/login/"}
    )
    response = opener.open(request)
    return response.status, response.geturl(), response.read().decode()


def test_demo_serves_login_and_demo_users_sign_in(demo):
    base, var_dir, env, _proc = demo
    from metrolab.core.demo import DEMO_PASSWORD, DEMO_USERS

    html = urllib.request.urlopen(f"{base}/login/").read().decode()
    assert 'name="username"' in html and 'lang="zh-CN"' in html
    with urllib.request.urlopen(f"{base}/static/core/app.css") as css:
        assert css.status == 200
    assert (var_dir / "metrolab.sqlite3").exists()
    for username, _name, _roles in DEMO_USERS:
        status, url, page = _sign_in(base, username, DEMO_PASSWORD)
        assert status == 200 and url == f"{base}/", f"{username} could not sign in ({url})"
        assert "<h1>" in page

    # the demo's simulated calibrator answers on its port (a demo child)
    port = int(env["METROLAB_DEMO_INSTRUMENTS_PORT"])
    deadline = time.monotonic() + 60
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=2) as bench:
                bench.sendall(b"*IDN?\n")
                assert bench.recv(200).startswith(b"FLUKE,5522A,3354109,")
                break
        except OSError:
            assert time.monotonic() < deadline, "the simulated calibrator did not answer"
            time.sleep(0.3)

    verify = [sys.executable, "-m", "metrolab.cli", "audit", "verify"]
    ok = subprocess.run(verify, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert ok.returncode == 0, ok.stdout + ok.stderr

    # Someone with access to the file drops the trigger and edits a row.
    db = sqlite3.connect(var_dir / "metrolab.sqlite3", timeout=30)
    db.execute("DROP TRIGGER core_auditevent_no_update")
    db.execute("UPDATE core_auditevent SET actor_label = 'mallory' WHERE seq = 2")
    db.commit()
    db.close()
    bad = subprocess.run(verify, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert bad.returncode == 1
    assert "event 2" in bad.stderr
