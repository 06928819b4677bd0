"""A real Mosquitto broker for the MQTT tests (issue 6: "a real Mosquitto started by the test
fixture"), and helpers to publish to it and to wait for rows.

One `mosquitto` per test run (per xdist worker) on a free loopback port with a generated
config file (so whatever `.ci/run` started on 1883 does not matter), stopped at the end of the
run; a test that stops it (the reconnection tests) finds it started again for the next test,
and every test's ingester has a client id of its own, so no test resumes another's persistent
session (and its queued messages). When
`mosquitto_passwd` is available the broker authenticates every client with a password file
and restricts it with the ACL documented in `docs/environment-protocols.md`; otherwise it
allows anonymous clients. Without `mosquitto` the tests are skipped, unless
`METROLAB_REQUIRE_BROKER` is set, in which case they fail.

Import the per-test fixtures in a test module:
`from metrolab.environment.tests.mqtt_fixtures import *  # noqa: F403`.
"""

from __future__ import annotations

import itertools
import os
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest

# The per-test fixtures, for `import *` in tests. The run's broker, `mqtt_broker_session`, is
# imported by the environment tests' conftest only: a session fixture imported into each test
# module would be one per module.
__all__ = ["mqtt_broker", "run_ingester"]

MOSQUITTO_PATHS = ("/usr/sbin/mosquitto", "/usr/bin/mosquitto")
TEST_ROOT = "metrolab/test"
INGESTER = ("metrolab-ingest", "ingest-secret-1")
GATEWAY = ("lab-gateway", "gateway-secret-1")  # may write every environment topic
DEVICE = ("dev-th-01", "device-secret-1")  # may write only TH-01 and its own batch topic
DEVICE_SENSOR = "TH-01"


_client_ids = itertools.count(1)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(predicate: Callable[[], object], timeout: float = 30.0, interval: float = 0.05):
    """Poll `predicate` until it returns something true; fail after `timeout` seconds (long:
    the suite runs on slow two-core machines)."""
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s: {predicate}")
        time.sleep(interval)


def mosquitto_binary() -> str | None:
    for path in MOSQUITTO_PATHS:
        if os.access(path, os.X_OK):
            return path
    return shutil.which("mosquitto")


def acl_text(root: str = TEST_ROOT) -> str:
    """The ACL of `docs/environment-protocols.md`, for the test accounts."""
    return (
        f"user {INGESTER[0]}\n"
        f"topic read {root}/env/#\n"
        f"topic write {root}/cmd/#\n\n"
        f"user {GATEWAY[0]}\n"
        f"topic write {root}/env/#\n"
        f"topic read {root}/cmd/#\n\n"
        f"user {DEVICE[0]}\n"
        f"topic write {root}/env/{DEVICE_SENSOR}/reading\n\n"
        f"pattern write {root}/env/batch/%u\n"
    )


