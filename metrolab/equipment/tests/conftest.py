"""Fixtures of the equipment tests: a discipline, equipment registered through the services,
confirmed calibrations with points, a check plan, a reader device with its token, and a
snapshot helper proving that a refusal wrote nothing."""

from __future__ import annotations

import datetime as dt
import functools

import pytest
from django.utils import timezone

from metrolab.core import testing
from metrolab.core.permissions import SYSTEM
from metrolab.items.tests.fixtures import *  # noqa: F403

PDF_BYTES = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


def today() -> dt.date:
    return timezone.localdate()


def days(n: int) -> dt.date:
    return today() + dt.timedelta(days=n)


@pytest.fixture
def pressure_discipline(db):
    from metrolab.commissions.models import Discipline

    return Discipline.objects.create(code="P", name="压力 Pressure")


@pytest.fixture
def make_equipment(cast):
    """make_equipment(asset_no, **fields) → Equipment registered by the equipment manager."""
    from metrolab.equipment.services import equipment_create

    def _make(asset_no="EQ-001", **kw):
        kw.setdefault("name", "数字压力计 Digital pressure gauge")
        kw.setdefault("model", "DPG-10")
        kw.setdefault("range_text", "0–10 MPa")
        kw.setdefault("accuracy_text", "0.02 级")
        return equipment_create(actor=cast["equipment_manager"], asset_no=asset_no, **kw)

    return _make


@pytest.fixture
def gauge(make_equipment, cast):
    return make_equipment("EQ-001", custodian=cast["metrologist"], rfid_uid="E2:00:00:01")


@pytest.fixture
def calibrate(cast):
    """calibrate(equipment, date=, due=, points=[(nominal, unit, correction, U, k)],
    confirm=True) → EquipmentCalibration entered (and confirmed) by the equipment manager."""
    from metrolab.equipment.services import (
        equipment_calibration_add,
        equipment_calibration_confirm,
    )

    counter = iter(range(1, 10_000))

    def _calibrate(equipment, date=None, due=None, points=(), confirm=True, **kw):
        date = date or days(-30)
        due = due or date + dt.timedelta(days=365)
        calibration = equipment_calibration_add(
            equipment=equipment,
            certificate_no=kw.pop("certificate_no", f"JL-{next(counter):04d}"),
            body=kw.pop("body", "省计量院 Provincial Institute of Metrology"),
            date=date,
            due_date=due,
            points=[
                {"nominal": n, "unit": u, "correction": c, "expanded_uncertainty": big_u, "k": k}
                for n, u, c, big_u, k in points
            ],
            actor=cast["equipment_manager"],
            **kw,
        )
        if confirm and due < today():
            # Confirmed back when it was in force (the service refuses an expired one now).
            calibration.confirmed_by = cast["equipment_manager"]
            calibration.confirmed_at = timezone.make_aware(dt.datetime.combine(date, dt.time(12)))
            calibration.confirmation_note = "满足使用要求"
            calibration.save()
        elif confirm:
            calibration = equipment_calibration_confirm(
                calibration=calibration,
                note="修正值在 ±0.02 MPa 内，满足使用要求",
                actor=cast["equipment_manager"],
            )
        return calibration

    return _calibrate


@pytest.fixture
def plan(gauge, cast):
    """A check plan: centre 10.000, control limits 9.970 – 10.030 (σ = 0.010)."""
    from metrolab.equipment.services import equipment_check_plan_create

    return equipment_check_plan_create(
        equipment=gauge,
        actor=cast["equipment_manager"],
        quantity="10 MPa 点示值",
        unit="MPa",
        check_standard="活塞式压力计 PG-1",
        interval_days=90,
        reference_value="10.000",
        lower_limit="9.970",
        upper_limit="10.030",
    )


@pytest.fixture
def reader_token(db):
    """(device user, raw bearer token) of an RFID zone reader."""
    from metrolab.core.services import api_token_create, user_create

    reader = user_create(username="zone-reader-1", password=None, roles=["device"], actor=SYSTEM)
    _token, raw = api_token_create(
        user=reader, name="zone reader 1", roles=["device"], actor=SYSTEM
    )
    return reader, raw


# The block wrote no row of equipment (and no audit event) at all.
nothing_written = functools.partial(testing.nothing_written, "equipment")
