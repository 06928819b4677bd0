"""The writes of the qualification libraries (R6.8a-c): validation with clear field errors,
the rules of granting an authorisation, revocation; refusals change nothing."""

from __future__ import annotations

import functools

import pytest

from metrolab.core import testing
from metrolab.core.models import AuditEvent
from metrolab.core.service import ServiceError
from metrolab.qualifications import services
from metrolab.qualifications.models import (
    Authorisation,
    AuthorisedItem,
    PersonnelCertificate,
    StaffProfile,
    TrainingRecord,
)
from metrolab.qualifications.tests.conftest import days, pdf_upload, text_upload

pytestmark = pytest.mark.django_db


# refused(call, **kwargs): the service refuses, and no row of the qualifications (nor an audit
# event) is written.
refused = functools.partial(testing.refused, unchanged=("qualifications",))


# --- authorised items ----


def test_item_create_keeps_every_field_and_methods(cast, library, item_data):
    item = services.authorised_item_create(data=item_data, actor=cast["quality_manager"])
    item.refresh_from_db()
    assert (item.code, item.service, item.unit, item.cmc) == (
        "P-002",
        "calibration",
        "MPa",
        "U = 0.02 % FS, k = 2",
    )
    assert (item.range_low, item.range_high) == (0, 10)
    assert list(item.methods.all()) == [library.jjg52]
    assert item.standard == library.standard
    event = AuditEvent.objects.filter(action="authorised_item.create").first()
    assert event is not None and event.object_id == str(item.pk)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"range_low": 10, "range_high": 10}, "range_high"),  # equal ends: no range
        ({"range_low": 11, "range_high": 10}, "range_high"),
        ({"unit": ""}, "unit"),
        ({"range_high": None, "unit": ""}, "unit"),  # one end is a range too
        ({"methods": []}, "methods"),
        ({"valid_until": "yesterday"}, "valid_until"),
        ({"code": "P-001"}, "code"),  # taken by the library's item
        ({"category": None}, "category"),
        ({"service": "cooking"}, "service"),
        ({"cmc": ""}, "cmc"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_item_refusals_name_the_field_and_write_nothing(cast, item_data, today, change, field):
    if change.get("valid_until") == "yesterday":
        change = {"valid_until": item_data["valid_from"] - days(1)}
    before = AuthorisedItem.objects.count()
    error = refused(
        services.authorised_item_create, data={**item_data, **change}, actor=cast["admin"]
    )
    assert error.field == field
    assert error.message
    assert AuthorisedItem.objects.count() == before


def test_item_messages_are_clear(cast, item_data):
    error = refused(
        services.authorised_item_create,
        data={**item_data, "range_low": 11, "range_high": 10},
        actor=cast["admin"],
    )
    assert error.message == (
        "The range must go from a lower to a higher value (11 is not below 10)."
    )
    error = refused(
        services.authorised_item_create, data={**item_data, "category": None}, actor=cast["admin"]
    )
    assert error.message.startswith("Instrument category:")


def test_item_validity_of_one_day_and_open_ranges_are_accepted(cast, item_data, today):
    item = services.authorised_item_create(
        data={**item_data, "valid_until": item_data["valid_from"], "range_high": None},
        actor=cast["admin"],
    )
    assert item.valid_until == item.valid_from
    assert item.range_high is None


def test_item_update_keeps_what_is_not_named_and_refusals_change_nothing(cast, library):
    item = library.item
    services.authorised_item_update(
        item=item, data={"cmc": "0.02 级"}, actor=cast["quality_manager"]
    )
    item.refresh_from_db()
    assert item.cmc == "0.02 级"
    assert set(item.methods.all()) == {library.jjg52, library.jjg52_old}
    error = refused(
        services.authorised_item_update,
        item=item,
        data={"cmc": "changed", "range_low": 100},
        actor=cast["quality_manager"],
    )
    assert error.field == "range_high"
    item.refresh_from_db()
    assert (item.cmc, item.range_low) == ("0.02 级", 0)
    error = refused(
        services.authorised_item_update,
        item=item,
        data={"methods": []},
        actor=cast["quality_manager"],
    )
    assert error.field == "methods"
    assert item.methods.count() == 2
    services.authorised_item_update(
        item=item, data={"methods": [library.jjg52]}, actor=cast["quality_manager"]
    )
    assert list(item.methods.all()) == [library.jjg52]


# --- profiles, certificates, training ----


def test_profile_create_update_and_refusals(cast):
    person = cast["metrologist"]
    profile = services.staff_profile_create(
        user=person, data={"employee_no": " E-007 ", "department": "压力室"}, actor=cast["admin"]
    )
    assert profile.employee_no == "E-007"
    error = refused(services.staff_profile_create, user=person, data={}, actor=cast["admin"])
    assert error.code == "conflict"
    services.staff_profile_save(user=person, data={"title": "工程师"}, actor=cast["admin"])
    profile.refresh_from_db()
    assert (profile.title, profile.department) == ("工程师", "压力室")
    error = refused(
        services.staff_profile_create, user=cast["customer_a"], data={}, actor=cast["admin"]
    )
    assert error.field == "user"
    assert StaffProfile.objects.count() == 1


def test_certificate_with_document_and_items(cast, library, today):
    certificate = services.certificate_add(
        person=cast["metrologist"],
        data={"kind": "verifier", "number": "JD-2026-1", "issue_date": today},
        items=[library.item],
        upload=pdf_upload(),
        actor=cast["quality_manager"],
    )
    assert certificate.has_file and certificate.file_type == "application/pdf"
    assert len(certificate.file_sha256) == 64
    assert list(certificate.items.all()) == [library.item]
    services.certificate_update(
        certificate=certificate,
        data={"expiry_date": today + days(1000)},
        actor=cast["quality_manager"],
    )
    certificate.refresh_from_db()
    assert certificate.expiry_date == today + days(1000)
    assert certificate.has_file and list(certificate.items.all()) == [library.item]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"expiry_date": "before"}, "expiry_date"),
        ({"number": ""}, "number"),
        ({"kind": "wizard"}, "kind"),
        ({"number": "JD-0001"}, "number"),  # recorded already (same kind)
    ],
)
def test_certificate_refusals(cast, certificate, today, change, field):
    certificate(cast["checker"], number="JD-0001")
    data = {"kind": "verifier", "number": "JD-0002", "issue_date": today, **change}
    if data.get("expiry_date") == "before":
        data["expiry_date"] = today - days(1)
    error = refused(
        services.certificate_add, person=cast["metrologist"], data=data, actor=cast["admin"]
    )
    assert error.field == field
    assert PersonnelCertificate.objects.count() == 1


