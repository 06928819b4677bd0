"""Recalibration reminders (R9.1): instruments due within 30 days (or overdue) are reminded
once per due date through the notification service (R6.1c), by the service, the background
task and `metrolab send_due_reminders`."""

from __future__ import annotations

import datetime as dt
import sys
from io import StringIO

import pytest
from django.core.management import call_command

from metrolab.customers.models import Instrument
from metrolab.customers.services import instrument_send_due_reminders, instrument_update

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 6, 1)


@pytest.fixture
def register(org_a, org_b):
    def add(customer, name, due, serial):
        return Instrument.objects.create(
            customer=customer, name=name, serial_no=serial, next_due_date=due
        )

    return {
        "soon": add(org_a, "压力表", TODAY + dt.timedelta(days=10), "S1"),
        "edge": add(org_a, "温度计", TODAY + dt.timedelta(days=30), "S2"),
        "overdue": add(org_a, "秒表", TODAY - dt.timedelta(days=3), "S3"),
        "later": add(org_a, "天平", TODAY + dt.timedelta(days=31), "S4"),
        "undated": add(org_a, "量块", None, "S5"),
        "b_soon": add(org_b, "流量计", TODAY + dt.timedelta(days=5), "S6"),
    }


def _notifications():
    from metrolab.notifications.models import Notification

    return Notification.objects.filter(event="instrument.due").order_by("pk")


def test_due_instruments_are_reminded_once_per_due_date(cast, register, settings):
    settings.METROLAB_SMS_GATEWAY_URL = "http://127.0.0.1:9/sms"  # configured, never reached
    assert instrument_send_due_reminders(today=TODAY) == 4
    for name in ("soon", "edge", "overdue", "b_soon"):
        register[name].refresh_from_db()
        assert register[name].reminder_sent_for == register[name].next_due_date
    for name in ("later", "undated"):
        register[name].refresh_from_db()
        assert register[name].reminder_sent_for is None
    a, b = _notifications()  # one notification per customer
    assert a.recipient == cast["customer_a"] and b.recipient == cast["customer_b"]
    assert {i["serial_no"] for i in a.payload["instruments"]} == {"S1", "S2", "S3"}
    assert "S1" in a.body and "S6" not in a.body
    channels = dict(a.deliveries.values_list("channel", "target"))
    assert channels == {"inbox": "customer_a", "sms": "13800000001", "email": "zhang@a.example"}

    assert instrument_send_due_reminders(today=TODAY) == 0  # nothing twice
    assert instrument_send_due_reminders(today=TODAY + dt.timedelta(days=1)) == 1  # "later"
    assert _notifications().count() == 3


def test_a_new_due_date_gets_a_new_reminder(cast, register):
    instrument_send_due_reminders(today=TODAY)
    soon = register["soon"]
    instrument_update(
        instrument=soon,
        data={"next_due_date": TODAY + dt.timedelta(days=20)},
        actor=cast["receptionist"],
    )
    assert instrument_send_due_reminders(today=TODAY) == 1


def test_inactive_customers_are_not_reminded(cast, register, org_b):
    from metrolab.customers.services import customer_update

    customer_update(customer=org_b, data={"active": False}, actor=cast["receptionist"])
    assert instrument_send_due_reminders(today=TODAY) == 3


def test_without_the_notification_service_nothing_is_marked(register, monkeypatch, caplog):
    monkeypatch.setitem(sys.modules, "metrolab.notifications.services", None)  # ImportError
    with caplog.at_level("INFO", logger="metrolab.customers.services"):
        assert instrument_send_due_reminders(today=TODAY) == 0
    assert "not sent" in caplog.text
    assert not Instrument.objects.filter(reminder_sent_for__isnull=False).exists()


def test_the_command_and_the_task(register):
    out = StringIO()
    call_command("send_due_reminders", "--today", TODAY.isoformat(), stdout=out)
    assert "reminded: 4" in out.getvalue()
    from metrolab.customers.tasks import instrument_send_due_reminders_task

    assert instrument_send_due_reminders_task.call(today=TODAY.isoformat()) == 0
    # "later" (due in 31 days) comes within the 30 days tomorrow
    next_day = (TODAY + dt.timedelta(days=1)).isoformat()
    assert instrument_send_due_reminders_task.call(today=next_day) == 1


def test_the_command_refuses_a_bad_date(db):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="YYYY-MM-DD"):
        call_command("send_due_reminders", "--today", "tomorrow")
