"""Procedures versioned, reviewed and approved like record templates (issue 16; R8b, R6.2d):
the life of a version and its rules (the author never reviews nor approves, the reviewer does
not approve, one version in progress, approved versions frozen, the previous approved one
retired), every fault of a definition listed at once (against the record template's approved
version), the built-ins loaded idempotently, the database trigger refusing an UPDATE of an
approved version, the API (strict bodies), the pages, and `run_start` using the approved
version (refused without one, and for a role the record template does not have)."""

from __future__ import annotations

import copy
import json

import pytest
from django.db import DatabaseError, connection, transaction

from metrolab.core.errors import CoreRefusal
from metrolab.core.permissions import SYSTEM
from metrolab.core.testing import nothing_written, refused
from metrolab.core.versions import definition_digest
from metrolab.instruments import procedure_services as services
from metrolab.instruments import services as run_services
from metrolab.instruments.errors import InstrumentRefusal, ProcedureRefusal
from metrolab.instruments.models import Procedure, ProcedureVersion, Run
from metrolab.instruments.procedure import builtin_procedures
from metrolab.instruments.tests.runs_fixtures import *  # noqa: F403
from metrolab.instruments.tests.runs_fixtures import TIMEOUT_MS
from metrolab.items.tests.fixtures import customers, make_commission, receive  # noqa: F401
from metrolab.records.services import templates_load_builtin
from metrolab.records.tests.fixtures import *  # noqa: F403
from metrolab.tasks.tests.fixtures import *  # noqa: F403

pytestmark = pytest.mark.django_db
Status = ProcedureVersion.Status
CODE = "dmm-dc-voltage"
API = "/api/v1/instruments/procedures"


@pytest.fixture
def templates():
    """The built-in record templates, approved (a procedure is checked against them)."""
    templates_load_builtin(actor=SYSTEM)


@pytest.fixture
def definition(templates):
    """A new procedure (code "dmm-dcv-quick") made from the built-in one."""
    value = copy.deepcopy(builtin_procedures()[CODE])
    value["code"] = "dmm-dcv-quick"
    return value


@pytest.fixture
def draft(cast, definition):
    return services.procedure_create(
        definition=definition, note="first draft", actor=cast["metrologist"]
    )


def _approve(cast, version, reviewer="checker", approver="director"):
    services.procedure_version_submit(version=version, actor=version.author)
    services.procedure_version_review(
        version=version, decision="approve", note="checked", actor=cast[reviewer]
    )
    return services.procedure_version_approve(version=version, actor=cast[approver])


# --- the life and its rules ------------------------------------------------------------------


def test_create_makes_version_one_a_draft_from_the_definition(cast, draft, definition):
    procedure = draft.procedure
    assert (procedure.code, procedure.template) == ("dmm-dcv-quick", CODE)
    assert procedure.title == definition["title"]["zh"] and procedure.builtin is False
    assert (draft.number, draft.status, draft.author) == (1, Status.DRAFT, cast["metrologist"])
    assert draft.definition == definition
    assert draft.digest == definition_digest(definition)


def test_the_whole_life_of_a_version(cast, draft, definition):
    changed = copy.deepcopy(definition)
    changed["steps"][3]["interval"] = "0.5"
    services.procedure_version_save(
        version=draft, definition=changed, note="slower", actor=cast["metrologist"]
    )
    draft.refresh_from_db()
    assert draft.definition["steps"][3]["interval"] == "0.5" and draft.note == "slower"
    approved = _approve(cast, draft)
    assert approved.status == Status.APPROVED
    assert (approved.reviewed_by, approved.approved_by) == (cast["checker"], cast["director"])
    # a new version: a copy of the latest; once approved, the first retires
    second = services.procedure_version_draft(
        procedure=draft.procedure, note="v2", actor=cast["metrologist"]
    )
    assert (second.number, second.definition) == (2, changed)
    _approve(cast, second)
    draft.refresh_from_db()
    second.refresh_from_db()
    assert (draft.status, second.status) == (Status.RETIRED, Status.APPROVED)
    assert services.approved_definition("dmm-dcv-quick") == second


