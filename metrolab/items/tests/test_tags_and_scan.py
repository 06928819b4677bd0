"""RFID / NFC tags (bind, duplicate UID refused, look-up by UID, unbind) and the scan page
with the item card (R6.6a); customers see only their own items."""

from __future__ import annotations

import pytest

from metrolab.core.models import AuditEvent
from metrolab.core.permissions import SYSTEM
from metrolab.core.service import ServiceError
from metrolab.core.services import api_token_create, user_create
from metrolab.items.models import RfidTag
from metrolab.items.services import item_tag_bind, item_tag_unbind, normalise_tag_uid

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_items(make_commission, receive):
    mine = receive(make_commission(customer="a"))
    theirs = receive(make_commission(customer="b"))
    return mine, theirs


def test_uid_normalisation():
    assert normalise_tag_uid(" 04:a2:3b-7c 9d ") == "04A23B7C9D"


def test_bind_and_duplicate_uid(two_items, cast):
    mine, theirs = two_items
    tag = item_tag_bind(item=mine, uid="04:a2:3b:7c", actor=cast["receptionist"])
    assert (tag.uid, tag.item, tag.bound_by) == ("04A23B7C", mine, cast["receptionist"])
    # The same tag again on the same item: nothing new.
    assert item_tag_bind(item=mine, uid="04A23B7C", actor=cast["receptionist"]).pk == tag.pk
    events = AuditEvent.objects.count()
    with pytest.raises(ServiceError) as refused:
        item_tag_bind(item=theirs, uid="04-A2-3B-7C", actor=cast["receptionist"])
    assert refused.value.code == "conflict"
    assert mine.number in refused.value.message
    assert RfidTag.objects.get().item == mine
    assert AuditEvent.objects.count() == events  # the refusal wrote nothing
    with pytest.raises(ServiceError) as refused:
        item_tag_bind(item=theirs, uid="x!", actor=cast["receptionist"])
    # The model's rule (RfidTag.uid), through core.validation: on its field, a bad value (422).
    assert (refused.value.field, refused.value.code) == ("uid", "invalid")
    assert "4 to 64 letters and digits" in refused.value.message
    assert AuditEvent.objects.count() == events
    item_tag_unbind(tag=tag, actor=cast["receptionist"])
    assert item_tag_bind(item=theirs, uid="04A23B7C", actor=cast["receptionist"]).item == theirs


def test_tag_api_bind_conflict_lookup_and_unbind(two_items, cast, client):
    mine, theirs = two_items
    client.force_login(cast["item_keeper"])
    bound = client.post(
        f"/api/v1/items/{mine.number}/tags", {"uid": "e2:00:11"}, content_type="application/json"
    )
    assert bound.status_code == 201 and bound.json()["uid"] == "E20011"
    duplicate = client.post(
        f"/api/v1/items/{theirs.number}/tags", {"uid": "E20011"}, content_type="application/json"
    )
    assert duplicate.status_code == 409
    assert duplicate.json()["error"]["code"] == "conflict"
    assert mine.number in duplicate.json()["error"]["message"]
    assert RfidTag.objects.get().item == mine
    found = client.get("/api/v1/items/by-tag/e2-00-11")
    assert found.status_code == 200 and found.json()["number"] == mine.number
    assert client.get("/api/v1/items/by-tag/FFFF").status_code == 404
    wrong_item = client.delete(f"/api/v1/items/{theirs.number}/tags/E20011")
    assert wrong_item.status_code == 404
    assert client.delete(f"/api/v1/items/{mine.number}/tags/E20011").status_code == 204
    assert not RfidTag.objects.exists()


def test_a_reader_device_looks_up_by_tag_with_its_token(two_items, cast, client):
    mine, _theirs = two_items
    item_tag_bind(item=mine, uid="A1B2C3D4", actor=cast["receptionist"])
    reader = user_create(username="reader-1", password=None, roles=["device"], actor=SYSTEM)
    _token, raw = api_token_create(user=reader, name="desk reader", roles=["device"], actor=SYSTEM)
    auth = {"Authorization": f"Bearer {raw}"}
    response = client.get("/api/v1/items/by-tag/a1:b2:c3:d4", headers=auth)
    assert response.status_code == 200
    assert response.json()["number"] == mine.number
    assert response.json()["url"] == f"/items/{mine.number}/"
    # A device may look up, not bind.
    denied = client.post(
        f"/api/v1/items/{mine.number}/tags",
        {"uid": "01020304"},
        content_type="application/json",
        headers=auth,
    )
    assert denied.status_code == 403


