"""The methods pages: who opens what, the library with its status badges, a method's card
with its links (R6.8b), the editors' form (a refusal shows on its field and writes nothing),
"my methods" (R6.7b), and the deviation workflow through the pages, customer A never reaching
customer B's deviations."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from metrolab.core.permissions import SYSTEM
from metrolab.methods import services
from metrolab.methods.models import Deviation, InstrumentCategory, Method
from metrolab.methods.tests.conftest import PDF_BYTES, pdf_upload

pytestmark = pytest.mark.django_db

D = dt.date
TODAY = timezone.localdate()
DAY = dt.timedelta(days=1)

STAFF = [
    "admin",
    "director",
    "quality_manager",
    "receptionist",
    "metrologist",
    "checker",
    "approver",
    "equipment_manager",
    "item_keeper",
    "driver",
]


@pytest.fixture
def library(make_method):
    """Current, superseded (by the current one), abolished, and not yet effective today."""
    current = make_method("JJG 52", "2013", effective=TODAY - 400 * DAY)
    superseded = make_method("JJG 52", "1999", effective=TODAY - 9000 * DAY, superseded_by=current)
    abolished = make_method(
        "JJG 130", "2004", effective=TODAY - 7000 * DAY, abolished_date=TODAY - 10 * DAY
    )
    future = make_method("JJF 1587", "2026", effective=TODAY + DAY, kind="JJF")
    return {"current": current, "superseded": superseded, "abolished": abolished, "future": future}


@pytest.mark.parametrize(
    ("url_name", "allowed"),
    [
        ("methods:list", STAFF),
        ("methods:mine", STAFF),
        ("methods:categories", STAFF),
        ("methods:create", ["admin", "quality_manager"]),
        # Customers reach the list; one without a portal account sees an empty one.
        ("methods:deviations", [*STAFF, "customer", "customer_a", "customer_b"]),
        ("methods:deviation_request_pick", ["admin", "director", "metrologist"]),
    ],
)
def test_who_opens_which_page(cast, client, url_name, allowed):
    for username, user in cast.items():
        client.force_login(user)
        status = client.get(reverse(url_name)).status_code
        assert status == (200 if username in allowed else 403), (url_name, username, status)


def test_list_shows_status_badges(cast, login, library):
    body = login(cast["checker"]).get(reverse("methods:list")).content.decode()
    assert 'class="badge green" data-status="current"' in body
    assert 'class="badge red" data-status="superseded"' in body
    assert 'class="badge red" data-status="abolished"' in body
    # Not yet in force: amber, as on the authorised item page (one tone per status).
    assert 'class="badge yellow" data-status="not_yet_effective"' in body
    assert "JJG 52-2013" in body and "JJF 1587-2026" in body
    assert reverse("methods:create") not in body  # a checker does not edit


def test_list_filters_by_status_and_search(cast, login, library):
    client = login(cast["metrologist"])
    body = client.get(reverse("methods:list"), {"status": "superseded"}).content.decode()
    assert body.count('data-testid="method-row"') == 1
    assert reverse("methods:detail", args=[library["superseded"].pk]) in body
    body = client.get(reverse("methods:list"), {"q": "JJG 130"}).content.decode()
    assert body.count('data-testid="method-row"') == 1 and "JJG 130-2004" in body


def test_list_paginates_by_fifty(cast, login, make_method):
    for n in range(51):
        make_method("JJF", f"{1000 + n}", effective=D(2010, 1, 1))
    client = login(cast["metrologist"])
    first = client.get(reverse("methods:list")).content.decode()
    assert first.count('data-testid="method-row"') == 50
    second = client.get(reverse("methods:list"), {"page": 2}).content.decode()
    assert second.count('data-testid="method-row"') == 1


def test_detail_links_everything(cast, login, library, authorised_item):
    from metrolab.equipment.models import MeasurementStandard

    method = library["current"]
    item = authorised_item([method])
    standard = MeasurementStandard.objects.create(
        name="0.05级活塞式压力计标准装置",
        certificate_no="[2020]国量标冀证字第001号",
        certificate_expiry=TODAY + 300 * DAY,
        measurands="pressure",
        range_text="(0.1-60) MPa",
    )
    standard.methods.add(method)
    services.method_file_attach(method=method, upload=pdf_upload(), actor=SYSTEM)
    body = login(cast["driver"]).get(reverse("methods:detail", args=[method.pk])).content.decode()
    assert reverse("qualifications:item_detail", args=[item.pk]) in body
    assert reverse("equipment:standard_detail", args=[standard.pk]) in body
    assert reverse("methods:file", args=[method.pk]) in body
    # The version chain: the superseded one links to this one.
    assert reverse("methods:detail", args=[library["superseded"].pk]) in body
    old = login(cast["driver"]).get(reverse("methods:detail", args=[library["superseded"].pk]))
    assert 'data-testid="not-current"' in old.content.decode()


def test_method_file_only_for_staff(cast, client, library):
    method = services.method_file_attach(
        method=library["current"], upload=pdf_upload(), actor=SYSTEM
    )
    url = reverse("methods:file", args=[method.pk])
    client.force_login(cast["item_keeper"])
    response = client.get(url)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PDF_BYTES
    assert response["Content-Type"] == "application/pdf"
    for outsider in ("customer_a", "regulator"):
        client.force_login(cast[outsider])
        assert client.get(url).status_code == 403
    client.force_login(cast["item_keeper"])
    assert client.get(reverse("methods:file", args=[library["future"].pk])).status_code == 404


def form_data(**overrides):
    data = {
        "kind": "JJG",
        "code": "JJG 130",
        "year": "2011",
        "title": "工作用玻璃液体温度计检定规程",
        "effective_date": "2012-06-01",
        "services": ["verification"],
    }
    data.update(overrides)
    return data


def test_create_through_the_form(cast, login, pressure):
    client = login(cast["quality_manager"])
    response = client.post(
        reverse("methods:create"),
        {**form_data(categories=[pressure["category"].pk]), "file": pdf_upload()},
    )
    method = Method.objects.get(code="JJG 130", year="2011")
    assert response.status_code == 302
    assert response.headers["Location"] == reverse("methods:detail", args=[method.pk])
    assert method.has_file and list(method.categories.all()) == [pressure["category"]]


def test_form_refusal_shows_on_its_field_and_writes_nothing(cast, login, library):
    client = login(cast["admin"])
    response = client.post(reverse("methods:create"), form_data(abolished_date="2012-06-01"))
    assert response.status_code == 200
    assert "The abolition date must be after the effective date" in response.content.decode()
    response = client.post(reverse("methods:create"), form_data(effective_date=""))
    assert "Give the date the method takes effect." in response.content.decode()
    response = client.post(reverse("methods:create"), form_data(code="JJG 52", year="2013"))
    assert "JJG 52-2013 is in the library already." in response.content.decode()
    assert not Method.objects.filter(code="JJG 130", year="2011").exists()


def test_edit_through_the_form(cast, login, library, make_method):
    method = library["superseded"]
    client = login(cast["quality_manager"])
    url = reverse("methods:edit", args=[method.pk])
    assert client.get(url).status_code == 200
    data = form_data(
        code="JJG 52",
        year="1999",
        effective_date=method.effective_date.isoformat(),
        superseded_by=library["current"].pk,
        notes="updated",
    )
    assert client.post(url, data).status_code == 302
    method.refresh_from_db()
    assert method.notes == "updated" and method.superseded_by == library["current"]
    # Itself is not offered as its successor; one taking effect earlier is refused.
    response = client.post(url, {**data, "superseded_by": library["superseded"].pk})
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    earlier = make_method("JJG 52", "1990", effective=method.effective_date - DAY)
    response = client.post(url, {**data, "superseded_by": earlier.pk, "notes": "changed"})
    assert response.status_code == 200
    assert "it must take effect after this method" in response.content.decode()
    method.refresh_from_db()
    assert method.notes == "updated" and method.superseded_by == library["current"]
    login(cast["metrologist"])
    assert client.get(url).status_code == 403


def test_categories_page(cast, login, pressure):
    client = login(cast["quality_manager"])
    response = client.post(reverse("methods:categories"), {"code": "T-GLASS", "name": "温度计"})
    assert response.status_code == 302
    category = InstrumentCategory.objects.get(code="T-GLASS")
    response = client.post(reverse("methods:categories"), {"code": "t-glass", "name": "dup"})
    assert "The category code t-glass is taken already." in response.content.decode()
    url = reverse("methods:category_edit", args=[category.pk])
    assert client.post(url, {"code": "T-GLASS", "name": "玻璃温度计"}).status_code == 302
    category.refresh_from_db()
    assert category.name == "玻璃温度计"
    client = login(cast["metrologist"])
    assert client.post(reverse("methods:categories"), {"code": "X", "name": "x"}).status_code == 403
    assert client.get(url).status_code == 403
    assert "T-GLASS" in client.get(reverse("methods:categories")).content.decode()


def test_my_methods_warn_about_superseded_ones(cast, login, library, authorised_item):
    from metrolab.qualifications.models import Authorisation

    item = authorised_item([library["superseded"], library["current"]])
    Authorisation.objects.create(
        person=cast["metrologist"], item=item, capacity="perform", valid_from=TODAY - 30 * DAY
    )
    body = login(cast["metrologist"]).get(reverse("methods:mine")).content.decode()
    assert 'data-testid="outdated-warning"' in body
    assert body.count('data-testid="my-method"') == 2
    assert 'data-testid="current-version"' in body
    assert reverse("methods:detail", args=[library["current"].pk]) in body
    # Someone without authorisations or tasks sees none and no warning.
    body = login(cast["checker"]).get(reverse("methods:mine")).content.decode()
    assert 'data-testid="my-method"' not in body and "outdated-warning" not in body


# --- deviations through the pages -----------------------------------------------------------


@pytest.fixture
def method(make_method):
    return make_method("JJF 1587", "2016", effective=D(2016, 1, 1), kind="JJF")


def post_request(client, line, method):
    return client.post(
        reverse("methods:deviation_request", args=[line.pk]),
        {"method": method.pk, "description": "5 points", "justification": "customer's range"},
    )


def test_request_page_from_a_commission_number(cast, login, calibration_line, verification_line):
    client = login(cast["metrologist"])
    number = calibration_line.commission.number
    body = client.get(reverse("methods:deviation_request_pick"), {"commission": number}).content
    assert reverse("methods:deviation_request", args=[calibration_line.pk]) in body.decode()
    body = client.get(
        reverse("methods:deviation_request_pick"),
        {"commission": verification_line.commission.number},
    ).content.decode()
    assert "Verification admits no deviation." in body
    assert reverse("methods:deviation_request", args=[verification_line.pk]) not in body
    body = client.get(reverse("methods:deviation_request_pick"), {"commission": "WT0"}).content
    assert "No commission has this number." in body.decode()


def test_verification_line_is_refused_on_the_page(cast, login, verification_line, method):
    client = login(cast["metrologist"])
    url = reverse("methods:deviation_request", args=[verification_line.pk])
    assert 'data-testid="verification-no-deviation"' in client.get(url).content.decode()
    response = post_request(client, verification_line, method)
    assert response.status_code == 200
    assert "Verification admits no deviation" in response.content.decode()
    assert not Deviation.objects.exists()


def test_the_whole_workflow_through_the_pages(cast, client, calibration_line, method):
    client.force_login(cast["metrologist"])
    response = post_request(client, calibration_line, method)
    deviation = Deviation.objects.get()
    assert response.headers["Location"] == reverse("methods:deviation_detail", args=[deviation.pk])
    detail = reverse("methods:deviation_detail", args=[deviation.pk])
    decide = reverse("methods:deviation_decide", args=[deviation.pk])
    respond = reverse("methods:deviation_respond", args=[deviation.pk])

    # Only the technical manager sees and may use the decision form.
    assert 'data-testid="decide-submit"' not in client.get(detail).content.decode()
    assert client.post(decide, {"decision": "authorise"}).status_code == 403
    client.force_login(cast["admin"])
    assert client.post(decide, {"decision": "authorise"}).status_code == 403
    client.force_login(cast["director"])
    assert 'data-testid="decide-submit"' in client.get(detail).content.decode()
    client.post(decide, {"decision": "authorise", "note": "ok"})
    deviation.refresh_from_db()
    assert deviation.state == Deviation.State.AUTHORISED

    # Customer B may not even see it; customer A answers.
    client.force_login(cast["customer_b"])
    assert client.get(detail).status_code == 404
    assert client.post(respond, {"answer": "accept"}).status_code == 404
    client.force_login(cast["customer_a"])
    body = client.get(detail).content.decode()
    assert 'data-testid="respond-submit"' in body and 'data-testid="upload-submit"' not in body
    assert client.post(respond, {"answer": "accept", "note": "同意"}).status_code == 302
    deviation.refresh_from_db()
    assert deviation.state == Deviation.State.ACCEPTED and deviation.acceptance == "portal"
    assert 'data-testid="in-force"' in client.get(detail).content.decode()
    # A second answer is refused with a message, nothing changes.
    client.post(respond, {"answer": "decline"})
    deviation.refresh_from_db()
    assert deviation.state == Deviation.State.ACCEPTED


def test_the_requester_cannot_authorise_through_the_page(cast, client, calibration_line, method):
    """R4.4 on the page: the requesting technical manager is told why, the deviation stays
    requested; another technical manager authorises it."""
    from metrolab.core.services import user_create

    deviation = services.deviation_request(
        line=calibration_line,
        method=method,
        description="d",
        justification="j",
        actor=cast["director"],
    )
    detail = reverse("methods:deviation_detail", args=[deviation.pk])
    decide = reverse("methods:deviation_decide", args=[deviation.pk])
    client.force_login(cast["director"])
    assert 'data-testid="own-request"' in client.get(detail).content.decode()
    response = client.post(decide, {"decision": "authorise", "note": "mine"}, follow=True)
    assert (
        "You requested this deviation, so you cannot authorise it: another technical manager "
        "must (no one approves their own request)."
    ) in response.content.decode()
    deviation.refresh_from_db()
    assert deviation.state == Deviation.State.REQUESTED and deviation.authorised_by is None

    other = user_create(username="director-2", password=None, roles=["director"], actor=SYSTEM)
    client.force_login(other)
    assert 'data-testid="own-request"' not in client.get(detail).content.decode()
    client.post(decide, {"decision": "authorise", "note": "ok"})
    deviation.refresh_from_db()
    assert deviation.state == Deviation.State.AUTHORISED and deviation.authorised_by == other


def test_refusal_through_the_page_needs_a_reason(cast, client, calibration_line, method):
    deviation = services.deviation_request(
        line=calibration_line,
        method=method,
        description="d",
        justification="j",
        actor=cast["metrologist"],
    )
    client.force_login(cast["director"])
    decide = reverse("methods:deviation_decide", args=[deviation.pk])
    response = client.post(decide, {"decision": "refuse"}, follow=True)
    assert "Give the reason for the refusal." in response.content.decode()
    deviation.refresh_from_db()
    assert deviation.state == Deviation.State.REQUESTED
    client.post(decide, {"decision": "refuse", "note": "not justified"})
    deviation.refresh_from_db()
    assert deviation.state == Deviation.State.REFUSED


def test_signed_acceptance_through_the_page(cast, client, calibration_line, method):
    deviation = services.deviation_request(
        line=calibration_line,
        method=method,
        description="d",
        justification="j",
        actor=cast["metrologist"],
    )
    services.deviation_authorise(deviation=deviation, actor=cast["director"])
    url = reverse("methods:deviation_acceptance", args=[deviation.pk])
    client.force_login(cast["metrologist"])
    assert client.post(url, {"file": pdf_upload("signed.pdf")}).status_code == 403
    client.force_login(cast["receptionist"])
    detail = reverse("methods:deviation_detail", args=[deviation.pk])
    assert 'data-testid="upload-submit"' in client.get(detail).content.decode()
    assert client.post(url, {"file": pdf_upload("signed.pdf")}).status_code == 302
    deviation.refresh_from_db()
    assert deviation.state == Deviation.State.ACCEPTED and deviation.acceptance == "upload"
    file_url = reverse("methods:deviation_file", args=[deviation.pk])
    assert client.get(file_url).status_code == 200
    client.force_login(cast["customer_a"])
    assert client.get(file_url).status_code == 200
    client.force_login(cast["customer_b"])
    assert client.get(file_url).status_code == 404


def test_deviation_list_is_per_customer(cast, client, calibration_line, line_b, method):
    for line in (calibration_line, line_b):
        services.deviation_request(
            line=line,
            method=method,
            description="d",
            justification="j",
            actor=cast["metrologist"],
        )
    client.force_login(cast["customer_a"])
    body = client.get(reverse("methods:deviations")).content.decode()
    assert calibration_line.commission.number in body and line_b.commission.number not in body
    assert body.count('data-testid="deviation-row"') == 1
    client.force_login(cast["checker"])
    body = client.get(reverse("methods:deviations")).content.decode()
    assert body.count('data-testid="deviation-row"') == 2
    assert 'data-testid="deviation-lookup"' not in body  # checkers do not request
