"""`/api/v1/qualifications/...`: who may edit the libraries (quality manager, admin) and who
may only read (every lab role) or nothing (customers, regulators, anonymous); the shapes."""

from __future__ import annotations

import pytest

from metrolab.core.permissions import SYSTEM
from metrolab.core.roles import LAB_STAFF
from metrolab.qualifications.models import Authorisation, AuthorisedItem, PersonnelCertificate
from metrolab.qualifications.tests.conftest import days, pdf_upload

pytestmark = pytest.mark.django_db

BASE = "/api/v1/qualifications"
EDITORS = ["quality_manager", "admin"]
READ_ONLY = sorted(set(LAB_STAFF) - set(EDITORS))
REFUSED = ["customer_a", "regulator", "device"]


def item_payload(library, code="P-API", **change) -> dict:
    return {
        "code": code,
        "name": "压力表校准",
        "service": "calibration",
        "measurand": "压力",
        "category_id": library.gauge.pk,
        "range_low": "0",
        "range_high": "25",
        "unit": "MPa",
        "cmc": "0.1 %",
        "method_ids": [library.jjg52.pk],
        "standard_id": library.standard.pk,
        **change,
    }


def post(client, url, data):
    return client.post(url, data, content_type="application/json")


def patch(client, url, data):
    return client.patch(url, data, content_type="application/json")


@pytest.mark.parametrize("username", EDITORS)
def test_editors_create_and_update_items(cast, client, library, username):
    client.force_login(cast[username])
    created = post(client, f"{BASE}/items", item_payload(library))
    assert created.status_code == 201, created.json()
    body = created.json()
    assert body["code"] == "P-API" and body["range_high"] == "25"
    assert [m["designation"] for m in body["methods"]] == ["JJG 52-2013"]
    assert body["standard_detail"]["equipment"][0]["asset_no"] == "EQ-P-001"
    updated = patch(client, f"{BASE}/items/{body['id']}", {"cmc": "0.05 %"})
    assert updated.status_code == 200 and updated.json()["cmc"] == "0.05 %"
    assert updated.json()["range_high"] == "25"


@pytest.mark.parametrize("username", READ_ONLY)
def test_other_lab_roles_only_read(cast, client, library, username):
    client.force_login(cast[username])
    listing = client.get(f"{BASE}/items")
    assert listing.status_code == 200 and listing.json()["count"] == 2
    assert client.get(f"{BASE}/items/{library.item.pk}").status_code == 200
    assert client.get(f"{BASE}/people").status_code == 200
    assert client.get(f"{BASE}/people/{cast['metrologist'].pk}").status_code == 200
    assert post(client, f"{BASE}/items", item_payload(library)).status_code == 403
    assert patch(client, f"{BASE}/items/{library.item.pk}", {"cmc": "x"}).status_code == 403
    grant = {
        "person_id": cast["metrologist"].pk,
        "item_id": library.item.pk,
        "capacity": "perform",
        "valid_from": "2026-01-01",
    }
    assert post(client, f"{BASE}/authorisations", grant).status_code == 403
    assert not AuthorisedItem.objects.filter(code="P-API").exists()
    assert not Authorisation.objects.exists()
    library.item.refresh_from_db()
    assert library.item.cmc == "0.05 级"


@pytest.mark.parametrize("username", REFUSED)
def test_customers_regulators_and_devices_are_refused(cast, client, library, username):
    client.force_login(cast[username])
    for response in [
        client.get(f"{BASE}/items"),
        client.get(f"{BASE}/items/{library.item.pk}"),
        client.get(f"{BASE}/people"),
        client.get(f"{BASE}/people/{cast[username].pk}"),
        post(client, f"{BASE}/items", item_payload(library)),
        patch(client, f"{BASE}/items/{library.item.pk}", {"cmc": "x"}),
    ]:
        assert response.status_code == 403
        assert response.json()["error"]["code"] == "forbidden"


def test_anonymous_is_refused(client, library):
    assert client.get(f"{BASE}/items").status_code == 401
    assert post(client, f"{BASE}/items", item_payload(library)).status_code == 401
    assert patch(client, f"{BASE}/items/{library.item.pk}", {"cmc": "x"}).status_code == 401


def test_refusals_name_the_field_and_change_nothing(cast, client, library):
    client.force_login(cast["quality_manager"])
    bad = post(client, f"{BASE}/items", item_payload(library, range_low="30"))
    assert bad.status_code == 422
    assert bad.json()["error"]["details"][0]["loc"] == ["range_high"]
    no_method = post(client, f"{BASE}/items", item_payload(library, method_ids=[]))
    assert no_method.json()["error"]["details"][0]["loc"] == ["methods"]
    unknown = post(client, f"{BASE}/items", item_payload(library, method_ids=[999999]))
    assert unknown.status_code == 422
    assert unknown.json()["error"]["details"][0]["loc"] == ["method_ids"]
    dup = patch(client, f"{BASE}/items/{library.thermo_item.pk}", {"code": "P-001"})
    assert dup.status_code == 409 and dup.json()["error"]["details"][0]["loc"] == ["code"]
    assert not AuthorisedItem.objects.filter(code="P-API").exists()
    assert AuthorisedItem.objects.get(pk=library.thermo_item.pk).code == "T-001"
    assert client.get(f"{BASE}/items/999999").status_code == 404