def test_certificate_refused_for_a_bad_file_or_a_customer(cast, today):
    data = {"kind": "verifier", "number": "JD-9", "issue_date": today}
    error = refused(
        services.certificate_add,
        person=cast["metrologist"],
        data=data,
        upload=text_upload(),
        actor=cast["admin"],
    )
    assert error.field == "file"
    error = refused(
        services.certificate_add, person=cast["customer_a"], data=data, actor=cast["admin"]
    )
    assert error.field == "person"
    assert not PersonnelCertificate.objects.exists()


def test_training_record(cast, library, today):
    record = services.training_record_add(
        person=cast["metrologist"],
        data={"date": today, "topic": "JJG 52-2013 宣贯", "hours": 8, "result": "合格"},
        items=[library.item],
        actor=cast["quality_manager"],
    )
    assert record.hours == 8 and list(record.items.all()) == [library.item]
    default = services.training_record_add(
        person=cast["checker"],
        data={"date": today, "topic": "内审员培训", "hours": None},
        actor=cast["quality_manager"],
    )
    assert default.hours == 0
    error = refused(
        services.training_record_add,
        person=cast["metrologist"],
        data={"date": today, "topic": "x", "hours": -1},
        actor=cast["quality_manager"],
    )
    assert error.field == "hours"
    error = refused(
        services.training_record_add,
        person=cast["metrologist"],
        data={"date": today, "topic": ""},
        actor=cast["quality_manager"],
    )
    assert error.field == "topic"
    assert TrainingRecord.objects.count() == 2


# --- authorisations ----


@pytest.mark.parametrize(
    ("role", "capacity", "allowed"),
    [
        ("metrologist", "perform", True),
        ("metrologist", "check", False),
        ("metrologist", "approve", False),
        ("checker", "check", True),
        ("checker", "perform", False),
        ("approver", "approve", True),
        ("approver", "check", False),
        ("director", "approve", True),
        ("director", "perform", False),
        ("quality_manager", "approve", False),
        ("equipment_manager", "perform", False),
    ],
)
def test_grant_needs_a_role_fit_for_the_capacity(cast, grant, role, capacity, allowed):
    if allowed:
        authorisation = grant(cast[role], capacity)
        assert authorisation.capacity == capacity
        assert authorisation.granted_by == cast["quality_manager"]
        return
    with pytest.raises(ServiceError) as info:
        grant(cast[role], capacity)
    assert info.value.code == "role_unfit" and info.value.field == "person"
    assert not Authorisation.objects.exists()


def test_grant_refuses_people_outside_the_lab_or_inactive(cast, grant):
    for outsider in ("customer_a", "regulator", "device"):
        with pytest.raises(ServiceError) as info:
            grant(cast[outsider])
        assert info.value.code == "not_staff"
    gone = cast["metrologist"]
    gone.is_active = False
    gone.save(update_fields=["is_active"])
    with pytest.raises(ServiceError) as info:
        grant(gone)
    assert info.value.code == "not_staff"
    assert not Authorisation.objects.exists()


def test_role_fit_message(cast, grant):
    with pytest.raises(ServiceError) as info:
        grant(cast["metrologist"], "approve")
    assert info.value.message == (
        "Metrologist cannot be authorised to approve: that needs the role "
        "Approver / Technical manager, which they do not hold."
    )


