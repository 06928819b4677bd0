"""Reads of the qualification libraries: validity on the days just before and after each
boundary (inclusive: valid ON the expiry date, invalid the day after), qualified_people,
person_capabilities, what expires soon, the item list's filters."""

from __future__ import annotations

import pytest

from metrolab.qualifications import selectors
from metrolab.qualifications.models import Authorisation
from metrolab.qualifications.services import authorisation_revoke
from metrolab.qualifications.tests.conftest import days

pytestmark = pytest.mark.django_db


def qualified(item, capacity, day) -> list[str]:
    return [a.person.username for a in selectors.qualified_people(item, capacity, day)]


def test_authorisation_period_boundaries(cast, grant, library, today):
    start, end = today - days(10), today + days(20)
    authorisation = grant(cast["metrologist"], valid_from=start, valid_until=end)
    for day, expected in [
        (start - days(1), False),
        (start, True),
        (end, True),
        (end + days(1), False),
    ]:
        assert authorisation.valid_on(day) is expected, day
        assert (qualified(library.item, "perform", day) == ["metrologist"]) is expected, day
        assert (
            selectors.person_capabilities(cast["metrologist"], day).may(library.item, "perform")
            is expected
        ), day


def test_a_certificate_cuts_its_authorisation_short(cast, grant, certificate, library, today):
    person = cast["checker"]
    expiry = today + days(5)
    cert = certificate(person, number="C-1", issue=today - days(3), expiry=expiry)
    authorisation = grant(person, "check", valid_from=today - days(30), certificate=cert)
    assert authorisation.valid_until_effective() == expiry
    for day, expected in [
        (today - days(4), False),  # before the certificate was issued
        (today - days(3), True),
        (expiry, True),
        (expiry + days(1), False),
    ]:
        assert authorisation.valid_on(day) is expected, day
        assert (qualified(library.item, "check", day) == ["checker"]) is expected, day
    validity = selectors.authorisation_validity(authorisation, expiry)
    assert (validity.state, validity.until, validity.days_left) == ("expiring", expiry, 0)
    assert selectors.authorisation_validity(authorisation, expiry + days(1)).state == "expired"


def test_the_query_agrees_with_the_model_on_every_day(cast, grant, certificate, library, today):
    """authorisation_valid_q (the database) and Authorisation.valid_on (Python) agree."""
    a = grant(cast["metrologist"], valid_from=today - days(3), valid_until=today + days(3))
    cert = certificate(cast["approver"], issue=today - days(1), expiry=today + days(1))
    b = grant(cast["approver"], "approve", valid_from=today - days(5), certificate=cert)
    for offset in range(-7, 8):
        day = today + days(offset)
        in_force = set(
            Authorisation.objects.filter(selectors.authorisation_valid_q(day)).values_list(
                "pk", flat=True
            )
        )
        assert in_force == {x.pk for x in (a, b) if x.valid_on(day)}, day


def test_revoked_and_inactive_people_are_not_qualified(cast, grant, library, today):
    grant(cast["metrologist"])
    checker_auth = grant(cast["checker"], "check")
    grant(cast["director"], "approve")
    grant(cast["approver"], "approve")
    assert qualified(library.item, "approve", today) == ["approver", "director"]
    authorisation_revoke(
        authorisation=checker_auth, reason="left the team", actor=cast["quality_manager"]
    )
    assert qualified(library.item, "check", today) == []
    director = cast["director"]
    director.is_active = False
    director.save(update_fields=["is_active"])
    assert qualified(library.item, "approve", today) == ["approver"]
    assert selectors.person_capabilities(director, today).approve == []
    # Other items and capacities are not mixed in.
    assert qualified(library.thermo_item, "perform", today) == []
    assert qualified(library.item, "perform", today) == ["metrologist"]


def test_person_capabilities_need_the_item_valid_too(cast, grant, library, today):
    person = cast["metrologist"]
    grant(person, valid_from=today - days(10))
    grant(person, item=library.thermo_item, valid_from=today - days(10))
    caps = selectors.person_capabilities(person, today)
    assert [i.code for i in caps.perform] == ["P-001", "T-001"]
    assert caps.check == [] and caps.approve == []
    end = library.item.valid_until
    assert selectors.person_capabilities(person, end).may(library.item, "perform")
    after = selectors.person_capabilities(person, end + days(1))
    assert [i.code for i in after.perform] == ["T-001"]


