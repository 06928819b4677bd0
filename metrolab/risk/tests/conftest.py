"""Fixtures of the risk tests: `lib` builds library entries (certificates, authorisations,
authorised items, standards, equipment with calibrations, check plans, methods) with the ORM,
each falling due on a given day. The names and numbers are test data."""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.utils import timezone

from metrolab.items.tests.fixtures import *  # noqa: F403

_n = itertools.count(1)
YEARS = dt.timedelta(days=3 * 365)


@pytest.fixture
def lib(cast):
    """Builders: lib.certificate(due, person=), lib.authorisation(due, person=, ...),
    lib.item(due), lib.standard(due, custodian=), lib.equipment(due, custodian=, status=),
    lib.plan(due, equipment=), lib.superseded(due), lib.abolished(due)."""
    from metrolab.equipment.models import (
        Equipment,
        EquipmentCalibration,
        IntermediateCheckPlan,
        IntermediateCheckResult,
        MeasurementStandard,
    )
    from metrolab.methods.models import InstrumentCategory, Method
    from metrolab.qualifications.models import (
        Authorisation,
        AuthorisedItem,
        PersonnelCertificate,
    )

    category = InstrumentCategory.objects.create(code="PG", name="压力表 pressure gauge")

    def item(due=None, **kw):
        n = next(_n)
        return AuthorisedItem.objects.create(
            code=kw.pop("code", f"AI-{n}"),
            name=kw.pop("name", f"压力表校准 {n}"),
            service="calibration",
            measurand="pressure",
            category=category,
            cmc="0.05 %",
            valid_until=due,
            **kw,
        )

    def certificate(due, person=None, **kw):
        return PersonnelCertificate.objects.create(
            person=person or cast["metrologist"],
            kind=kw.pop("kind", PersonnelCertificate.Kind.CALIBRATION),
            number=kw.pop("number", f"CERT-{next(_n)}"),
            issue_date=kw.pop("issue_date", due - YEARS if due else dt.date(2020, 1, 1)),
            expiry_date=due,
            **kw,
        )

    def authorisation(due, person=None, scope=None, **kw):
        return Authorisation.objects.create(
            person=person or cast["metrologist"],
            item=scope or item(),
            capacity=kw.pop("capacity", Authorisation.Capacity.PERFORM),
            valid_from=kw.pop("valid_from", dt.date(2020, 1, 1)),
            valid_until=due,
            **kw,
        )

    def standard(due, custodian=None, **kw):
        return MeasurementStandard.objects.create(
            name=kw.pop("name", f"压力标准装置 {next(_n)}"),
            certificate_no=kw.pop("certificate_no", f"[2024]国量标证字第{next(_n)}号"),
            certificate_expiry=due,
            measurands="pressure",
            range_text="0–60 MPa",
            custodian=custodian,
            **kw,
        )

    def equipment(due=None, custodian=None, confirmed=True, calibrated=None, **kw):
        n = next(_n)
        eq = Equipment.objects.create(
            asset_no=kw.pop("asset_no", f"EQ-{n:03d}"),
            name=kw.pop("name", f"数字压力计 {n}"),
            custodian=custodian,
            **kw,
        )
        if due is not None:
            EquipmentCalibration.objects.create(
                equipment=eq,
                certificate_no=f"JZ-{n}",
                body="省计量院",
                date=calibrated or due - dt.timedelta(days=365),
                due_date=due,
                confirmed_at=timezone.now() if confirmed else None,
                confirmed_by=cast["equipment_manager"] if confirmed else None,
            )
        return eq

    def plan(due, equipment_=None, last_checked=None, **kw):
        """A plan due on `due`: first due then, or (with `last_checked`) interval after it."""
        # Calibrated in the past: a calibration counts from the day it was done.
        eq = equipment_ or equipment(due=dt.date(2099, 1, 1), calibrated=dt.date(2025, 1, 1))
        interval = (due - last_checked).days if last_checked else 90
        p = IntermediateCheckPlan.objects.create(
            equipment=eq,
            quantity="10 MPa point",
            unit="MPa",
            interval_days=interval,
            reference_value=Decimal("10.000"),
            lower_limit=Decimal("9.990"),
            upper_limit=Decimal("10.010"),
            first_due=due if last_checked is None else last_checked,
            **kw,
        )
        if last_checked is not None:
            IntermediateCheckResult.objects.create(
                plan=p,
                date=last_checked,
                value=Decimal("10.001"),
                performed_by=cast["metrologist"],
                passed=True,
            )
        return p

    def method(**kw):
        n = next(_n)
        return Method.objects.create(
            kind=Method.Kind.JJG,
            code=kw.pop("code", f"JJG {n}"),
            year=kw.pop("year", "2013"),
            title=kw.pop("title", f"弹性元件式一般压力表 {n}"),
            effective_date=kw.pop("effective_date", dt.date(2014, 6, 1)),
            **kw,
        )

    def superseded(due):
        code = f"JJG {next(_n)}"
        successor = method(code=code, year=str(due.year), effective_date=due)
        return method(code=code, year="2013", superseded_by=successor)

    def abolished(due):
        return method(abolished_date=due)

    return SimpleNamespace(
        item=item,
        certificate=certificate,
        authorisation=authorisation,
        standard=standard,
        equipment=equipment,
        plan=plan,
        method=method,
        superseded=superseded,
        abolished=abolished,
    )
