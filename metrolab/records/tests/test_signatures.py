"""Signatures (R4.4; 21 CFR 11.50 / 11.200 as the model): segregation of duties, roles and
eligibility of each signer (every reason listed), re-authentication by password and TOTP
(wrong, missing, replayed, throttled: nothing written but the failure record), and a
signature bound to the content: a later change shows it invalid."""

from __future__ import annotations

import pyotp
import pytest
from django.utils import timezone

from metrolab.core.errors import CoreRefusal
from metrolab.core.models import AuditEvent
from metrolab.core.permissions import SYSTEM
from metrolab.core.services import user_create
from metrolab.core.testing import refused
from metrolab.records import services
from metrolab.records.errors import RecordRefusal
from metrolab.records.models import Record
from metrolab.records.selectors import record_detail
from metrolab.records.tests.fixtures import PASSWORD
from metrolab.tasks.models import Task

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]


def test_who_measured_cannot_check_or_approve(cast, gauge_record, move, authorise):
    metrologist = cast["metrologist"]
    # Even holding the checker role and authorised to check, the measurer may not check.
    metrologist.groups.add(*cast["checker"].groups.all())
    metrologist = type(metrologist).objects.get(pk=metrologist.pk)
    authorise(metrologist, capacity="check", service="verification")
    record = move(gauge_record, "submitted")
    error = refused(
        services.record_check,
        record=record,
        actor=metrologist,
        password=PASSWORD,
        code=RecordRefusal.SEGREGATION,
        unchanged=("records", "tasks"),
    )
    assert f"You measured record {record.number}" in error.message


def test_the_checker_cannot_approve_and_every_reason_is_listed(cast, gauge_record, move):
    record = move(gauge_record, "checked")
    error = refused(
        services.record_approve,
        record=record,
        actor=cast["checker"],
        password=PASSWORD,
        code=RecordRefusal.SEGREGATION,
        unchanged=("records", "tasks"),
    )
    assert f"You checked record {record.number}: someone else must approve it." in error.message
    assert "You do not hold the approver role." in error.message
    assert "approve" in error.message and len(error.errors[""]) >= 3


def test_a_signer_must_be_eligible_for_the_work(cast, gauge_record, move, qualified_setup):
    record = move(gauge_record, "submitted")
    authorisation = qualified_setup.authorisations[("checker", "verification")]
    authorisation.revoked = True
    authorisation.save()
    error = refused(
        services.record_check,
        record=record,
        actor=cast["checker"],
        password=PASSWORD,
        code=RecordRefusal.NOT_ELIGIBLE,
        unchanged=("records",),
    )
    assert "authorisation to check VER-P-01" in error.message and "revoked" in error.message


def test_a_wrong_password_signs_nothing_and_is_recorded(cast, gauge_record, move):
    record = move(gauge_record, "submitted")
    before = AuditEvent.objects.count()
    with pytest.raises(services.records.ServiceError) as caught:
        services.record_check(record=record, actor=cast["checker"], password="wrong")
    assert caught.value.code == RecordRefusal.REAUTH_FAILED
    assert caught.value.code.status == 403
    record.refresh_from_db()
    assert record.status == "submitted" and record.signatures.count() == 1
    failure = AuditEvent.objects.filter(seq__gt=before).get()
    assert failure.action == "auth.login_failed" and failure.changes["username"] == "checker"


def test_failed_attempts_are_throttled(cast, gauge_record, move, settings):
    settings.METROLAB_SIGNIN_ACCOUNT_THRESHOLD = 2
    record = move(gauge_record, "submitted")
    for _ in range(2):
        with pytest.raises(services.records.ServiceError):
            services.record_check(record=record, actor=cast["checker"], password="wrong")
    # Delayed now: even the right password is not checked.
    with pytest.raises(services.records.ServiceError) as caught:
        services.record_check(record=record, actor=cast["checker"], password=PASSWORD)
    assert caught.value.code == RecordRefusal.REAUTH_FAILED
    assert "delayed" in caught.value.message
    assert AuditEvent.objects.filter(action="auth.signin_delayed").exists()
    record.refresh_from_db()
    assert record.status == "submitted"


def test_totp_is_required_where_enabled_and_good_once(cast, gauge_record, move):
    checker = cast["checker"]
    checker.totp_secret = pyotp.random_base32()
    checker.totp_enabled = True
    checker.save()
    record = move(gauge_record, "submitted")
    for otp, text in (("", "Enter the code"), ("000000", "not valid")):
        with pytest.raises(services.records.ServiceError) as caught:
            services.record_check(record=record, actor=checker, password=PASSWORD, otp=otp)
        assert caught.value.code == RecordRefusal.REAUTH_FAILED and text in caught.value.message
    code = pyotp.TOTP(checker.totp_secret).now()
    record = services.record_check(record=record, actor=checker, password=PASSWORD, otp=code)
    signature = record.signatures.get(meaning="checked")
    assert signature.authenticated_by == "password+totp"
    # The same code again (a replay) is refused.
    services.record_return(record=record, actor=checker, reason="again")
    services.record_submit(record=record, actor=cast["metrologist"], password=PASSWORD)
    with pytest.raises(services.records.ServiceError) as caught:
        services.record_check(record=record, actor=checker, password=PASSWORD, otp=code)
    assert caught.value.code == RecordRefusal.REAUTH_FAILED


def test_a_device_cannot_sign(cast, gauge_record, move):
    device = user_create(username="press-1", password="pw-device-1", roles=["device"], actor=SYSTEM)
    record = move(gauge_record, "submitted")
    error = refused(
        services.record_check,
        record=record,
        actor=device,
        password="pw-device-1",
        code=CoreRefusal.FORBIDDEN,
    )
    assert error.message


def test_a_later_change_invalidates_signatures_visibly(cast, gauge_record, move):
    record = move(gauge_record, "checked")
    services.record_return(record=record, actor=cast["checker"], reason="点 2 读数抄错")
    record.refresh_from_db()
    assert record.status == "draft" and record.task.status == Task.Status.IN_PROGRESS
    # Returned, not yet changed: the signatures still match the content.
    assert [s["valid"] for s in record_detail(record)["signatures"]] == [True, True]
    services.record_write(
        record=record,
        values={"up_after.2": "0.331"},
        actor=cast["metrologist"],
        reason="点 2 读数抄错",
    )
    record = Record.objects.get(pk=record.pk)
    assert [(s["meaning"], s["valid"]) for s in record_detail(record)["signatures"]] == [
        ("measured", False),
        ("checked", False),
    ]
    record = services.record_submit(record=record, actor=cast["metrologist"], password=PASSWORD)
    assert [s["valid"] for s in record_detail(record)["signatures"]] == [False, False, True]


def test_approval_locks_the_record_against_the_services(cast, gauge_record, move):
    record = move(gauge_record, "approved")
    assert record.locked_at is not None and record.approved_at <= timezone.now()
    error = refused(
        services.record_write,
        record=record,
        values={"up_after.2": "0.331"},
        actor=cast["metrologist"],
        reason="late",
        code=RecordRefusal.LOCKED,
        unchanged=("records",),
    )
    assert "locked" in error.message
    refused(
        services.record_return,
        record=record,
        actor=cast["approver"],
        reason="late",
        code=RecordRefusal.LOCKED,
        unchanged=("records",),
    )
