"""Who works with which method (R6.7b) and who sees which deviation (R4.3)."""

from __future__ import annotations

import datetime as dt

import pytest

from metrolab.methods import services
from metrolab.methods.selectors import deviation_get, deviation_list, methods_for_user

pytestmark = pytest.mark.django_db

D = dt.date
ONE = dt.timedelta(days=1)


@pytest.fixture
def library(make_method):
    new = make_method("JJG 52", "2025", effective=D(2026, 1, 1))
    old = make_method("JJG 52", "2013", effective=D(2014, 6, 1), superseded_by=new)
    other = make_method("JJF 1587", "2016", effective=D(2016, 1, 1), kind="JJF")
    unused = make_method("JJG 130", "2011", effective=D(2012, 1, 1))
    return {"old": old, "new": new, "other": other, "unused": unused}


def grant(person, item, *, valid_from, valid_until=None, capacity="perform", certificate=None):
    from metrolab.qualifications.models import Authorisation

    return Authorisation.objects.create(
        person=person,
        item=item,
        capacity=capacity,
        valid_from=valid_from,
        valid_until=valid_until,
        certificate=certificate,
    )


def test_methods_of_valid_authorisations(cast, library, authorised_item):
    item = authorised_item([library["old"]])
    person = cast["metrologist"]
    grant(person, item, valid_from=D(2020, 1, 1), valid_until=D(2026, 6, 30))
    assert methods_for_user(person, D(2020, 1, 1) - ONE) == []
    assert methods_for_user(person, D(2020, 1, 1)) == [library["old"]]
    assert methods_for_user(person, D(2026, 6, 30)) == [library["old"]]
    assert methods_for_user(person, D(2026, 6, 30) + ONE) == []
    assert methods_for_user(cast["checker"], D(2021, 1, 1)) == []


def test_revoked_or_certificate_expired_authorisations_do_not_count(cast, library, authorised_item):
    from metrolab.qualifications.models import PersonnelCertificate

    item = authorised_item([library["old"], library["other"]])
    person = cast["metrologist"]
    certificate = PersonnelCertificate.objects.create(
        person=person,
        kind="calibration",
        number="C-1",
        issue_date=D(2019, 1, 1),
        expiry_date=D(2023, 12, 31),
    )
    grant(person, item, valid_from=D(2020, 1, 1), certificate=certificate)
    assert methods_for_user(person, D(2023, 12, 31)) == [library["other"], library["old"]]
    assert methods_for_user(person, D(2024, 1, 1)) == []
    revoked = grant(cast["checker"], item, valid_from=D(2020, 1, 1), capacity="check")
    revoked.revoked = True
    revoked.save()
    assert methods_for_user(cast["checker"], D(2021, 1, 1)) == []


def test_methods_of_open_tasks(cast, library, make_commission, receive):
    commission = make_commission("a")
    item = receive(commission)
    task = item.tasks.get()
    task.assignee = cast["metrologist"]
    task.method = library["other"]
    task.status = "assigned"
    task.save()
    assert methods_for_user(cast["metrologist"], D(2026, 1, 1)) == [library["other"]]
    task.status = "done"
    task.save()
    assert methods_for_user(cast["metrologist"], D(2026, 1, 1)) == []


def test_both_sources_without_duplicates(cast, library, authorised_item, make_commission, receive):
    item = authorised_item([library["old"]])
    grant(cast["metrologist"], item, valid_from=D(2020, 1, 1))
    task = receive(make_commission("a")).tasks.get()
    task.assignee, task.method, task.status = cast["metrologist"], library["old"], "in_progress"
    task.save()
    assert methods_for_user(cast["metrologist"], D(2025, 1, 1)) == [library["old"]]
    assert methods_for_user(None) == []


def test_customers_see_only_their_own_deviations(cast, make_method, calibration_line, line_b):
    method = make_method("JJF 1587", "2016", effective=D(2016, 1, 1), kind="JJF")
    mine = services.deviation_request(
        line=calibration_line,
        method=method,
        description="d",
        justification="j",
        actor=cast["metrologist"],
    )
    theirs = services.deviation_request(
        line=line_b,
        method=method,
        description="d",
        justification="j",
        actor=cast["metrologist"],
    )
    assert set(deviation_list(user=cast["director"])) == {mine, theirs}
    assert list(deviation_list(user=cast["customer_a"])) == [mine]
    assert list(deviation_list(user=cast["customer_b"])) == [theirs]
    assert deviation_get(user=cast["customer_a"], pk=theirs.pk) is None
    assert deviation_get(user=cast["customer_b"], pk=theirs.pk) == theirs
    assert list(deviation_list(user=cast["regulator"])) == []
    assert list(deviation_list(user=cast["customer_a"], state="authorised")) == []
    assert list(deviation_list(user=cast["director"], search=line_b.commission.number)) == [theirs]
