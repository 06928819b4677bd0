"""Fixtures of the run tests: a started DMM calibration task with a draft record of the
built-in `dmm-dc-voltage` template (and the built-in procedures, approved), the simulated
SCPI bench (calibrator + DMM on loopback ports), the lab's calibrator registered as equipment
with a confirmed calibration and its connection, and `execute(run)` which runs the worker's
job for a run and returns it fresh.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from metrolab.instruments.simulators.scpi import ScpiBench

__all__ = ["dmm_bench", "dmm_record", "execute", "lab_calibrator", "no_sleep"]

TIMEOUT_MS = 500
GAIN, OFFSET, SIGMA = 1.2e-5, 3e-6, 2e-6


@pytest.fixture
def no_sleep(monkeypatch):
    """The worker does not wait between readings (the simulators settle at once)."""
    from metrolab.instruments import services

    monkeypatch.setattr(services, "SLEEP", lambda seconds: None)


@pytest.fixture
def dmm_bench():
    bench = ScpiBench(tau=0.0, gain_error=GAIN, offset=OFFSET, sigma=SIGMA, seed=7).start()
    yield bench
    bench.stop()


@pytest.fixture
def dmm_record(cast, start_task, approved_version):
    """A draft record (dmm-dc-voltage, points 1, 5, 10, −10 V, 5 repeats) of a started DMM
    calibration task measured by the cast's metrologist; the built-in procedures are loaded
    (approved), so that a run can use `dmm-dc-voltage`."""
    from metrolab.core.permissions import SYSTEM
    from metrolab.instruments.procedure_services import procedures_load_builtin
    from metrolab.records.services import record_create

    approved_version("dmm-dc-voltage")
    procedures_load_builtin(actor=SYSTEM)
    task = start_task(service="calibration", name="数字多用表 Digital multimeter")
    return record_create(task=task, actor=cast["metrologist"], roles={})


@pytest.fixture
def lab_calibrator(cast, dmm_bench):
    """The lab's multifunction calibrator (the simulated Fluke 5522A), calibrated, connected."""
    from metrolab.equipment.models import Equipment, EquipmentCalibration
    from metrolab.instruments.models import InstrumentConnection

    today = timezone.localdate()
    calibrator = Equipment.objects.create(
        asset_no="YQ-201", name="多功能校准器", model="5522A", serial_no="9876543"
    )
    EquipmentCalibration.objects.create(
        equipment=calibrator,
        certificate_no="YJL2025-0201",
        body="省计量院 Provincial Institute of Metrology",
        date=today - dt.timedelta(days=100),
        due_date=today + dt.timedelta(days=265),
        confirmed_at=timezone.now(),
        confirmed_by=cast["equipment_manager"],
    )
    connection = dmm_bench.calibrator.connection("fluke55xx", TIMEOUT_MS)
    InstrumentConnection.objects.create(
        equipment=calibrator, connection=connection, driver="fluke55xx"
    )
    return calibrator


@pytest.fixture
def execute():
    """execute(run) runs the background job of a run (as the worker does) and returns the run
    fresh from the database."""
    from metrolab.instruments.services import run_execute

    def _execute(run):
        run_execute(run_id=run.pk)
        run.refresh_from_db()
        return run

    return _execute
