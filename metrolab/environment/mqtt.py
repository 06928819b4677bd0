"""MQTT ingestion of environment readings (R6.11a-c, issue 6): `metrolab mqtt_ingest`.

Devices publish to a Mosquitto broker, which authenticates them (password file) and lets each
one write only its own sensors' topics (ACL); this ingester subscribes with QoS 1 and stores
what arrives through `ingest_readings(..., channel="mqtt")`. The topic scheme, the payloads
and an example broker configuration are in `docs/environment-protocols.md`:

    <root>/env/<sensor code>/reading      {"time": ISO-8601 with offset | epoch s, "value": n}
    <root>/env/batch                      {"readings": [{"sensor", "time", "value"}, ...]}
    <root>/env/batch/<device username>    the same, for one device's own sensors

`<root>` is the setting `METROLAB_MQTT_TOPIC_ROOT` (default `metrolab/lab`).

Two threads: paho's network thread only puts received messages on a queue (it never touches
the database, so a slow database never stalls the MQTT keep-alive), and the ingester thread
(the caller of `run`) drains the queue and flushes every `batch_size` messages or every
200 ms, whichever comes first, one `ingest_readings` call per device. Payloads that cannot be
read at all (not JSON, wrong shape) are counted as rejected through the same function (they
are passed as a non-object item, which it rejects with the code `bad_item`) and logged. paho
reconnects with an exponential back-off (1 s doubling to `METROLAB_MQTT_RECONNECT_MAX`) and
the ingester re-subscribes on every connection. The session is persistent (fixed client id,
clean_session false), so QoS 1 messages published while the ingester is away are delivered
when it comes back; a reading delivered twice is refused as a duplicate, never stored twice.
"""

from __future__ import annotations

import json
import logging
import queue
import signal
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import paho.mqtt.client as mqtt
from django.conf import settings
from django.db import close_old_connections, connection

logger = logging.getLogger(__name__)

QOS = 1
MAX_PAYLOAD_BYTES = 256 * 1024
FLUSH_SECONDS = 0.2
BATCH_SIZE = 1000


def topic_root() -> str:
    return getattr(settings, "METROLAB_MQTT_TOPIC_ROOT", "metrolab/lab").strip("/")


def reading_topic(sensor_code: str, root: str | None = None) -> str:
    """The topic a sensor publishes its single readings to."""
    return f"{root or topic_root()}/env/{sensor_code}/reading"


def batch_topic(device_username: str | None = None, root: str | None = None) -> str:
    """The batch topic: shared (trusted gateways) or one device's own."""
    base = f"{root or topic_root()}/env/batch"
    return f"{base}/{device_username}" if device_username else base


def subscriptions(root: str | None = None) -> list[tuple[str, int]]:
    root = root or topic_root()
    return [
        (f"{root}/env/+/reading", QOS),
        (f"{root}/env/batch", QOS),
        (f"{root}/env/batch/+", QOS),
    ]


