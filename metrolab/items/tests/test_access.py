"""Who may open each item page (deny by default, R4.3): the roles each page declares, and
customers limited to their own organisation's items (others: 404)."""

from __future__ import annotations

import pytest

from metrolab.core.roles import LAB_STAFF

pytestmark = pytest.mark.django_db

STAFF = set(LAB_STAFF)
READERS = STAFF | {"customer_a", "customer_b", "customer"}


@pytest.fixture
def item(make_commission, receive):
    return receive(make_commission(customer="a"))


def _pages(item):
    # url: usernames that get 200; every other cast member gets 403 (customer B: 404 where
    # the page is about customer A's item).
    return {
        "/items/": READERS,
        "/items/scan/": READERS,
        "/items/storage/": STAFF,
        "/items/receive/": {"admin", "receptionist", "item_keeper"},
        f"/items/{item.number}/": STAFF | {"customer_a"},
        f"/items/{item.number}/label.pdf": STAFF | {"customer_a"},
        f"/items/labels/commission/{item.commission.pk}/": STAFF | {"customer_a"},
    }


NOT_FOUND_FOR_OTHER_CUSTOMERS = {"customer_b", "customer"}


def test_pages_open_only_for_their_roles(cast, client, item):
    for url, allowed in _pages(item).items():
        for username, user in cast.items():
            client.force_login(user)
            status = client.get(url).status_code
            if username in allowed:
                expected = 200
            elif username in NOT_FOUND_FOR_OTHER_CUSTOMERS and "customer_a" in allowed:
                expected = 404
            else:
                expected = 403
            assert status == expected, f"{username} on {url}: {status}, expected {expected}"


def test_writes_need_their_roles(cast, client, item, shelves):
    checks = [
        (
            f"/items/{item.number}/custody/",
            {"event": "moved", "location": shelves["A1"].pk},
            {"admin", "director", "receptionist", "item_keeper", "metrologist"},
        ),
        (
            f"/items/{item.number}/tags/",
            {"uid": "ABCD1234"},
            {"admin", "receptionist", "item_keeper"},
        ),
    ]
    for url, data, allowed in checks:
        for username, user in cast.items():
            if username in allowed:
                continue
            client.force_login(user)
            status = client.post(url, data).status_code
            assert status == 403, f"{username} posting {url}: {status}"
    item.refresh_from_db()
    assert item.state == "received" and not item.tags.exists()