def test_customers_cannot_use_the_tag_lookup(two_items, cast, client):
    mine, _ = two_items
    item_tag_bind(item=mine, uid="A1B2C3D4", actor=cast["receptionist"])
    client.force_login(cast["customer_a"])
    assert client.get("/api/v1/items/by-tag/A1B2C3D4").status_code == 403


def test_bind_and_unbind_from_the_card(two_items, cast, client):
    mine, theirs = two_items
    client.force_login(cast["receptionist"])
    assert client.post(f"/items/{mine.number}/tags/", {"uid": "04 11 22 33"}).status_code == 302
    assert RfidTag.objects.get().uid == "04112233"
    client.post(f"/items/{theirs.number}/tags/", {"uid": "04112233"})
    html = client.get(f"/items/{theirs.number}/").content.decode()
    assert "bound to item" in html and mine.number in html
    assert RfidTag.objects.get().item == mine
    assert client.post(f"/items/{mine.number}/tags/04112233/unbind/").status_code == 302
    assert not RfidTag.objects.exists()
    client.force_login(cast["metrologist"])
    assert client.post(f"/items/{mine.number}/tags/", {"uid": "04112233"}).status_code == 403


# --- scan page and card ----


def test_scan_by_number_uid_or_url(two_items, cast, client):
    mine, _ = two_items
    item_tag_bind(item=mine, uid="04A23B7C", actor=cast["receptionist"])
    client.force_login(cast["metrologist"])
    page = client.get("/items/scan/")
    assert page.status_code == 200 and 'name="code"' in page.content.decode()
    for code in (
        mine.number,
        mine.number.lower(),
        "04:a2:3b:7c",
        f"http://testserver/items/{mine.number}/",
    ):
        response = client.get("/items/scan/", {"code": code})
        assert response.status_code == 302, code
        assert response.headers["Location"] == f"/items/{mine.number}/"
    missing = client.get("/items/scan/", {"code": "NOPE"})
    assert missing.status_code == 200 and "No item found" in missing.content.decode()


def test_item_card_shows_commission_customer_state_place_history(two_items, cast, client, shelves):
    from metrolab.items.services import item_move

    mine, _ = two_items
    item_move(item=mine, location=shelves["A1"], actor=cast["item_keeper"])
    client.force_login(cast["director"])
    html = client.get(f"/items/{mine.number}/").content.decode()
    for text in (
        mine.number,
        mine.name,
        mine.commission.number,
        mine.commission.customer.name,
        "样品间 Store 1 A1",
        str(cast["item_keeper"]),
        str(cast["receptionist"]),
    ):
        assert text in html, text
    assert 'data-testid="custody-form"' in html
    assert 'name="viewport"' in html  # phone-friendly layout


def test_customer_sees_only_their_own_item_card(two_items, cast, client):
    mine, theirs = two_items
    client.force_login(cast["customer_a"])
    html = client.get(f"/items/{mine.number}/").content.decode()
    assert mine.number in html
    assert 'data-testid="custody-form"' not in html and 'data-testid="tag-form"' not in html
    assert str(cast["receptionist"]) not in html  # lab staff names stay inside the lab
    assert client.get(f"/items/{theirs.number}/").status_code == 404
    scan = client.get("/items/scan/", {"code": theirs.number})
    assert scan.status_code == 200 and "No item found" in scan.content.decode()
    listing = client.get("/items/").content.decode()
    assert mine.number in listing and theirs.number not in listing
    api = client.get("/api/v1/items/").json()
    assert [i["number"] for i in api["items"]] == [mine.number]
    assert client.get(f"/api/v1/items/{theirs.number}").status_code == 404
    assert client.get(f"/api/v1/items/{mine.number}").json()["tags"] == []
    # A portal account that is not linked to any customer sees nothing at all.
    loner = user_create(username="loner", password="pw-loner-1", roles=["customer"], actor=SYSTEM)
    client.force_login(loner)
    assert client.get(f"/items/{mine.number}/").status_code == 404
    assert client.get("/api/v1/items/").json() == {"items": [], "count": 0}


def test_custody_and_photos_of_another_customers_item_are_not_found(two_items, cast, client):
    _mine, theirs = two_items
    client.force_login(cast["customer_a"])
    assert client.get(f"/api/v1/items/{theirs.number}").status_code == 404
    assert client.get(f"/items/{theirs.number}/label.pdf").status_code == 404