def test_expiring_per_person_and_for_everyone(cast, grant, certificate, library, today):
    person = cast["metrologist"]
    soon = certificate(person, number="SOON", expiry=today + days(selectors.EXPIRING_SOON_DAYS))
    certificate(person, number="LATER", expiry=today + days(selectors.EXPIRING_SOON_DAYS + 1))
    certificate(person, number="GONE", expiry=today - days(1))
    authorisation = grant(person, valid_from=today - days(1), valid_until=today)
    found = selectors.person_expiring(person, day=today)
    assert [(e.kind, e.until, e.days_left) for e in found] == [
        ("authorisation", today, 0),
        ("certificate", soon.expiry_date, selectors.EXPIRING_SOON_DAYS),
    ]
    assert found[0].subject == authorisation
    assert found[1].description.endswith("SOON")
    assert selectors.person_expiring(person, within_days=30, day=today)[0].subject == authorisation
    assert selectors.person_expiring(person, day=today + days(1))[0].subject == soon
    everyone = selectors.qualifications_expiring(day=today)
    assert [e.person.username for e in everyone] == ["metrologist", "metrologist"]


def test_people_list_counts(cast, grant, certificate, library, today):
    person = cast["metrologist"]
    cert = certificate(person, number="A", expiry=today + days(30))
    certificate(person, number="B", expiry=today - days(1))
    grant(person, certificate=cert)
    grant(person, item=library.thermo_item, valid_until=today + days(400))
    rows = {p.username: p for p in selectors.people_list(day=today)}
    assert "customer_a" not in rows and "regulator" not in rows and "device" not in rows
    assert set(rows) >= {"metrologist", "checker", "admin", "driver"}
    p = rows["metrologist"]
    assert (p.valid_certificates, p.valid_authorisations) == (1, 2)
    assert (p.expiring_certificates, p.expiring_authorisations) == (1, 1)
    assert selectors.role_labels(p) == ["Metrologist"]
    assert rows["checker"].valid_authorisations == 0
    only = selectors.people_list(role="checker", day=today)
    assert [p.username for p in only] == ["checker"]
    assert [p.username for p in selectors.people_list(q="METROL", day=today)] == ["metrologist"]


def test_item_list_filters(library, today):
    def codes(**kw):
        return [i.code for i in selectors.authorised_item_list(day=today, **kw)]

    assert codes() == ["P-001", "T-001"]
    assert codes(discipline=library.temperature) == ["T-001"]
    assert codes(category=library.gauge) == ["P-001"]
    assert codes(service="calibration") == []
    assert codes(q="jjg 130") == ["T-001"]
    assert codes(q="压力表") == ["P-001"]
    assert codes(validity="valid") == ["P-001", "T-001"]
    assert codes(validity="expiring") == []
    end = library.item.valid_until
    assert [i.code for i in selectors.authorised_item_list(validity="expiring", day=end)] == [
        "P-001"
    ]
    assert [i.code for i in selectors.authorised_item_list(validity="valid", day=end)] == [
        "P-001",
        "T-001",
    ]
    after = end + days(1)
    assert [i.code for i in selectors.authorised_item_list(validity="expired", day=after)] == [
        "P-001"
    ]
    before = library.item.valid_from - days(1)
    assert [i.code for i in selectors.authorised_item_list(validity="not_yet", day=before)] == [
        "P-001"
    ]


def test_item_links(cast, grant, library, today):
    grant(cast["metrologist"])
    grant(cast["checker"], "check", valid_from=today + days(1))
    links = selectors.item_links(library.item, today)
    assert [(str(r.method), r.status) for r in links.methods] == [
        ("JJG 52-2013", "current"),
        ("JJG 52-1999", "superseded"),
    ]
    assert links.standard == library.standard and links.standard_validity.is_valid
    assert [(r.equipment.asset_no, r.overdue) for r in links.equipment] == [
        ("EQ-P-001", False),
        ("EQ-P-002", False),
    ]
    assert links.equipment[1].calibration_due is None  # no confirmed calibration
    assert links.valid_counts == {"perform": 1, "check": 0, "approve": 0}
    assert links.people["check"][0].validity.state == "not_yet"


def test_who_sees_whose_page(cast):
    from django.http import Http404

    assert selectors.person_get(viewer=cast["metrologist"], pk=cast["checker"].pk)
    assert selectors.person_get(viewer=cast["customer_a"], pk=cast["customer_a"].pk)
    for viewer, target in [("customer_a", "checker"), ("regulator", "metrologist")]:
        with pytest.raises(Http404):
            selectors.person_get(viewer=cast[viewer], pk=cast[target].pk)
    with pytest.raises(Http404):  # lab staff see lab staff, not customers
        selectors.person_get(viewer=cast["metrologist"], pk=cast["customer_a"].pk)
