"""Demo data for customers and commissions: disciplines, a price list, two weeks of appointment
slots, three customers (two with portal accounts for the demo users `customer` and
`customer-b`), an instrument register with due and overdue instruments, and commissions
awaiting review, accepted, rejected and cancelled. Call `demo_seed_commissions()` after the
demo users exist (metrolab.core.demo); it does nothing when disciplines exist already."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.utils import timezone

from metrolab.commissions.models import AppointmentSlot, Discipline, PriceListEntry
from metrolab.commissions.selectors import slot_list_available
from metrolab.commissions.services import commission_cancel, commission_create, commission_review
from metrolab.core.models import User
from metrolab.core.service import service
from metrolab.customers.models import Instrument
from metrolab.customers.services import (
    contact_create,
    customer_create,
    instrument_served,
    portal_account_link,
)

DISCIPLINES = [("P", "压力"), ("T", "温度"), ("M", "质量"), ("E", "电学")]

PRICES = [
    ("P", "压力表", "verification", "60.00"),
    ("P", "压力表", "calibration", "80.00"),
    ("P", "压力变送器", "calibration", "150.00"),
    ("T", "数字温度计", "calibration", "120.00"),
    ("T", "热电偶", "calibration", "200.00"),
    ("M", "电子天平", "verification", "100.00"),
    ("M", "电子天平", "calibration", "150.00"),
    ("M", "砝码", "calibration", "50.00"),
    ("E", "数字多用表", "calibration", "180.00"),
    ("E", "数字多用表", "testing", "150.00"),
    ("E", "绝缘电阻表", "verification", "90.00"),
]

CUSTOMERS = [
    # code, name, settlement, contact, portal user
    (
        "KH0001",
        "示范制造有限公司",
        "monthly",
        {"name": "张工", "phone": "13800000001", "email": "zhang@customer-a.example"},
        "customer",
    ),
    (
        "KH0002",
        "示范水务有限公司",
        "contract",
        {
            "name": "李工",
            "phone": "13900000002",
            "email": "li@customer-b.example",
            "wechat_id": "li-gong",
            "notify_wechat": True,
        },
        "customer-b",
    ),
    ("KH0003", "示范人民医院", "cash", {"name": "王医生", "phone": "13700000003"}, None),
]


def _user(username: str) -> User | None:
    return User.objects.filter(username=username).first()


def _slots(today: dt.date, days: int = 14) -> None:
    disciplines = list(Discipline.objects.all())
    for offset in range(days):
        day = today + dt.timedelta(days=offset)
        if day.weekday() >= 5:
            continue
        for discipline in disciplines:
            for period in ("am", "pm"):
                AppointmentSlot.objects.create(
                    discipline=discipline, date=day, period=period, capacity=6
                )


@service("demo.seed_commissions", record_calls=False)
def demo_seed_commissions(*, actor: Any) -> bool:
    """Seed the demo customers and commissions once; returns False when seeded before. The
    demo's receptionist and technical manager act where they exist, else `actor` (the
    system)."""
    if Discipline.objects.exists():
        return False
    receptionist = _user("receptionist") or actor
    director = _user("director") or actor
    today = timezone.localdate()
    for code, name in DISCIPLINES:
        Discipline.objects.create(code=code, name=name)
    by_code = {d.code: d for d in Discipline.objects.all()}
    for discipline, instrument, service_, price in PRICES:
        PriceListEntry.objects.create(
            discipline=by_code[discipline],
            instrument=instrument,
            service=service_,
            unit_price=Decimal(price),
        )
    _slots(today)

    customers = []
    for code, name, settlement, contact, username in CUSTOMERS:
        customer = customer_create(
            data={"code": code, "name": name, "settlement": settlement, "address": "示范市"},
            actor=receptionist,
            reason="demo laboratory",
        )
        person = contact_create(customer=customer, data=contact, actor=receptionist)
        user = _user(username) if username else None
        if user is not None:
            portal_account_link(user=user, customer=customer, contact=person, actor=receptionist)
        customers.append(customer)
    a, b, c = customers

    # The instrument register: due soon, overdue, and due later.
    for customer, name, serial, served_days_ago, due_in_days in [
        (a, "压力表", "YB-2019-001", 340, 25),
        (a, "数字温度计", "TM-88", 380, -15),
        (a, "电子天平", "EB-3200", 100, 265),
        (b, "压力变送器", "PT-7001", 350, 15),
        (c, "数字多用表", "DMM-17", 200, 165),
    ]:
        instrument = Instrument.objects.create(customer=customer, name=name, serial_no=serial)
        instrument_served(
            instrument=instrument,
            served_on=today - dt.timedelta(days=served_days_ago),
            next_due_date=today + dt.timedelta(days=due_in_days),
            actor=receptionist,
        )

    # The next pressure slot not yet past (this morning's is gone in the afternoon).
    next_slot = slot_list_available(discipline=by_code["P"])[0]
    pressure = {"instrument_name": "压力表", "service": "calibration", "quantity": 2}
    portal_user = _user("customer")
    # Awaiting review: an online application for the next pressure slot.
    commission_create(
        customer=a,
        lines=[{**pressure, "serial_no": "YB-2019-001", "model_range": "0-1.6 MPa"}],
        channel="portal" if portal_user else "desk",
        slot=next_slot,
        actor=portal_user or receptionist,
    )
    # Accepted with conditions, at the desk.
    accepted = commission_create(
        customer=b,
        lines=[
            {"instrument_name": "压力变送器", "service": "calibration", "serial_no": "PT-7001"},
            {"instrument_name": "热电偶", "service": "calibration", "quantity": 3},
        ],
        channel="desk",
        promised_date=today + dt.timedelta(days=10),
        actor=receptionist,
    )
    commission_review(
        commission=accepted, decision="accepted", note="需提供上次校准证书", actor=director
    )
    # Rejected with the reason.
    rejected = commission_create(
        customer=c,
        lines=[{"instrument_name": "CT 机", "service": "testing"}],
        channel="desk",
        actor=receptionist,
    )
    commission_review(
        commission=rejected, decision="rejected", note="超出本实验室能力范围", actor=director
    )
    # Cancelled by the customer's request.
    cancelled = commission_create(
        customer=a,
        lines=[{"instrument_name": "电子天平", "service": "verification"}],
        channel="onsite",
        actor=_user("metrologist") or receptionist,
    )
    commission_cancel(commission=cancelled, reason="客户改期", actor=receptionist)
    return True
