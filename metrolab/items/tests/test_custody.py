"""Custody and storage (R6.6d, R6.6f): every event is recorded with who, when and where; the
item's state and place always agree with what its events say; impossible moves are refused
with a clear message and change nothing."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from metrolab.core.service import ServiceError
from metrolab.items.models import CustodyEvent, Item
from metrolab.items.selectors import item_state_from_events, storage_overview
from metrolab.items.services import (
    item_custody_record,
    item_dispose,
    item_mark_awaiting_return,
    item_mark_in_testing,
    item_move,
    item_return,
)

pytestmark = pytest.mark.django_db
S = Item.State


@pytest.fixture
def item(make_commission, receive):
    return receive(make_commission(lines=[("Gauge", 5, "calibration")]))


# The items here have open (unassigned) tasks: they leave only with a reason.
WITHDRAWN = "客户撤回委托，未检即取回"


def _agrees(item):
    item.refresh_from_db()
    derived = item_state_from_events(item)
    assert (item.state, item.location_id) == (derived.state, derived.location_id)


def test_a_full_journey(item, cast, shelves):
    keeper, metrologist = cast["item_keeper"], cast["metrologist"]
    item_move(item=item, location=shelves["A1"], actor=keeper)
    _agrees(item)
    assert (item.state, item.location) == (S.MOVED, shelves["A1"])
    item_mark_in_testing(item=item, actor=metrologist)
    _agrees(item)
    assert (item.state, item.location) == (S.IN_TESTING, None)
    item_mark_awaiting_return(item=item, actor=metrologist, location=shelves["A2"])
    _agrees(item)
    event = item_return(
        item=item,
        collected_by="张三 138-0000-0000",
        actor=cast["receptionist"],
        reason=WITHDRAWN,
    )
    _agrees(item)
    assert (item.state, item.location) == (S.RETURNED, None)
    assert (event.by, event.collected_by) == (cast["receptionist"], "张三 138-0000-0000")
    kinds = list(item.custody_events.order_by("at", "pk").values_list("kind", flat=True))
    assert kinds == ["received", "moved", "in_testing", "awaiting_return", "returned"]
    assert all(e.at is not None and e.by_id for e in item.custody_events.all())


def test_awaiting_return_keeps_the_place_unless_given(item, cast, shelves):
    item_move(item=item, location=shelves["A1"], actor=cast["item_keeper"])
    item_mark_awaiting_return(item=item, actor=cast["item_keeper"])
    _agrees(item)
    assert item.location == shelves["A1"]


@pytest.mark.parametrize("final", ["returned", "disposed"])
def test_nothing_happens_after_return_or_disposal(item, cast, shelves, final):
    if final == "returned":
        item_return(
            item=item,
            collected_by="Li",
            actor=cast["receptionist"],
            reason=WITHDRAWN,
        )
    else:
        item_dispose(
            item=item,
            note="customer gave it up (letter of 2026-11-01)",
            actor=cast["admin"],
            reason="客户书面放弃",
        )
    count = CustodyEvent.objects.count()
    for kind in ("moved", "in_testing", "awaiting_return", "returned", "disposed"):
        with pytest.raises(ServiceError) as refused:
            item_custody_record(
                item=item,
                kind=kind,
                actor=cast["admin"],
                location=shelves["A1"],
                collected_by="x",
                note="x",
            )
        assert refused.value.code == "invalid_transition"
        assert "nothing more can happen" in refused.value.message
    assert CustodyEvent.objects.count() == count
    _agrees(item)


def test_refusals_are_clear_and_change_nothing(item, cast, shelves):
    keeper = cast["item_keeper"]
    cases = [
        (lambda: item_custody_record(item=item, kind="received", actor=keeper), "received once"),
        (lambda: item_custody_record(item=item, kind="moved", actor=keeper), "where the item"),
        (lambda: item_move(item=item, location=shelves["old"], actor=keeper), "not in use"),
        (lambda: item_return(item=item, collected_by=" ", actor=keeper), "who collected"),
        (lambda: item_dispose(item=item, note="", actor=keeper), "why"),
        (lambda: item_custody_record(item=item, kind="lost", actor=keeper), "Unknown"),
    ]
    for attempt, words in cases:
        with pytest.raises(ServiceError) as refused:
            attempt()
        assert words in refused.value.message
    item_mark_in_testing(item=item, actor=cast["metrologist"])
    for attempt, words in [
        (lambda: item_mark_in_testing(item=item, actor=keeper), "in testing already"),
        (lambda: item_return(item=item, collected_by="Li", actor=keeper), "finish testing"),
        (lambda: item_dispose(item=item, note="broken", actor=keeper), "finish testing"),
    ]:
        with pytest.raises(ServiceError) as refused:
            attempt()
        assert words in refused.value.message
    assert item.custody_events.count() == 2
    _agrees(item)


EVENTS = st.lists(
    st.tuples(
        st.sampled_from(["moved", "in_testing", "awaiting_return", "returned", "disposed"]),
        st.sampled_from([None, "A1", "A2"]),
    ),
    max_size=8,
)


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(events=EVENTS)
def test_state_and_place_always_agree_with_the_events(
    make_commission, receive, cast, shelves, events
):
    """Whatever sequence of events is attempted (refused ones included), the stored state and
    place equal those re-derived from the events."""
    item = receive(make_commission())
    for kind, shelf in events:
        with contextlib.suppress(ServiceError):
            item_custody_record(
                item=item,
                kind=kind,
                actor=cast["item_keeper"],
                location=shelves[shelf] if shelf else None,
                collected_by="Wang",
                note="test",
            )
        _agrees(item)


def test_custody_from_the_card(item, cast, client, shelves):
    client.force_login(cast["item_keeper"])
    response = client.post(
        f"/items/{item.number}/custody/", {"event": "moved", "location": shelves["A2"].pk}
    )
    assert response.status_code == 302
    item.refresh_from_db()
    assert (item.state, item.location) == (S.MOVED, shelves["A2"])
    client.post(f"/items/{item.number}/custody/", {"event": "returned"})
    html = client.get(f"/items/{item.number}/").content.decode()
    assert "Say who collected the item." in html
    item.refresh_from_db()
    assert item.state == S.MOVED
    client.force_login(cast["customer_a"])
    assert client.post(f"/items/{item.number}/custody/", {"event": "moved"}).status_code == 403


def test_custody_api(item, cast, client, shelves):
    client.force_login(cast["metrologist"])
    response = client.post(
        f"/api/v1/items/{item.number}/custody",
        {"event": "moved", "location_code": "S1-A1"},
        content_type="application/json",
    )
    assert response.status_code == 201 and response.json()["location"] == "样品间 Store 1 A1"
    bad = client.post(
        f"/api/v1/items/{item.number}/custody",
        {"event": "returned"},
        content_type="application/json",
    )
    assert bad.status_code == 422 and "collected" in bad.json()["error"]["message"]
    unknown = client.post(
        f"/api/v1/items/{item.number}/custody",
        {"event": "moved", "location_code": "NOPE"},
        content_type="application/json",
    )
    assert unknown.status_code == 422
    detail = client.get(f"/api/v1/items/{item.number}").json()
    assert [e["kind"] for e in detail["custody"]] == ["received", "moved"]


def test_storage_page_shows_which_items_are_where(make_commission, receive, cast, client, shelves):
    commission = make_commission(lines=[("Gauge", 4, "calibration")])
    a, b, c, d = (receive(commission) for _ in range(4))
    item_move(item=a, location=shelves["A1"], actor=cast["item_keeper"])
    item_move(item=b, location=shelves["A1"], actor=cast["item_keeper"])
    item_move(item=c, location=shelves["A2"], actor=cast["item_keeper"])
    item_return(item=c, collected_by="Li", actor=cast["receptionist"], reason=WITHDRAWN)  # gone
    counts = {(p.location.code if p.location else None): p.count for p in storage_overview()}
    assert counts == {"S1-A1": 2, "S1-A2": 0, None: 1}
    client.force_login(cast["metrologist"])
    html = client.get("/items/storage/").content.decode()
    assert "S1-A1" in html and "OLD" not in html  # retired, empty places are not shown
    html = client.get("/items/storage/", {"place": shelves["A1"].pk}).content.decode()
    assert a.number in html and b.number in html and d.number not in html
    html = client.get("/items/storage/", {"place": "none"}).content.decode()
    assert d.number in html and a.number not in html
    assert client.get("/items/storage/", {"place": "abc"}).status_code == 404
    client.force_login(cast["customer_a"])
    assert client.get("/items/storage/").status_code == 403
