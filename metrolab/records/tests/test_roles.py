"""Equipment roles of a record (R6.2; issue 14): the measurement standard of a digital
thermometer's calibration with its full equipment — the SPRT, its measuring bridge and two
baths — never takes a wrong role by default (the SPRT is the standard; the bath, ambiguous, is
left for the measurer and the submission refused until it is set); roles given at creation,
refused with every reason and nothing written; changed on a draft with the trail, the record
evaluated again with the new standard's corrections, the signatures shown invalid; the pages
(zh-Hans) and the API."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from metrolab.core.errors import CoreRefusal
from metrolab.core.testing import refused
from metrolab.equipment.models import CalibrationPoint, Equipment, EquipmentCalibration
from metrolab.records import services
from metrolab.records.demo import THERMO_1, thermo_cells
from metrolab.records.errors import RecordRefusal
from metrolab.records.models import Record, RecordChange
from metrolab.records.selectors import record_detail, record_state_at
from metrolab.records.services.records import equipment_roles
from metrolab.records.services.signatures import signature_valid
from metrolab.records.tests.fixtures import PASSWORD

pytestmark = pytest.mark.django_db

ZH = {"HTTP_ACCEPT_LANGUAGE": "zh-hans"}
API = "/api/v1/records"
S, A = Equipment.Kind.STANDARD, Equipment.Kind.AUXILIARY
# The SPRT's and the bridge's corrections (°C) at 0 and 100 °C: the record must apply the
# standard's; at 50 °C it interpolates (SPRT 0.005 − 0.0025 = −0.0050 + …).
SPRT_POINTS = (("0", "0.010", "0.004"), ("100", "-0.020", "0.006"))
BRIDGE_POINTS = (("0", "0.300", "0.004"), ("100", "0.300", "0.006"))


def _piece(cast, asset_no, name, kind, model, points=()):
    today = timezone.localdate()
    piece = Equipment.objects.create(asset_no=asset_no, name=name, kind=kind, model=model)
    calibration = EquipmentCalibration.objects.create(
        equipment=piece,
        certificate_no=f"CERT-{asset_no}",
        body="省计量院",
        date=today - dt.timedelta(days=30),
        due_date=today + dt.timedelta(days=300),
        confirmed_at=timezone.now(),
        confirmed_by=cast["equipment_manager"],
    )
    for nominal, correction, u in points:
        CalibrationPoint.objects.create(
            calibration=calibration,
            nominal=Decimal(nominal),
            unit="℃",
            correction=Decimal(correction),
            expanded_uncertainty=Decimal(u),
            coverage_factor=Decimal("2"),
        )
    return piece


@pytest.fixture
def sprt_standard(cast):
    """The full equipment of an SPRT measurement standard, by asset number: the bridge
    (a standard, asset number after the SPRT's — the old default made it the "bath")."""
    return {
        "sprt": _piece(cast, "T-01", "二等标准铂电阻温度计", S, "WZPB-2", SPRT_POINTS),
        "bridge": _piece(cast, "T-02", "数字测温电桥", S, "1594A", BRIDGE_POINTS),
        "oil": _piece(cast, "T-03", "标准恒温油槽", A, "6330"),
        "cold": _piece(cast, "T-04", "低温恒温槽", A, "7080"),
    }


@pytest.fixture
def thermo_task(start_task, approved_version, sprt_standard):
    approved_version("digital-thermometer-sprt")
    return start_task(
        service="calibration",
        name="数字温度计 Digital thermometer",
        equipment=list(sprt_standard.values()),
    )


def _roles(record) -> dict[str, str]:
    return dict(record.equipment_used.values_list("equipment__asset_no", "role"))


def _std_correction(record, point=1) -> str:
    return record.results["points"][point - 1]["values"]["std_correction"]["value"]


def _make(cast, task, roles=None):
    return services.record_create(task=task, actor=cast["metrologist"], roles=roles)


# --- the default -----------------------------------------------------------------------------


def test_the_sprt_is_the_standard_and_the_ambiguous_bath_is_left_for_the_measurer(
    cast, thermo_task, sprt_standard, english
):
    record = _make(cast, thermo_task)
    # Not the bridge as the bath (asset order) but: the SPRT the standard, no bath guessed.
    assert _roles(record) == {"T-01": "standard", "T-02": "", "T-03": "", "T-04": ""}
    assert [r["name"] for r in record_detail(record)["missing_roles"]] == ["bath"]
    record = services.record_write(
        record=record, values=thermo_cells(THERMO_1), actor=cast["metrologist"]
    )
    assert _std_correction(record, 1) == "0.01"  # the SPRT's at 0 °C
    assert _std_correction(record, 2) == "-0.005"  # interpolated at 50 °C
    error = refused(
        services.record_submit,
        record=record,
        actor=cast["metrologist"],
        password=PASSWORD,
        code=RecordRefusal.ROLE_MISSING,
        unchanged=("records", "tasks"),
    )
    assert error.errors == {"roles": ["No equipment is the thermostatic bath of this record."]}
    services.record_set_roles(
        record=record, roles={sprt_standard["cold"].pk: "bath"}, actor=cast["metrologist"]
    )
    record = services.record_submit(record=record, actor=cast["metrologist"], password=PASSWORD)
    assert record.status == Record.Status.SUBMITTED
    assert record.results["header"]["bath"] == "低温恒温槽"


def test_the_default_assigns_only_where_one_piece_fits(cast, approved_version, sprt_standard):
    from metrolab.records.calculation import roles_of

    thermo = roles_of(approved_version("digital-thermometer-sprt"))
    dmm = roles_of(approved_version("dmm-dc-voltage"))
    pieces = list(sprt_standard.values())
    assert equipment_roles([sprt_standard["sprt"], sprt_standard["oil"]], thermo) == {
        sprt_standard["sprt"].pk: "standard",
        sprt_standard["oil"].pk: "bath",
    }
    # Two pieces fit "bath": neither is given it.
    assert set(equipment_roles(pieces, thermo).values()) == {"standard", ""}
    # The DMM standard's reference DMM and its calibrator: the calibrator is the calibrator.
    reference = _piece(cast, "E-01", "数字多用表（8½ 位）", S, "8508A")
    calibrator = _piece(cast, "E-02", "多功能校准源", S, "5522A")
    assert equipment_roles([reference, calibrator], dmm) == {
        reference.pk: "",
        calibrator.pk: "calibrator",
    }


def test_a_template_declaring_no_roles_assigns_a_role_only_to_a_lone_piece(sprt_standard):
    from metrolab.metrology.record_template import Role

    used_only = [Role("standard")]  # a template naming the role without declaring it
    sprt, bridge = sprt_standard["sprt"], sprt_standard["bridge"]
    assert equipment_roles([sprt], used_only) == {sprt.pk: "standard"}
    assert equipment_roles([sprt, bridge], used_only) == {sprt.pk: "", bridge.pk: ""}


# --- given at creation -----------------------------------------------------------------------


def test_roles_given_at_creation_are_the_record_s(cast, thermo_task, sprt_standard):
    s = sprt_standard
    record = _make(cast, thermo_task, {s["bridge"].pk: "standard", s["oil"].pk: "bath"})
    assert _roles(record) == {"T-01": "", "T-02": "standard", "T-03": "bath", "T-04": ""}
    record = services.record_write(
        record=record, values=thermo_cells(THERMO_1), actor=cast["metrologist"]
    )
    assert _std_correction(record, 1) == "0.3"  # the bridge's data, as the measurer said
    assert record_detail(record)["missing_roles"] == []


def test_invalid_roles_are_refused_with_every_reason_and_nothing_written(
    cast, thermo_task, sprt_standard, english
):
    s = sprt_standard
    error = refused(
        services.record_create,
        task=thermo_task,
        actor=cast["metrologist"],
        roles={
            s["sprt"].pk: "thermometer",
            s["bridge"].pk: "standard",
            s["cold"].pk: "standard",
            999999: "bath",
        },
        code=RecordRefusal.ROLES_INVALID,
        field="roles",
        unchanged=("records",),
    )
    assert error.errors["roles"] == [
        "thermometer is not a role of this template (its roles: standard, thermostatic bath).",
        "Equipment 999999 is not equipment of this task.",
        "The role standard is given to several pieces of equipment: T-02, T-04.",
    ]
    assert not Record.objects.filter(task=thermo_task).exists()


# --- changed on a draft ----------------------------------------------------------------------


def test_a_role_change_leaves_its_trail_re_evaluates_and_invalidates_signatures(
    cast, thermo_task, sprt_standard, english
):
    s = sprt_standard
    record = _make(cast, thermo_task, {s["sprt"].pk: "standard", s["cold"].pk: "bath"})
    record = services.record_write(
        record=record, values=thermo_cells(THERMO_1), actor=cast["metrologist"]
    )
    record = services.record_submit(record=record, actor=cast["metrologist"], password=PASSWORD)
    signature = record.signatures.get()
    assert signature_valid(signature)
    record = services.record_return(record=record, actor=cast["checker"], reason="核对标准器")
    before = timezone.now()
    # After a return a reason is needed, as for the cells.
    refused(
        services.record_set_roles,
        record=record,
        roles={s["sprt"].pk: "", s["bridge"].pk: "standard"},
        actor=cast["metrologist"],
        code=RecordRefusal.REASON_REQUIRED,
        unchanged=("records",),
    )
    record = services.record_set_roles(
        record=record,
        roles={s["sprt"].pk: "", s["bridge"].pk: "standard"},
        actor=cast["metrologist"],
        reason="按测温电桥数据",
    )
    assert _roles(record) == {"T-01": "", "T-02": "standard", "T-03": "", "T-04": "bath"}
    changes = list(RecordChange.objects.filter(record=record).filter(cell__startswith="equip"))
    assert [(c.cell, c.old, c.new, c.reason, c.status) for c in changes] == [
        ("equipment.T-01.role", "standard", "", "按测温电桥数据", "draft"),
        ("equipment.T-02.role", "", "standard", "按测温电桥数据", "draft"),
    ]
    record.refresh_from_db()
    assert _std_correction(record, 1) == "0.3"  # was the SPRT's 0.01
    signature.refresh_from_db()
    assert not signature_valid(signature)
    # The replay of a moment before the change shows the roles and corrections then.
    then = record_state_at(record, before)
    assert then["roles"]["T-01"] == "standard" and then["roles"]["T-02"] == ""
    assert then["results"]["points"][0]["values"]["std_correction"]["value"] == "0.01"
    assert "equipment.T-01.role" not in then["cells"]


def test_who_and_when_roles_may_change(cast, thermo_task, sprt_standard, english):
    s = sprt_standard
    record = _make(cast, thermo_task, {s["sprt"].pk: "standard", s["cold"].pk: "bath"})
    refused(
        services.record_set_roles,
        record=record,
        roles={s["oil"].pk: "bath"},
        actor=cast["checker"],
        code=CoreRefusal.FORBIDDEN,
        unchanged=("records",),
    )
    # Laid over the current roles, "bath" would be held twice.
    error = refused(
        services.record_set_roles,
        record=record,
        roles={s["oil"].pk: "bath"},
        actor=cast["metrologist"],
        code=RecordRefusal.ROLES_INVALID,
        unchanged=("records",),
    )
    assert "T-03, T-04" in error.message
    record = services.record_write(
        record=record, values=thermo_cells(THERMO_1), actor=cast["metrologist"]
    )
    record = services.record_submit(record=record, actor=cast["metrologist"], password=PASSWORD)
    refused(
        services.record_set_roles,
        record=record,
        roles={s["sprt"].pk: ""},
        actor=cast["metrologist"],
        code=CoreRefusal.INVALID_TRANSITION,
        unchanged=("records",),
    )


# --- pages (zh-Hans) -------------------------------------------------------------------------


@pytest.fixture
def as_user(client, cast, settings):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"

    def _as(username):
        client.force_login(cast[username], backend="metrolab.core.auth.ThrottledModelBackend")
        return client

    return _as


def _text(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


def _selected(page: str, asset_no: str) -> str:
    select = re.search(rf'data-testid="role-{asset_no}">(.*?)</select>', page).group(1)
    found = re.search(r'<option value="([^"]*)" selected>', select)
    return found.group(1) if found else ""


def test_the_create_page_shows_a_role_select_per_piece(as_user, thermo_task, sprt_standard):
    client = as_user("metrologist")
    url = reverse("records:create", args=[thermo_task.pk])
    # "My tasks"' button posts without roles: the bath is ambiguous, so the page asks.
    page = _text(client.post(url, **ZH))
    assert not Record.objects.filter(task=thermo_task).exists()
    assert "请为每台设备选择角色" in page and "标准器" in page and "恒温槽" in page
    assert [_selected(page, a) for a in ("T-01", "T-02", "T-03", "T-04")] == [
        "standard",
        "",
        "",
        "",
    ]
    s = sprt_standard
    response = client.post(
        url,
        {
            "roles_given": "1",
            f"role-{s['sprt'].pk}": "standard",
            f"role-{s['bridge'].pk}": "",
            f"role-{s['oil'].pk}": "",
            f"role-{s['cold'].pk}": "bath",
        },
        **ZH,
    )
    record = Record.objects.get(task=thermo_task)
    assert response.status_code == 302
    assert _roles(record) == {"T-01": "standard", "T-02": "", "T-03": "", "T-04": "bath"}


def test_a_refused_creation_page_lists_the_role_faults(as_user, thermo_task, sprt_standard):
    s = sprt_standard
    response = as_user("metrologist").post(
        reverse("records:create", args=[thermo_task.pk]),
        {
            "roles_given": "1",
            f"role-{s['sprt'].pk}": "standard",
            f"role-{s['bridge'].pk}": "standard",
        },
        **ZH,
    )
    assert response.status_code == 422
    assert "角色“标准器”被同时指定给多台设备：T-01, T-02。" in _text(response)
    assert not Record.objects.filter(task=thermo_task).exists()


def test_the_entry_page_shows_the_missing_role_and_saves_roles(
    as_user, cast, thermo_task, sprt_standard
):
    record = _make(cast, thermo_task)
    client = as_user("metrologist")
    detail = reverse("records:detail", args=[record.pk])
    page = _text(client.get(detail, **ZH))
    assert 'data-testid="missing-roles"' in page and "模板的以下角色尚未指定设备" in page
    assert _selected(page, "T-01") == "standard" and _selected(page, "T-04") == ""
    # Submitting is refused while the bath is missing, the reason shown on the sign page.
    services.record_write(record=record, values=thermo_cells(THERMO_1), actor=cast["metrologist"])
    sign = reverse("records:sign", args=[record.pk, "submit"])
    response = client.post(sign, {"password": PASSWORD}, **ZH)
    assert response.status_code == 422 and "本记录没有指定设备作为“恒温槽”。" in _text(response)
    assert Record.objects.get(pk=record.pk).status == Record.Status.DRAFT
    url = reverse("records:roles", args=[record.pk])
    s = sprt_standard
    # Two baths: refused with its reason on the page, nothing saved.
    response = client.post(
        url, {f"role-{s['oil'].pk}": "bath", f"role-{s['cold'].pk}": "bath"}, **ZH
    )
    assert response.status_code == 422
    page = _text(response)
    assert 'data-testid="role-errors"' in page and "T-03, T-04" in page
    assert not RecordChange.objects.filter(record=record, cell__startswith="equipment.").exists()
    response = client.post(url, {f"role-{s['cold'].pk}": "bath"}, **ZH)
    assert response.status_code == 302 and response["Location"].endswith("#equipment")
    page = _text(client.get(detail, **ZH))
    assert 'data-testid="missing-roles"' not in page and _selected(page, "T-04") == "bath"
    history = _text(client.get(reverse("records:history", args=[record.pk]), **ZH))
    assert "设备 T-04 的角色" in history and "恒温槽" in history
    # Someone else sees the roles, not the selects, and may not post them.
    checker = as_user("checker")
    assert 'data-testid="roles-form"' not in _text(checker.get(detail, **ZH))
    assert checker.post(url, {f"role-{s['cold'].pk}": ""}, **ZH).status_code == 403


# --- the API ---------------------------------------------------------------------------------


def _json(client, method, url, body=None):
    return getattr(client, method)(url, body, content_type="application/json")


def test_the_api_takes_roles_at_creation_and_sets_them(
    cast, login, client, thermo_task, sprt_standard, english
):
    s = sprt_standard
    login(cast["metrologist"])
    # Careless bodies: 422 before any service runs.
    for roles in ("standard", ["standard"], {"abc": "standard"}, {str(s["sprt"].pk): 1}):
        answer = _json(client, "post", f"{API}/", {"task": thermo_task.pk, "roles": roles})
        assert answer.status_code == 422, roles
    answer = _json(
        client, "post", f"{API}/", {"task": thermo_task.pk, "roles": {str(s["sprt"].pk): "std"}}
    )
    assert answer.status_code == 422
    assert answer.json()["error"]["code"] == "equipment_roles_invalid"
    assert not Record.objects.filter(task=thermo_task).exists()
    answer = _json(
        client,
        "post",
        f"{API}/",
        {"task": thermo_task.pk, "roles": {str(s["sprt"].pk): "standard"}},
    )
    assert answer.status_code == 201, answer.content
    body = answer.json()
    assert body["missing_roles"] == ["bath"]
    assert [r["name"] for r in body["roles"]] == ["standard", "bath"]
    rid = body["id"]
    url = f"{API}/{rid}/roles"
    assert _json(client, "put", url, {"roles": {}}).status_code == 422
    assert _json(client, "put", url, {"roles": "bath"}).status_code == 422
    answer = _json(client, "put", url, {"roles": {str(s["oil"].pk): "bath"}})
    assert answer.status_code == 200, answer.content
    body = answer.json()
    assert body["missing_roles"] == []
    assert {e["asset_no"]: e["role"] for e in body["equipment"]}["T-03"] == "bath"
    history = client.get(f"{API}/{rid}/history").json()
    assert [f["cell"] for f in history["fields"]] == ["equipment.T-03.role"]
    assert history["fields"][0]["changes"][0]["source"] == "api"
    login(cast["checker"])
    answer = _json(client, "put", url, {"roles": {str(s["oil"].pk): ""}})
    assert answer.status_code == 403