def test_segregation_of_duties_and_one_version_in_progress(cast, draft, definition):
    metrologist, checker, director = cast["metrologist"], cast["checker"], cast["director"]
    refused(
        services.procedure_version_save,
        version=draft,
        definition=definition,
        actor=checker,
        code=ProcedureRefusal.NOT_AUTHOR,
    )
    refused(
        services.procedure_version_draft,
        procedure=draft.procedure,
        actor=checker,
        code=ProcedureRefusal.DRAFT_OPEN,
    )
    services.procedure_version_submit(version=draft, actor=metrologist)
    refused(
        services.procedure_version_review,
        version=draft,
        decision="approve",
        actor=metrologist,
        code=CoreRefusal.FORBIDDEN,
    )
    refused(
        services.procedure_version_approve,
        version=draft,
        actor=director,
        code=ProcedureRefusal.NOT_REVIEWED,
    )
    refused(
        services.procedure_version_review,
        version=draft,
        decision="return",
        actor=checker,
        field="note",
    )
    services.procedure_version_review(version=draft, decision="approve", actor=director)
    refused(
        services.procedure_version_approve,
        version=draft,
        actor=director,
        code=ProcedureRefusal.SELF_APPROVAL,
    )
    own = services.procedure_create(definition={**definition, "code": "own"}, actor=director)
    services.procedure_version_submit(version=own, actor=director)
    refused(
        services.procedure_version_review,
        version=own,
        decision="approve",
        actor=director,
        code=ProcedureRefusal.SELF_REVIEW,
    )


def test_an_approved_version_never_changes(cast, draft, definition):
    _approve(cast, draft)
    refused(
        services.procedure_version_save,
        version=draft,
        definition=definition,
        actor=cast["metrologist"],
        code=ProcedureRefusal.IMMUTABLE,
    )


def test_every_fault_of_a_definition_is_listed_at_once(cast, definition):
    broken = copy.deepcopy(definition)
    broken["roles"][0]["template_role"] = "oscilloscope"
    broken["steps"][3]["cells"] = "nope.{point}.{repeat}"
    broken["steps"][3]["unit"] = "Pa"
    with nothing_written("instruments"):
        error = refused(
            services.procedure_create,
            definition=broken,
            actor=cast["metrologist"],
            code=ProcedureRefusal.INVALID_DEFINITION,
        )
    assert {"roles.0.template_role", "steps.3.cells", "steps.3.unit"} <= set(error.errors)
    assert "oscilloscope" in error.errors["roles.0.template_role"][0]
    assert len(error.errors) == 3 and "3" in error.message


def test_the_record_template_is_checked_only_once_it_has_an_approved_version(cast):
    definition = copy.deepcopy(builtin_procedures()[CODE])
    definition["code"] = "early"
    definition["roles"][0]["template_role"] = "oscilloscope"
    # no approved dmm-dc-voltage template yet: the format alone is checked
    version = services.procedure_create(definition=definition, actor=cast["metrologist"])
    assert version.status == Status.DRAFT
    templates_load_builtin(actor=SYSTEM)
    error = refused(
        services.procedure_version_submit,
        version=version,
        actor=cast["metrologist"],
        code=ProcedureRefusal.INVALID_DEFINITION,
    )
    assert list(error.errors) == ["roles.0.template_role"]


def test_the_definition_keeps_the_procedures_code_and_template(cast, draft, definition):
    other = {**copy.deepcopy(definition), "code": "other", "template": "insulation-resistance"}
    error = refused(
        services.procedure_version_save,
        version=draft,
        definition=other,
        actor=cast["metrologist"],
        code=ProcedureRefusal.INVALID_DEFINITION,
    )
    assert {"code", "template"} <= set(error.errors)


def test_builtins_load_idempotently(templates, monkeypatch):
    assert services.procedures_load_builtin(actor=SYSTEM) == {CODE: "created"}
    version = ProcedureVersion.objects.get(procedure__code=CODE)
    assert (version.number, version.status, version.note) == (1, Status.APPROVED, "built-in")
    assert version.approved_by is None and version.approved_at is not None
    assert version.procedure.builtin is True
    assert services.procedures_load_builtin(actor=SYSTEM) == {CODE: "unchanged"}
    assert ProcedureVersion.objects.count() == 1
    changed = copy.deepcopy(builtin_procedures())
    changed[CODE]["steps"][3]["interval"] = "0.3"
    monkeypatch.setattr(services, "builtin_procedures", lambda: changed)
    assert services.procedures_load_builtin(actor=SYSTEM) == {CODE: "updated"}
    statuses = dict(ProcedureVersion.objects.values_list("number", "status"))
    assert statuses == {1: Status.RETIRED, 2: Status.APPROVED}


