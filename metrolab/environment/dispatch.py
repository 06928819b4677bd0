"""Commands to actuators, on the wire (R6.11e): `deliver(command)` sends one `Command` the way
its actuator listens and says whether it arrived. `control.command_send` calls it after the
command is committed; the outcome is recorded by `control.command_delivered`.

- MQTT: a QoS 1 publish on `<root>/cmd/<actuator code>` with the JSON payload
  `{"command": id, "action": "on" | "off" | "set", "value": number | null, "reason": text,
  "time": ISO 8601}`; delivered when the broker acknowledged it (PUBACK) within
  `METROLAB_MQTT_COMMAND_TIMEOUT` seconds (default 5). The broker and the topic root are the
  ingester's (`mqtt.BrokerConfig.from_settings()`, `mqtt.topic_root()`). One short
  connection per command: commands are rare (a rule acts on a change of state only), and a
  fresh connection never leaves a command queued in a half-dead client to be sent later,
  after it was recorded as failed.
- Modbus TCP: a coil for on / off, a holding register for a set-point (a `set` also switches
  the coil on when the map has one), per the actuator's register map
  `{"unit", "coil", "register", "type", "scale", "offset", "word_order"}` (the same types and
  word orders as the sensors' maps, `modbus.RegisterMap`; here encoded, there decoded).
- simulated: nothing to send (the simulator reads the actuator's state from the database).

`deliver` never raises: a broker or device that does not answer, or a register map that cannot
be used, is `(False, why)`.
"""

from __future__ import annotations

import json
import logging
import threading
import uuid
from collections.abc import Mapping
from dataclasses import dataclass

from django.conf import settings

logger = logging.getLogger(__name__)


def command_topic(actuator_code: str, root: str | None = None) -> str:
    """The topic an actuator (or its gateway) subscribes to for its commands."""
    from metrolab.environment.mqtt import topic_root

    return f"{root or topic_root()}/cmd/{actuator_code}"


def command_payload(command) -> dict:
    """The JSON body of a command message (see the module docstring)."""
    return {
        "command": command.pk,
        "action": command.action,
        "value": None if command.value is None else float(command.value),
        "reason": command.reason,
        "time": command.issued_at.isoformat(),
    }


def mqtt_timeout() -> float:
    return float(getattr(settings, "METROLAB_MQTT_COMMAND_TIMEOUT", 5.0))


def modbus_timeout() -> float:
    return float(getattr(settings, "METROLAB_MODBUS_TIMEOUT", 3.0))


def deliver(command) -> tuple[bool, str]:
    """Send `command` to its actuator: (True, "") when it arrived, else (False, why)."""
    actuator = command.actuator
    try:
        if actuator.protocol == "simulated":
            return True, ""
        if actuator.protocol == "mqtt":
            return publish(command)
        if actuator.protocol == "modbus":
            return modbus_write(command)
        return False, f"unknown protocol {actuator.protocol!r}"
    except Exception as exc:  # a bug must not break the caller (an ingester, a request)
        logger.exception("delivery of command %s to %s failed", command.pk, actuator.code)
        return False, f"delivery failed: {exc}"[:300]


# --- MQTT -----------------------------------------------------------------------------------


def publish(command, config=None, *, root: str | None = None, timeout: float | None = None):
    """Publish the command with QoS 1 and wait for the broker's acknowledgement."""

    from metrolab.environment.mqtt import BrokerConfig

    config = config or BrokerConfig.from_settings()
    timeout = mqtt_timeout() if timeout is None else timeout
    topic = command_topic(command.actuator.code, root)
    client = config.new_client(
        f"{config.client_id}-cmd-{uuid.uuid4().hex[:12]}", clean_session=True
    )
    client.connect_timeout = timeout
    answered = threading.Event()
    refusal: list[str] = []

    def on_connect(client, userdata, flags, reason_code, properties):
        if reason_code.is_failure:
            refusal.append(str(reason_code))
        answered.set()

    client.on_connect = on_connect
    where = f"{config.host}:{config.port}"
    try:
        client.connect(config.host, config.port, keepalive=max(config.keepalive, 5))
    except (OSError, ValueError) as exc:
        return False, f"MQTT broker {where} unreachable: {exc}"[:300]
    client.loop_start()
    try:
        if not answered.wait(timeout):
            return False, f"MQTT broker {where} did not answer within {timeout:g} s"
        if refusal:
            return False, f"MQTT broker {where} refused the connection: {refusal[0]}"[:300]
        info = client.publish(topic, json.dumps(command_payload(command)), qos=1)
        try:
            info.wait_for_publish(timeout)
        except (RuntimeError, ValueError) as exc:
            return False, f"MQTT publish on {topic} failed: {exc}"[:300]
        if not info.is_published():
            return False, f"MQTT broker {where} did not acknowledge within {timeout:g} s"
        return True, ""
    finally:
        client.disconnect()
        client.loop_stop()


