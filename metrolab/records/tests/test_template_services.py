"""Record template versions (R6.2d; T/CMA CC045 template review): the life of a version
(draft → in review → reviewed → approved → retired), who may do each step and the segregation
of duties (the author never reviews or approves his version; the reviewer does not approve
it), approved versions immutable (services, and the database for any other writer), an
invalid definition refused with every path and nothing written, the built-ins loaded
idempotently, and the templates that fit a task."""

from __future__ import annotations

import copy

import pytest
from django.db import DatabaseError, connection, transaction

from metrolab.core.errors import CoreRefusal
from metrolab.core.permissions import SYSTEM
from metrolab.core.service import ServiceError
from metrolab.core.testing import nothing_written, refused
from metrolab.metrology.record_template import compile_template
from metrolab.records import services
from metrolab.records.models import RecordTemplate, TemplateVersion
from metrolab.records.template_errors import TemplateRefusal
from metrolab.records.template_selectors import (
    approved_version,
    fitting_templates,
    open_version,
)
from metrolab.records.tests.template_fixtures import *  # noqa: F403
from metrolab.records.tests.template_fixtures import JJG52

pytestmark = pytest.mark.django_db
Status = TemplateVersion.Status


def test_create_makes_version_one_a_draft_with_its_digest(cast, draft, jjg52):
    assert draft.number == 1
    assert draft.status == Status.DRAFT
    assert draft.author == cast["metrologist"]
    assert draft.template.code == JJG52
    assert draft.definition == jjg52
    assert draft.digest == services.definition_digest(jjg52)
    assert len(draft.digest) == 64
    # The digest is of the canonical JSON: key order does not change it.
    reordered = dict(reversed(list(jjg52.items())))
    assert services.definition_digest(reordered) == draft.digest


def test_digest_is_sha256_of_sorted_compact_utf8_json():
    import hashlib

    definition = {"b": 1, "a": "压力"}
    expected = hashlib.sha256('{"a":"压力","b":1}'.encode()).hexdigest()
    assert services.definition_digest(definition) == expected


def test_a_new_template_without_definition_starts_from_a_valid_starter(cast):
    version = services.template_create(
        code="my-gauge", title="我的模板", service="calibration", actor=cast["metrologist"]
    )
    compile_template(version.definition)
    assert version.definition["code"] == "my-gauge"
    assert version.definition["service"] == "calibration"


def test_the_whole_life_of_a_version(cast, draft, approve, jjg52):
    services.template_version_submit(version=draft, actor=cast["metrologist"])
    draft.refresh_from_db()
    assert draft.status == Status.IN_REVIEW and draft.submitted_at is not None
    services.template_version_review(
        version=draft, decision="approve", note="公式已核", actor=cast["checker"]
    )
    draft.refresh_from_db()
    assert draft.status == Status.IN_REVIEW
    assert draft.reviewed_by == cast["checker"] and draft.review_note == "公式已核"
    services.template_version_approve(version=draft, actor=cast["director"])
    draft.refresh_from_db()
    assert draft.status == Status.APPROVED
    assert draft.approved_by == cast["director"] and draft.approved_at is not None
    assert approved_version(draft.template) == draft

    # Version 2 is a copy of version 1; approving it retires version 1.
    second = services.template_version_draft(
        template=draft.template, note="interval", actor=cast["metrologist"]
    )
    assert second.number == 2 and second.definition == jjg52
    changed = copy.deepcopy(jjg52)
    changed["parameters"][6]["default"] = "3"
    services.template_version_save(
        version=second, definition=changed, note="3 months", actor=cast["metrologist"]
    )
    approve(second)
    draft.refresh_from_db()
    second.refresh_from_db()
    assert draft.status == Status.RETIRED
    assert second.status == Status.APPROVED
    assert second.digest == services.definition_digest(changed) != draft.digest
    assert approved_version(draft.template) == second


def test_returned_version_goes_back_to_draft_with_the_note(cast, draft):
    services.template_version_submit(version=draft, actor=cast["metrologist"])
    refused(
        services.template_version_review,
        version=draft,
        decision="return",
        note="",
        actor=cast["checker"],
        field="note",
        unchanged=("records",),
    )
    services.template_version_review(
        version=draft, decision="return", note="MPE 表需核对", actor=cast["checker"]
    )
    draft.refresh_from_db()
    assert draft.status == Status.DRAFT
    assert draft.review_note == "MPE 表需核对"
    assert draft.reviewed_by == cast["checker"]
    # The author corrects and submits again; the earlier review is cleared.
    services.template_version_submit(version=draft, actor=cast["metrologist"])
    draft.refresh_from_db()
    assert draft.status == Status.IN_REVIEW and draft.reviewed_by is None


