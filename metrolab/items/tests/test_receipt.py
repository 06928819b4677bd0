"""Receipt of items (R6.6a, R6.6c): numbers, custody event, tasks, the commission's status, and
refusals that leave nothing written; the receipt page at the desk."""

from __future__ import annotations

import functools

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from metrolab.commissions.models import Commission, StatusEvent
from metrolab.core.models import AuditEvent
from metrolab.core.service import ServiceError
from metrolab.core.testing import nothing_written, race
from metrolab.items.models import Item
from metrolab.items.numbering import mod11_2_valid
from metrolab.items.tests.fixtures import jpeg_bytes
from metrolab.tasks.models import Task

pytestmark = pytest.mark.django_db


# The block wrote no row of items, tasks or commissions (nor an audit event).
_nothing_written = functools.partial(nothing_written, "items", "tasks", "commissions")


def test_receipt_creates_item_event_task_and_advances_the_commission(
    cast, make_commission, receive, shelves
):
    commission = make_commission(
        lines=[("数字压力计", 2, "calibration"), ("Thermometer", 1, "verification")]
    )
    first = receive(commission, 0, serial_no="A-1", condition="scratched", location=shelves["A1"])
    assert first.number.startswith("YP") and mod11_2_valid(first.number[2:])
    assert first.name == "数字压力计" and first.serial_no == "A-1"
    assert first.model_range == "0-10 MPa" and first.manufacturer == "Acme"
    assert first.state == Item.State.RECEIVED and first.location == shelves["A1"]
    assert first.received_by == cast["receptionist"]
    event = first.custody_events.get()
    assert (event.kind, event.by, event.location) == (
        "received",
        cast["receptionist"],
        shelves["A1"],
    )
    task = first.tasks.get()
    assert (task.service, task.status) == ("calibration", Task.Status.UNASSIGNED)
    commission.refresh_from_db()
    assert commission.status == "applied"  # not all items are in yet
    receive(commission, 0)
    third = receive(commission, 1)
    assert third.serial_no == "SN-001"  # taken from the line when not given
    assert third.tasks.get().service == "verification"
    commission.refresh_from_db()
    assert commission.status == "items_received"
    assert StatusEvent.objects.filter(commission=commission, status="items_received").exists()
    numbers = list(commission.items.values_list("number", flat=True))
    assert len(set(numbers)) == 3
    assert AuditEvent.objects.filter(action="item.receive").exists()


def test_receiving_more_than_the_quantity_is_refused_and_changes_nothing(make_commission, receive):
    commission = make_commission(lines=[("Gauge", 1, "calibration")])
    receive(commission)
    with _nothing_written(), pytest.raises(ServiceError) as refused:
        receive(commission)
    assert refused.value.code == "quantity_exceeded"
    assert "received already" in refused.value.message


@pytest.mark.parametrize(
    "kwargs",
    [
        {"review": Commission.Review.PENDING},
        {"review": Commission.Review.REJECTED},
        {"status": "cancelled"},
    ],
)
def test_commission_not_accepted_or_cancelled_is_refused(make_commission, receive, kwargs):
    commission = make_commission(**kwargs)
    with _nothing_written(), pytest.raises(ServiceError) as refused:
        receive(commission)
    assert refused.value.code == "not_receivable"
    assert commission.number in refused.value.message


def test_receipt_with_photos_keeps_them(make_commission, receive, cast):
    photo = SimpleUploadedFile("front.jpg", jpeg_bytes(), content_type="image/jpeg")
    item = receive(make_commission(), photos=[photo])
    media = item.media.get()
    assert (media.kind, media.content_type, media.uploaded_by) == (
        "photo",
        "image/jpeg",
        cast["receptionist"],
    )


def test_a_fake_photo_at_receipt_refuses_the_whole_receipt(
    make_commission, receive, item_media_root
):
    commission = make_commission()
    good = SimpleUploadedFile("ok.jpg", jpeg_bytes())
    fake = SimpleUploadedFile("evil.jpg", b"#!/bin/sh\necho not a photo\n" * 10)
    with _nothing_written(), pytest.raises(ServiceError) as refused:
        receive(commission, photos=[good, fake])
    assert refused.value.code == "unsupported_type"
    assert [p for p in item_media_root.rglob("*") if p.is_file()] == []


def test_only_a_signed_in_person_receives(make_commission):
    from django.contrib.auth.models import AnonymousUser

    from metrolab.core.permissions import SYSTEM
    from metrolab.items.services import item_receive

    commission = make_commission()
    with pytest.raises(TypeError, match="actor"):
        item_receive(line=commission.lines.get(), actor=None)
    for nobody in (AnonymousUser(), SYSTEM):
        with pytest.raises(ServiceError) as refused:
            item_receive(line=commission.lines.get(), actor=nobody)
        assert refused.value.code == "forbidden"
    assert not Item.objects.exists()


