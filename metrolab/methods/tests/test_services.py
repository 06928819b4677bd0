"""Writes of the library and of deviations (R6.7a-c): every rule of a method's dates and
supersession refuses with a clear field error and writes nothing (not even an audit event);
verification admits no deviation; each deviation transition is legal only from its state and
only for its role; the customer and the requester are notified."""

from __future__ import annotations

import datetime as dt
import functools

import pytest

from metrolab.core import testing
from metrolab.core.models import AuditEvent
from metrolab.core.permissions import SYSTEM
from metrolab.core.service import ServiceError
from metrolab.methods import services
from metrolab.methods.models import Deviation, InstrumentCategory, Method
from metrolab.methods.selectors import deviation_in_force
from metrolab.methods.tests.conftest import pdf_upload, png_upload
from metrolab.notifications.models import Delivery, Notification

pytestmark = pytest.mark.django_db

D = dt.date
ONE = dt.timedelta(days=1)


def base_data(**overrides):
    data = {
        "kind": "JJG",
        "code": "JJG 52",
        "year": "2013",
        "title": "弹性元件式一般压力表、压力真空表和真空表检定规程",
        "effective_date": D(2014, 6, 1),
        "services": "verification",
    }
    data.update(overrides)
    return data


# refused(call, field=, code=): run a refused service call; no row of the methods library
# (nor an audit event) is written.
refused = functools.partial(testing.refused, unchanged=("methods",))


# --- methods --------------------------------------------------------------------------------


def test_create_with_relations_and_pdf(cast, pressure):
    method = services.method_create(
        data=base_data(
            services="verification, calibration",
            disciplines=[pressure["discipline"]],
            categories=[pressure["category"]],
        ),
        upload=pdf_upload(),
        actor=cast["quality_manager"],
    )
    assert method.services == "verification,calibration"
    assert list(method.disciplines.all()) == [pressure["discipline"]]
    assert list(method.categories.all()) == [pressure["category"]]
    assert method.has_file and method.file_type == "application/pdf"
    assert len(method.file_sha256) == 64
    event = AuditEvent.objects.get(action="method.create", object_type="methods.method")
    assert event.actor_id == str(cast["quality_manager"].pk)
    assert event.object_id == str(method.pk)


def test_effective_date_is_required(cast):
    exc = refused(
        lambda: services.method_create(
            data=base_data(effective_date=None), actor=cast["quality_manager"]
        ),
        field="effective_date",
    )
    assert "effect" in exc.message


@pytest.mark.parametrize("abolished", [D(2014, 6, 1), D(2014, 6, 1) - ONE])
def test_abolished_date_must_follow_the_effective_date(cast, abolished):
    refused(
        lambda: services.method_create(
            data=base_data(abolished_date=abolished), actor=cast["quality_manager"]
        ),
        field="abolished_date",
    )


def test_abolished_the_day_after_is_accepted(cast):
    method = services.method_create(
        data=base_data(abolished_date=D(2014, 6, 2)), actor=cast["quality_manager"]
    )
    assert method.abolished_date == D(2014, 6, 2)


def test_code_and_year_are_unique_with_a_field_error(cast, make_method):
    make_method("JJG 52", "2013")
    exc = refused(
        lambda: services.method_create(data=base_data(code="jjg 52"), actor=cast["admin"]),
        field="code",
        code="duplicate",
    )
    assert "jjg 52-2013 is in the library already" in exc.message
    # Another year of the same code is another version.
    assert services.method_create(
        data=base_data(year="2025", effective_date=D(2026, 1, 1)), actor=SYSTEM
    )


def test_not_superseded_by_itself(cast, make_method):
    method = make_method()
    refused(
        lambda: services.method_update(
            method=method, data={"superseded_by": method}, actor=cast["quality_manager"]
        ),
        field="superseded_by",
    )
    method.refresh_from_db()
    assert method.superseded_by is None


def test_no_cycle_of_successors(cast, make_method):
    c = make_method("JJG 52", "2030", effective=D(2030, 1, 1))
    b = make_method("JJG 52", "2013", effective=D(2014, 6, 1), superseded_by=c)
    a = make_method("JJG 52", "1999", effective=D(2000, 1, 1), superseded_by=b)
    exc = refused(
        lambda: services.method_update(
            method=c, data={"superseded_by": a}, actor=cast["quality_manager"]
        ),
        field="superseded_by",
    )
    assert "circle" in exc.message


