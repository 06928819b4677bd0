"""Daily risk notifications (R4.5): each thing is told to its responsible people once per due
date and horizon (90 / 60 / 30 days, overdue), by the service, the background task and
`metrolab send_risk_alerts`; crossing into the next horizon tells them again."""

from __future__ import annotations

import datetime as dt
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from metrolab.core.permissions import SYSTEM
from metrolab.notifications.models import Notification
from metrolab.risk.models import RiskAlertSent
from metrolab.risk.services import ALERT_EVENT, risk_alerts_send

pytestmark = pytest.mark.django_db

DUE = dt.date(2026, 9, 30)
DAY = dt.timedelta(days=1)


def _told(*, since=0) -> dict[str, list[str]]:
    """username → the keys they were told of, for the notifications after pk `since`."""
    told: dict[str, list[str]] = {}
    for n in Notification.objects.filter(event=ALERT_EVENT, pk__gt=since).order_by("pk"):
        told.setdefault(n.recipient.username, []).extend(e["key"] for e in n.payload["entries"])
    return told


def _last_pk() -> int:
    last = Notification.objects.order_by("-pk").first()
    return last.pk if last else 0


def test_equipment_alerts_once_per_horizon(lib, cast):
    eq = lib.equipment(DUE, custodian=cast["metrologist"])
    key = f"calibration:{eq.pk}"

    assert risk_alerts_send(on=DUE - 91 * DAY, actor=SYSTEM) == 0  # not yet on the radar
    assert risk_alerts_send(on=DUE - 90 * DAY, actor=SYSTEM) == 1
    assert _told() == {"equipment_manager": [key], "metrologist": [key]}  # + custodian
    mark = _last_pk()
    assert risk_alerts_send(on=DUE - 90 * DAY, actor=SYSTEM) == 0  # running twice sends once
    assert risk_alerts_send(on=DUE - 61 * DAY, actor=SYSTEM) == 0  # still the 90-day horizon
    assert _told(since=mark) == {}

    assert risk_alerts_send(on=DUE - 60 * DAY, actor=SYSTEM) == 1  # the next horizon sends again
    assert risk_alerts_send(on=DUE - 30 * DAY, actor=SYSTEM) == 1
    assert risk_alerts_send(on=DUE, actor=SYSTEM) == 0  # due today: still the 30-day horizon
    mark = _last_pk()
    assert risk_alerts_send(on=DUE + DAY, actor=SYSTEM) == 1  # overdue: the technical manager too
    assert _told(since=mark) == {
        "equipment_manager": [key],
        "metrologist": [key],
        "director": [key],
    }
    assert risk_alerts_send(on=DUE + 10 * DAY, actor=SYSTEM) == 0
    assert sorted(RiskAlertSent.objects.filter(key=key).values_list("horizon", flat=True)) == [
        0,
        30,
        60,
        90,
    ]


def test_a_new_due_date_is_alerted_again(lib, cast):
    from metrolab.equipment.models import EquipmentCalibration

    eq = lib.equipment(DUE)
    assert risk_alerts_send(on=DUE - 10 * DAY, actor=SYSTEM) == 1
    EquipmentCalibration.objects.create(
        equipment=eq,
        certificate_no="NEW",
        body="省计量院",
        date=DUE - 5 * DAY,
        due_date=DUE + 20 * DAY,
        confirmed_at=dt.datetime(2026, 9, 25, tzinfo=dt.UTC),
    )
    assert risk_alerts_send(on=DUE - 5 * DAY, actor=SYSTEM) == 1


def test_who_is_told_of_what(lib, cast):
    standard = lib.standard(DUE, custodian=cast["checker"])
    plan = lib.plan(DUE)
    cert = lib.certificate(DUE, person=cast["approver"])
    authorisation = lib.authorisation(DUE, person=cast["checker"])
    item = lib.item(DUE)
    superseded = lib.superseded(DUE)
    abolished = lib.abolished(DUE)
    assert risk_alerts_send(on=DUE - 5 * DAY, actor=SYSTEM) == 7
    told = {user: set(keys) for user, keys in _told().items()}
    people = {
        f"personnel_certificate:{cert.pk}",
        f"authorisation:{authorisation.pk}",
    }
    quality = {
        *people,
        f"authorised_item:{item.pk}",
        f"method_superseded:{superseded.pk}",
        f"method_abolished:{abolished.pk}",
    }
    equipment = {f"standard_certificate:{standard.pk}", f"intermediate_check:{plan.pk}"}
    assert told == {
        "quality_manager": quality,
        "equipment_manager": equipment,
        "approver": {f"personnel_certificate:{cert.pk}"},
        "checker": {f"standard_certificate:{standard.pk}", f"authorisation:{authorisation.pk}"},
    }
    # One notification per person, in the lab's language, listing all their new alerts.
    notification = Notification.objects.get(event=ALERT_EVENT, recipient=cast["quality_manager"])
    assert len(notification.payload["entries"]) == 5
    assert "JJG" in notification.body


def test_overdue_things_reach_the_technical_manager(lib, cast):
    cert = lib.certificate(DUE, person=cast["approver"])
    assert risk_alerts_send(on=DUE + DAY, actor=SYSTEM) == 1
    key = f"personnel_certificate:{cert.pk}"
    assert _told() == {"quality_manager": [key], "approver": [key], "director": [key]}


def test_never_calibrated_equipment_is_alerted_once(lib, cast):
    eq = lib.equipment(None)
    assert risk_alerts_send(on=DUE, actor=SYSTEM) == 1
    assert risk_alerts_send(on=DUE + 100 * DAY, actor=SYSTEM) == 0
    sent = RiskAlertSent.objects.get(key=f"calibration:{eq.pk}")
    assert sent.due == RiskAlertSent.NO_DUE and sent.horizon == 0


def test_nobody_to_tell_records_nothing(lib, cast):
    from metrolab.core.services import user_roles_set

    lib.item(DUE)
    user_roles_set(user=cast["quality_manager"], roles=[], actor=cast["admin"])
    assert risk_alerts_send(on=DUE - 5 * DAY, actor=SYSTEM) == 0
    assert not RiskAlertSent.objects.exists()
    user_roles_set(user=cast["quality_manager"], roles=["quality_manager"], actor=cast["admin"])
    assert risk_alerts_send(on=DUE - 5 * DAY, actor=SYSTEM) == 1


def test_the_command_and_the_task(lib, cast):
    lib.item(DUE)
    out = StringIO()
    call_command("send_risk_alerts", "--today", (DUE - 5 * DAY).isoformat(), stdout=out)
    assert "alerted: 1" in out.getvalue()
    from metrolab.risk.tasks import risk_send_alerts_task

    assert risk_send_alerts_task.call(on=(DUE - 5 * DAY).isoformat()) == 0
    assert risk_send_alerts_task.call(on=(DUE + DAY).isoformat()) == 1  # now overdue


def test_the_command_refuses_a_bad_date(db):
    with pytest.raises(CommandError, match="YYYY-MM-DD"):
        call_command("send_risk_alerts", "--today", "tomorrow")
