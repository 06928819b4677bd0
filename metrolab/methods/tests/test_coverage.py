"""What a method covers besides its instrument categories (R6.7a): the accuracy classes and
the range, editable in the method form and the API, shown on its card, and seeded for the
demo's pressure-gauge regulations (JJG 52-2013: classes 1.0, 1.6, 2.5, 4.0; JJG 49-2013:
0.1, 0.16, 0.25, 0.4)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse

from metrolab.core.permissions import SYSTEM
from metrolab.methods.models import Method

pytestmark = pytest.mark.django_db

BASE = "/api/v1/methods"


def test_the_form_edits_classes_and_range_and_the_card_shows_them(client, cast, make_method):
    method = make_method("JJG 49", "2013", effective=dt.date(2013, 12, 27), kind="JJG")
    client.force_login(cast["quality_manager"])
    url = reverse("methods:edit", args=[method.pk])
    form = client.get(url).content.decode()
    assert 'name="accuracy_classes"' in form and 'name="range_unit"' in form
    data = {
        "kind": "JJG",
        "code": "JJG 49",
        "year": "2013",
        "title": "弹簧管式精密压力表和真空表",
        "effective_date": "2013-12-27",
        "services": ["verification"],
        "accuracy_classes": "0.1、0.16，0.25 级; 0.4",
        "range_low": "-0.1",
        "range_high": "250",
        "range_unit": "MPa",
    }
    assert client.post(url, data).status_code == 302
    method.refresh_from_db()
    assert method.accuracy_classes == "0.1, 0.16, 0.25, 0.4"
    assert (method.range_low, method.range_high, method.range_unit) == (
        Decimal("-0.1"),
        Decimal("250"),
        "MPa",
    )
    card = client.get(reverse("methods:detail", args=[method.pk])).content.decode()
    assert 'data-testid="accuracy-classes">0.1, 0.16, 0.25, 0.4</dd>' in card
    assert 'data-testid="range-covered">-0.1–250 MPa</dd>' in card
    # A range without its unit is refused on its field and writes nothing.
    response = client.post(url, {**data, "range_unit": "", "accuracy_classes": "1.0"})
    assert response.status_code == 200
    assert "Give the unit of the range covered." in response.content.decode()
    method.refresh_from_db()
    assert method.accuracy_classes == "0.1, 0.16, 0.25, 0.4"


def test_the_api_edits_and_returns_classes_and_range(client, cast, make_method):
    method = make_method("JJG 52", "2013", effective=dt.date(2013, 12, 27), kind="JJG")
    client.force_login(cast["quality_manager"])
    response = client.patch(
        f"{BASE}/{method.pk}",
        {"accuracy_classes": "1.0,1.6,2.5,4.0", "range_high": "60", "range_unit": "MPa"},
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["accuracy_classes"] == "1.0, 1.6, 2.5, 4.0"
    assert (body["range_low"], body["range_high"], body["range_unit"]) == (None, "60", "MPa")
    refused = client.patch(
        f"{BASE}/{method.pk}",
        {"range_low": "10", "range_high": "1"},
        content_type="application/json",
    )
    assert refused.status_code == 422
    assert refused.json()["error"]["details"] == [
        {
            "loc": ["range_low"],
            "message": "The lower end of the range covered is above its upper end.",
        }
    ]


def test_the_demo_pressure_regulations_state_their_classes(db):
    from metrolab.commissions.models import Discipline
    from metrolab.methods.demo import demo_seed_methods

    for code, name in (("P", "压力"), ("T", "温度"), ("E", "电学"), ("M", "质量")):
        Discipline.objects.create(code=code, name=name)
    assert demo_seed_methods(actor=SYSTEM) is True
    classes = dict(Method.objects.filter(code__in=["JJG 52", "JJG 49"]).values_list("year", "code"))
    assert classes  # both seeded
    assert Method.objects.get(code="JJG 52", year="2013").accuracy_classes == "1.0, 1.6, 2.5, 4.0"
    assert Method.objects.get(code="JJG 49", year="2013").accuracy_classes == (
        "0.1, 0.16, 0.25, 0.4"
    )
    assert {m.accuracy_classes for m in Method.objects.filter(code="SFJL/ZY-YL-01")} == {
        "1.0, 1.6, 2.5, 4.0"
    }