@dataclass(frozen=True)
class BrokerConfig:
    """Where the broker is and how the ingester signs in (settings `METROLAB_MQTT_*`)."""

    host: str = "127.0.0.1"
    port: int = 1883
    username: str = ""
    password: str = ""
    tls: bool = False
    ca_file: str = ""
    client_id: str = "metrolab-ingest"
    keepalive: int = 30
    reconnect_max: int = 30

    @classmethod
    def from_settings(cls) -> BrokerConfig:
        tls = getattr(settings, "METROLAB_MQTT_TLS", False)
        return cls(
            host=getattr(settings, "METROLAB_MQTT_HOST", "127.0.0.1"),
            port=int(getattr(settings, "METROLAB_MQTT_PORT", 8883 if tls else 1883)),
            username=getattr(settings, "METROLAB_MQTT_USERNAME", "") or "",
            password=getattr(settings, "METROLAB_MQTT_PASSWORD", "") or "",
            tls=bool(tls),
            ca_file=getattr(settings, "METROLAB_MQTT_CA_FILE", "") or "",
            client_id=getattr(settings, "METROLAB_MQTT_CLIENT_ID", "metrolab-ingest"),
            keepalive=int(getattr(settings, "METROLAB_MQTT_KEEPALIVE", 30)),
            reconnect_max=int(getattr(settings, "METROLAB_MQTT_RECONNECT_MAX", 30)),
        )

    def new_client(self, client_id: str | None = None, *, clean_session: bool) -> mqtt.Client:
        """A paho client signed in and secured as configured, reconnecting with back-off (the
        ingester, the simulator and the command publisher all make theirs here)."""
        client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2,
            client_id=client_id or self.client_id,
            clean_session=clean_session,
            protocol=mqtt.MQTTv311,
        )
        if self.username:
            client.username_pw_set(self.username, self.password or None)
        if self.tls:
            client.tls_set(ca_certs=self.ca_file or None, cert_reqs=ssl.CERT_REQUIRED)
        client.reconnect_delay_set(min_delay=1, max_delay=max(1, self.reconnect_max))
        return client


class Unreadable:
    """An item standing for a payload that could not be read: `ingest_readings` rejects it
    as `bad_item` (it is not an object), so it is counted against the device like any other
    rejection."""

    def __init__(self, problem: str):
        self.problem = problem

    def __repr__(self):
        return f"Unreadable({self.problem!r})"


@dataclass
class Parsed:
    """What one MQTT message carries: readings for `ingest_readings`, and for whom."""

    items: list = field(default_factory=list)
    sensor: str = ""  # the sensor of a single-reading topic
    device_username: str = ""  # the device of a per-device batch topic
    problem: str = ""  # why (part of) the payload could not be read


def parse_message(topic: str, payload: bytes, root: str | None = None) -> Parsed:
    """Read one message; never raises. Item-level checks (unknown sensor, NaN, times...) are
    left to `ingest_readings`; here only the envelope is checked."""
    root = root or topic_root()
    prefix = f"{root}/env/"
    if not topic.startswith(prefix):
        return Parsed(problem=f"topic outside {prefix}#: {topic}")
    rest = topic[len(prefix) :].split("/")
    if len(rest) == 2 and rest[1] == "reading" and rest[0]:
        parsed = Parsed(sensor=rest[0])
    elif rest[0] == "batch" and len(rest) in (1, 2) and all(rest):
        parsed = Parsed(device_username=rest[1] if len(rest) == 2 else "")
    else:
        return Parsed(problem=f"unknown topic {topic}")
    if len(payload) > MAX_PAYLOAD_BYTES:
        parsed.problem = f"payload larger than {MAX_PAYLOAD_BYTES} bytes"
        return parsed
    try:
        body = json.loads(payload)
    except (UnicodeDecodeError, ValueError):
        parsed.problem = "payload is not JSON"
        return parsed
    if parsed.sensor:
        if not isinstance(body, dict) or "time" not in body or "value" not in body:
            parsed.problem = 'payload must be an object {"time", "value"}'
        elif body.get("sensor", parsed.sensor) != parsed.sensor:
            parsed.problem = "the payload's sensor differs from the topic's"
        else:
            parsed.items = [{"sensor": parsed.sensor, "time": body["time"], "value": body["value"]}]
        return parsed
    readings = body.get("readings") if isinstance(body, dict) else None
    if not isinstance(readings, list):
        parsed.problem = 'payload must be an object {"readings": [...]}'
        return parsed
    parsed.items = readings  # items that are not objects are rejected as bad_item
    return parsed


@dataclass
class IngestStats:
    """What the ingester did since it started (for logs, tests and the command's summary)."""

    messages: int = 0
    stored: int = 0
    rejected: int = 0
    unreadable: int = 0
    flushes: int = 0
    connects: int = 0


