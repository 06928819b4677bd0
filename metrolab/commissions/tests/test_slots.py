"""Appointment slots (R9.1): capacity per slot, counted over live commissions, and safe when
customers book at the same moment; commission numbers stay unique under concurrency too."""

from __future__ import annotations

import pytest

from metrolab.commissions.models import Commission
from metrolab.commissions.selectors import slot_booked, slot_list_available
from metrolab.commissions.services import commission_cancel, commission_create, commission_review
from metrolab.core import testing
from metrolab.core.service import ServiceError

LINE = {"instrument_name": "压力表", "service": "calibration", "quantity": 1}


def apply(cast, customer, slot, who="customer_a"):
    return commission_create(
        customer=customer, lines=[LINE], channel="portal", slot=slot, actor=cast[who]
    )


@pytest.mark.django_db
def test_a_full_slot_is_refused_until_a_place_is_freed(cast, org_a, slot):
    first, _second = apply(cast, org_a, slot), apply(cast, org_a, slot)
    assert slot_booked(slot) == 2 and slot not in slot_list_available()
    count = Commission.objects.count()
    with pytest.raises(ServiceError, match="full") as caught:
        apply(cast, org_a, slot)
    assert caught.value.code == "slot_full" and caught.value.field == "slot"
    assert Commission.objects.count() == count
    commission_cancel(commission=first, reason="改期", actor=cast["customer_a"])
    assert slot_booked(slot) == 1
    [available] = slot_list_available()
    assert available == slot and available.remaining == 1
    apply(cast, org_a, slot)


@pytest.mark.django_db
def test_a_rejected_application_frees_its_place(cast, org_a, slot):
    slot.capacity = 1
    slot.save()
    first = apply(cast, org_a, slot)
    commission_review(commission=first, decision="rejected", note="无能力", actor=cast["director"])
    assert slot_booked(slot) == 0
    apply(cast, org_a, slot)


@pytest.mark.django_db
def test_desk_bookings_count_against_the_slot_too(cast, org_a, slot):
    slot.capacity = 1
    slot.save()
    commission_create(
        customer=org_a, lines=[LINE], channel="desk", slot=slot, actor=cast["receptionist"]
    )
    with pytest.raises(ServiceError, match="full"):
        apply(cast, org_a, slot)


@pytest.mark.django_db(transaction=True)
def test_concurrent_applications_never_overbook_a_slot(cast, org_a, org_b, slot):
    slot.capacity = 3
    slot.save()

    def work():
        return apply(cast, org_a, slot).number

    results = testing.race(8, work)
    numbers = [r for r in results if r.startswith("WT")]
    assert sorted(r for r in results if not r.startswith("WT")) == ["slot_full"] * 5, results
    assert len(numbers) == len(set(numbers)) == 3
    assert slot_booked(slot) == 3


@pytest.mark.django_db(transaction=True)
def test_concurrent_desks_get_distinct_consecutive_numbers(cast, org_a, pressure):
    def work():
        return commission_create(
            customer=org_a, lines=[LINE], channel="desk", actor=cast["receptionist"]
        ).number

    results = testing.race(6, work)
    assert all(r.startswith("WT") for r in results), results
    sequences = sorted(int(r.rsplit("-", 1)[1]) for r in results)
    assert sequences == [1, 2, 3, 4, 5, 6]
