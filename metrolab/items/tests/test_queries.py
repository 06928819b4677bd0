"""Hot pages run a fixed number of queries, however many rows they show."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

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


@pytest.mark.parametrize(
    ("username", "url"),
    [
        ("receptionist", "/items/"),
        ("customer_a", "/items/"),
        ("item_keeper", "/items/storage/?place=none"),
        ("metrologist", "/tasks/"),
        ("director", "/tasks/assign/?show=all"),
    ],
)
def test_lists_do_not_grow_with_rows(
    many, cast, client, django_assert_max_num_queries, username, url
):
    client.force_login(cast[username])
    with django_assert_max_num_queries(14):
        assert client.get(url).status_code == 200


def test_item_card_queries(many, cast, client, django_assert_max_num_queries):
    client.force_login(cast["metrologist"])
    with django_assert_max_num_queries(16):
        assert client.get(f"/items/{many[0].number}/").status_code == 200