@pytest.mark.parametrize("successor_effective", [D(2014, 6, 1), D(2014, 6, 1) - ONE])
def test_successor_must_take_effect_later(cast, make_method, successor_effective):
    successor = make_method("JJG 52", "2025", effective=successor_effective)
    refused(
        lambda: services.method_create(
            data=base_data(superseded_by=successor), actor=cast["quality_manager"]
        ),
        field="superseded_by",
    )


def test_successor_taking_effect_the_day_after_is_accepted(cast, make_method):
    successor = make_method("JJG 52", "2025", effective=D(2014, 6, 2))
    method = services.method_create(
        data=base_data(superseded_by=successor), actor=cast["quality_manager"]
    )
    assert method.superseded_by == successor
    assert method.status_on(D(2014, 6, 1)) == Method.Status.CURRENT
    assert method.status_on(D(2014, 6, 2)) == Method.Status.SUPERSEDED


def test_successor_cannot_be_moved_before_its_predecessor(cast, make_method):
    successor = make_method("JJG 52", "2025", effective=D(2026, 1, 1))
    make_method("JJG 52", "2013", effective=D(2014, 6, 1), superseded_by=successor)
    refused(
        lambda: services.method_update(
            method=successor,
            data={"effective_date": D(2014, 6, 1)},
            actor=cast["quality_manager"],
        ),
        field="effective_date",
    )
    successor.refresh_from_db()
    assert successor.effective_date == D(2026, 1, 1)


def test_unknown_service_and_field_are_refused(cast):
    refused(
        lambda: services.method_create(data=base_data(services="repair"), actor=cast["admin"]),
        field="services",
    )
    refused(lambda: services.method_create(data={**base_data(), "colour": "red"}, actor=SYSTEM))
    refused(lambda: services.method_create(data=base_data(kind="DIN"), actor=SYSTEM), field="kind")
    refused(lambda: services.method_create(data=base_data(title="  "), actor=SYSTEM), field="title")


def test_every_field_at_fault_is_reported_at_once(cast):
    """The model's rules are checked through core.validation: a method with a bad kind and no
    title is refused naming both; one fault alone keeps its own message."""
    exc = refused(
        lambda: services.method_create(data=base_data(kind="DIN", title="  "), actor=SYSTEM),
        code="invalid",
        field="kind",
    )
    assert exc.errors == {
        "kind": ["Value 'DIN' is not a valid choice."],
        "title": ["This field cannot be blank."],
    }
    alone = refused(
        lambda: services.method_create(data=base_data(kind="DIN"), actor=SYSTEM), field="kind"
    )
    assert alone.message == "Value 'DIN' is not a valid choice."
    assert alone.errors == {"kind": ["Value 'DIN' is not a valid choice."]}


@pytest.mark.parametrize("role", ["metrologist", "equipment_manager", "director", "customer_a"])
def test_only_editors_write_the_library(cast, make_method, role):
    method = make_method()
    refused(
        lambda: services.method_create(data=base_data(year="2020"), actor=cast[role]),
        code="forbidden",
    )
    refused(
        lambda: services.method_update(method=method, data={"title": "x"}, actor=cast[role]),
        code="forbidden",
    )
    refused(
        lambda: services.category_create(data={"code": "T", "name": "x"}, actor=cast[role]),
        code="forbidden",
    )


def test_update_keeps_fields_not_named(cast, make_method, pressure):
    method = make_method(notes="keep")
    method.categories.add(pressure["category"])
    services.method_update(method=method, data={"title": "新标题"}, actor=cast["admin"])
    method.refresh_from_db()
    assert method.title == "新标题" and method.notes == "keep"
    assert list(method.categories.all()) == [pressure["category"]]


def test_method_text_must_be_a_pdf(cast, make_method):
    method = make_method()
    exc = refused(
        lambda: services.method_file_attach(
            method=method, upload=png_upload(), actor=cast["quality_manager"]
        ),
        field="file",
    )
    assert "PDF" in exc.message
    services.method_file_attach(method=method, upload=pdf_upload(), actor=cast["quality_manager"])
    method.refresh_from_db()
    assert method.file_name == "method.pdf"


def test_categories(cast, pressure):
    category = services.category_create(
        data={"code": "T-GLASS", "name": "玻璃液体温度计", "discipline": pressure["discipline"]},
        actor=cast["quality_manager"],
    )
    assert InstrumentCategory.objects.filter(code="T-GLASS").exists()
    refused(
        lambda: services.category_create(
            data={"code": "t-glass", "name": "dup"}, actor=cast["admin"]
        ),
        field="code",
        code="duplicate",
    )
    services.category_update(category=category, data={"name_en": "LiG thermometer"}, actor=SYSTEM)
    category.refresh_from_db()
    assert category.name_en == "LiG thermometer" and category.name == "玻璃液体温度计"