class MqttIngester:
    """Subscribes to the environment topics and stores the readings (see the module doc).

    `run()` blocks in the calling thread (which does all database work) until `stop()` is
    called, `max_messages` messages were stored or refused, or `seconds` have passed."""

    def __init__(
        self,
        config: BrokerConfig | None = None,
        *,
        root: str | None = None,
        batch_size: int = BATCH_SIZE,
        flush_seconds: float = FLUSH_SECONDS,
    ):
        self.config = config or BrokerConfig.from_settings()
        self.root = (root or topic_root()).strip("/")
        self.batch_size = max(1, batch_size)
        self.flush_seconds = flush_seconds
        self.stats = IngestStats()
        self.connected = threading.Event()
        self.subscribed = threading.Event()
        self._stop = threading.Event()
        self._inbox: queue.Queue[tuple[str, bytes]] = queue.Queue()
        self._client = self._make_client()

    # --- paho's network thread: no database here -------------------------------------------

    def _make_client(self) -> mqtt.Client:
        client = self.config.new_client(clean_session=False)  # a persistent session (QoS 1)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_message = self._on_message
        client.on_subscribe = self._on_subscribe
        return client

    def _on_connect(self, client, userdata, flags, reason_code, properties):
        if reason_code.is_failure:
            logger.error(
                "MQTT broker %s:%s refused the connection: %s",
                self.config.host,
                self.config.port,
                reason_code,
            )
            return
        self.stats.connects += 1
        client.subscribe(subscriptions(self.root))
        self.connected.set()
        logger.info(
            "MQTT connected to %s:%s (session present: %s), subscribed to %s/env/...",
            self.config.host,
            self.config.port,
            flags.session_present,
            self.root,
        )

    def _on_subscribe(self, client, userdata, mid, reason_codes, properties):
        refused = [code for code in reason_codes if code.is_failure]
        if refused:
            logger.error("MQTT broker refused the subscription: %s", refused)
        else:
            self.subscribed.set()

    def _on_disconnect(self, client, userdata, flags, reason_code, properties):
        self.connected.clear()
        self.subscribed.clear()
        if not self._stop.is_set():
            logger.warning(
                "MQTT connection to %s:%s lost (%s); reconnecting with back-off",
                self.config.host,
                self.config.port,
                reason_code,
            )

    def _on_message(self, client, userdata, message):
        self._inbox.put((message.topic, message.payload))

    # --- the ingester thread ------------------------------------------------------------------

    def stop(self) -> None:
        self._stop.set()

    def run(self, *, max_messages: int | None = None, seconds: float | None = None) -> IngestStats:
        deadline = None if seconds is None else time.monotonic() + seconds
        cfg = self.config
        self._client.connect_async(cfg.host, cfg.port, keepalive=cfg.keepalive)
        self._client.loop_start()
        try:
            while not self._stop.is_set():
                if deadline is not None and time.monotonic() >= deadline:
                    break
                if max_messages is not None and self.stats.messages >= max_messages:
                    break
                room = None if max_messages is None else max_messages - self.stats.messages
                batch = self._collect(room, deadline)
                if batch:
                    self._flush(batch)
            self._drain()
        finally:
            self._client.disconnect()
            self._client.loop_stop()
            connection.close()
        return self.stats

    def _collect(self, room: int | None, deadline: float | None) -> list[tuple[str, bytes]]:
        """Wait briefly for a first message, then gather until the batch is full or
        `flush_seconds` have passed since that first message."""
        wait = self.flush_seconds
        if deadline is not None:
            wait = max(0.0, min(wait, deadline - time.monotonic()))
        try:
            batch = [self._inbox.get(timeout=wait)]
        except queue.Empty:
            return []
        limit = self.batch_size if room is None else min(self.batch_size, room)
        flush_at = time.monotonic() + self.flush_seconds
        while len(batch) < limit:
            remaining = flush_at - time.monotonic()
            if remaining <= 0:
                break
            try:
                batch.append(self._inbox.get(timeout=remaining))
            except queue.Empty:
                break
        return batch

    def _drain(self) -> None:
        """On shutdown: store what was already received."""
        batch = []
        while True:
            try:
                batch.append(self._inbox.get_nowait())
            except queue.Empty:
                break
        if batch:
            self._flush(batch)

    def _flush(self, batch: list[tuple[str, bytes]]) -> None:
        """Store one batch of messages; a database error is logged and the loop goes on."""
        close_old_connections()
        try:
            self._store(batch)
        except Exception:
            # A programming or database error must not kill a long-running ingester; the
            # messages of this batch are lost and said so.
            logger.exception("MQTT ingester could not store %d message(s)", len(batch))
        finally:
            self.stats.messages += len(batch)
            self.stats.flushes += 1
            close_old_connections()

    def _store(self, batch: list[tuple[str, bytes]]) -> None:
        from metrolab.environment.ingest import ingest_readings

        parsed = [parse_message(topic, payload, self.root) for topic, payload in batch]
        devices = _Devices(parsed)
        groups: dict[int | None, list] = {}
        for (topic, _payload), message in zip(batch, parsed, strict=True):
            device_id = devices.device_id(message)
            items = groups.setdefault(device_id, [])
            if message.device_username and device_id is None:
                message.problem = message.problem or (
                    f"no device account {message.device_username!r}"
                )
                message.items = []
            if message.problem:
                self.stats.unreadable += 1
                logger.warning("MQTT message on %s refused: %s", topic, message.problem)
                items.append(Unreadable(message.problem))
            items.extend(message.items)
        for device_id, items in groups.items():
            if not items:
                continue
            result = ingest_readings(items, device=devices.user(device_id), channel="mqtt")
            self.stats.stored += result.stored
            self.stats.rejected += len(result.rejected)
            for rejection in result.rejected:
                if not isinstance(items[rejection.index], Unreadable):
                    logger.warning(
                        "MQTT reading refused (%s) for sensor %r: %s",
                        rejection.code,
                        rejection.sensor,
                        rejection.message,
                    )