# --- Modbus TCP -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ActuatorMap:
    """Where an actuator takes its commands in a Modbus device: a coil (on / off) and / or a
    holding register (the set-point, encoded like the sensors' values: raw = (value − offset)
    / scale, as `type`, in `word_order`)."""

    unit: int = 1
    coil: int | None = None
    register: int | None = None
    type: str = "int16"
    scale: float = 1.0
    offset: float = 0.0
    word_order: str = "big"

    KEYS = frozenset({"unit", "coil", "register", "type", "scale", "offset", "word_order"})

    @classmethod
    def parse(cls, raw: Mapping) -> ActuatorMap:
        from metrolab.environment.modbus import RegisterMapError, check_start, value_format

        if not isinstance(raw, Mapping):
            raise RegisterMapError("the register map must be an object")
        unknown = set(raw) - cls.KEYS
        if unknown:
            raise RegisterMapError(f"unknown keys: {', '.join(sorted(unknown))}")
        integers = {}
        for name, high in (("unit", 255), ("coil", 65535), ("register", 65535)):
            value = raw.get(name, 1 if name == "unit" else None)
            if value is None:
                integers[name] = None
                continue
            if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= high:
                raise RegisterMapError(f"'{name}' must be an integer from 0 to {high}")
            integers[name] = value
        kind, word_order, numbers = value_format(raw)
        register = integers["register"]
        check_start(kind, register)
        return cls(
            unit=integers["unit"],
            coil=integers["coil"],
            register=register,
            type=kind,
            word_order=word_order,
            **numbers,
        )

    def encode(self, value: float) -> list[int]:
        """The registers holding `value` (the inverse of `modbus.RegisterMap.decode`)."""
        from pymodbus.client import ModbusTcpClient

        from metrolab.environment.modbus import TYPES, RegisterMapError

        raw = (float(value) - self.offset) / self.scale
        if self.type != "float32":
            raw = round(raw)
            bits = 16 if self.type.endswith("16") else 32
            low, high = (
                (0, 2**bits - 1)
                if self.type.startswith("uint")
                else (-(2 ** (bits - 1)), 2 ** (bits - 1) - 1)
            )
            if not low <= raw <= high:
                raise RegisterMapError(f"{value} does not fit a {self.type} register")
        return ModbusTcpClient.convert_to_registers(
            raw, TYPES[self.type], word_order=self.word_order
        )


def modbus_write(command, *, timeout: float | None = None) -> tuple[bool, str]:
    """Write the command: the coil for on / off; the set-point register (then the coil, if
    any, on) for a `set`."""
    from pymodbus.client import ModbusTcpClient
    from pymodbus.exceptions import ModbusException

    from metrolab.environment.modbus import parse_address

    actuator = command.actuator
    try:
        spec = ActuatorMap.parse(actuator.register_map)
        host, port = parse_address(actuator.address)
    except ValueError as exc:
        return False, f"configuration: {exc}"[:300]
    writes: list[tuple[str, int, object]] = []  # (kind, address, value)
    if command.action == "set":
        if spec.register is None:
            return False, "configuration: the register map has no 'register' for a set-point"
        try:
            writes.append(("register", spec.register, spec.encode(float(command.value))))
        except ValueError as exc:
            return False, f"configuration: {exc}"[:300]
        if spec.coil is not None:
            writes.append(("coil", spec.coil, True))
    else:
        if spec.coil is None:
            return False, "configuration: the register map has no 'coil' for on / off"
        writes.append(("coil", spec.coil, command.action == "on"))
    client = ModbusTcpClient(
        host, port=port, timeout=modbus_timeout() if timeout is None else timeout, retries=1
    )
    try:
        if not client.connect():
            return False, f"Modbus device {host}:{port} unreachable"
        for kind, address, value in writes:
            if kind == "coil":
                response = client.write_coil(address, value, device_id=spec.unit)
            else:
                response = client.write_registers(address, value, device_id=spec.unit)
            if response.isError():
                return False, f"Modbus device {host}:{port} answered {response}"[:300]
        return True, ""
    except (ModbusException, OSError) as exc:
        return False, f"Modbus device {host}:{port} unreachable: {exc}"[:300]
    finally:
        client.close()
