"""Receiving N identical pieces of a line in one step (R6.6a): N items with consecutive
numbers, their custody events and tasks, one label sheet with N labels; all or nothing; the
same through the receipt page and the API."""

from __future__ import annotations

import io

import pypdf
import pytest

from metrolab.core.service import ServiceError
from metrolab.items.models import CustodyEvent, Item, ItemNumberCounter
from metrolab.items.services import items_receive_batch
from metrolab.tasks.models import Task

pytestmark = pytest.mark.django_db


def _sequence(number: str) -> int:
    """The yearly sequence inside an item number: YP + 4-digit year + 5 digits + check."""
    return int(number[6:11])


@pytest.fixture
def dozen(make_commission):
    return make_commission(lines=[("压力表 Pressure gauge", 12, "calibration")])


def test_a_batch_gets_consecutive_numbers_events_and_tasks(cast, dozen, shelves):
    line = dozen.lines.get()
    items = items_receive_batch(
        line=line,
        count=10,
        actor=cast["receptionist"],
        condition="外观完好",
        location=shelves["A1"],
    )
    numbers = [item.number for item in items]
    assert len(set(numbers)) == 10
    first = _sequence(numbers[0])
    assert [_sequence(n) for n in numbers] == list(range(first, first + 10))
    assert all(i.condition == "外观完好" and i.location == shelves["A1"] for i in items)
    assert all(i.serial_no == "" for i in items)
    assert CustodyEvent.objects.filter(item__in=items, kind="received").count() == 10
    assert Task.objects.filter(item__in=items, status="unassigned").count() == 10
    dozen.refresh_from_db()
    assert dozen.status == "applied"  # 2 of 12 still to come
    rest = items_receive_batch(line=line, count=2, actor=cast["receptionist"])
    assert _sequence(rest[0].number) == first + 10
    dozen.refresh_from_db()
    assert dozen.status == "items_received"


def test_a_batch_beyond_what_the_line_expects_writes_nothing(cast, dozen):
    line = dozen.lines.get()
    items_receive_batch(line=line, count=10, actor=cast["receptionist"])
    before = (Item.objects.count(), list(ItemNumberCounter.objects.values_list("last")))
    with pytest.raises(ServiceError, match="expects 2 more item") as refused:
        items_receive_batch(line=line, count=3, actor=cast["receptionist"])
    assert refused.value.code == "quantity_exceeded"
    with pytest.raises(ServiceError, match=r"one serial no\. per item"):
        items_receive_batch(line=line, count=2, serial_nos=["A"], actor=cast["receptionist"])
    assert (Item.objects.count(), list(ItemNumberCounter.objects.values_list("last"))) == before


def test_serial_numbers_are_given_in_order(cast, dozen):
    items = items_receive_batch(
        line=dozen.lines.get(), count=3, serial_nos=["S1", "S2", "S3"], actor=cast["receptionist"]
    )
    assert [i.serial_no for i in items] == ["S1", "S2", "S3"]


def test_receipt_page_receives_a_batch_and_offers_one_label_sheet(cast, client, dozen):
    line = dozen.lines.get()
    client.force_login(cast["receptionist"])
    page = client.get(f"/items/receive/{dozen.pk}/")
    assert 'data-testid="batch-receive-form"' in page.content.decode()
    data = {
        "prefix": f"b{line.pk}",
        "action": "batch",
        f"b{line.pk}-line": line.pk,
        f"b{line.pk}-count": "13",
    }
    refused = client.post(f"/items/receive/{dozen.pk}/", data)
    assert refused.status_code == 422 and Item.objects.count() == 0
    assert "expects 12 more item" in refused.content.decode()
    data[f"b{line.pk}-count"] = "12"
    data[f"b{line.pk}-serial_nos"] = ""
    response = client.post(f"/items/receive/{dozen.pk}/", data)
    assert response.status_code == 302
    assert Item.objects.filter(line=line).count() == 12
    page = client.get(response["Location"])
    assert page.context["batch_labels"]["count"] == 12
    sheet = client.get(page.context["batch_labels"]["url"])
    assert sheet["Content-Type"] == "application/pdf"
    text = "".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(sheet.content)).pages)
    numbers = list(Item.objects.filter(line=line).values_list("number", flat=True))
    assert all(number in text for number in numbers)
    assert len(pypdf.PdfReader(io.BytesIO(sheet.content)).pages) == 1  # 12 labels, one A4


def test_label_sheet_of_a_batch_leaves_out_other_items(cast, client, make_commission):
    commission = make_commission(lines=[("A", 3, "calibration"), ("B", 2, "calibration")])
    first, second = commission.lines.order_by("pk")
    items_receive_batch(line=first, count=3, actor=cast["receptionist"])
    batch = items_receive_batch(line=second, count=2, actor=cast["receptionist"])
    client.force_login(cast["receptionist"])
    numbers = ",".join(i.number for i in batch)
    roll = client.get(f"/items/labels/commission/{commission.pk}/?format=roll&numbers={numbers}")
    assert len(pypdf.PdfReader(io.BytesIO(roll.content)).pages) == 2  # one page per label


def test_api_receives_a_batch(cast, client, dozen, shelves):
    line = dozen.lines.get()
    client.force_login(cast["receptionist"])
    body = {"line_id": line.pk, "count": 4, "location_code": "S1-A2", "condition": "ok"}
    response = client.post("/api/v1/items/receive/batch", body, content_type="application/json")
    assert response.status_code == 201, response.content
    data = response.json()
    numbers = [i["number"] for i in data["items"]]
    first = _sequence(numbers[0])
    assert [_sequence(n) for n in numbers] == [first, first + 1, first + 2, first + 3]
    assert {i["location_code"] for i in data["items"]} == {"S1-A2"}
    sheet = client.get(data["labels_url"])
    assert sheet.status_code == 200 and sheet["Content-Type"] == "application/pdf"
    too_many = {"line_id": line.pk, "count": 9}
    refused = client.post("/api/v1/items/receive/batch", too_many, content_type="application/json")
    assert refused.status_code == 409 and "expects 8 more item" in refused.content.decode()
    assert Item.objects.filter(line=line).count() == 4