def test_segregation_of_duties(cast, draft, jjg52):
    # Only the author submits his draft, and edits it.
    refused(
        services.template_version_submit,
        version=draft,
        actor=cast["checker"],
        code=TemplateRefusal.NOT_AUTHOR,
        unchanged=("records",),
    )
    refused(
        services.template_version_save,
        version=draft,
        definition=jjg52,
        actor=cast["director"],
        code=TemplateRefusal.NOT_AUTHOR,
        unchanged=("records",),
    )
    services.template_version_submit(version=draft, actor=cast["metrologist"])
    # Nobody approves before the review.
    refused(
        services.template_version_approve,
        version=draft,
        actor=cast["director"],
        code=TemplateRefusal.NOT_REVIEWED,
        unchanged=("records",),
    )
    # A metrologist is no reviewer; the checker is no approver.
    refused(
        services.template_version_review,
        version=draft,
        decision="approve",
        actor=cast["metrologist"],
        code=CoreRefusal.FORBIDDEN,
        unchanged=("records",),
    )
    services.template_version_review(version=draft, decision="approve", actor=cast["director"])
    refused(
        services.template_version_approve,
        version=draft,
        actor=cast["checker"],
        code=CoreRefusal.FORBIDDEN,
        unchanged=("records",),
    )
    # The reviewer does not approve what he reviewed.
    refused(
        services.template_version_approve,
        version=draft,
        actor=cast["director"],
        code=TemplateRefusal.SELF_APPROVAL,
        unchanged=("records",),
    )
    # Reviewed once only.
    refused(
        services.template_version_review,
        version=draft,
        decision="approve",
        actor=cast["checker"],
        code=TemplateRefusal.ALREADY_REVIEWED,
        unchanged=("records",),
    )


def test_the_author_never_reviews_or_approves_his_own_version(cast, jjg52):
    version = services.template_create(
        code=JJG52, title="t", service="verification", definition=jjg52, actor=cast["director"]
    )
    services.template_version_submit(version=version, actor=cast["director"])
    refused(
        services.template_version_review,
        version=version,
        decision="approve",
        actor=cast["director"],
        code=TemplateRefusal.SELF_REVIEW,
        unchanged=("records",),
    )
    services.template_version_review(version=version, decision="approve", actor=cast["checker"])
    refused(
        services.template_version_approve,
        version=version,
        actor=cast["director"],
        code=TemplateRefusal.SELF_APPROVAL,
        unchanged=("records",),
    )


def test_a_customer_designs_nothing(cast):
    with nothing_written("records"), pytest.raises(ServiceError) as caught:
        services.template_create(
            code="x", title="x", service="calibration", actor=cast["customer_a"]
        )
    assert caught.value.code == CoreRefusal.FORBIDDEN


def test_one_version_in_progress_at_a_time(cast, draft):
    refused(
        services.template_version_draft,
        template=draft.template,
        actor=cast["metrologist"],
        code=TemplateRefusal.DRAFT_OPEN,
        unchanged=("records",),
    )
    assert open_version(draft.template) == draft


def test_approved_versions_never_change_through_the_services(cast, draft, approve, jjg52):
    approve(draft)
    metrologist, checker, director = cast["metrologist"], cast["checker"], cast["director"]
    for call, actor, kwargs in (
        (services.template_version_save, metrologist, {"definition": jjg52}),
        (services.template_version_submit, metrologist, {}),
        (services.template_version_review, checker, {"decision": "return", "note": "x"}),
        (services.template_version_approve, director, {}),
    ):
        refused(
            call,
            version=draft,
            actor=actor,
            code=TemplateRefusal.IMMUTABLE,
            unchanged=("records",),
            **kwargs,
        )


def test_approved_versions_never_change_in_the_database(cast, draft, approve):
    approve(draft)
    table = TemplateVersion._meta.db_table
    for sql, params in (
        (f"UPDATE {table} SET digest = %s WHERE id = %s", ["0" * 64, draft.pk]),
        (f"UPDATE {table} SET definition = %s WHERE id = %s", ['{"a": 1}', draft.pk]),
        (f"UPDATE {table} SET status = %s WHERE id = %s", ["draft", draft.pk]),
    ):
        with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, params)
    draft.refresh_from_db()
    assert draft.status == Status.APPROVED
    # Retiring it (status only) is allowed; a draft stays freely writable.
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {table} SET status = %s WHERE id = %s", ["retired", draft.pk])
    draft.refresh_from_db()
    assert draft.status == Status.RETIRED