class _Devices:
    """The device account each message is counted against: a single-reading topic belongs
    to its sensor's device (the broker's ACL lets only that device write it); a per-device
    batch topic to the device named in it; the shared batch topic to none (trusted
    gateways only, see the docs)."""

    def __init__(self, messages: list[Parsed]):
        from django.contrib.auth import get_user_model

        from metrolab.environment.models import Sensor

        codes = {m.sensor for m in messages if m.sensor}
        names = {m.device_username for m in messages if m.device_username}
        self.by_sensor = dict(
            Sensor.objects.filter(code__in=codes).values_list("code", "device_id")
        )
        users = get_user_model().objects.filter(username__in=names, is_active=True)
        self.users = {user.pk: user for user in users}
        self.by_username = {user.username: user.pk for user in users}
        missing = {pk for pk in self.by_sensor.values() if pk and pk not in self.users}
        if missing:
            self.users.update(
                {user.pk: user for user in get_user_model().objects.filter(pk__in=missing)}
            )

    def device_id(self, message: Parsed) -> int | None:
        if message.sensor:
            return self.by_sensor.get(message.sensor)
        if message.device_username:
            return self.by_username.get(message.device_username)
        return None

    def user(self, device_id: int | None):
        return None if device_id is None else self.users.get(device_id)


def stop_on_signals(stop: Callable[[], None]) -> Callable[[], None]:
    """Make SIGTERM and SIGINT call `stop` (a clean shutdown: the buffer is flushed, the
    broker connection closed); returns a function that restores the previous handlers.
    Only the main thread may install handlers; elsewhere this does nothing."""
    if threading.current_thread() is not threading.main_thread():
        return lambda: None
    previous = {}

    def handler(signum, frame):
        logger.info("signal %s received: stopping", signal.Signals(signum).name)
        stop()

    for signum in (signal.SIGTERM, signal.SIGINT):
        previous[signum] = signal.signal(signum, handler)

    def restore() -> None:
        for signum, old in previous.items():
            signal.signal(signum, old)

    return restore
