"""Bookings (预约): an overlap is refused — just touching is not an overlap — and refusals
write nothing; concurrent bookings of the same hour never both succeed (the equipment's row
lock; run on SQLite and, in CI, on PostgreSQL)."""

from __future__ import annotations

import datetime as dt
import functools
import threading

import pytest
from django.utils import timezone

from metrolab.core import testing
from metrolab.core.service import ServiceError
from metrolab.equipment.models import Booking
from metrolab.equipment.services import (
    equipment_booking_cancel,
    equipment_booking_create,
    equipment_set_status,
)
from metrolab.equipment.tests.conftest import days, nothing_written


def at(hour: int, minute: int = 0, day: int = 3) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(days(day), dt.time(hour, minute)))


def book(equipment, who, start, end, **kw):
    return equipment_booking_create(
        equipment=equipment, starts_at=start, ends_at=end, actor=who, **kw
    )


# refused(code=, field=, **booking): the booking is refused and nothing is written.
refused = functools.partial(testing.refused, equipment_booking_create, unchanged=("equipment",))


@pytest.mark.django_db
def test_overlaps_are_refused_and_touching_periods_are_not(gauge, cast):
    metrologist, checker = cast["metrologist"], cast["checker"]
    first = book(gauge, metrologist, at(9), at(12), purpose="检定 JJG 52")
    assert (first.user, first.purpose, first.cancelled) == (metrologist, "检定 JJG 52", False)
    for start, end in [
        (at(11, 59), at(13)),  # one minute into it
        (at(8), at(9, 1)),
        (at(10), at(11)),  # inside
        (at(8), at(13)),  # around
        (at(9), at(12)),  # the same
    ]:
        error = refused(
            code="conflict",
            field="starts_at",
            equipment=gauge,
            starts_at=start,
            ends_at=end,
            actor=checker,
        )
        assert str(metrologist) in error.message and "09:00" in error.message
    book(gauge, checker, at(12), at(14))  # starts as the other ends
    book(gauge, checker, at(8), at(9))  # ends as the other starts
    assert Booking.objects.count() == 3


@pytest.mark.django_db
def test_a_cancelled_booking_frees_its_time(gauge, cast):
    metrologist, checker = cast["metrologist"], cast["checker"]
    booking = book(gauge, metrologist, at(9), at(12))
    with nothing_written(), pytest.raises(ServiceError) as caught:
        equipment_booking_cancel(booking=booking, actor=checker)
    assert caught.value.code == "forbidden"
    equipment_booking_cancel(booking=booking, actor=metrologist)
    with nothing_written(), pytest.raises(ServiceError, match="already"):
        equipment_booking_cancel(booking=booking, actor=metrologist)
    book(gauge, checker, at(10), at(11))
    # The equipment manager cancels anyone's.
    other = book(gauge, metrologist, at(14), at(15))
    equipment_booking_cancel(booking=other, actor=cast["equipment_manager"])


@pytest.mark.django_db
def test_booking_refusals(gauge, make_equipment, cast):
    checker = cast["checker"]
    now = timezone.now()
    refused(field="ends_at", equipment=gauge, starts_at=at(10), ends_at=at(10), actor=checker)
    refused(
        field="starts_at",
        equipment=gauge,
        starts_at=now - dt.timedelta(hours=3),
        ends_at=now - dt.timedelta(hours=1),
        actor=checker,
    )
    refused(
        field="ends_at",
        equipment=gauge,
        starts_at=at(9),
        ends_at=at(9) + dt.timedelta(days=31, minutes=1),
        actor=checker,
    )
    refused(
        code="forbidden", equipment=gauge, starts_at=at(9), ends_at=at(10), actor=cast["customer_a"]
    )
    refused(
        code="forbidden",
        field="user",
        equipment=gauge,
        starts_at=at(9),
        ends_at=at(10),
        actor=checker,
        user=cast["metrologist"],
    )
    broken = make_equipment("EQ-BROKEN")
    equipment_set_status(
        equipment=broken, status="under_repair", reason="送修", actor=cast["equipment_manager"]
    )
    refused(code="not_usable", equipment=broken, starts_at=at(9), ends_at=at(10), actor=checker)
    # A booking that has begun but not ended is accepted; 31 days exactly too.
    book(gauge, checker, now - dt.timedelta(minutes=30), now + dt.timedelta(hours=1))
    book(gauge, checker, at(9, day=10), at(9, day=41))
    # The equipment manager books for someone else.
    made = book(gauge, cast["equipment_manager"], at(9, day=50), at(10, day=50), user=checker)
    assert made.user == checker


@pytest.mark.django_db(transaction=True)
def test_concurrent_bookings_of_the_same_hour_never_both_succeed(gauge, cast):
    people = [cast[name] for name in ("metrologist", "checker", "approver", "director", "admin")]
    turn = iter(range(len(people)))
    turn_lock = threading.Lock()

    def work():
        with turn_lock:
            who = people[next(turn)]
        # Overlapping periods, each a little different: at most one may be booked.
        return book(gauge, who, at(9), at(10 + len(who.username) % 3)).pk

    results = testing.race(len(people), work)
    booked = [r for r in results if isinstance(r, int)]
    assert len(booked) == 1, results
    assert sorted(r for r in results if not isinstance(r, int)) == ["conflict"] * 4, results
    assert Booking.objects.filter(cancelled=False).count() == 1
