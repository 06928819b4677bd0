"""Assignment proposes the method that fits the item (R6.7a, R6.7d): methods carry the
accuracy classes and the range they cover besides their instrument categories; a 0.4-class
gauge gets JJG 49 (precision gauges) proposed, a 1.6-class one JJG 52 (general gauges), and a
method chosen that does not cover the item is warned about with the reason — on the
assignment page and in the API — without refusing the assignment."""

from __future__ import annotations

from decimal import Decimal

import pytest

from metrolab.commissions.models import CommissionLine
from metrolab.methods.coverage import (
    class_normalised,
    classes_of,
    coverage_gaps,
    instrument_of_item,
)
from metrolab.methods.models import InstrumentCategory, Method
from metrolab.qualifications.models import Authorisation, AuthorisedItem
from metrolab.tasks.models import Task
from metrolab.tasks.services import setup_defaults

pytestmark = pytest.mark.django_db

JJG52_GAP = "JJG 52-2013 covers accuracy classes 1.0, 1.6, 2.5, 4.0, not class 0.4级."


@pytest.fixture
def gauges(qualified_setup, cast):
    """The qualified set-up's JJG 52-2013 (general gauges, classes 1.0–4.0) and a JJG 49-2013
    (precision gauges, classes 0.1–0.4) in an authorised item of its own (CAL-P-04)."""
    s = qualified_setup
    s.method.accuracy_classes = "1.0, 1.6, 2.5, 4.0"
    s.method.save()
    precision = InstrumentCategory.objects.create(code="PP", name="精密压力表")
    jjg49 = Method.objects.create(
        kind=Method.Kind.JJG,
        code="JJG 49",
        year="2013",
        title="弹簧管式精密压力表和真空表",
        effective_date=s.today.replace(year=s.today.year - 10),
        services="verification,calibration",
        accuracy_classes="0.1, 0.16, 0.25, 0.4",
    )
    jjg49.categories.add(precision)
    scope = AuthorisedItem.objects.create(
        code="CAL-P-04",
        name="精密压力表校准",
        service="calibration",
        measurand="压力",
        category=precision,
        range_low=Decimal("0"),
        range_high=Decimal("60"),
        unit="MPa",
        cmc="0.1级",
        standard=s.standard,
        valid_from=s.today.replace(year=s.today.year - 1),
    )
    scope.methods.add(jjg49)
    Authorisation.objects.create(
        person=cast["metrologist"],
        item=scope,
        capacity="perform",
        valid_from=s.today.replace(year=s.today.year - 1),
        granted_by=cast["director"],
    )
    return {"jjg52": s.method, "jjg49": jjg49, "precision_scope": scope}


@pytest.fixture
def gauge_task(make_commission, receive, qualified_setup):
    """task(accuracy_class, name="压力表") → the calibration task of a received gauge whose
    commission line states that class."""

    def _task(accuracy_class, name="压力表"):
        commission = make_commission(lines=[(name, 1, "calibration")])
        for line in CommissionLine.objects.filter(commission=commission):
            line.accuracy_class, line.model_range = accuracy_class, "0-1.6 MPa"
            line.save()
        return receive(commission, 0).tasks.get()

    return _task


def test_classes_are_read_as_written():
    assert [class_normalised(t) for t in ("0.4级", "1.0", "class 2.5", " 1.6 级", "Ⅲ")] == [
        "0.4",
        "1",
        "2.5",
        "1.6",
        "Ⅲ",
    ]
    assert class_normalised("±0.5%") == "" and class_normalised("") == ""
    assert classes_of("1.0、1.6级，2.5 4.0") == ["1", "1.6", "2.5", "4"]


def test_the_proposal_follows_the_accuracy_class(gauges, gauge_task, qualified_setup):
    """With both regulations in one authorised item, the class decides: 0.4 → JJG 49, 1.6 →
    JJG 52 (listed first or not)."""
    scope = qualified_setup.scope
    scope.methods.add(gauges["jjg49"])
    precise, general = gauge_task("0.4级"), gauge_task("1.6级")
    assert setup_defaults(scope, task=precise)["method"] == gauges["jjg49"]
    assert setup_defaults(scope, task=general)["method"] == gauges["jjg52"]
    # The category named by the line decides too: a "精密压力表" of no stated class.
    named = gauge_task("", name="精密压力表")
    assert setup_defaults(scope, task=named)["method"] == gauges["jjg49"]
    assert [g.code for g in coverage_gaps(gauges["jjg52"], instrument_of_item(named.item))] == [
        "method_category"
    ]