# --- deviations -----------------------------------------------------------------------------


@pytest.fixture
def method(make_method):
    return make_method("JJF 1587", "2016", effective=D(2016, 1, 1), kind="JJF")


def request(line, method, actor):
    return services.deviation_request(
        line=line,
        method=method,
        description="只校准 5 个点，不做回程误差 5 points only, no hysteresis",
        justification="客户只在 0-6 MPa 使用 The customer uses 0-6 MPa only",
        actor=actor,
    )


@pytest.fixture
def requested(cast, calibration_line, method):
    return request(calibration_line, method, cast["metrologist"])


@pytest.fixture
def authorised(cast, requested):
    return services.deviation_authorise(deviation=requested, note="OK", actor=cast["director"])


def test_verification_admits_no_deviation(cast, verification_line, method):
    exc = refused(
        lambda: request(verification_line, method, cast["metrologist"]),
        code="verification_no_deviation",
    )
    assert "Verification admits no deviation" in exc.message
    # Nobody may: not even the technical manager.
    refused(
        lambda: request(verification_line, method, cast["director"]),
        code="verification_no_deviation",
    )


def test_verification_is_refused_in_the_chinese_ui_too(cast, verification_line, method):
    from django.utils import translation

    with translation.override("zh-hans"), pytest.raises(ServiceError) as info:
        request(verification_line, method, cast["metrologist"])
    assert info.value.code == "verification_no_deviation"


@pytest.mark.parametrize("role", ["metrologist", "director", "admin"])
def test_requesters(cast, calibration_line, method, role):
    deviation = request(calibration_line, method, cast[role])
    assert deviation.state == Deviation.State.REQUESTED
    assert deviation.requested_by == cast[role]


@pytest.mark.parametrize(
    "role", ["checker", "approver", "receptionist", "quality_manager", "customer_a", "regulator"]
)
def test_others_may_not_request(cast, calibration_line, method, role):
    refused(lambda: request(calibration_line, method, cast[role]), code="forbidden")


def test_request_needs_description_and_justification(cast, calibration_line, method):
    refused(
        lambda: services.deviation_request(
            line=calibration_line,
            method=method,
            description=" ",
            justification="x",
            actor=cast["metrologist"],
        ),
        field="description",
    )
    refused(
        lambda: services.deviation_request(
            line=calibration_line,
            method=method,
            description="x",
            justification="",
            actor=cast["metrologist"],
        ),
        field="justification",
    )


def test_request_tells_the_technical_manager(cast, requested):
    note = Notification.objects.get(event=services.AWAITING_AUTHORISATION_EVENT)
    assert note.recipient == cast["director"]
    assert note.related_id == str(requested.pk)


@pytest.mark.parametrize("role", ["admin", "quality_manager", "metrologist", "customer_a"])
def test_only_the_technical_manager_decides(cast, requested, role):
    refused(
        lambda: services.deviation_authorise(deviation=requested, actor=cast[role]),
        code="forbidden",
    )
    refused(
        lambda: services.deviation_refuse(deviation=requested, note="no", actor=cast[role]),
        code="forbidden",
    )


def test_authorise_asks_the_customer_and_tells_the_requester(cast, requested):
    deviation = services.deviation_authorise(
        deviation=requested, note="可以 fine", actor=cast["director"]
    )
    assert deviation.state == Deviation.State.AUTHORISED
    assert deviation.authorised_by == cast["director"] and deviation.authorised_at
    assert deviation.decision_note == "可以 fine"
    asked = Notification.objects.get(event=services.AWAITING_ACCEPTANCE_EVENT)
    assert asked.recipient == cast["customer_a"]
    assert Delivery.objects.filter(notification=asked, channel="inbox").exists()
    told = Notification.objects.get(event=services.DECIDED_EVENT)
    assert told.recipient == cast["metrologist"]
    assert AuditEvent.objects.filter(action="deviation.authorise").exists()
    assert deviation_in_force(deviation.line, deviation.method) is None