# --- the receipt page ----


def test_receipt_page_lists_only_accepted_commissions(cast, client, make_commission):
    accepted = make_commission()
    pending = make_commission(review=Commission.Review.PENDING)
    cancelled = make_commission(status="cancelled")
    client.force_login(cast["receptionist"])
    html = client.get("/items/receive/").content.decode()
    assert accepted.number in html
    assert pending.number not in html and cancelled.number not in html
    assert client.get(f"/items/receive/{pending.pk}/").status_code == 404


def test_receive_an_item_through_the_page_then_print_labels(cast, client, make_commission, shelves):
    commission = make_commission(lines=[("Gauge", 2, "calibration")])
    line = commission.lines.get()
    client.force_login(cast["item_keeper"])
    page = client.get(f"/items/receive/{commission.pk}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert html.count('data-testid="receive-form"') == 2  # one form per item still to come
    assert 'accept="image/*,video/*"' in html and "capture" in html
    prefix = f"l{line.pk}-0"
    response = client.post(
        f"/items/receive/{commission.pk}/",
        {
            "prefix": prefix,
            f"{prefix}-line": line.pk,
            f"{prefix}-serial_no": "X-9",
            f"{prefix}-condition": "good",
            f"{prefix}-location": shelves["A2"].pk,
            f"{prefix}-photos": [SimpleUploadedFile("a.jpg", jpeg_bytes())],
        },
    )
    assert response.status_code == 302
    item = Item.objects.get()
    assert (item.serial_no, item.location, item.received_by) == (
        "X-9",
        shelves["A2"],
        cast["item_keeper"],
    )
    assert item.media.count() == 1
    html = client.get(response.headers["Location"]).content.decode()
    assert item.number in html
    assert f"/items/{item.number}/label.pdf" in html
    assert f"/items/labels/commission/{commission.pk}/" in html
    assert html.count('data-testid="receive-form"') == 1


def test_receipt_page_shows_the_refusal(cast, client, make_commission):
    commission = make_commission(lines=[("Gauge", 1, "calibration")])
    line = commission.lines.get()
    client.force_login(cast["receptionist"])
    prefix = f"l{line.pk}-0"
    data = {"prefix": prefix, f"{prefix}-line": line.pk}
    assert client.post(f"/items/receive/{commission.pk}/", data).status_code == 302
    # A second browser tab still shows the form: its post is refused with the reason.
    response = client.post(f"/items/receive/{commission.pk}/", data)
    assert response.status_code == 422
    assert "received already" in response.content.decode()
    assert Item.objects.count() == 1


def test_receipt_page_roles(cast, client, make_commission):
    commission = make_commission()
    allowed = {"admin", "receptionist", "item_keeper"}
    for username, user in cast.items():
        client.force_login(user)
        for url in ("/items/receive/", f"/items/receive/{commission.pk}/"):
            status = client.get(url).status_code
            assert status == (200 if username in allowed else 403), (username, url, status)


def test_receipt_api(cast, client, make_commission, shelves):
    commission = make_commission(lines=[("Gauge", 1, "calibration")])
    line = commission.lines.get()
    client.force_login(cast["receptionist"])
    response = client.post(
        "/api/v1/items/receive",
        {"line_id": line.pk, "serial_no": "API-1", "location_code": "S1-A1"},
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["serial_no"] == "API-1" and body["location_code"] == "S1-A1"
    assert body["commission"] == commission.number
    again = client.post(
        "/api/v1/items/receive", {"line_id": line.pk}, content_type="application/json"
    )
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "quantity_exceeded"
    client.force_login(cast["metrologist"])
    denied = client.post(
        "/api/v1/items/receive", {"line_id": line.pk}, content_type="application/json"
    )
    assert denied.status_code == 403


@pytest.mark.django_db(transaction=True)
def test_concurrent_receipts_never_exceed_the_quantity(make_commission, cast):
    """Six desks receive on a line of three at once: exactly three items, distinct numbers."""
    from metrolab.items.services import item_receive

    commission = make_commission(lines=[("Gauge", 3, "calibration")])
    line = commission.lines.get()
    results = race(6, lambda: item_receive(line=line, actor=cast["receptionist"]).number)
    numbers = [r for r in results if r.startswith("YP")]
    assert len(numbers) == 3 and len(set(numbers)) == 3
    assert results.count("quantity_exceeded") == 3
    assert Item.objects.filter(line=line).count() == 3
