"""The drivers' command strings against the pyvisa-sim devices of `simulators/sim.yaml`
(loaded with `file.yaml@sim`)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from metrolab.instruments import simulators
from metrolab.instruments.connections import open_driver
from metrolab.instruments.drivers.base import Identity, InstrumentReportedError

SIM = f"{Path(simulators.__file__).parent / 'sim.yaml'}@sim"


def connect(resource, driver, transcript):
    connection = {"kind": "visa", "resource": resource, "driver": driver, "backend": SIM}
    return open_driver(connection, transcript=transcript)


def test_calibrator_command_strings(transcript):
    calibrator = connect("TCPIP0::10.0.0.1::5025::SOCKET", "fluke55xx", transcript)
    assert calibrator.connected_identity == Identity("FLUKE", "5522A", "9876543", "2.1")
    calibrator.reset()
    calibrator.set_output("dcv", Decimal("10"), "V")
    calibrator.set_output("dci", Decimal("1"), "mA")
    calibrator.set_output("resistance", Decimal("100"), "Ω")
    calibrator.operate()
    calibrator.standby()
    assert calibrator.self_test() == []
    assert calibrator.read().value == Decimal("10.000000")
    sent = [text for direction, text in transcript if direction == ">"]
    assert [text for text in sent if text not in ("*OPC?", "ERR?")] == [
        "*IDN?",
        "*RST",
        "OUT 10 V",
        "OUT 1 MA",
        "OUT 100 OHM",
        "OPER",
        "STBY",
        "*TST?",
        "OUT?",
    ]
    calibrator.close()


def test_dmm_command_strings(transcript):
    dmm = connect("TCPIP0::10.0.0.2::5025::SOCKET", "dmm34401", transcript)
    dmm.reset()
    dmm.configure("dcv", Decimal("10"), "V")
    assert dmm.read().value == Decimal("10.0000123")
    dmm.configure("dcv", Decimal("100"), "mV")
    dmm.configure("dcv", None, "V")
    dmm.configure("resistance", Decimal("10"), "kΩ")
    assert dmm.measure("dcv", Decimal("10"), "V").value == Decimal("10.0000120")
    sent = [text for direction, text in transcript if direction == ">"]
    assert [text for text in sent if text not in ("*OPC?", "SYST:ERR?")] == [
        "*IDN?",
        "*RST",
        "CONF:VOLT:DC 10",
        "READ?",
        "CONF:VOLT:DC 0.1",
        "CONF:VOLT:DC AUTO",
        "CONF:RES 10000",
        "MEAS:VOLT:DC? 10",
    ]
    dmm.close()


def test_an_unknown_answer_is_an_instrument_error(transcript):
    dmm = connect("TCPIP0::10.0.0.2::5025::SOCKET", "dmm34401", transcript)
    dmm.unit = "V"
    dmm.transport.write("BOGUS")
    with pytest.raises(InstrumentReportedError, match="unreadable reading"):
        dmm._reading(dmm.transport.read())
    dmm.close()