def test_refuse_needs_a_reason_and_ends_the_deviation(cast, requested):
    refused(
        lambda: services.deviation_refuse(deviation=requested, note=" ", actor=cast["director"]),
        field="note",
    )
    deviation = services.deviation_refuse(
        deviation=requested, note="不符合 not justified", actor=cast["director"]
    )
    assert deviation.state == Deviation.State.REFUSED
    assert Notification.objects.get(event=services.DECIDED_EVENT).recipient == cast["metrologist"]
    assert not Notification.objects.filter(event=services.AWAITING_ACCEPTANCE_EVENT).exists()
    for call in (
        lambda: services.deviation_authorise(deviation=deviation, actor=cast["director"]),
        lambda: services.deviation_accept(deviation=deviation, actor=cast["customer_a"]),
    ):
        refused(call, code="conflict")


def test_customer_cannot_answer_before_authorisation(cast, requested):
    refused(
        lambda: services.deviation_accept(deviation=requested, actor=cast["customer_a"]),
        code="conflict",
    )
    refused(
        lambda: services.deviation_acceptance_upload(
            deviation=requested, upload=pdf_upload(), actor=cast["receptionist"]
        ),
        code="conflict",
    )


def test_customer_accepts_in_the_portal(cast, authorised):
    deviation = services.deviation_accept(
        deviation=authorised, note="同意 agreed", actor=cast["customer_a"]
    )
    assert deviation.state == Deviation.State.ACCEPTED
    assert deviation.acceptance == Deviation.Acceptance.PORTAL
    assert deviation.accepted_by == cast["customer_a"] and deviation.customer_note == "同意 agreed"
    assert deviation.in_force
    assert deviation_in_force(deviation.line, deviation.method) == deviation
    assert (
        Notification.objects.filter(
            event=services.DECIDED_EVENT, recipient=cast["metrologist"]
        ).count()
        == 2
    )
    refused(
        lambda: services.deviation_decline(deviation=deviation, actor=cast["customer_a"]),
        code="conflict",
    )


def test_customer_declines(cast, authorised):
    deviation = services.deviation_decline(deviation=authorised, actor=cast["customer_a"])
    assert deviation.state == Deviation.State.DECLINED
    assert deviation_in_force(deviation.line, deviation.method) is None


@pytest.mark.parametrize("role", ["customer_b", "receptionist", "director", "admin"])
def test_only_the_lines_customer_answers_in_the_portal(cast, authorised, role):
    refused(
        lambda: services.deviation_accept(deviation=authorised, actor=cast[role]),
        code="forbidden",
    )
    refused(
        lambda: services.deviation_decline(deviation=authorised, actor=cast[role]),
        code="forbidden",
    )


@pytest.mark.parametrize("role", ["receptionist", "director", "admin"])
def test_signed_acceptance_upload(cast, authorised, role):
    deviation = services.deviation_acceptance_upload(
        deviation=authorised, upload=pdf_upload("signed.pdf"), actor=cast[role]
    )
    assert deviation.state == Deviation.State.ACCEPTED
    assert deviation.acceptance == Deviation.Acceptance.UPLOAD
    assert deviation.file_name == "signed.pdf" and deviation.has_file
    assert deviation.accepted_by == cast[role]
    assert deviation_in_force(deviation.line, deviation.method) == deviation


@pytest.mark.parametrize("role", ["metrologist", "quality_manager", "customer_a"])
def test_others_may_not_record_a_signed_acceptance(cast, authorised, role):
    refused(
        lambda: services.deviation_acceptance_upload(
            deviation=authorised, upload=pdf_upload(), actor=cast[role]
        ),
        code="forbidden",
    )


def test_signed_acceptance_must_be_a_document(cast, authorised):
    from django.core.files.uploadedfile import SimpleUploadedFile

    refused(
        lambda: services.deviation_acceptance_upload(
            deviation=authorised,
            upload=SimpleUploadedFile("x.txt", b"hello"),
            actor=cast["receptionist"],
        ),
        field="file",
    )
    authorised.refresh_from_db()
    assert authorised.state == Deviation.State.AUTHORISED


def test_in_force_is_per_line_and_method(cast, authorised, make_method, calibration_line, line_b):
    services.deviation_accept(deviation=authorised, actor=cast["customer_a"])
    other = make_method("JJG 52", "2013", kind="JJG")
    assert deviation_in_force(calibration_line, authorised.method) == authorised
    assert deviation_in_force(calibration_line, other) is None
    assert deviation_in_force(line_b, authorised.method) is None
    assert deviation_in_force(None, authorised.method) is None


def test_no_deviation_for_a_cancelled_commission(cast, calibration_line, method):
    commission = calibration_line.commission
    commission.status = "cancelled"
    commission.save()
    refused(lambda: request(calibration_line, method, cast["metrologist"]), code="conflict")
