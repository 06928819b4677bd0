"""Customers A and B (organisations, contacts, portal accounts for the cast's customer_a and
customer_b), the price list and appointment slots, created through the services where they
exist. The commissions tests import these fixtures too."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.utils import timezone


@pytest.fixture(autouse=True)
def _english(client):
    """Messages are asserted in English (the msgids); zh-hans is the product's default."""
    from django.conf import settings
    from django.utils import translation

    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    with translation.override("en"):
        yield


@pytest.fixture(autouse=True)
def _fresh_cache():
    """The status query's rate limit counts in the cache; every test starts from zero."""
    cache.clear()
    yield
    cache.clear()


def _organisation(receptionist, user, code, name, contact):
    from metrolab.customers.services import contact_create, customer_create, portal_account_link

    customer = customer_create(data={"code": code, "name": name}, actor=receptionist)
    person = contact_create(customer=customer, data=contact, actor=receptionist)
    portal_account_link(user=user, customer=customer, contact=person, actor=receptionist)
    return customer


@pytest.fixture
def org_a(cast):
    return _organisation(
        cast["receptionist"],
        cast["customer_a"],
        "A001",
        "示范制造有限公司",
        {"name": "张工", "phone": "13800000001", "email": "zhang@a.example", "notify_sms": True},
    )


@pytest.fixture
def org_b(cast):
    return _organisation(
        cast["receptionist"],
        cast["customer_b"],
        "B001",
        "示范水务有限公司",
        {"name": "李工", "phone": "13900000002", "email": "li@b.example"},
    )


@pytest.fixture
def pressure(db):
    from metrolab.commissions.models import Discipline, PriceListEntry

    discipline = Discipline.objects.create(code="P", name="压力")
    PriceListEntry.objects.create(
        discipline=discipline, instrument="压力表", service="calibration", unit_price="80.00"
    )
    PriceListEntry.objects.create(
        discipline=discipline, instrument="压力表", service="verification", unit_price="60.00"
    )
    PriceListEntry.objects.create(
        discipline=discipline,
        instrument="压力变送器",
        service="calibration",
        unit_price=Decimal("150.50"),
    )
    return discipline


@pytest.fixture
def slot(pressure):
    from metrolab.commissions.models import AppointmentSlot

    return AppointmentSlot.objects.create(
        discipline=pressure,
        date=timezone.localdate() + dt.timedelta(days=1),
        period="am",
        capacity=2,
    )
