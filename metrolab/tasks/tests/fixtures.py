"""A complete, valid set-up for work on pressure gauges, for every test that assigns tasks
now that assignment is gated by the eligibility service (R6.7d, R6.4e).

`qualified_setup` builds (with the ORM, dates relative to today so that everything is valid
today): an instrument category, a current method, a calibration and a verification authorised
item (0–60 MPa) done with that method and a measurement standard whose certificate is valid,
two items of equipment composing the standard with confirmed calibrations and a passing
intermediate check, and authorisations for the cast's metrologist (perform), checker (check)
and approver (approve) on both items. `qualified_assign(task, assignee=None, actor=None, **kw)`
assigns a task under the item of its service (defaults: the cast's metrologist, by the
director). The names and numbers are test data, not quotations of the real documents.

Use it from another app's tests (a test module or conftest) with
`from metrolab.tasks.tests.fixtures import *  # noqa: F403` (it exports only its fixtures).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.utils import timezone

__all__ = ["authorise", "qualified_assign", "qualified_setup"]


@pytest.fixture
def qualified_setup(cast):
    """SimpleNamespace(today, category, method, scope (calibration), scope_verification,
    scopes {service: item}, standard, equipment [YQ-001, YQ-002], calibrations, plan,
    authorisations {(username, service): Authorisation}, people [metrologist, checker,
    approver], setup(service) → keyword arguments for task_assign)."""
    from metrolab.equipment.models import (
        Equipment,
        EquipmentCalibration,
        IntermediateCheckPlan,
        IntermediateCheckResult,
        MeasurementStandard,
    )
    from metrolab.methods.models import InstrumentCategory, Method
    from metrolab.qualifications.models import Authorisation, AuthorisedItem

    today = timezone.localdate()
    days = dt.timedelta
    category = InstrumentCategory.objects.create(code="PG", name="弹性元件式一般压力表")
    method = Method.objects.create(
        kind=Method.Kind.JJG,
        code="JJG 52",
        year="2013",
        title="弹性元件式一般压力表、压力真空表和真空表",
        effective_date=today - days(3650),
        services="verification,calibration",
    )
    method.categories.add(category)
    equipment = [
        Equipment.objects.create(asset_no="YQ-001", name="活塞式压力计", model="YS-60"),
        Equipment.objects.create(asset_no="YQ-002", name="数字压力计", model="ConST 211"),
    ]
    calibrations = [
        EquipmentCalibration.objects.create(
            equipment=e,
            certificate_no=f"YJL2025-{i:04d}",
            body="省计量院 Provincial Institute of Metrology",
            date=today - days(100),
            due_date=today + days(265),
            confirmed_at=timezone.now(),
            confirmed_by=cast["equipment_manager"],
        )
        for i, e in enumerate(equipment, start=1)
    ]
    plan = IntermediateCheckPlan.objects.create(
        equipment=equipment[0],
        quantity="10 MPa 点示值",
        unit="MPa",
        reference_value=Decimal("10.000"),
        lower_limit=Decimal("9.995"),
        upper_limit=Decimal("10.005"),
        first_due=today - days(30),
    )
    IntermediateCheckResult.objects.create(
        plan=plan,
        date=today - days(30),
        value=Decimal("10.001"),
        performed_by=cast["equipment_manager"],
        passed=True,
    )
    standard = MeasurementStandard.objects.create(
        name="0.05级活塞式压力计标准装置",
        certificate_no="[2021]国量标证字第0001号",
        certificate_expiry=today + days(700),
        measurands="压力",
        range_text="(0.1~60) MPa",
    )
    standard.equipment.set(equipment)
    standard.methods.add(method)
    scopes = {}
    for service, code in (("calibration", "CAL-P-01"), ("verification", "VER-P-01")):
        scope = AuthorisedItem.objects.create(
            code=code,
            name="弹性元件式一般压力表",
            service=service,
            measurand="压力",
            category=category,
            range_low=Decimal("0"),
            range_high=Decimal("60"),
            unit="MPa",
            cmc="1.6级及以下",
            standard=standard,
            valid_from=today - days(365),
            valid_until=today + days(1000),
        )
        scope.methods.add(method)
        scopes[service] = scope
    authorisations = {}
    for username, capacity in (
        ("metrologist", "perform"),
        ("checker", "check"),
        ("approver", "approve"),
    ):
        for service, scope in scopes.items():
            authorisations[(username, service)] = Authorisation.objects.create(
                person=cast[username],
                item=scope,
                capacity=capacity,
                valid_from=today - days(365),
                valid_until=today + days(365),
                granted_by=cast["director"],
            )

    def setup(service="calibration"):
        return {
            "scope": scopes[service],
            "method": method,
            "standard": standard,
            "equipment": list(equipment),
        }

    return SimpleNamespace(
        today=today,
        category=category,
        method=method,
        scope=scopes["calibration"],
        scope_verification=scopes["verification"],
        scopes=scopes,
        standard=standard,
        equipment=equipment,
        calibrations=calibrations,
        plan=plan,
        authorisations=authorisations,
        people=[cast["metrologist"], cast["checker"], cast["approver"]],
        setup=setup,
    )


@pytest.fixture
def authorise(cast, qualified_setup):
    """authorise(user, capacity="perform", service="calibration", **fields) → Authorisation:
    qualify another person on the set-up's authorised item."""
    from metrolab.qualifications.models import Authorisation

    def _authorise(user, capacity="perform", service="calibration", **fields):
        fields.setdefault("valid_from", qualified_setup.today - dt.timedelta(days=365))
        return Authorisation.objects.create(
            person=user,
            item=qualified_setup.scopes[service],
            capacity=capacity,
            granted_by=cast["director"],
            **fields,
        )

    return _authorise


@pytest.fixture
def qualified_assign(cast, qualified_setup):
    """qualified_assign(task, assignee=None, actor=None, **kw): task_assign under the
    set-up's authorised item for the task's service (the cast's metrologist, by the
    director, unless told otherwise)."""
    from metrolab.tasks.services import task_assign

    def _assign(task, assignee=None, actor=None, **kw):
        return task_assign(
            task=task,
            assignee=assignee or cast["metrologist"],
            actor=actor or cast["director"],
            **{**qualified_setup.setup(task.service), **kw},
        )

    return _assign
