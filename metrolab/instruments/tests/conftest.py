"""Simulators on real sockets / ptys for the driver tests (timeouts of 0.2 s)."""

from __future__ import annotations

import pytest

from metrolab.instruments.connections import open_driver
from metrolab.instruments.simulators.modbus import PressureSimulator
from metrolab.instruments.simulators.models import BathModel, PressureModel
from metrolab.instruments.simulators.scpi import ScpiBench
from metrolab.instruments.simulators.serial_bath import BathSimulator

TIMEOUT_MS = 200
GAIN, OFFSET, SIGMA = 1.2e-5, 3e-6, 2e-6


class Transcript(list):
    def __call__(self, direction: str, text: str) -> None:
        self.append((direction, text))


@pytest.fixture
def transcript():
    return Transcript()


@pytest.fixture
def bench():
    bench = ScpiBench(tau=0.0, gain_error=GAIN, offset=OFFSET, sigma=SIGMA, seed=7).start()
    yield bench
    bench.stop()


@pytest.fixture
def calibrator(bench, transcript):
    driver = open_driver(
        bench.calibrator.connection("fluke55xx", TIMEOUT_MS), transcript=transcript
    )
    yield driver
    driver.close()


@pytest.fixture
def dmm(bench):
    driver = open_driver(bench.dmm.connection("dmm34401", TIMEOUT_MS))
    yield driver
    driver.close()


@pytest.fixture
def pressure_sim():
    simulator = PressureSimulator(PressureModel(tau=0.0, sigma=1e-5, seed=3)).start()
    yield simulator
    simulator.stop()


@pytest.fixture
def pressure(pressure_sim, transcript):
    driver = open_driver(pressure_sim.connection(TIMEOUT_MS), transcript=transcript)
    yield driver
    driver.close()


@pytest.fixture
def bath_sim():
    model = BathModel(tau=0.0, sigma=2e-5, seed=5, ambient=20.0, bridge_offset=1.5e-3)
    simulator = BathSimulator(model).start()
    yield simulator
    simulator.stop()


@pytest.fixture
def bath(bath_sim, transcript):
    driver = open_driver(bath_sim.connection(TIMEOUT_MS), transcript=transcript)
    yield driver
    driver.close()
