"""The Modbus pressure controller and the serial bath drivers against their simulators (a
pymodbus server on a loopback port, a pty), including every fault (R8a, R5.2, issue 16)."""

from __future__ import annotations

import time
from decimal import Decimal

import pytest

from metrolab.instruments.connections import open_driver
from metrolab.instruments.drivers.base import (
    ConnectionLost,
    Identity,
    IdentityChanged,
    InstrumentReportedError,
    InstrumentTimeout,
    UnsupportedFunction,
)
from metrolab.instruments.drivers.pressure import registers_decimal
from metrolab.instruments.simulators.modbus import PressureSimulator
from metrolab.instruments.simulators.models import BathModel, PressureModel
from metrolab.instruments.simulators.serial_bath import BathSimulator
from metrolab.instruments.tests.conftest import TIMEOUT_MS

PRESSURE = Identity("DRUCK", "PACE5000", "PC5-12345", "3.04")
BATH = Identity("HART", "7341", "B23456", "1.20")


# --- pressure controller over Modbus TCP ---


def test_pressure_identify_set_operate_read(pressure_sim, pressure):
    assert pressure.connected_identity == PRESSURE
    pressure.reset()
    assert pressure.self_test() == []
    pressure.configure("pressure", Decimal("10"), "MPa")
    pressure.set_output("pressure", Decimal("1500"), "kPa")
    assert pressure_sim.model.setpoint == pytest.approx(1.5)
    assert pressure.status()["controlling"] is False
    pressure.operate()
    assert pressure.status() == {
        "controlling": True,
        "stable": True,
        "error_queued": False,
        "self_test_failed": False,
    }
    for _ in range(10):
        reading = pressure.read()
        assert reading.unit == "MPa"
        assert abs(reading.value - Decimal("1.5")) <= Decimal("5e-5")  # 5 σ
    pressure.standby()
    assert abs(pressure.read().value) <= Decimal("5e-5")


def test_pressure_reading_is_the_shortest_decimal_of_the_float32():
    assert registers_decimal([0x3FC0, 0x0000]) == Decimal("1.5")
    assert registers_decimal([0x3DCC, 0xCCCD]) == Decimal("0.1")


def test_pressure_transcript_and_errors(pressure_sim, pressure, transcript):
    transcript.clear()
    pressure.operate()
    assert transcript == [
        (">", "write holding 2 0001"),
        ("<", "ok"),
        (">", "read input 3 ×1"),
        ("<", "0000"),
    ]
    with pytest.raises(InstrumentReportedError) as raised:
        pressure.set_output("pressure", Decimal("100"), "MPa")  # beyond 70 MPa
    assert raised.value.errors == ["2,Set point out of range"]
    pressure_sim.faults.push_error("3,Supply pressure low")
    pressure_sim.faults.push_error("4,Over-pressure")
    assert pressure.errors() == ["3,Supply pressure low", "4,Over-pressure"]
    assert pressure.errors() == []
    pressure_sim.faults.self_test_code = 7
    assert pressure.self_test() == ["self-test failed: code 7"]
    with pytest.raises(UnsupportedFunction):
        pressure.set_output("pressure", Decimal("1"), "V")


def test_pressure_faults(pressure_sim, pressure):
    pressure_sim.faults.silent = True
    with pytest.raises(InstrumentTimeout):
        pressure.read()
    pressure_sim.faults.silent = False
    assert pressure.verify_identity() == PRESSURE
    pressure_sim.faults.serial = "PC5-99999"
    with pytest.raises(IdentityChanged) as raised:
        pressure.verify_identity()
    assert raised.value.actual.serial == "PC5-99999"
    pressure_sim.close_connections()
    with pytest.raises(ConnectionLost):
        pressure.read()
    with pytest.raises(ConnectionLost):
        open_driver(pressure_sim.connection(TIMEOUT_MS))


def test_pressure_drift_is_observable():
    simulator = PressureSimulator(PressureModel(tau=0.0)).start()
    try:
        driver = open_driver(simulator.connection(TIMEOUT_MS))
        driver.set_output("pressure", Decimal("2"), "MPa")
        driver.operate()
        assert driver.read().value == Decimal("2")
        simulator.faults.drift_rate = 0.1  # MPa/s
        simulator.faults.drift = True
        values = []
        for _ in range(4):
            values.append(driver.read().value)
            time.sleep(0.05)
        assert values == sorted(values) and values[-1] - values[0] > Decimal("0.01")
        assert driver.status()["stable"] is False
        driver.close()
    finally:
        simulator.stop()


