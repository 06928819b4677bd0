"""The one eligibility service (R6.7d, R6.4e): every reason it gives, on the day just before
and just after each boundary (dates are inclusive: valid ON an expiry / due date, invalid the
day after), all reasons together, deviations covering a calibration but never a verification,
and the check / approve capacities the records issue uses for signatures.

The set-up (`qualified_setup`, metrolab/tasks/tests/fixtures.py) is valid from today until
today + 265 days (the equipment's calibrations fall due then); each test moves one boundary
into that window and asks on the day before / on the boundary and the day after.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from metrolab.equipment.models import (
    Equipment,
    EquipmentCalibration,
    MeasurementStandard,
)
from metrolab.items.tests.fixtures import *  # noqa: F403
from metrolab.methods.models import Deviation, Method
from metrolab.qualifications.eligibility import (
    APPROVE,
    CHECK,
    PERFORM,
    Problem,
    eligibility_problems,
    task_eligibility_problems,
)
from metrolab.qualifications.models import PersonnelCertificate
from metrolab.tasks.tests.fixtures import *  # noqa: F403

pytestmark = pytest.mark.django_db

DAY = dt.timedelta(days=1)


@pytest.fixture
def s(qualified_setup):
    return qualified_setup


@pytest.fixture
def ask(cast, s):
    """ask(person="metrologist", capacity="perform", service="calibration", on=+days or
    date, **overrides) → list[Problem] for the complete set-up with the overrides."""

    def _ask(person="metrologist", capacity=PERFORM, service="calibration", on=0, **over):
        day = s.today + dt.timedelta(days=on) if isinstance(on, int) else on
        kwargs = {**s.setup(service), "service": service, **over}
        return eligibility_problems(
            cast[person] if isinstance(person, str) else person,
            capacity=capacity,
            on=day,
            **kwargs,
        )

    return _ask


def codes(problems: list[Problem]) -> list[str]:
    return [p.code for p in problems]


def later(s, days: int) -> dt.date:
    return s.today + dt.timedelta(days=days)


# --- the complete set-up -------------------------------------------------------------------


def test_the_complete_setup_is_eligible(ask, s):
    for service in ("calibration", "verification"):
        assert ask(service=service) == []
        assert ask("checker", CHECK, service=service) == []
        assert ask("approver", APPROVE, service=service) == []
        assert ask(service=service, on=265) == []  # the last day before anything falls due
    assert ask(range_low=Decimal("0"), range_high=Decimal("60")) == []


# --- methods -------------------------------------------------------------------------------


def test_method_not_yet_effective(ask, s):
    s.method.effective_date = later(s, 5)
    s.method.save()
    problems = ask(on=4)
    assert codes(problems) == ["method_not_current"]
    assert problems[0].message == (
        f"Method JJG 52-2013 takes effect only on {later(s, 5):%Y-%m-%d}."
    )
    assert problems[0].deviable is True
    assert ask(on=5) == []


def test_method_abolished(ask, s):
    s.method.abolished_date = later(s, 10)
    s.method.save()
    assert ask(on=9) == []
    problems = ask(on=10)
    assert codes(problems) == ["method_not_current"]
    assert problems[0].message == f"Method JJG 52-2013 was abolished on {later(s, 10):%Y-%m-%d}."


def test_method_superseded_once_its_successor_is_effective(ask, s):
    successor = Method.objects.create(
        kind=Method.Kind.JJG,
        code="JJG 52",
        year="2026",
        title="弹性元件式压力表",
        effective_date=later(s, 20),
    )
    s.method.superseded_by = successor
    s.method.save()
    assert ask(on=19) == []
    problems = ask(on=20)
    assert codes(problems) == ["method_not_current"]
    assert problems[0].message == (
        f"Method JJG 52-2013 was superseded by JJG 52-2026 on {later(s, 20):%Y-%m-%d}."
    )
    # The successor is not a method of the authorised item until the library says so.
    problems = ask(on=20, method=successor)
    assert codes(problems) == ["method_not_in_scope"]
    assert problems[0].message == (
        "Method JJG 52-2026 is not a method of authorised item CAL-P-01 弹性元件式一般压力表."
    )
    s.scope.methods.add(successor)
    assert ask(on=20, method=successor) == []


def test_method_missing(ask):
    problems = ask(method=None)
    assert codes(problems) == ["method_missing"] and problems[0].deviable is False


# --- the authorised item (scope) -----------------------------------------------------------


def test_scope_validity(ask, s):
    s.scope.valid_until = later(s, 30)
    s.scope.save()
    assert ask(on=30) == []
    problems = ask(on=31)
    assert codes(problems) == ["scope_not_valid"]
    assert problems[0].message == (
        f"Authorised item CAL-P-01 弹性元件式一般压力表 was valid until {later(s, 30):%Y-%m-%d}."
    )
    s.scope.valid_from, s.scope.valid_until = later(s, 3), None
    s.scope.save()
    assert codes(ask(on=2)) == ["scope_not_valid"]
    assert "is valid only from" in ask(on=2)[0].message
    assert ask(on=3) == []


def test_no_scope_and_scope_of_another_service(ask, s):
    assert codes(ask(scope=None)) == ["no_scope"]
    problems = ask(service="verification", scope=s.scope)
    assert codes(problems) == ["scope_service_mismatch"]
    assert problems[0].message == (
        "Authorised item CAL-P-01 弹性元件式一般压力表 covers calibration (校准), "
        "not verification (检定)."
    )


@pytest.mark.parametrize(
    ("low", "high", "inside"),
    [
        ("0", "60", True),
        ("0", "59.999999", True),
        ("0", "60.000001", False),
        ("-0.000001", "10", False),
        (None, "60", True),
        (None, "61", False),
        ("25", None, True),
        (None, None, True),  # no range stated: nothing to compare
    ],
)
def test_instrument_range_within_the_authorised_range(ask, low, high, inside):
    problems = ask(
        range_low=Decimal(low) if low else None, range_high=Decimal(high) if high else None
    )
    assert codes(problems) == ([] if inside else ["range_outside_scope"])
    if not inside:
        assert "lies outside the authorised range 0–60 MPa of CAL-P-01" in problems[0].message
        assert problems[0].deviable is True


# --- the person ----------------------------------------------------------------------------


def test_never_authorised(ask, cast):
    problems = ask("quality_manager")
    assert codes(problems) == ["not_qualified"]
    assert problems[0].message == (
        "Quality Manager is not authorised to perform CAL-P-01 弹性元件式一般压力表."
    )
    assert codes(ask(None)) == ["not_qualified"]


def test_authorisation_valid_until(ask, s):
    authorisation = s.authorisations[("metrologist", "calibration")]
    authorisation.valid_until = later(s, 40)
    authorisation.save()
    assert ask(on=40) == []
    problems = ask(on=41)
    assert codes(problems) == ["qualification_expired"]
    assert problems[0].message == (
        "Metrologist's authorisation to perform CAL-P-01 弹性元件式一般压力表 was valid until "
        f"{later(s, 40):%Y-%m-%d}."
    )


def test_authorisation_not_yet_valid_and_revoked(ask, s):
    authorisation = s.authorisations[("metrologist", "calibration")]
    authorisation.valid_from = later(s, 2)
    authorisation.save()
    problems = ask(on=1)
    assert codes(problems) == ["not_qualified"]
    assert f"starts only on {later(s, 2):%Y-%m-%d}" in problems[0].message
    assert ask(on=2) == []
    authorisation.revoked = True
    authorisation.save()
    problems = ask(on=2)
    assert codes(problems) == ["qualification_expired"]
    assert problems[0].message == (
        "Metrologist's authorisation to perform CAL-P-01 弹性元件式一般压力表 was revoked."
    )


def test_personnel_certificate_expiry(ask, s, cast):
    certificate = PersonnelCertificate.objects.create(
        person=cast["metrologist"],
        kind=PersonnelCertificate.Kind.VERIFICATION_OFFICER,
        number="JDY-2024-0815",
        issue_date=s.today - dt.timedelta(days=400),
        expiry_date=later(s, 50),
    )
    certificate.items.add(s.scope)
    authorisation = s.authorisations[("metrologist", "calibration")]
    authorisation.certificate = certificate
    authorisation.save()
    assert ask(on=50) == []
    problems = ask(on=51)
    assert codes(problems) == ["qualification_expired"]
    assert problems[0].message == (
        "Metrologist's certificate JDY-2024-0815, on which the authorisation to perform "
        f"CAL-P-01 弹性元件式一般压力表 rests, was valid until {later(s, 50):%Y-%m-%d}."
    )


def test_capacities_check_and_approve(ask, cast, s):
    """The records issue asks for each signature: the checker must be authorised to check,
    the approver to approve, that item."""
    assert ask("checker", CHECK) == [] and ask("approver", APPROVE) == []
    problems = ask("checker", APPROVE)
    assert codes(problems) == ["not_qualified"]
    assert problems[0].message == (
        "Checker is not authorised to approve CAL-P-01 弹性元件式一般压力表."
    )
    assert codes(ask("metrologist", CHECK)) == ["not_qualified"]
    assert codes(ask("approver", PERFORM)) == ["not_qualified"]
    authorisation = s.authorisations[("approver", "verification")]
    authorisation.valid_until = later(s, 7)
    authorisation.save()
    assert ask("approver", APPROVE, service="verification", on=7) == []
    assert codes(ask("approver", APPROVE, service="verification", on=8)) == [
        "qualification_expired"
    ]
    with pytest.raises(ValueError):
        ask("approver", "sign")


# --- the measurement standard --------------------------------------------------------------


def test_standard_certificate_expiry(ask, s):
    s.standard.certificate_expiry = later(s, 60)
    s.standard.save()
    assert ask(on=60) == []
    problems = ask(on=61)
    assert codes(problems) == ["standard_certificate_expired"]
    assert problems[0].message == (
        "The certificate [2021]国量标证字第0001号 of measurement standard "
        f"0.05级活塞式压力计标准装置 was valid until {later(s, 60):%Y-%m-%d}."
    )


def test_standard_missing_other_or_inactive(ask, s):
    assert codes(ask(standard=None)) == ["standard_missing"]
    other = MeasurementStandard.objects.create(
        name="二等铂电阻温度计标准装置",
        certificate_no="[2020]国量标证字第0002号",
        certificate_expiry=later(s, 400),
        measurands="温度",
        range_text="(0~420) ℃",
    )
    problems = ask(standard=other)
    assert codes(problems) == ["standard_not_of_scope"]
    assert "is not the standard of authorised item CAL-P-01" in problems[0].message
    s.standard.active = False
    s.standard.save()
    assert codes(ask()) == ["standard_inactive"]
    # An item of the scope that names no standard takes any (valid) one, or none.
    s.scope.standard = None
    s.scope.save()
    assert ask(standard=None) == [] and ask(standard=other) == []


# --- equipment -----------------------------------------------------------------------------


def test_equipment_calibration_due_date(ask, s):
    calibration = s.calibrations[0]
    calibration.due_date = later(s, 70)
    calibration.save()
    assert ask(on=70) == []
    problems = ask(on=71)
    assert codes(problems) == ["equipment_calibration_overdue"]
    assert problems[0].message == (
        f"Equipment YQ-001 活塞式压力计 was due for calibration on {later(s, 70):%Y-%m-%d}."
    )
    assert problems[0].deviable is False


def test_only_a_confirmed_calibration_counts(ask, s, cast):
    yq1 = s.equipment[0]
    s.calibrations[0].due_date = s.today - DAY
    s.calibrations[0].save()
    new = EquipmentCalibration.objects.create(
        equipment=yq1,
        certificate_no="YJL2026-0300",
        body="省计量院",
        date=s.today,
        due_date=later(s, 365),
    )
    problems = ask()
    assert codes(problems) == ["equipment_calibration_overdue"]
    assert problems[0].message == (
        f"Equipment YQ-001 活塞式压力计 was due for calibration on {s.today - DAY:%Y-%m-%d}. "
        f"Its calibration YJL2026-0300 of {s.today:%Y-%m-%d} awaits confirmation."
    )
    new.confirmed_at, new.confirmed_by = timezone.now(), cast["equipment_manager"]
    new.save()
    assert ask() == []
    # Equipment never calibrated at all.
    bare = Equipment.objects.create(asset_no="YQ-009", name="压力模块")
    problems = ask(equipment=[bare])
    assert codes(problems) == ["equipment_calibration_overdue"]
    assert problems[0].message == "Equipment YQ-009 压力模块 has no confirmed calibration."


def test_failing_intermediate_check(ask, s, cast):
    """The out-of-control state is the equipment services' (one rule): a check breaking a
    control-chart test restricts the equipment, and the eligibility refuses it with the reason
    until a check is back in control."""
    from metrolab.equipment.services import equipment_check_result_add

    def fresh():
        return list(Equipment.objects.filter(pk__in=[e.pk for e in s.equipment]).order_by("pk"))

    equipment_check_result_add(
        plan=s.plan, date=s.today - DAY, value="10.007", actor=cast["equipment_manager"]
    )
    problems = ask(equipment=fresh())
    assert codes(problems) == ["equipment_check_failed"]
    assert problems[0].message == (
        "Equipment YQ-001 活塞式压力计 is restricted (限用): Intermediate check of 10 MPa 点示值 "
        f"on {s.today - DAY:%Y-%m-%d} out of control (test 1: a point beyond a control limit): "
        "not to be used until an intermediate check is back in control or it is recalibrated."
    )
    # A newer check in control clears it.
    equipment_check_result_add(
        plan=s.plan, date=s.today, value="10.001", actor=cast["equipment_manager"]
    )
    assert ask(equipment=fresh()) == []


@pytest.mark.parametrize(
    ("status", "usable"),
    [
        (Equipment.Status.IN_SERVICE, True),
        (Equipment.Status.LIMITED, True),
        (Equipment.Status.OUT_OF_SERVICE, False),
        (Equipment.Status.UNDER_REPAIR, False),
        (Equipment.Status.SCRAPPED, False),
    ],
)
def test_equipment_status(ask, s, status, usable):
    yq2 = s.equipment[1]
    yq2.status = status
    yq2.save()
    problems = ask()
    assert codes(problems) == ([] if usable else ["equipment_not_in_service"])
    if not usable:
        assert problems[0].message.startswith("Equipment YQ-002 数字压力计 is ")


# --- every reason at once ------------------------------------------------------------------


def test_every_reason_is_given_together(ask, s, cast):
    s.method.abolished_date = s.today
    s.method.save()
    s.standard.certificate_expiry = s.today - DAY
    s.standard.save()
    s.calibrations[0].due_date = s.today - DAY
    s.calibrations[0].save()
    s.equipment[1].status = Equipment.Status.OUT_OF_SERVICE
    s.equipment[1].save()
    authorisation = s.authorisations[("metrologist", "calibration")]
    authorisation.revoked = True
    authorisation.save()
    problems = ask(range_high=Decimal("100"))
    assert codes(problems) == [
        "range_outside_scope",
        "method_not_current",
        "qualification_expired",
        "standard_certificate_expired",
        "equipment_calibration_overdue",
        "equipment_not_in_service",
    ]
    assert all(p.message for p in problems)


# --- deviations (R6.7c) --------------------------------------------------------------------


@pytest.fixture
def tasks(make_commission, receive, s):
    """A calibration task and a verification task, set up with the complete set-up."""
    commission = make_commission(
        lines=[("压力表 Gauge", 1, "calibration"), ("压力表 Gauge", 1, "verification")]
    )
    found = {}
    for index in (0, 1):
        task = receive(commission, index).tasks.get()
        setup = s.setup(task.service)
        task.scope, task.method, task.standard = setup["scope"], setup["method"], setup["standard"]
        task.save()
        task.equipment.set(setup["equipment"])
        found[task.service] = task
    return found


def _deviation(task, cast, method, **fields):
    fields.setdefault("state", Deviation.State.ACCEPTED)
    fields.setdefault("authorised_by", cast["director"])
    return Deviation.objects.create(
        line=task.item.line,
        method=method,
        description="在 0–70 MPa 范围内校准",
        justification="客户需要超出授权范围的测量点",
        requested_by=cast["metrologist"],
        **fields,
    )


def _depart(task, s):
    """The task departs from its method and scope, and its equipment is overdue."""
    task.range_low, task.range_high = Decimal("0"), Decimal("70")
    task.save()
    s.method.abolished_date = s.today
    s.method.save()
    s.calibrations[0].due_date = s.today - DAY
    s.calibrations[0].save()


def test_a_deviation_in_force_covers_a_calibrations_departures_only(tasks, s, cast):
    task = tasks["calibration"]
    _depart(task, s)
    every = ["range_outside_scope", "method_not_current", "equipment_calibration_overdue"]
    assert codes(task_eligibility_problems(task, cast["metrologist"])) == every
    # Not yet in force: requested, authorised only, or "accepted" without authorisation.
    deviation = _deviation(task, cast, s.method, state=Deviation.State.REQUESTED)
    assert codes(task_eligibility_problems(task, cast["metrologist"])) == every
    deviation.state = Deviation.State.AUTHORISED
    deviation.save()
    assert codes(task_eligibility_problems(task, cast["metrologist"])) == every
    deviation.state, deviation.authorised_by = Deviation.State.ACCEPTED, None
    deviation.save()
    assert codes(task_eligibility_problems(task, cast["metrologist"])) == every
    # In force: the departures are covered, the overdue equipment never is.
    deviation.authorised_by = cast["director"]
    deviation.save()
    assert codes(task_eligibility_problems(task, cast["metrologist"])) == [
        "equipment_calibration_overdue"
    ]


def test_a_deviation_covers_only_its_line_and_method(tasks, s, cast, make_commission, receive):
    task = tasks["calibration"]
    _depart(task, s)
    s.calibrations[0].due_date = later(s, 30)
    s.calibrations[0].save()
    other_method = Method.objects.create(
        kind=Method.Kind.JJF, code="JJF 1xxx", year="2020", title="压力校准", effective_date=s.today
    )
    _deviation(task, cast, other_method)
    other_line = receive(make_commission(lines=[("Gauge", 1, "calibration")])).line
    Deviation.objects.create(
        line=other_line,
        method=s.method,
        description="x",
        justification="y",
        state=Deviation.State.ACCEPTED,
        requested_by=cast["metrologist"],
        authorised_by=cast["director"],
    )
    assert codes(task_eligibility_problems(task, cast["metrologist"])) == [
        "range_outside_scope",
        "method_not_current",
    ]
    _deviation(task, cast, s.method)
    assert task_eligibility_problems(task, cast["metrologist"]) == []


def test_a_verification_admits_no_deviation(tasks, s, cast):
    """Even if a deviation row existed for a verification line (the methods service refuses
    to create one), the verification would still be refused."""
    task = tasks["verification"]
    _depart(task, s)
    _deviation(task, cast, s.method)
    assert codes(task_eligibility_problems(task, cast["metrologist"])) == [
        "range_outside_scope",
        "method_not_current",
        "equipment_calibration_overdue",
    ]


def test_non_deviable_problems_are_never_covered(tasks, s, cast):
    task = tasks["calibration"]
    _deviation(task, cast, s.method)
    s.scope.valid_until = s.today - DAY
    s.scope.save()
    s.standard.active = False
    s.standard.save()
    problems = task_eligibility_problems(task, cast["quality_manager"])
    assert codes(problems) == ["scope_not_valid", "not_qualified", "standard_inactive"]
    assert not any(p.deviable for p in problems)


# --- the task form of the question, and the day of a datetime ------------------------------


def test_task_eligibility_reads_the_tasks_setup(tasks, s, cast):
    task = tasks["calibration"]
    assert task_eligibility_problems(task, cast["metrologist"]) == []
    assert task_eligibility_problems(task, cast["checker"], capacity=CHECK) == []
    assert task_eligibility_problems(task, cast["approver"], capacity=APPROVE) == []
    assert codes(task_eligibility_problems(task, cast["checker"])) == ["not_qualified"]
    task.range_high = Decimal("61")
    task.save()
    assert codes(task_eligibility_problems(task, cast["metrologist"])) == ["range_outside_scope"]
    task.equipment.add(Equipment.objects.create(asset_no="YQ-010", name="压力泵"))
    assert codes(task_eligibility_problems(task, cast["metrologist"])) == [
        "range_outside_scope",
        "equipment_calibration_overdue",
    ]


def test_a_datetime_counts_by_its_local_date(ask, s):
    """The lab's local date decides (Asia/Shanghai, UTC+8 by default): 16:30 UTC on the due
    date is already the next day in the lab."""
    calibration = s.calibrations[0]
    calibration.due_date = later(s, 70)
    calibration.save()
    due = later(s, 70)
    tz = timezone.get_current_timezone()
    last_minute = dt.datetime.combine(due, dt.time(23, 59), tzinfo=tz)
    assert ask(on=last_minute) == []
    assert codes(ask(on=last_minute + dt.timedelta(minutes=1))) == ["equipment_calibration_overdue"]
