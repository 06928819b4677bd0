"""`/api/v1/methods/...`: who may read and who may edit the library (quality manager and
admin edit; the rest of the lab reads; customers, regulators and anonymous callers are
refused), the shapes with the computed status and current version, and the deviation
workflow with customer A never reaching customer B's deviations (404)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from metrolab.core.permissions import SYSTEM
from metrolab.methods import services
from metrolab.methods.models import Deviation, Method
from metrolab.methods.tests.conftest import pdf_upload

pytestmark = pytest.mark.django_db

BASE = "/api/v1/methods"
TODAY = timezone.localdate()
DAY = dt.timedelta(days=1)
NEW = {
    "kind": "JJG",
    "code": "JJG 130",
    "year": "2011",
    "title": "工作用玻璃液体温度计检定规程",
    "effective_date": "2012-06-01",
    "services": ["verification"],
}


def post(client, path, data=None):
    return client.post(f"{BASE}{path}", data or {}, content_type="application/json")


def patch(client, path, data):
    return client.patch(f"{BASE}{path}", data, content_type="application/json")


@pytest.fixture
def library(make_method):
    current = make_method("JJG 52", "2013", effective=TODAY - 400 * DAY)
    old = make_method("JJG 52", "1999", effective=TODAY - 9000 * DAY, superseded_by=current)
    return {"current": current, "old": old}


def test_method_shape_with_status_and_current_version(cast, client, library, pressure):
    library["old"].categories.add(pressure["category"])
    client.force_login(cast["metrologist"])
    body = client.get(f"{BASE}/{library['old'].pk}").json()
    assert body["designation"] == "JJG 52-1999 JJG 52 title"
    assert body["status"] == "superseded"
    assert body["superseded_by"]["id"] == library["current"].pk
    assert body["current_version"] == {
        "id": library["current"].pk,
        "code": "JJG 52",
        "year": "2013",
        "designation": "JJG 52-2013 JJG 52 title",
        "status": "current",
    }
    assert body["categories"] == ["P-GAUGE"] and body["file_url"] is None
    listing = client.get(f"{BASE}/", {"status": "current"}).json()
    assert listing["count"] == 1 and listing["items"][0]["code"] == "JJG 52"
    assert client.get(f"{BASE}/", {"q": "JJG52-1999"}).json()["count"] == 1
    assert client.get(f"{BASE}/", {"status": "bogus"}).status_code == 422
    assert client.get(f"{BASE}/999999").status_code == 404


@pytest.mark.parametrize(
    "role",
    ["metrologist", "equipment_manager", "checker", "director", "receptionist", "driver"],
)
def test_lab_staff_read_but_do_not_edit(cast, client, library, role):
    client.force_login(cast[role])
    assert client.get(f"{BASE}/").status_code == 200
    assert client.get(f"{BASE}/{library['current'].pk}").status_code == 200
    assert client.get(f"{BASE}/categories").status_code == 200
    assert post(client, "/", NEW).status_code == 403
    assert patch(client, f"/{library['current'].pk}", {"title": "x"}).status_code == 403
    assert post(client, "/categories", {"code": "X", "name": "x"}).status_code == 403
    assert not Method.objects.filter(code="JJG 130").exists()


@pytest.mark.parametrize("role", ["customer_a", "regulator", "device"])
def test_outsiders_are_refused(cast, client, library, role):
    client.force_login(cast[role])
    assert client.get(f"{BASE}/").status_code == 403
    assert client.get(f"{BASE}/{library['current'].pk}").status_code == 403
    assert post(client, "/", NEW).status_code == 403


def test_anonymous_is_refused(client, library):
    assert client.get(f"{BASE}/").status_code == 401
    assert post(client, "/", NEW).status_code == 401


def test_every_field_at_fault_is_in_the_details(cast, client):
    client.force_login(cast["quality_manager"])
    response = post(client, "/", {**NEW, "kind": "DIN", "title": ""})
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert error["details"] == [
        {"loc": ["kind"], "message": "Value 'DIN' is not a valid choice."},
        {"loc": ["title"], "message": "This field cannot be blank."},
    ]
    assert not Method.objects.filter(code=NEW["code"]).exists()


@pytest.mark.parametrize("role", ["quality_manager", "admin"])
def test_editors_create_and_update(cast, client, library, pressure, role):
    client.force_login(cast[role])
    response = post(client, "/", {**NEW, "categories": ["P-GAUGE"], "disciplines": ["P"]})
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["status"] == "current" and body["categories"] == ["P-GAUGE"]
    assert body["disciplines"] == ["P"] and body["services"] == ["verification"]
    response = patch(client, f"/{body['id']}", {"title_en": "LiG thermometers"})
    assert response.status_code == 200
    assert response.json()["title_en"] == "LiG thermometers"
    assert response.json()["title"] == NEW["title"]
    # Supersession through the API: unlinking makes the old version current again.
    old, current = library["old"], library["current"]
    response = patch(client, f"/{old.pk}", {"superseded_by_id": None})
    assert response.status_code == 200 and response.json()["status"] == "current"
    response = patch(client, f"/{old.pk}", {"superseded_by_id": current.pk})
    assert response.json()["status"] == "superseded"
    assert response.json()["current_version"]["id"] == current.pk


def test_refusals_name_the_field_and_change_nothing(cast, client, library):
    client.force_login(cast["quality_manager"])
    response = post(client, "/", {**NEW, "effective_date": None})
    assert response.status_code == 422
    assert response.json()["error"]["details"][0]["loc"] == ["effective_date"]
    response = post(client, "/", {**NEW, "abolished_date": "2012-06-01"})
    assert response.json()["error"]["details"][0]["loc"] == ["abolished_date"]
    response = post(client, "/", {**NEW, "code": "JJG 52", "year": "2013"})
    assert response.json()["error"]["code"] == "duplicate"
    response = patch(client, f"/{library['current'].pk}", {"superseded_by_id": library["old"].pk})
    assert response.status_code == 422
    assert response.json()["error"]["details"][0]["loc"] == ["superseded_by"]
    response = post(client, "/", {**NEW, "categories": ["NOPE"]})
    assert response.json()["error"]["details"][0]["loc"] == ["categories"]
    assert not Method.objects.filter(code="JJG 130").exists()
    library["current"].refresh_from_db()
    assert library["current"].superseded_by is None


def test_pdf_upload(cast, client, library):
    client.force_login(cast["quality_manager"])
    url = f"{BASE}/{library['current'].pk}/file"
    response = client.post(url, {"file": pdf_upload()})
    assert response.status_code == 200
    assert response.json()["file_url"].endswith(f"/methods/{library['current'].pk}/file/")
    client.force_login(cast["metrologist"])
    assert client.post(url, {"file": pdf_upload()}).status_code == 403


def test_categories(cast, client, pressure):
    client.force_login(cast["admin"])
    response = post(client, "/categories", {"code": "T-GLASS", "name": "温度计", "discipline": "P"})
    assert response.status_code == 201 and response.json()["discipline"] == "P"
    pk = response.json()["id"]
    response = patch(client, f"/categories/{pk}", {"name_en": "thermometer"})
    assert response.json()["name_en"] == "thermometer"
    assert (
        post(client, "/categories", {"code": "X", "name": "x", "discipline": "?"}).status_code
        == 422
    )
    assert client.get(f"{BASE}/categories").json()["count"] == 2


# --- deviations -----------------------------------------------------------------------------


@pytest.fixture
def method(make_method):
    return make_method("JJF 1587", "2016", effective=dt.date(2016, 1, 1), kind="JJF")


def request_body(line, method):
    return {
        "line_id": line.pk,
        "method_id": method.pk,
        "description": "5 points",
        "justification": "the customer's range",
    }


def test_deviation_workflow(cast, client, calibration_line, method):
    client.force_login(cast["metrologist"])
    response = post(client, "/deviations", request_body(calibration_line, method))
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["state"] == "requested" and body["line"]["commission"].startswith("WT")
    pk = body["id"]
    # Only the technical manager decides: the admin and the metrologist get 403.
    for role in ("metrologist", "admin", "quality_manager"):
        client.force_login(cast[role])
        assert post(client, f"/deviations/{pk}/authorise").status_code == 403
    client.force_login(cast["director"])
    response = post(client, f"/deviations/{pk}/authorise", {"note": "ok"})
    assert response.status_code == 200 and response.json()["state"] == "authorised"
    assert post(client, f"/deviations/{pk}/authorise").status_code == 409  # not twice
    # Customer B: not found. Lab staff cannot answer for the customer.
    client.force_login(cast["customer_b"])
    assert client.get(f"{BASE}/deviations/{pk}").status_code == 404
    assert post(client, f"/deviations/{pk}/accept").status_code == 404
    client.force_login(cast["receptionist"])
    assert post(client, f"/deviations/{pk}/accept").status_code == 403
    client.force_login(cast["customer_a"])
    assert client.get(f"{BASE}/deviations").json()["count"] == 1
    response = post(client, f"/deviations/{pk}/accept", {"note": "同意"})
    assert response.status_code == 200
    assert response.json()["state"] == "accepted" and response.json()["in_force"] is True
    assert post(client, f"/deviations/{pk}/decline").status_code == 409


@pytest.fixture
def second_director(db):
    from metrolab.core.services import user_create

    return user_create(username="director-2", password=None, roles=["director"], actor=SYSTEM)


def test_the_requester_cannot_authorise_their_own_deviation(
    cast, client, calibration_line, method, second_director
):
    """R4.4: the technical manager who requested a deviation gets a refusal with the reason
    and nothing changes; another technical manager authorises it."""
    client.force_login(cast["director"])
    pk = post(client, "/deviations", request_body(calibration_line, method)).json()["id"]
    response = post(client, f"/deviations/{pk}/authorise", {"note": "mine"})
    assert response.status_code == 403
    error = response.json()["error"]
    assert error["code"] == "self_approval"
    assert error["message"] == (
        "You requested this deviation, so you cannot authorise it: another technical manager "
        "must (no one approves their own request)."
    )
    deviation = Deviation.objects.get(pk=pk)
    assert (deviation.state, deviation.authorised_by, deviation.decision_note) == (
        "requested",
        None,
        "",
    )
    client.force_login(second_director)
    response = post(client, f"/deviations/{pk}/authorise", {"note": "ok"})
    assert response.status_code == 200 and response.json()["state"] == "authorised"
    assert Deviation.objects.get(pk=pk).authorised_by == second_director


def test_the_requester_may_withdraw_their_own_deviation(cast, client, calibration_line, method):
    client.force_login(cast["director"])
    pk = post(client, "/deviations", request_body(calibration_line, method)).json()["id"]
    response = post(client, f"/deviations/{pk}/refuse", {"note": "withdrawn: not needed"})
    assert response.status_code == 200 and response.json()["state"] == "refused"


def test_verification_deviation_is_refused(cast, client, verification_line, method):
    client.force_login(cast["metrologist"])
    response = post(client, "/deviations", request_body(verification_line, method))
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "verification_no_deviation"
    assert not Deviation.objects.exists()


def test_refuse_and_decline(cast, client, calibration_line, method):
    first = services.deviation_request(
        line=calibration_line,
        method=method,
        description="d",
        justification="j",
        actor=cast["metrologist"],
    )
    second = services.deviation_request(
        line=calibration_line,
        method=method,
        description="d2",
        justification="j2",
        actor=cast["metrologist"],
    )
    client.force_login(cast["director"])
    assert post(client, f"/deviations/{first.pk}/refuse").status_code == 422  # a reason
    response = post(client, f"/deviations/{first.pk}/refuse", {"note": "no"})
    assert response.json()["state"] == "refused"
    post(client, f"/deviations/{second.pk}/authorise")
    client.force_login(cast["customer_a"])
    response = post(client, f"/deviations/{second.pk}/decline", {"note": "不同意"})
    assert response.json()["state"] == "declined"
    assert response.json()["customer_note"] == "不同意"


def test_signed_acceptance_upload(cast, client, calibration_line, method):
    deviation = services.deviation_request(
        line=calibration_line,
        method=method,
        description="d",
        justification="j",
        actor=cast["metrologist"],
    )
    services.deviation_authorise(deviation=deviation, actor=cast["director"])
    url = f"{BASE}/deviations/{deviation.pk}/acceptance"
    client.force_login(cast["customer_a"])
    assert client.post(url, {"file": pdf_upload("signed.pdf")}).status_code == 403
    client.force_login(cast["receptionist"])
    response = client.post(url, {"file": pdf_upload("signed.pdf")})
    assert response.status_code == 200
    body = response.json()
    assert body["state"] == "accepted" and body["acceptance"] == "upload"
    assert body["file_url"].endswith(f"/deviations/{deviation.pk}/file/")


@pytest.mark.parametrize("role", ["checker", "quality_manager", "customer_a", "regulator"])
def test_who_may_not_request(cast, client, calibration_line, method, role):
    client.force_login(cast[role])
    response = post(client, "/deviations", request_body(calibration_line, method))
    assert response.status_code == 403
    assert not Deviation.objects.exists()


def test_customers_list_only_their_own(cast, client, calibration_line, line_b, method):
    for line in (calibration_line, line_b):
        services.deviation_request(
            line=line,
            method=method,
            description="d",
            justification="j",
            actor=cast["metrologist"],
        )
    client.force_login(cast["customer_b"])
    items = client.get(f"{BASE}/deviations").json()["items"]
    assert [d["line"]["id"] for d in items] == [line_b.pk]
    # Asking for A's line by id gives nothing either.
    assert client.get(f"{BASE}/deviations", {"line_id": calibration_line.pk}).json()["count"] == 0
    client.force_login(cast["director"])
    assert client.get(f"{BASE}/deviations").json()["count"] == 2
    client.force_login(cast["regulator"])
    assert client.get(f"{BASE}/deviations").status_code == 403
