"""The demo lab's libraries (issue 5, "Proof"): real-looking methods, equipment, measurement
standards, authorised items and qualified staff, seeded once, with things expiring soon — and
every task the demo assigns passes the eligibility service. The tests reading the demo share
the demo lab seeded once per test run (`demo_lab`, conftest.py)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from metrolab.core import audit
from metrolab.core.permissions import SYSTEM
from metrolab.tasks.tests.fixtures import qualified_setup  # noqa: F401

pytestmark = pytest.mark.django_db


def _counts():
    from metrolab.equipment.models import (
        EquipmentCalibration,
        IntermediateCheckResult,
        MeasurementStandard,
    )
    from metrolab.methods.models import InstrumentCategory, Method
    from metrolab.qualifications.models import Authorisation, AuthorisedItem, StaffProfile

    return [
        m.objects.count()
        for m in (
            InstrumentCategory,
            Method,
            EquipmentCalibration,
            IntermediateCheckResult,
            MeasurementStandard,
            AuthorisedItem,
            StaffProfile,
            Authorisation,
        )
    ]


def test_seeding_twice_changes_nothing(demo_lab):
    from metrolab.equipment.demo import demo_seed_equipment
    from metrolab.methods.demo import demo_seed_methods
    from metrolab.qualifications.demo import demo_seed_libraries, demo_seed_qualifications

    before = _counts()
    assert all(before)
    assert demo_seed_libraries(actor=SYSTEM) is False
    assert demo_seed_methods(actor=SYSTEM) is False
    assert demo_seed_equipment(actor=SYSTEM) is False
    assert demo_seed_qualifications(actor=SYSTEM) is False
    assert _counts() == before
    assert audit.verify_chain().ok


def test_libraries_need_the_disciplines_first():
    from metrolab.core.demo import demo_seed
    from metrolab.methods.models import Method
    from metrolab.qualifications.demo import demo_seed_libraries

    demo_seed(actor=SYSTEM)
    assert demo_seed_libraries(actor=SYSTEM) is False
    assert not Method.objects.exists()


def test_the_required_methods(demo_lab):
    from metrolab.methods.models import Method

    today = timezone.localdate()
    jjg52 = Method.objects.get(code="JJG 52", year="2013")
    assert jjg52.title == "弹性元件式一般压力表、压力真空表和真空表"
    assert jjg52.effective_date == dt.date(2013, 12, 27)
    assert jjg52.status == Method.Status.CURRENT
    assert {c.name for c in jjg52.categories.all()} == {
        "弹性元件式一般压力表",
        "弹性元件式压力真空表",
        "弹性元件式真空表",
    }
    old = Method.objects.get(code="JJG 52", year="1999")
    assert old.superseded_by == jjg52 and old.status == Method.Status.SUPERSEDED
    assert Method.objects.get(code="JJG 130", year="2011").status == Method.Status.CURRENT
    assert Method.objects.get(code="JJG 130", year="2004").status == Method.Status.SUPERSEDED
    assert Method.objects.get(code="JJF 1587", year="2016").services == "calibration"
    assert Method.objects.get(code="JJF 1059.1", year="2012").is_current_on(today)
    # Being superseded within 60 days, by a successor not yet in force.
    being_superseded = Method.objects.get(
        superseded_by__effective_date__gt=today,
        superseded_by__effective_date__lte=today + dt.timedelta(days=60),
    )
    assert being_superseded.kind == Method.Kind.INHOUSE
    assert being_superseded.status == Method.Status.CURRENT
    assert being_superseded.superseded_by.status == Method.Status.NOT_YET_EFFECTIVE
    for method in Method.objects.filter(kind__in=["JJG", "JJF"]):
        assert method.disciplines.exists() and method.services


def test_standards_with_their_equipment(demo_lab):
    from metrolab.equipment.models import Equipment, MeasurementStandard

    today = timezone.localdate()
    pressure = MeasurementStandard.objects.get(name="活塞式压力计标准装置")
    assert pressure.discipline.code == "P"
    assert set(pressure.equipment.values_list("name", flat=True)) == {"活塞式压力计"}
    assert "示量标法证字" in pressure.certificate_no
    gauges = MeasurementStandard.objects.get(name="弹簧管式精密压力表标准装置")
    assert today < gauges.certificate_expiry <= today + dt.timedelta(days=90)
    temperature = MeasurementStandard.objects.get(name="二等标准水银温度计标准装置")
    assert temperature.discipline.code == "T"
    assert temperature.equipment.filter(name="二等标准水银温度计组").exists()
    assert temperature.methods.filter(code="JJG 130", year="2011").exists()
    assert MeasurementStandard.objects.filter(discipline__code="E").exists()
    # Equipment: custodian, location, status labels, confirmed calibrations with points.
    for item in Equipment.objects.all():
        assert item.custodian.username == "equipment" and item.location
        calibration = item.current_calibration()
        assert calibration is not None and calibration.certificate_no
    assert Equipment.objects.filter(status=Equipment.Status.LIMITED).count() == 1
    # The gauge whose latest intermediate check broke its limits is restricted (限用).
    drifting = Equipment.objects.get(status=Equipment.Status.RESTRICTED)
    assert drifting.asset_no == "YQ-2019-001" and drifting.out_of_control
    assert drifting.out_of_control_check.rules_broken and not drifting.out_of_control_check.passed
    stopped = Equipment.objects.get(status=Equipment.Status.OUT_OF_SERVICE)
    assert stopped.calibration_due() < today
    dues = sorted(
        (e.calibration_due() - today).days
        for e in Equipment.objects.filter(status__in=Equipment.USABLE)
    )
    assert dues[0] >= 0
    assert any(d <= 30 for d in dues) and any(30 < d <= 60 for d in dues)
    assert any(60 < d <= 90 for d in dues)
    piston = Equipment.objects.get(asset_no="YQ-2012-001").current_calibration()
    assert piston.points.count() == 6 and {p.unit for p in piston.points.all()} == {"MPa"}
    assert all(p.coverage_factor == 2 for p in piston.points.all())


def test_control_charts(demo_lab):
    from metrolab.equipment.models import IntermediateCheckPlan

    failed = []
    for plan in IntermediateCheckPlan.objects.all():
        results = list(plan.results.order_by("date", "pk"))
        assert 8 <= len(results) <= 12
        assert all(r.passed == (r.rules_broken == "") for r in results)
        latest = results[-1]
        if not latest.passed:
            failed.append(plan)
        assert all(r.passed for r in results[:-1])
    assert len(failed) == 1
    plan = failed[0]
    assert plan.results.order_by("-date").first().value > plan.upper_limit
    assert "1" in plan.results.order_by("-date").first().rules_broken.split(",")
    # On equipment no measurement standard (hence no demo task) uses.
    assert not plan.equipment.standards.exists()
    assert not plan.equipment.tasks.exists()


def test_staff_with_qualifications(demo_lab):
    from metrolab.core.models import User
    from metrolab.qualifications.models import (
        Authorisation,
        AuthorisedItem,
        PersonnelCertificate,
        StaffProfile,
    )

    today = timezone.localdate()
    metrologist = User.objects.get(username="metrologist")
    checker = User.objects.get(username="checker")
    assert StaffProfile.objects.filter(user=metrologist).exists()
    assert not StaffProfile.objects.filter(user__username__startswith="customer").exists()
    for person, capacity in [
        (metrologist, "perform"),
        (checker, "perform"),
        (checker, "check"),
        (User.objects.get(username="director"), "approve"),
        (User.objects.get(username="approver"), "approve"),
    ]:
        held = Authorisation.objects.filter(person=person, capacity=capacity)
        assert any(a.valid_on(today) for a in held)
        assert held.filter(item__category__code__startswith="P").exists()
        assert held.filter(item__category__code__startswith="T").exists()
    assert metrologist.trainings.exists() and checker.trainings.exists()
    # Something expires within 30 days: 赵核验's 计量检定员证, and the authorisations on it.
    soon = PersonnelCertificate.objects.get(
        expiry_date__gte=today, expiry_date__lte=today + dt.timedelta(days=30)
    )
    assert soon.person == checker and soon.kind == PersonnelCertificate.Kind.VERIFICATION_OFFICER
    assert soon.items.exists() and soon.authorisations.exists()
    # An authorised item expires within 60 days; each item has methods and a standard.
    assert AuthorisedItem.objects.filter(
        valid_until__gte=today, valid_until__lte=today + dt.timedelta(days=60)
    ).exists()
    for item in AuthorisedItem.objects.all():
        assert item.methods.exists() and item.standard is not None and item.cmc


def test_the_demo_keeps_the_rules_of_the_scope_and_of_granting(demo_lab):
    """Every demo item passes the item service's checks as it stands (its methods are of kinds
    its service may be done under: JJG for verification, with work instructions beside), and
    no authorisation was granted by the person it authorises (R4.4)."""
    from metrolab.qualifications.models import Authorisation, AuthorisedItem
    from metrolab.qualifications.services import authorised_item_update

    for item in AuthorisedItem.objects.all():
        authorised_item_update(item=item, data={}, reason="demo check", actor=SYSTEM)
    verification_kinds = set(
        AuthorisedItem.objects.filter(service="verification").values_list(
            "methods__kind", flat=True
        )
    )
    assert verification_kinds == {"JJG", "inhouse"}
    grants = Authorisation.objects.values_list("person_id", "granted_by_id")
    assert grants and all(granted_by not in (None, person) for person, granted_by in grants)


def test_every_demo_assignment_is_eligible(demo_lab):
    from metrolab.qualifications.eligibility import task_eligibility_problems
    from metrolab.tasks.models import Task

    assigned = list(Task.objects.filter(assignee__isnull=False).select_related("item__line"))
    assert len(assigned) >= 4
    for task in assigned:
        assert task.scope is not None and task.method is not None
        assert task.standard == task.scope.standard and task.equipment.exists()
        assert task_eligibility_problems(task, task.assignee) == [], task
    ranged = {t.item.line.instrument_name: (t.range_low, t.range_high) for t in assigned}
    assert ranged["压力变送器"] == (0, 2.5)
    assert ranged["数字温度计"] == (-50, 150)


def test_line_range():
    from decimal import Decimal

    from metrolab.qualifications.demo import line_range

    assert line_range("0-1.6 MPa", "MPa") == (Decimal(0), Decimal("1.6"))
    assert line_range("-50~150 ℃", "℃") == (Decimal(-50), Decimal(150))
    assert line_range("3200 g", "g") == (Decimal(0), Decimal(3200))
    assert line_range("0-1.6 MPa", "kPa") == (None, None)
    assert line_range("6½ 位", "") == (None, None)
    assert line_range("", "MPa") == (None, None)


def test_carrying_a_commission_with_another_setup(cast, make_commission, qualified_setup):  # noqa: F811
    """Outside the demo lab (no demo libraries), the caller gives each task its set-up."""
    from metrolab.tasks.demo import demo_carry_commission

    commission = make_commission(lines=[("Gauge", 1, "calibration")])
    (item,) = demo_carry_commission(
        commission,
        "testing",
        receptionist=cast["receptionist"],
        keeper=cast["item_keeper"],
        manager=cast["director"],
        metrologist=cast["metrologist"],
        task_setup=lambda task: qualified_setup.setup(task.service),
    )
    task = item.tasks.get()
    assert task.status == "in_progress" and task.scope == qualified_setup.scope