@dataclass
class Broker:
    """A Mosquitto process on 127.0.0.1:`port`; `stop()` / `start()` restart it on the same
    port (the reconnection test)."""

    binary: str
    directory: Path
    port: int
    auth: bool
    root: str = TEST_ROOT
    process: subprocess.Popen | None = None
    log: list[Path] = field(default_factory=list)

    host = "127.0.0.1"

    def write_config(self) -> Path:
        lines = [
            f"listener {self.port} {self.host}",
            "persistence false",
            "log_dest stderr",
            "log_type error",
            "log_type warning",
            "log_type notice",
        ]
        if os.geteuid() == 0:
            lines.insert(0, "user root")  # else it drops to `mosquitto`, who cannot read tmp
        if self.auth:
            passwords = self.directory / "passwd"
            passwords.unlink(missing_ok=True)
            for index, (user, password) in enumerate((INGESTER, GATEWAY, DEVICE)):
                args = ["mosquitto_passwd", "-b", str(passwords), user, password]
                if index == 0:
                    args.insert(1, "-c")
                subprocess.run(args, check=True, capture_output=True, timeout=30)
            acl = self.directory / "acl"
            acl.write_text(acl_text(self.root))
            lines += ["allow_anonymous false", f"password_file {passwords}", f"acl_file {acl}"]
        else:
            lines.append("allow_anonymous true")
        config = self.directory / "mosquitto.conf"
        config.write_text("\n".join(lines) + "\n")
        return config

    def start(self, timeout: float = 30.0) -> None:
        config = self.directory / "mosquitto.conf"
        log = self.directory / f"mosquitto-{len(self.log)}.log"
        self.log.append(log)
        with log.open("wb") as out:
            self.process = subprocess.Popen(
                [self.binary, "-c", str(config)], stdout=out, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + timeout
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"mosquitto exited at start: {log.read_text()}")
            try:
                with socket.create_connection((self.host, self.port), timeout=1):
                    return
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"mosquitto not listening: {log.read_text()}") from None
                time.sleep(0.05)

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)
        self.process = None

    def credentials(self, account: tuple[str, str]) -> tuple[str, str]:
        return account if self.auth else ("", "")

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def configure(self, settings, client_id: str | None = None) -> None:
        """Point the ingester's settings at this broker, signed in as the ingester (by default
        with a client id no earlier test used: the broker keeps each id's session)."""
        client_id = client_id or f"metrolab-ingest-test-{next(_client_ids)}"
        username, password = self.credentials(INGESTER)
        settings.METROLAB_MQTT_HOST = self.host
        settings.METROLAB_MQTT_PORT = self.port
        settings.METROLAB_MQTT_USERNAME = username
        settings.METROLAB_MQTT_PASSWORD = password
        settings.METROLAB_MQTT_TLS = False
        settings.METROLAB_MQTT_TOPIC_ROOT = self.root
        settings.METROLAB_MQTT_CLIENT_ID = client_id
        settings.METROLAB_MQTT_RECONNECT_MAX = 2

    def publisher(self, account: tuple[str, str] = GATEWAY) -> Publisher:
        return Publisher(self, *self.credentials(account))


class Publisher:
    """A device or gateway publishing with QoS 1 (each publish waits for the broker's ack)."""

    def __init__(self, broker: Broker, username: str = "", password: str = ""):
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="")
        if username:
            self.client.username_pw_set(username, password)
        self.broker = broker
        self.client.connect(broker.host, broker.port, keepalive=30)
        self.client.loop_start()

    def publish(self, topic: str, payload: bytes | str, timeout: float = 30.0) -> None:
        info = self.client.publish(topic, payload, qos=1)
        info.wait_for_publish(timeout=timeout)
        assert info.is_published(), f"broker did not acknowledge {topic}"

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


@pytest.fixture(scope="session")
def mqtt_broker_session(tmp_path_factory):
    """The run's real Mosquitto on a free port, with a password file and ACL when possible."""
    binary = mosquitto_binary()
    if binary is None:
        if os.environ.get("METROLAB_REQUIRE_BROKER"):
            pytest.fail("METROLAB_REQUIRE_BROKER is set but mosquitto is not installed")
        pytest.skip("mosquitto is not installed (apt-get install mosquitto)")
    broker = Broker(
        binary=binary,
        directory=tmp_path_factory.mktemp("mosquitto"),
        port=free_port(),
        auth=shutil.which("mosquitto_passwd") is not None,
    )
    broker.write_config()
    broker.start()
    try:
        yield broker
    finally:
        broker.stop()


@pytest.fixture
def mqtt_broker(mqtt_broker_session):
    """The run's broker, running (again, if an earlier test stopped it) for this test and
    after it."""
    if not mqtt_broker_session.running():
        mqtt_broker_session.start()
    yield mqtt_broker_session
    if not mqtt_broker_session.running():
        mqtt_broker_session.start()


@pytest.fixture
def run_ingester(mqtt_broker, settings):
    """run_ingester(**kwargs) starts an `MqttIngester` on the test broker in a thread (the
    ingester thread, which does the database work) and stops it at the end of the test."""
    from metrolab.environment.mqtt import MqttIngester

    mqtt_broker.configure(settings)
    started: list[tuple[MqttIngester, threading.Thread]] = []

    def start(**kwargs) -> MqttIngester:
        ingester = MqttIngester(**kwargs)
        thread = threading.Thread(target=ingester.run, name="mqtt-ingester", daemon=True)
        thread.start()
        started.append((ingester, thread))
        assert ingester.subscribed.wait(30), "the ingester did not subscribe on the broker"
        return ingester

    try:
        yield start
    finally:
        for ingester, thread in started:
            ingester.stop()
            thread.join(30)