def test_item_list_filters(cast, client, library):
    client.force_login(cast["checker"])
    by_discipline = client.get(f"{BASE}/items", {"discipline_id": library.temperature.pk})
    assert [i["code"] for i in by_discipline.json()["items"]] == ["T-001"]
    assert [i["code"] for i in client.get(f"{BASE}/items", {"q": "JJG 52"}).json()["items"]] == [
        "P-001"
    ]
    item = client.get(f"{BASE}/items", {"q": "P-001"}).json()["items"][0]
    assert item["discipline"] == "压力 Pressure" and item["valid"] is True
    assert item["url"] == f"/qualifications/items/{library.item.pk}/"


def test_people_certificates_training_and_authorisations(cast, client, library, today):
    client.force_login(cast["quality_manager"])
    person = cast["metrologist"]
    profile = client.put(
        f"{BASE}/people/{person.pk}/profile",
        {"employee_no": "E-1", "department": "压力室"},
        content_type="application/json",
    )
    assert profile.status_code == 200 and profile.json()["profile"]["department"] == "压力室"
    cert = post(
        client,
        f"{BASE}/people/{person.pk}/certificates",
        {
            "kind": "verifier",
            "number": "JD-API",
            "issue_date": str(today - days(10)),
            "expiry_date": str(today + days(30)),
            "item_ids": [library.item.pk],
        },
    )
    assert cert.status_code == 201 and cert.json()["items"] == ["P-001"]
    cert_id = cert.json()["id"]
    upload = client.post(f"{BASE}/certificates/{cert_id}/file", {"file": pdf_upload()})
    assert upload.status_code == 200 and upload.json()["file_url"].endswith("/file/")
    changed = patch(client, f"{BASE}/certificates/{cert_id}", {"issued_by": "省局"})
    assert changed.json()["issued_by"] == "省局" and changed.json()["items"] == ["P-001"]
    training = post(
        client,
        f"{BASE}/people/{person.pk}/training",
        {"date": str(today), "topic": "JJG 52 宣贯", "hours": "2.5"},
    )
    assert training.status_code == 201 and training.json()["hours"] == "2.5"
    granted = post(
        client,
        f"{BASE}/authorisations",
        {
            "person_id": person.pk,
            "item_id": library.item.pk,
            "capacity": "perform",
            "certificate_id": cert_id,
            "valid_from": str(today),
        },
    )
    assert granted.status_code == 201
    assert granted.json()["valid_until_effective"] == str(today + days(30))
    detail = client.get(f"{BASE}/people/{person.pk}").json()
    assert detail["roles"] == ["metrologist"]
    assert [c["number"] for c in detail["certificates"]] == ["JD-API"]
    assert [a["item_code"] for a in detail["authorisations"]] == ["P-001"]
    assert detail["may_now"] == {"perform": ["P-001"], "check": [], "approve": []}
    qualified = client.get(f"{BASE}/items/{library.item.pk}").json()["qualified"]
    assert [p["username"] for p in qualified["perform"]] == ["metrologist"]
    later = client.get(
        f"{BASE}/items/{library.item.pk}/qualified",
        {"capacity": "perform", "on": str(today + days(31))},
    )
    assert later.json() == {"items": [], "count": 0}
    on_expiry = client.get(
        f"{BASE}/items/{library.item.pk}/qualified",
        {"capacity": "perform", "on": str(today + days(30))},
    )
    assert [p["username"] for p in on_expiry.json()["items"]] == ["metrologist"]
    people = client.get(f"{BASE}/people", {"q": "metrologist"}).json()["items"]
    assert people[0]["valid_certificates"] == 1 and people[0]["expiring_soon"] == 2
    revoked = post(
        client, f"{BASE}/authorisations/{granted.json()['id']}/revoke", {"reason": "audit finding"}
    )
    assert revoked.status_code == 200 and revoked.json()["revoked"] is True
    assert revoked.json()["valid"] is False


def test_grant_refusals_over_the_api(cast, client, library, certificate, today):
    client.force_login(cast["admin"])
    theirs = certificate(cast["checker"], number="THEIRS")
    data = {
        "person_id": cast["metrologist"].pk,
        "item_id": library.item.pk,
        "capacity": "perform",
        "certificate_id": theirs.pk,
        "valid_from": str(today),
    }
    refused = post(client, f"{BASE}/authorisations", data)
    assert refused.status_code == 422
    assert refused.json()["error"]["code"] == "certificate_of_another"
    assert refused.json()["error"]["details"][0]["loc"] == ["certificate_id"]
    unfit = post(
        client, f"{BASE}/authorisations", {**data, "certificate_id": None, "capacity": "approve"}
    )
    assert unfit.json()["error"]["code"] == "role_unfit"
    outsider = post(
        client,
        f"{BASE}/authorisations",
        {**data, "certificate_id": None, "person_id": cast["customer_a"].pk},
    )
    assert outsider.json()["error"]["code"] == "not_staff"
    assert not Authorisation.objects.exists()
    assert not PersonnelCertificate.objects.exclude(pk=theirs.pk).exists()