def test_the_database_refuses_to_change_an_approved_version(templates):
    services.procedures_load_builtin(actor=SYSTEM)
    version = ProcedureVersion.objects.get(procedure__code=CODE)
    table = ProcedureVersion._meta.db_table
    for sql, params in (
        (f"UPDATE {table} SET digest = %s WHERE id = %s", ["0" * 64, version.pk]),
        (f"UPDATE {table} SET definition = %s WHERE id = %s", ['{"a": 1}', version.pk]),
        (f"UPDATE {table} SET status = %s WHERE id = %s", ["draft", version.pk]),
        (f"UPDATE {table} SET status = %s WHERE id = %s", ["in_review", version.pk]),
    ):
        with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, params)
    version.refresh_from_db()
    assert version.status == Status.APPROVED
    assert version.digest == definition_digest(builtin_procedures()[CODE])
    # approved → retired stays possible (a newer version approved); retired is frozen too
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {table} SET status = %s WHERE id = %s", ["retired", version.pk])
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"UPDATE {table} SET digest = %s WHERE id = %s", ["1" * 64, version.pk])
    version.refresh_from_db()
    assert (version.status, version.digest) == (
        Status.RETIRED,
        definition_digest(builtin_procedures()[CODE]),
    )


def test_the_command_loads_the_builtins(templates):
    from io import StringIO

    from django.core.management import call_command

    from metrolab.cli import ALIASES

    command = ALIASES["procedures-load-builtin"]  # `metrolab procedures-load-builtin`
    for expected in ("created", "unchanged"):
        out = StringIO()
        call_command(command, stdout=out)
        assert out.getvalue().strip() == f"{CODE}: {expected}"


# --- the API ---------------------------------------------------------------------------------


def _post(client, path, data):
    body = data if isinstance(data, str) else json.dumps(data)
    return client.post(f"{API}{path}", body, content_type="application/json")


def _put(client, path, data):
    return client.put(f"{API}{path}", json.dumps(data), content_type="application/json")


def test_the_api_list_detail_and_filters(cast, login, client, templates):
    services.procedures_load_builtin(actor=SYSTEM)
    login(cast["metrologist"])
    body = client.get(f"{API}/").json()
    assert body["count"] == 1
    item = body["items"][0]
    assert (item["code"], item["template"], item["builtin"]) == (CODE, CODE, True)
    assert (item["approved_version"], item["version_in_progress"]) == (1, None)
    assert client.get(f"{API}/?state=in_progress").json()["count"] == 0
    assert client.get(f"{API}/?template={CODE}&builtin=yes").json()["count"] == 1
    assert client.get(f"{API}/?q=nothing").json()["count"] == 0
    assert client.get(f"{API}/?state=nonsense").status_code == 422
    detail = client.get(f"{API}/{item['id']}").json()
    assert [v["status"] for v in detail["versions"]] == ["approved"]
    assert detail["versions"][0]["note"] == "built-in"
    version = client.get(f"{API}/{item['id']}/versions/1").json()
    assert version["definition"] == builtin_procedures()[CODE]
    assert client.get(f"{API}/{item['id']}/versions/7").status_code == 404


def test_the_life_of_a_version_through_the_api(cast, login, client, definition):
    login(cast["metrologist"])
    answer = _post(client, "/", {"definition": definition, "note": "new"})
    assert answer.status_code == 201, answer.content
    pk = answer.json()["id"]
    assert answer.json()["version_in_progress"] == 1
    assert _post(client, f"/{pk}/versions", {}).json()["error"]["code"] == "procedure_draft_open"
    broken = copy.deepcopy(definition)
    broken["steps"][3]["cells"] = "reading"
    with nothing_written("instruments"):
        answer = _put(client, f"/{pk}/versions/1", {"definition": broken})
    assert answer.status_code == 422
    assert answer.json()["error"]["code"] == "procedure_definition_invalid"
    assert ["steps.3.cells"] in [d["loc"] for d in answer.json()["error"]["details"]]
    assert _post(client, f"/{pk}/versions/1/submit", {}).json()["status"] == "in_review"
    login(cast["checker"])
    answer = _post(client, f"/{pk}/versions/1/review", {"decision": "approve"})
    assert answer.status_code == 200 and answer.json()["reviewed_by"]
    login(cast["metrologist"])
    assert _post(client, f"/{pk}/versions/1/approve", {}).status_code == 403
    login(cast["director"])
    answer = _post(client, f"/{pk}/versions/1/approve", {"note": "ok"})
    assert answer.status_code == 200 and answer.json()["status"] == "approved"
    login(cast["metrologist"])
    answer = _put(client, f"/{pk}/versions/1", {"definition": definition})
    assert answer.status_code == 409
    assert answer.json()["error"]["code"] == "procedure_version_immutable"
    answer = _post(client, f"/{pk}/versions", {"note": "next"})
    assert answer.status_code == 201 and answer.json()["number"] == 2


