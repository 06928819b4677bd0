"""The calibrator (Fluke 55xx-style) and DMM (34401A-style) drivers against the TCP SCPI
simulators over real sockets, through `open_driver` and PyVISA's pyvisa-py backend
(R8a, R5.2, issue 16)."""

from __future__ import annotations

import time
from datetime import UTC
from decimal import Decimal

import pytest

from metrolab.instruments.connections import open_driver
from metrolab.instruments.drivers.base import (
    ConnectionLost,
    Driver,
    Identity,
    IdentityChanged,
    InstrumentReportedError,
    InstrumentTimeout,
    UnsupportedFunction,
)
from metrolab.instruments.simulators.scpi import ScpiBench
from metrolab.instruments.tests.conftest import GAIN, OFFSET, SIGMA, TIMEOUT_MS

CALIBRATOR = Identity("FLUKE", "5522A", "9876543", "2.1")
DMM = Identity("HEWLETT-PACKARD", "34401A", "MY41012345", "11-5-2")


def expected_reading(volts: float) -> float:
    return volts * (1 + GAIN) + OFFSET


def test_identify_at_connect_reset_and_self_test(calibrator, dmm):
    assert isinstance(calibrator, Driver) and isinstance(dmm, Driver)
    assert calibrator.connected_identity == CALIBRATOR
    assert dmm.connected_identity == DMM
    assert calibrator.identify() == CALIBRATOR
    calibrator.reset()
    dmm.reset()
    assert calibrator.self_test() == []
    assert dmm.self_test() == []
    assert calibrator.errors() == [] and dmm.errors() == []


def test_output_operate_and_read_equal_the_model_within_noise(bench, calibrator, dmm):
    calibrator.set_output("dcv", Decimal("10"), "V")
    assert bench.calibrator_model.output() == 0.0  # standby: nothing on the terminals yet
    calibrator.operate()
    assert bench.calibrator_model.operating is True
    assert calibrator.read().value == Decimal("10.000000")
    dmm.configure("dcv", Decimal("10"), "V")
    readings = [dmm.read() for _ in range(20)]
    for reading in readings:
        assert reading.unit == "V"
        assert reading.at.tzinfo is UTC
        assert abs(float(reading.value) - expected_reading(10.0)) <= 5 * SIGMA
    # exact decimals as printed (8 decimals in the mantissa), and really noisy
    assert all(reading.value.as_tuple().exponent == -7 for reading in readings)
    assert len({reading.value for reading in readings}) > 1

    calibrator.standby()
    assert abs(float(dmm.read().value) - OFFSET) <= 5 * SIGMA


def test_units_with_prefixes_become_the_calibrators_suffixes(bench, calibrator, transcript):
    calibrator.set_output("dci", Decimal("1"), "mA")
    calibrator.set_output("dcv", Decimal("100"), "mV")
    calibrator.set_output("resistance", Decimal("10"), "kΩ")
    calibrator.set_output("acv", Decimal("1"), "V")
    sent = [text for direction, text in transcript if text.startswith("OUT ")]
    assert sent == ["OUT 1 MA", "OUT 100 MV", "OUT 10 KOHM", "OUT 1 V, 1000 HZ"]
    assert (bench.calibrator_model.function, bench.calibrator_model.frequency) == ("acv", 1000.0)


def test_measure_and_dmm_ranges(bench, calibrator, dmm):
    calibrator.set_output("dcv", Decimal("1"), "V")
    calibrator.operate()
    reading = dmm.measure("dcv", Decimal("10"), "V")
    assert abs(float(reading.value) - expected_reading(1.0)) <= 5 * SIGMA
    dmm.configure("dcv", Decimal("100"), "mV")  # 1 V on the 100 mV range: overload
    assert bench.dmm_model.range == 0.1
    with pytest.raises(InstrumentReportedError, match="overload"):
        dmm.read()


def test_transcript_sees_every_command_and_answer(calibrator, transcript):
    transcript.clear()
    calibrator.set_output("dcv", Decimal("10"), "V")
    calibrator.operate()
    assert transcript == [
        (">", "OUT 10 V"),
        (">", "*OPC?"),
        ("<", "1"),
        (">", "ERR?"),
        ("<", "0,No Error"),
        (">", "OPER"),
        (">", "*OPC?"),
        ("<", "1"),
        (">", "ERR?"),
        ("<", "0,No Error"),
    ]


def test_instrument_errors_are_raised_with_their_text(bench, calibrator, dmm):
    with pytest.raises(InstrumentReportedError) as raised:
        calibrator.set_output("dcv", Decimal("2000"), "V")  # beyond the calibrator's range
    assert raised.value.errors == ["-222,Data out of range"]
    assert "-222,Data out of range" in str(raised.value)

    bench.calibrator.faults.push_error("-300,Device-specific error")
    with pytest.raises(InstrumentReportedError) as raised:
        calibrator.operate()
    assert raised.value.errors == ["-300,Device-specific error"]

    bench.dmm.faults.push_error('-222,"Data out of range"')
    bench.dmm.faults.push_error('-113,"Undefined header"')
    assert dmm.errors() == ['-222,"Data out of range"', '-113,"Undefined header"']
    assert dmm.errors() == []


