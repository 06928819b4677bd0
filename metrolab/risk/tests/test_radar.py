"""The risk radar (R4.5): every kind lands in the right horizon on the days just before and
after each boundary (90 / 60 / 30 / 0 / -1 days), dates inclusive (due today: 0 days left,
not overdue; overdue from the next day); what is ignored stays off the radar."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from metrolab.core.permissions import SYSTEM
from metrolab.equipment.models import Equipment
from metrolab.risk.radar import Kind, bucket_of, radar

pytestmark = pytest.mark.django_db

DUE = dt.date(2026, 9, 30)
DAY = dt.timedelta(days=1)

# days left (DUE - on) → expected bucket; None: not on the radar.
BOUNDARIES = {
    91: None,
    90: "90",
    61: "90",
    60: "60",
    31: "60",
    30: "30",
    1: "30",
    0: "30",
    -1: "overdue",
    -400: "overdue",
}
# A method's change is a fact once it happened: no "overdue" for methods.
METHOD_BOUNDARIES = {**BOUNDARIES, -1: None, -400: None}


def _build(lib, cast, kind):
    """One thing of `kind` falling due on DUE: (key, url)."""
    if kind == Kind.PERSONNEL_CERTIFICATE:
        cert = lib.certificate(DUE)
        return f"{kind}:{cert.pk}", reverse("qualifications:person", args=[cert.person_id])
    if kind == Kind.AUTHORISATION:
        a = lib.authorisation(DUE)
        return f"{kind}:{a.pk}", reverse("qualifications:person", args=[a.person_id])
    if kind == Kind.AUTHORISED_ITEM:
        item = lib.item(DUE)
        return f"{kind}:{item.pk}", reverse("qualifications:item_detail", args=[item.pk])
    if kind == Kind.STANDARD_CERTIFICATE:
        s = lib.standard(DUE)
        return f"{kind}:{s.pk}", reverse("equipment:standard_detail", args=[s.pk])
    if kind == Kind.CALIBRATION:
        eq = lib.equipment(DUE)
        return f"{kind}:{eq.pk}", reverse("equipment:detail", args=[eq.pk])
    if kind == Kind.INTERMEDIATE_CHECK:
        plan = lib.plan(DUE, last_checked=DUE - 90 * DAY)
        return f"{kind}:{plan.pk}", reverse("equipment:detail", args=[plan.equipment_id])
    if kind == Kind.METHOD_SUPERSEDED:
        m = lib.superseded(DUE)
        return f"{kind}:{m.pk}", reverse("methods:detail", args=[m.pk])
    if kind == Kind.METHOD_ABOLISHED:
        m = lib.abolished(DUE)
        return f"{kind}:{m.pk}", reverse("methods:detail", args=[m.pk])
    raise AssertionError(kind)


def _entry(key, on, days=90):
    found = [e for e in radar(on=on, days=days) if e.key == key]
    assert len(found) <= 1
    return found[0] if found else None


@pytest.mark.parametrize("kind", list(Kind.LABELS))
def test_every_kind_in_its_bucket_around_each_boundary(lib, cast, kind):
    key, url = _build(lib, cast, kind)
    expected = METHOD_BOUNDARIES if kind.startswith("method") else BOUNDARIES
    for days_left, bucket in expected.items():
        on = DUE - days_left * DAY
        entry = _entry(key, on)
        if bucket is None:
            assert entry is None, f"{kind} {days_left} days left: on the radar"
            continue
        assert entry is not None, f"{kind} {days_left} days left: missing"
        assert entry.bucket == bucket, f"{kind} {days_left} days left: {entry.bucket}"
        assert entry.days_left == days_left and entry.due == DUE
        assert entry.overdue == (days_left < 0)
        assert entry.url == url and entry.kind == kind


def test_the_bucket_rule():
    assert [bucket_of(d) for d in (None, -1, 0, 30, 31, 60, 61, 90, 91)] == [
        "overdue",
        "overdue",
        "30",
        "30",
        "60",
        "60",
        "90",
        "90",
        None,
    ]


def test_a_shorter_horizon_leaves_the_later_out(lib):
    soon, later = lib.item(DUE), lib.item(DUE + 30 * DAY)  # 30 and 60 days left
    keys = {e.key for e in radar(on=DUE - 30 * DAY, days=30)}
    assert f"authorised_item:{soon.pk}" in keys and f"authorised_item:{later.pk}" not in keys
    keys = {e.key for e in radar(on=DUE - 30 * DAY, days=60)}
    assert f"authorised_item:{later.pk}" in keys
    with pytest.raises(ValueError):
        radar(on=DUE, days=45)


def test_sorted_by_due_date_never_calibrated_first(lib):
    lib.item(DUE + 5 * DAY, code="LATE")
    lib.item(DUE - 5 * DAY, code="EARLY")
    never = lib.equipment(None, asset_no="NEVER")
    entries = radar(on=DUE)
    assert [e.what.split()[0] for e in entries] == ["NEVER", "EARLY", "LATE"]
    first = entries[0]
    assert first.key == f"calibration:{never.pk}" and first.due is None
    assert first.bucket == "overdue" and first.days_left is None


def test_equipment_calibration_rules(lib, cast):
    from metrolab.equipment.models import EquipmentCalibration

    # Only confirmed calibrations count: an unconfirmed one leaves the equipment overdue.
    unconfirmed = lib.equipment(DUE + 300 * DAY, confirmed=False)
    assert _entry(f"calibration:{unconfirmed.pk}", DUE).due is None
    # The latest confirmed calibration counts, not an older one.
    renewed = lib.equipment(DUE)
    EquipmentCalibration.objects.create(
        equipment=renewed,
        certificate_no="NEW",
        body="省计量院",
        date=DUE - DAY,
        due_date=DUE + 364 * DAY,
        confirmed_at=dt.datetime(2026, 9, 29, 10, tzinfo=dt.UTC),
    )
    assert _entry(f"calibration:{renewed.pk}", DUE) is None
    # Scrapped equipment is ignored, calibrated or not, with its check plans; equipment out
    # of service or under repair is still watched.
    scrapped = lib.equipment(DUE - 100 * DAY, status=Equipment.Status.SCRAPPED)
    never_scrapped = lib.equipment(None, status=Equipment.Status.SCRAPPED)
    plan = lib.plan(DUE, equipment_=scrapped)
    repair = lib.equipment(DUE, status=Equipment.Status.UNDER_REPAIR)
    keys = {e.key for e in radar(on=DUE)}
    assert f"calibration:{scrapped.pk}" not in keys
    assert f"calibration:{never_scrapped.pk}" not in keys
    assert f"intermediate_check:{plan.pk}" not in keys
    assert f"calibration:{repair.pk}" in keys


def test_check_plans(lib):
    from metrolab.equipment.models import IntermediateCheckPlan

    first = lib.plan(DUE)  # never checked: first_due
    checked = lib.plan(DUE, last_checked=DUE - 30 * DAY)
    inactive = lib.plan(DUE, active=False)
    for plan in (first, checked):
        entry = _entry(f"intermediate_check:{plan.pk}", DUE)
        assert entry.due == IntermediateCheckPlan.objects.get(pk=plan.pk).next_due() == DUE
    assert _entry(f"intermediate_check:{inactive.pk}", DUE) is None


def test_people_rules(lib, cast):
    from metrolab.core.services import user_create
    from metrolab.qualifications.models import Authorisation

    # Revoked authorisations are ignored.
    revoked = lib.authorisation(DUE, revoked=True)
    assert _entry(f"authorisation:{revoked.pk}", DUE) is None
    # An authorisation ends with the certificate it rests on.
    cert = lib.certificate(DUE, number="BASE")
    based = lib.authorisation(None, certificate=cert)
    assert _entry(f"authorisation:{based.pk}", DUE).due == DUE
    # ... and is no longer a risk once renewed by one of the same person, item and capacity.
    old = lib.authorisation(DUE)
    Authorisation.objects.create(
        person=old.person,
        item=old.item,
        capacity=old.capacity,
        valid_from=DUE + DAY,
        valid_until=DUE + 1000 * DAY,
    )
    assert _entry(f"authorisation:{old.pk}", DUE) is None
    # A renewed certificate (same kind, issued no earlier, later expiry, same items) is no
    # longer a risk; one covering fewer items does not renew it.
    scope = lib.item(None)
    expiring = lib.certificate(DUE, number="OLD")
    expiring.items.add(scope)
    narrower = lib.certificate(DUE + 1000 * DAY, number="NARROW", issue_date=DUE)
    assert _entry(f"personnel_certificate:{expiring.pk}", DUE) is not None
    narrower.items.add(scope)
    assert _entry(f"personnel_certificate:{expiring.pk}", DUE) is None
    # Certificates without expiry, and people who left the lab, are not watched.
    forever = lib.certificate(None, number="FOREVER")
    former = user_create(
        username="former", password="pw-former-1", roles=["metrologist"], actor=SYSTEM
    )
    gone = lib.certificate(DUE, person=former)
    former.is_active = False
    former.save()
    keys = {e.key for e in radar(on=DUE)}
    assert f"personnel_certificate:{forever.pk}" not in keys
    assert f"personnel_certificate:{gone.pk}" not in keys


def test_standards_and_methods_rules(lib):
    inactive = lib.standard(DUE, active=False)
    assert _entry(f"standard_certificate:{inactive.pk}", DUE) is None
    # A method abolished already is not "being superseded" by a successor still ahead.
    successor = lib.method(code="JJF 1", year="2027", effective_date=DUE + 10 * DAY)
    gone = lib.method(code="JJF 1", year="2010", abolished_date=DUE - DAY, superseded_by=successor)
    assert _entry(f"method_superseded:{gone.pk}", DUE) is None
    assert _entry(f"method_abolished:{gone.pk}", DUE) is None


def test_responsible_people(lib, cast):
    eq = lib.equipment(DUE, custodian=cast["metrologist"])
    bare = lib.equipment(DUE)
    cert = lib.certificate(DUE, person=cast["checker"])
    item = lib.item(DUE)
    entries = {e.key: e for e in radar(on=DUE)}
    assert entries[f"calibration:{eq.pk}"].responsible == "Metrologist"
    assert entries[f"calibration:{bare.pk}"].responsible == "Equipment manager"
    assert entries[f"personnel_certificate:{cert.pk}"].responsible == "Checker"
    assert entries[f"authorised_item:{item.pk}"].responsible == "Quality manager"


def test_kinds_filter(lib):
    item = lib.item(DUE)
    eq = lib.equipment(DUE)
    keys = {e.key for e in radar(on=DUE, kinds=[Kind.CALIBRATION])}
    assert keys == {f"calibration:{eq.pk}"}
    assert f"authorised_item:{item.pk}" not in keys