@pytest.mark.parametrize(
    "body",
    [
        '"a string"',
        "[1, 2]",
        '{"definition": "{\\"format\\": \\"metrolab-procedure/1\\"}"}',
        '{"definition": [1]}',
        "{}",
        '{"definition": {}, "extra": 1}',
    ],
)
def test_careless_bodies_are_refused_and_write_nothing(cast, login, client, body):
    login(cast["metrologist"])
    with nothing_written("instruments"):
        answer = _post(client, "/", body)
    assert answer.status_code in (400, 422), answer.content
    assert set(answer.json()) == {"error", "request_id"}


def test_validate_lists_every_path(cast, login, client, definition):
    login(cast["metrologist"])
    assert _post(client, "/validate", {"definition": definition}).json() == {
        "valid": True,
        "errors": [],
        "digest": definition_digest(definition),
    }
    broken = copy.deepcopy(definition)
    broken["steps"][3]["function"] = "dcx"
    broken["roles"][1]["kind"] = "nothing"
    body = _post(client, "/validate", {"definition": broken}).json()
    assert body["valid"] is False
    assert {"steps.3.function", "roles.1.kind"} <= {e["path"] for e in body["errors"]}


def test_customers_are_refused(cast, login, client, draft):
    login(cast["customer_a"])
    assert client.get(f"{API}/").status_code == 403
    assert client.get(f"{API}/{draft.procedure_id}").status_code == 403


# --- the pages -------------------------------------------------------------------------------


def test_the_list_and_the_version_page_show_the_steps(cast, login, client, templates):
    services.procedures_load_builtin(actor=SYSTEM)
    procedure = Procedure.objects.get(code=CODE)
    login(cast["metrologist"])
    html = client.get("/instruments/procedures/").content.decode()
    assert f'href="/instruments/procedures/{procedure.pk}/"' in html and "数字多用表" in html
    html = client.get(f"/instruments/procedures/{procedure.pk}/").content.decode()
    assert 'data-testid="version-row" data-number="1"' in html
    assert "内置程序：随内置程序载入时批准" in html
    html = client.get(f"/instruments/procedures/{procedure.pk}/v1/").content.decode()
    assert html.count('data-testid="step-row"') == 5
    assert "参数 param.range" in html  # the range comes from the record template's parameter
    assert "reading.{point}.{repeat}" in html
    assert "→" in html  # source → read
    assert 'data-testid="review"' not in html and 'data-testid="submit"' not in html


def test_the_pages_in_english_show_the_settle_rule_and_tolerance(
    cast, login, client, templates, english
):
    services.procedures_load_builtin(actor=SYSTEM)
    procedure = Procedure.objects.get(code=CODE)
    login(cast["checker"])
    html = client.get(f"/instruments/procedures/{procedure.pk}/v1/").content.decode()
    assert "standard deviation of the last 3 readings below 0.00002" in html
    assert "at most 30 s" in html
    assert "parameter param.dmm_ppm_reading ppm of nominal" in html
    assert "the record&#x27;s points (parameter param.points)" in html


def test_editing_a_draft_shows_every_fault_at_its_place(cast, login, client, draft, english):
    pk, url = draft.procedure_id, f"/instruments/procedures/{draft.procedure_id}/v1/edit/"
    login(cast["metrologist"])
    assert client.get(url).status_code == 200
    broken = copy.deepcopy(draft.definition)
    broken["steps"][3]["cells"] = "nope.{point}.{repeat}"
    broken["code"] = "renamed"
    with nothing_written("instruments"):
        answer = client.post(url, {"definition": json.dumps(broken), "note": ""})
    assert answer.status_code == 422
    html = answer.content.decode()
    assert 'data-testid="step-faults" data-path="steps.3"' in html
    assert "the record template has no input &#x27;nope&#x27;" in html
    assert '<li data-path="code">' in html
    # YAML is accepted too
    import yaml

    changed = copy.deepcopy(draft.definition)
    changed["steps"][3]["interval"] = "0.4"
    answer = client.post(url, {"definition": yaml.safe_dump(changed), "note": "yaml"})
    assert answer.status_code == 302
    draft.refresh_from_db()
    assert draft.definition["steps"][3]["interval"] == "0.4" and draft.note == "yaml"
    # not valid text at all
    answer = client.post(url, {"definition": "steps: [", "note": ""})
    assert answer.status_code == 422 and "YAML" in answer.content.decode()
    # another person sees it read-only and cannot save
    login(cast["checker"])
    assert 'data-testid="read-only"' in client.get(url).content.decode()
    client.post(url, {"definition": json.dumps(broken)})
    draft.refresh_from_db()
    assert draft.definition == changed
    assert pk == draft.procedure_id