def test_failed_self_test_lists_the_code(bench, calibrator, dmm):
    bench.calibrator.faults.self_test_code = 3
    bench.dmm.faults.self_test_code = 1
    assert calibrator.self_test() == ["self-test failed: code 3"]
    assert dmm.self_test() == ["self-test failed: code +1"]


def test_no_answer_is_a_timeout(bench, dmm, calibrator):
    bench.dmm.faults.silent = True
    started = time.monotonic()
    with pytest.raises(InstrumentTimeout):
        dmm.read()
    assert time.monotonic() - started < 1.5
    bench.calibrator.faults.silent = True
    with pytest.raises(InstrumentTimeout):
        calibrator.operate()


def test_identity_change_is_detected(bench, calibrator, dmm):
    assert calibrator.verify_identity() == CALIBRATOR
    bench.calibrator.faults.serial = "1111111"
    with pytest.raises(IdentityChanged) as raised:
        calibrator.verify_identity()
    assert raised.value.expected == CALIBRATOR
    assert raised.value.actual == Identity("FLUKE", "5522A", "1111111", "2.1")
    with pytest.raises(IdentityChanged):
        dmm.verify_identity(Identity("HEWLETT-PACKARD", "34401A", "OTHER", "11-5-2"))


def test_closed_connection_is_connection_lost(bench, calibrator, dmm):
    bench.dmm.close_connections()
    time.sleep(0.05)
    started = time.monotonic()
    with pytest.raises(ConnectionLost, match="closed by the instrument"):
        dmm.read()
    assert time.monotonic() - started < 0.1  # seen at once, not after the 0.2 s timeout
    bench.calibrator.stop()
    with pytest.raises(ConnectionLost):
        calibrator.identify()
    with pytest.raises(ConnectionLost):  # the port is gone: connecting fails
        open_driver(bench.calibrator.connection("fluke55xx", TIMEOUT_MS))


def test_settling_and_drift_are_observable():
    bench = ScpiBench(tau=0.1).start()
    try:
        calibrator = open_driver(bench.calibrator.connection("fluke55xx", TIMEOUT_MS))
        dmm = open_driver(bench.dmm.connection("dmm34401", TIMEOUT_MS))
        calibrator.set_output("dcv", Decimal("10"), "V")
        calibrator.operate()
        early = dmm.read().value
        time.sleep(0.8)  # 8 time constants
        settled = dmm.read().value
        assert early < Decimal("9.9")
        assert abs(settled - 10) < Decimal("0.01")

        bench.calibrator_model.faults.drift_rate = 0.05  # V/s, never settles
        bench.calibrator_model.faults.drift = True
        drifting = []
        for _ in range(4):
            drifting.append(dmm.read().value)
            time.sleep(0.05)
        assert drifting == sorted(drifting)
        assert drifting[-1] - drifting[0] > Decimal("0.005")
        calibrator.close()
        dmm.close()
    finally:
        bench.stop()


def test_refusals(calibrator, dmm, bench):
    with pytest.raises(UnsupportedFunction):
        dmm.set_output("dcv", Decimal(1), "V")
    with pytest.raises(UnsupportedFunction):
        calibrator.configure("dcv", None, "V")
    with pytest.raises(UnsupportedFunction):
        calibrator.set_output("pressure", Decimal(1), "MPa")
    with pytest.raises(UnsupportedFunction):
        calibrator.set_output("dcv", Decimal(1), "A")
    with pytest.raises(ValueError, match="unknown driver"):
        open_driver({"kind": "visa", "resource": bench.dmm.resource, "driver": "nope"})
    with pytest.raises(ValueError, match="unknown connection kind"):
        open_driver({"kind": "gpib", "driver": "dmm34401"})
    with pytest.raises(ValueError, match="cannot use"):
        open_driver({"kind": "modbus", "driver": "dmm34401", "host": "127.0.0.1"})


def test_visa_sockets_send_commands_without_delay(calibrator, dmm):
    """Commands without an answer (OUT, OPER) are followed at once by *OPC?: with Nagle's
    algorithm on, each setting waited ~40 ms for the delayed ACK."""
    import socket

    for driver in (calibrator, dmm):
        sock = driver.transport._socket()
        assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 1
    durations = []
    for _ in range(10):
        started = time.monotonic()
        calibrator.set_output("dcv", Decimal("1"), "V")
        durations.append(time.monotonic() - started)
    assert min(durations) < 0.02  # every one took ≥ 40 ms with the delay