# --- separation of duties and the kinds of method (R4.4, R6.7a-b) ----


@pytest.fixture
def editor_and_metrologist(db):
    """A quality manager who is also a metrologist: could be authorised to perform."""
    from metrolab.core.services import user_create

    return user_create(
        username="qm-metrologist",
        password=None,
        roles=["quality_manager", "metrologist"],
        actor=SYSTEM,
    )


def test_nobody_grants_an_authorisation_to_themselves(
    cast, client, library, today, editor_and_metrologist
):
    client.force_login(editor_and_metrologist)
    data = {
        "person_id": editor_and_metrologist.pk,
        "item_id": library.item.pk,
        "capacity": "perform",
        "valid_from": str(today),
    }
    refused = post(client, f"{BASE}/authorisations", data)
    assert refused.status_code == 403
    error = refused.json()["error"]
    assert error["code"] == "self_grant"
    assert error["message"] == (
        "Nobody may grant an authorisation to themselves: another quality manager or an "
        f"administrator must authorise {editor_and_metrologist}."
    )
    assert error["details"][0]["loc"] == ["person_id"]
    assert not Authorisation.objects.exists()
    # Another editor may.
    client.force_login(cast["admin"])
    granted = post(client, f"{BASE}/authorisations", data)
    assert granted.status_code == 201
    assert Authorisation.objects.get().granted_by == cast["admin"]


@pytest.fixture
def kinds(library, today):
    """A calibration specification (JJF) and an in-house work instruction, beside the
    library's verification regulations (JJG 52, JJG 130)."""
    from metrolab.methods.models import Method

    jjf = Method.objects.create(
        kind="JJF",
        code="JJF 1587",
        year="2016",
        title="数字多用表",
        effective_date=today - days(900),
    )
    inhouse = Method.objects.create(
        kind="inhouse",
        code="SF/ZY-01",
        year="2024",
        title="压力表检定作业指导书",
        effective_date=today - days(300),
    )
    return {"jjf": jjf, "inhouse": inhouse}


def test_an_item_uses_methods_of_the_kinds_its_service_allows(cast, client, library, kinds):
    client.force_login(cast["quality_manager"])
    jjg, jjf, inhouse = library.jjg52.pk, kinds["jjf"].pk, kinds["inhouse"].pk
    verification = {"service": "verification"}

    refused = post(
        client, f"{BASE}/items", item_payload(library, "V-1", method_ids=[jjf], **verification)
    )
    assert refused.status_code == 422
    error = refused.json()["error"]
    assert error["code"] == "method_kind_unfit"
    assert error["message"] == (
        "A verification (检定) is done under a verification regulation (JJG), not under "
        "JJF 1587-2016 (JJF technical specification)."
    )
    assert error["details"][0]["loc"] == ["methods"]
    alone = post(
        client, f"{BASE}/items", item_payload(library, "V-2", method_ids=[inhouse], **verification)
    )
    assert alone.status_code == 422
    assert alone.json()["error"]["message"] == (
        "Name a verification regulation (JJG) this item is done under: an in-house method only "
        "details how the lab applies one."
    )
    cal_alone = post(client, f"{BASE}/items", item_payload(library, "C-0", method_ids=[inhouse]))
    assert cal_alone.json()["error"]["code"] == "method_kind_unfit"
    assert not AuthorisedItem.objects.filter(code__in=["V-1", "V-2", "C-0"]).exists()

    # A verification under its JJG, with the work instruction beside it.
    ok = post(
        client,
        f"{BASE}/items",
        item_payload(library, "V-3", method_ids=[jjg, inhouse], **verification),
    )
    assert ok.status_code == 201
    # A calibration under a JJF, or under the corresponding JJG (R6.7b).
    assert (
        post(client, f"{BASE}/items", item_payload(library, "C-1", method_ids=[jjf])).status_code
        == 201
    )
    assert (
        post(client, f"{BASE}/items", item_payload(library, "C-2", method_ids=[jjg])).status_code
        == 201
    )
    # Turning the JJF calibration into a verification is refused; the item stays as it was.
    item = AuthorisedItem.objects.get(code="C-1")
    changed = patch(client, f"{BASE}/items/{item.pk}", {"service": "verification"})
    assert changed.status_code == 422
    assert changed.json()["error"]["code"] == "method_kind_unfit"
    item.refresh_from_db()
    assert item.service == "calibration"