def test_submit_review_and_approve_through_the_pages(cast, login, client, draft):
    base = f"/instruments/procedures/{draft.procedure_id}/v1/"
    login(cast["metrologist"])
    assert 'data-testid="submit"' in client.get(base).content.decode()
    assert client.post(f"{base}submit/", {"note": ""}).status_code == 302
    login(cast["checker"])
    assert 'data-testid="review"' in client.get(base).content.decode()
    answer = client.post(f"{base}review/", {"decision": "approve", "note": "ok"})
    assert answer.status_code == 302
    assert 'data-testid="approve"' not in client.get(base).content.decode()
    login(cast["director"])
    assert 'data-testid="approve"' in client.get(base).content.decode()
    assert client.post(f"{base}approve/", {"note": ""}).status_code == 302
    draft.refresh_from_db()
    assert draft.status == Status.APPROVED
    login(cast["metrologist"])
    assert client.post(f"{base}approve/", {"note": ""}).status_code == 403


def test_the_menu_lists_procedures_beside_the_record_templates(cast, login, client):
    login(cast["metrologist"])
    html = client.get("/").content.decode()
    assert 'href="/instruments/procedures/"' in html
    login(cast["customer_a"])
    assert client.get("/instruments/procedures/").status_code == 403


# --- runs use the approved version -----------------------------------------------------------


def _start(cast, record, calibrator, bench, procedure=CODE):
    return run_services.run_start(
        record=record,
        procedure=procedure,
        equipment_roles={"source": calibrator},
        connections={"uut": bench.dmm.connection("dmm34401", TIMEOUT_MS)},
        actor=cast["metrologist"],
    )


def test_a_run_uses_the_approved_version_and_keeps_its_number(
    cast, dmm_record, lab_calibrator, dmm_bench
):
    run = _start(cast, dmm_record, lab_calibrator, dmm_bench)
    assert (run.procedure_code, run.procedure_version) == (CODE, "1")
    assert run.definition == builtin_procedures()[CODE]
    # a second version approved: the next run uses it
    v2 = services.procedure_version_draft(
        procedure=Procedure.objects.get(code=CODE), actor=cast["metrologist"]
    )
    changed = copy.deepcopy(v2.definition)
    changed["steps"][3]["interval"] = "0.1"
    services.procedure_version_save(version=v2, definition=changed, actor=cast["metrologist"])
    _approve(cast, v2)
    run_services.run_abort(run=run, actor=cast["metrologist"], reason="a second run")
    run = _start(cast, dmm_record, lab_calibrator, dmm_bench)
    assert run.procedure_version == "2"
    assert run.definition["steps"][3]["interval"] == "0.1"


def test_a_run_is_refused_without_an_approved_version(
    cast, login, client, dmm_record, lab_calibrator, dmm_bench, english
):
    draft = services.procedure_create(
        definition={**builtin_procedures()[CODE], "code": "not-yet"}, actor=cast["checker"]
    )
    assert draft.status == Status.DRAFT
    login(cast["metrologist"])
    body = {
        "record": dmm_record.pk,
        "procedure": "not-yet",
        "equipment": {"source": lab_calibrator.pk},
        "connections": {"uut": dmm_bench.dmm.connection("dmm34401", TIMEOUT_MS)},
    }
    with nothing_written(Run):
        answer = client.post(
            "/api/v1/instruments/runs/", json.dumps(body), content_type="application/json"
        )
    assert answer.status_code == 422
    error = answer.json()["error"]
    assert error["code"] == "procedure_not_approved"
    assert "has no approved version" in error["message"]


def test_a_run_is_refused_for_a_role_the_record_template_does_not_have(
    cast, dmm_record, lab_calibrator, dmm_bench, english
):
    # A version approved while the record template had another equipment role.
    definition = copy.deepcopy(builtin_procedures()[CODE])
    definition["code"] = "old-roles"
    definition["roles"][0]["template_role"] = "standard"
    procedure = Procedure.objects.create(code="old-roles", title="old", template=CODE)
    ProcedureVersion.objects.create(
        procedure=procedure,
        number=1,
        definition=definition,
        digest=definition_digest(definition),
        status=Status.APPROVED,
    )
    error = refused(
        _start,
        cast,
        dmm_record,
        lab_calibrator,
        dmm_bench,
        procedure="old-roles",
        code=InstrumentRefusal.PROCEDURE_INVALID,
    )
    assert "procedure.roles.0.template_role" in error.errors
    assert "no equipment role 'standard'" in error.message