def test_an_invalid_definition_is_refused_with_every_path_and_nothing_written(cast, draft, jjg52):
    broken = copy.deepcopy(jjg52)
    broken["computed"][5]["expr"] = "up_after - "
    broken["computed"][6]["expr"] = "__import__('os')"
    error = refused(
        services.template_version_save,
        version=draft,
        definition=broken,
        actor=cast["metrologist"],
        code=TemplateRefusal.INVALID_DEFINITION,
        unchanged=("records",),
    )
    assert "computed.5.expr" in error.errors
    assert "computed.6.expr" in error.errors
    assert error.field == "computed.5.expr"
    # A definition naming another template's code, or another service.
    other = copy.deepcopy(jjg52)
    other["code"] = "another"
    other["service"] = "calibration"
    error = refused(
        services.template_version_save,
        version=draft,
        definition=other,
        actor=cast["metrologist"],
        code=TemplateRefusal.INVALID_DEFINITION,
        unchanged=("records",),
    )
    assert set(error.errors) == {"code", "service"}
    # Not an object at all.
    error = refused(
        services.template_version_save,
        version=draft,
        definition=["a", "list"],
        actor=cast["metrologist"],
        code=TemplateRefusal.INVALID_DEFINITION,
        unchanged=("records",),
    )
    assert list(error.errors) == [""]


def test_builtins_load_idempotently_and_each_compiles(cast, builtins):
    outcome = services.templates_load_builtin(actor=SYSTEM)
    assert outcome == {code: "created" for code in builtins}
    for code, definition in builtins.items():
        template = RecordTemplate.objects.get(code=code)
        assert template.builtin
        assert template.service == definition["service"]
        assert template.title == definition["title"]["zh"]
        version = approved_version(template)
        assert version.number == 1 and version.note == "built-in"
        assert version.approved_by is None and version.approved_at is not None
        assert version.digest == services.definition_digest(definition)
        compile_template(version.definition)
    before = TemplateVersion.objects.count()
    assert services.templates_load_builtin(actor=SYSTEM) == {c: "unchanged" for c in builtins}
    assert TemplateVersion.objects.count() == before


def test_a_changed_builtin_becomes_a_new_approved_version(cast, builtins, monkeypatch):
    from metrolab.records.services import templates as module

    services.templates_load_builtin(actor=SYSTEM)
    changed = copy.deepcopy(builtins)
    changed[JJG52]["parameters"][6]["default"] = "3"
    monkeypatch.setattr(module, "builtin_templates", lambda: changed)
    outcome = services.templates_load_builtin(actor=SYSTEM)
    assert outcome[JJG52] == "updated"
    versions = list(TemplateVersion.objects.filter(template__code=JJG52).order_by("number"))
    assert [(v.number, v.status) for v in versions] == [
        (1, Status.RETIRED),
        (2, Status.APPROVED),
    ]


def test_builtins_take_the_discipline_of_their_code(cast, builtins):
    from metrolab.commissions.models import Discipline

    pressure = Discipline.objects.create(code="pressure", name="压力")
    services.templates_load_builtin(actor=SYSTEM)
    assert RecordTemplate.objects.get(code=JJG52).discipline == pressure
    assert RecordTemplate.objects.get(code="dmm-dc-voltage").discipline is None


def test_fitting_templates_by_service_and_discipline(cast, builtins):
    from types import SimpleNamespace

    from metrolab.commissions.models import Discipline

    pressure = Discipline.objects.create(code="pressure", name="压力")
    electrical = Discipline.objects.create(code="electrical", name="电学")
    services.templates_load_builtin(actor=SYSTEM)

    def task(service, discipline):
        category = SimpleNamespace(discipline=discipline)
        return SimpleNamespace(service=service, scope=SimpleNamespace(category=category))

    codes = lambda t: [v.template.code for v in fitting_templates(t)]  # noqa: E731
    assert codes(task("verification", pressure)) == [JJG52]
    assert codes(task("verification", electrical)) == []
    assert codes(task("calibration", electrical)) == ["dmm-dc-voltage", "digital-thermometer-sprt"]
    # A task whose discipline is not known: every template of its service.
    assert codes(SimpleNamespace(service="calibration", scope=None)) == [
        "dmm-dc-voltage",
        "digital-thermometer-sprt",
    ]
