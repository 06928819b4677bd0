"""Hot pages run a fixed number of queries, however many rows they show."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from metrolab.core.testing import assert_same_query_count_with_n_and_10n
from metrolab.items.services import item_media_add, item_move
from metrolab.items.tests.fixtures import jpeg_bytes
from metrolab.tasks.tests.fixtures import *  # noqa: F403

pytestmark = pytest.mark.django_db


@pytest.fixture
def many(make_commission, receive, cast, shelves, qualified_assign):
    commission = make_commission(lines=[("Gauge", 12, "calibration")])
    items = [receive(commission) for _ in range(12)]
    for i, item in enumerate(items):
        item_move(item=item, location=shelves["A1"], actor=cast["item_keeper"])
        item_media_add(
            item=item,
            upload=SimpleUploadedFile("a.jpg", jpeg_bytes((i, 0, 0))),
            actor=cast["admin"],
        )
        qualified_assign(item.tasks.get())
    return items


@pytest.fixture
def add_items(make_commission, receive, cast, shelves, qualified_assign):
    """add_items(k): k more received items, moved, photographed and assigned."""

    def _add(k):
        commission = make_commission(lines=[("Gauge", k, "calibration")])
        for _ in range(k):
            item = receive(commission)
            item_move(item=item, location=shelves["A1"], actor=cast["item_keeper"])
            item_media_add(
                item=item,
                upload=SimpleUploadedFile("a.jpg", jpeg_bytes((item.pk % 256, 0, 0))),
                actor=cast["admin"],
            )
            qualified_assign(item.tasks.get())

    return _add


@pytest.mark.parametrize(
    ("username", "url"),
    [
        ("receptionist", "/items/"),
        ("customer_a", "/items/"),
        ("item_keeper", "/items/storage/?place={A1}"),
        ("metrologist", "/tasks/"),
        ("director", "/tasks/assign/?show=all"),
    ],
)
def test_lists_do_not_grow_with_rows(add_items, cast, client, shelves, username, url):
    """1 item and 10 items listed: the same number of queries."""
    url = url.format(A1=shelves["A1"].pk)
    client.force_login(cast[username])

    def get():
        response = client.get(url)
        assert response.status_code == 200
        return response

    assert_same_query_count_with_n_and_10n(get, add_items)
    assert get().content.decode().count("Gauge") >= 10


def test_item_card_queries(many, cast, client, django_assert_max_num_queries):
    client.force_login(cast["metrologist"])
    with django_assert_max_num_queries(16):
        assert client.get(f"/items/{many[0].number}/").status_code == 200