def test_pressure_over_modbus_rtu_on_a_serial_line(transcript):
    simulator = PressureSimulator(PressureModel(tau=0.0), rtu=True).start()
    try:
        connection = simulator.connection(TIMEOUT_MS)
        assert connection["method"] == "rtu" and connection["port"].startswith("/dev/")
        driver = open_driver(connection, transcript=transcript)
        assert driver.connected_identity == PRESSURE
        driver.set_output("pressure", Decimal("2.5"), "MPa")
        driver.operate()
        assert driver.read().value == Decimal("2.5")
        assert (">", "write holding 0 4020 0000") in transcript
        simulator.faults.silent = True
        with pytest.raises(InstrumentTimeout):
            driver.read()
        driver.close()
    finally:
        simulator.stop()


# --- temperature bath + readout over a serial line (pty) ---


def test_bath_identify_set_operate_read(bath_sim, bath, transcript):
    assert bath.connected_identity == BATH
    assert bath_sim.port.startswith("/dev/")
    bath.reset()
    assert bath.self_test() == []
    bath.configure("temperature", None, "°C")
    transcript.clear()
    bath.set_output("temperature", Decimal("50"), "°C")
    assert transcript == [
        (">", "s=50.000"),
        ("<", "set: 50.000 C"),
        (">", "err?"),
        ("<", "0,No Error"),
    ]
    bath.operate()
    assert bath_sim.model.controlling is True
    for _ in range(5):
        reading = bath.read()
        assert reading.unit == "°C"
        assert reading.value.as_tuple().exponent == -5
        assert abs(reading.value - Decimal("50.0015")) <= Decimal("1e-4")  # offset, 5 σ
    assert bath.bath_temperature().value == Decimal("50.000")
    bath.standby()
    assert abs(bath.read().value - Decimal("20.0015")) <= Decimal("1e-4")


def test_bath_errors_and_refusals(bath_sim, bath):
    with pytest.raises(InstrumentReportedError) as raised:
        bath.set_output("temperature", Decimal("500"), "°C")
    assert raised.value.errors == ["5,Set point out of range"]
    bath_sim.faults.push_error("12,Cutout tripped")
    with pytest.raises(InstrumentReportedError, match="12,Cutout tripped"):
        bath.operate()
    assert bath.errors() == []
    bath_sim.faults.self_test_code = 2
    assert bath.self_test() == ["self-test failed: code 2"]
    with pytest.raises(UnsupportedFunction):
        bath.set_output("temperature", Decimal("50"), "K")
    with pytest.raises(UnsupportedFunction):
        bath.set_output("dcv", Decimal("1"), "V")


def test_bath_faults(bath_sim, bath):
    bath_sim.faults.silent = True
    with pytest.raises(InstrumentTimeout):
        bath.read()
    bath_sim.faults.silent = False
    bath_sim.faults.serial = "C00001"
    with pytest.raises(IdentityChanged):
        bath.verify_identity()
    assert bath.verify_identity(Identity("HART", "7341", "C00001", "1.20")).serial == "C00001"
    bath_sim.close_connections()
    with pytest.raises(ConnectionLost):
        bath.read()


def test_bath_settling_and_drift_are_observable():
    simulator = BathSimulator(BathModel(tau=0.1, ambient=20.0)).start()
    try:
        driver = open_driver(simulator.connection(TIMEOUT_MS))
        driver.set_output("temperature", Decimal("30"), "°C")
        driver.operate()
        early = driver.read().value
        time.sleep(0.8)
        assert early < Decimal("29.9")
        assert abs(driver.read().value - 30) < Decimal("0.01")
        simulator.faults.drift_rate = 0.2  # °C/s
        simulator.faults.drift = True
        values = []
        for _ in range(4):
            values.append(driver.read().value)
            time.sleep(0.05)
        assert values == sorted(values) and values[-1] - values[0] > Decimal("0.02")
        driver.close()
    finally:
        simulator.stop()