def test_grant_refuses_a_certificate_of_another_person(cast, grant, certificate):
    theirs = certificate(cast["checker"], number="JD-CHECKER")
    with pytest.raises(ServiceError) as info:
        grant(cast["metrologist"], certificate=theirs)
    assert info.value.code == "certificate_of_another"
    assert info.value.field == "certificate"
    assert "JD-CHECKER" in info.value.message
    assert not Authorisation.objects.exists()
    mine = certificate(cast["metrologist"], number="JD-MINE")
    assert grant(cast["metrologist"], certificate=mine).certificate == mine


def test_grant_dates(cast, grant, certificate, library, today):
    person = cast["metrologist"]
    with pytest.raises(ServiceError) as info:
        grant(person, valid_from=today, valid_until=today - days(1))
    assert info.value.field == "valid_until"
    expired = certificate(person, number="OLD", issue=today - days(900), expiry=today - days(1))
    with pytest.raises(ServiceError) as info:
        grant(person, valid_from=today, certificate=expired)
    assert info.value.code == "certificate_expired"
    with pytest.raises(ServiceError) as info:
        grant(person, valid_from=library.item.valid_until + days(1))
    assert info.value.code == "item_expired"
    assert not Authorisation.objects.exists()
    # A certificate still valid on the first day, and an item valid on it, are fine.
    on_edge = certificate(person, number="EDGE", expiry=today)
    assert grant(person, valid_from=today, certificate=on_edge).valid_on(today)
    other = grant(person, "perform", item=library.thermo_item, valid_from=today, valid_until=today)
    assert other.valid_until == today


def test_grant_refuses_overlaps_until_revoked_or_after_the_end(cast, grant, certificate, today):
    person = cast["metrologist"]
    first = grant(person, valid_from=today - days(100), valid_until=today + days(10))
    with pytest.raises(ServiceError) as info:
        grant(person, valid_from=today + days(10))
    assert info.value.code == "conflict"
    later = grant(person, valid_from=today + days(11))
    assert later.valid_from == today + days(11)
    # The same person may also check it if they hold the checker role: another capacity.
    services.authorisation_revoke(
        authorisation=later, reason="entered twice", actor=cast["quality_manager"]
    )
    services.authorisation_revoke(
        authorisation=first, reason="moved to another post", actor=cast["quality_manager"]
    )
    assert grant(person, valid_from=today).valid_on(today)


def test_an_authorisation_ended_by_its_certificate_does_not_block_a_renewal(
    cast, grant, certificate, today
):
    person = cast["metrologist"]
    old = certificate(person, number="C-OLD", issue=today - days(800), expiry=today - days(1))
    new = certificate(person, number="C-NEW", issue=today)
    grant(person, valid_from=today - days(700), certificate=old)
    renewed = grant(person, valid_from=today, certificate=new)
    assert renewed.valid_on(today)


def test_revoke_needs_a_reason_and_happens_once(cast, grant):
    authorisation = grant(cast["checker"], "check")
    error = refused(
        services.authorisation_revoke,
        authorisation=authorisation,
        reason="  ",
        actor=cast["quality_manager"],
    )
    assert error.field == "reason"
    authorisation.refresh_from_db()
    assert not authorisation.revoked
    services.authorisation_revoke(
        authorisation=authorisation,
        reason="failed the proficiency test",
        actor=cast["quality_manager"],
    )
    authorisation.refresh_from_db()
    assert authorisation.revoked and not authorisation.valid_on()
    assert authorisation.revoke_reason == "failed the proficiency test"
    assert authorisation.revoked_by == cast["quality_manager"]
    event = AuditEvent.objects.filter(action="authorisation.revoke").last()
    assert event.reason == "failed the proficiency test"
    error = refused(
        services.authorisation_revoke,
        authorisation=authorisation,
        reason="again",
        actor=cast["quality_manager"],
    )
    assert error.code == "conflict"


def test_a_long_revocation_reason_is_refused_not_cut(cast, grant, certificate, today):
    """(R7.2) The reason was cut to 300 characters without a word; now it is refused whole."""
    from metrolab.core.text import SHORT_TEXT

    authorisation = grant(cast["metrologist"], valid_from=today)
    with pytest.raises(ServiceError) as refused:
        services.authorisation_revoke(
            authorisation=authorisation, reason="理" * 400, actor=cast["quality_manager"]
        )
    assert refused.value.field == "reason"
    assert str(SHORT_TEXT) in refused.value.message and "400" in refused.value.message
    authorisation.refresh_from_db()
    assert (authorisation.revoked, authorisation.revoke_reason) == (False, "")
    services.authorisation_revoke(
        authorisation=authorisation, reason="理" * SHORT_TEXT, actor=cast["quality_manager"]
    )
    authorisation.refresh_from_db()
    assert authorisation.revoke_reason == "理" * SHORT_TEXT