def test_the_api_proposes_jjg_49_for_a_04_class_gauge(
    client, gauges, gauge_task, qualified_setup, cast
):
    task = gauge_task("0.4级")
    client.force_login(cast["director"])
    proposals = client.get(f"/api/v1/tasks/{task.pk}/methods").json()["items"]
    assert [(p["method"], p["covers"]) for p in proposals] == [
        ("JJG 49-2013", True),
        ("JJG 52-2013", False),
    ]
    assert proposals[1]["warnings"] == [{"code": "method_accuracy_class", "message": JJG52_GAP}]
    # Assigned under the precision item with its defaults: JJG 49, no warning.
    response = client.post(
        f"/api/v1/tasks/{task.pk}/assign",
        {"assignee": "metrologist", "scope": gauges["precision_scope"].pk},
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["method"], body["warnings"]) == ("JJG 49-2013", [])


def test_choosing_jjg_52_warns_with_the_reason_in_the_api(
    client, gauges, gauge_task, qualified_setup, cast
):
    task = gauge_task("0.4级")
    client.force_login(cast["director"])
    response = client.post(
        f"/api/v1/tasks/{task.pk}/assign",
        {
            "assignee": "metrologist",
            "scope": qualified_setup.scope.pk,
            "method": gauges["jjg52"].pk,
        },
        content_type="application/json",
    )
    # A warning, not a refusal: the task is assigned with JJG 52 and says why it does not fit.
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["status"], body["method"]) == ("assigned", "JJG 52-2013")
    assert body["warnings"] == [
        {"code": "method_accuracy_class", "message": JJG52_GAP},
        {
            "code": "method_fitting",
            "message": "JJG 49-2013 covers it (authorised item CAL-P-04 精密压力表校准).",
        },
    ]
    eligibility = client.get(
        f"/api/v1/tasks/{task.pk}/eligibility", {"person": cast["metrologist"].pk}
    ).json()
    assert eligibility["eligible"] is True
    assert eligibility["warnings"][0]["message"] == JJG52_GAP


def test_choosing_jjg_52_warns_with_the_reason_on_the_page(
    client, gauges, gauge_task, qualified_setup, cast
):
    task = gauge_task("0.4级")
    client.force_login(cast["director"])
    page = client.get(f"/tasks/{task.pk}/assign/").content.decode()
    assert 'data-testid="method-warnings"' not in page  # no method chosen yet
    # The method list marks the one that does not cover the item.
    assert (
        "JJG 52-2013 弹性元件式一般压力表、压力真空表和真空表 · current · ⚠ does not cover" in page
    )
    assert "JJG 49-2013 弹簧管式精密压力表和真空表 · current</option>" in page
    checked = client.post(
        f"/tasks/{task.pk}/assign/",
        {"action": "check", "scope": qualified_setup.scope.pk, "method": gauges["jjg52"].pk},
    ).content.decode()
    warnings = checked[checked.index('data-testid="method-warnings"') :].split("</div>")[0]
    assert "JJG 52-2013 does not cover this instrument" in warnings
    assert JJG52_GAP in warnings
    assert "JJG 49-2013 covers it (authorised item CAL-P-04 精密压力表校准)." in warnings
    assert 'data-testid="verdict-metrologist" class="ok"' in checked  # not a refusal
    # Assigned anyway, with the warning carried to the next page.
    response = client.post(
        f"/tasks/{task.pk}/assign/",
        {
            "action": "assign",
            "scope": qualified_setup.scope.pk,
            "method": gauges["jjg52"].pk,
            "assignee": cast["metrologist"].pk,
        },
        follow=True,
    )
    html = response.content.decode()
    assert "assigned to Metrologist" in html and JJG52_GAP in html
    task.refresh_from_db()
    assert (task.status, task.method) == (Task.Status.ASSIGNED, gauges["jjg52"])
    # Under the precision item the proposal is JJG 49 and nothing is warned.
    other = gauge_task("0.4级")
    html = client.post(
        f"/tasks/{other.pk}/assign/",
        {"action": "check", "scope": gauges["precision_scope"].pk},
    ).content.decode()
    assert f'<option value="{gauges["jjg49"].pk}" selected>' in html
    assert 'data-testid="method-warnings"' not in html


def test_a_range_the_method_does_not_cover_is_warned(gauges, gauge_task):
    jjg49 = gauges["jjg49"]
    jjg49.range_low, jjg49.range_high, jjg49.range_unit = Decimal("0"), Decimal("1"), "MPa"
    jjg49.save()
    task = gauge_task("0.4级")  # 0-1.6 MPa
    gaps = coverage_gaps(jjg49, instrument_of_item(task.item))
    assert [(g.code, g.message) for g in gaps] == [
        ("method_range", "JJG 49-2013 covers 0–1 MPa, not 0-1.6 MPa.")
    ]
