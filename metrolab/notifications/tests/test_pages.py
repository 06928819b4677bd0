"""The inbox (each user sees only their own notifications), the delivery log (administrators
and quality managers) and the inbox API (R6.1c, R4.3)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from metrolab.core import roles
from metrolab.core.permissions import SYSTEM
from metrolab.core.testing import assert_same_query_count_with_n_and_10n
from metrolab.notifications.models import Delivery, Notification
from metrolab.notifications.services import notification_mark_read, notify

pytestmark = pytest.mark.django_db

DELIVERY_PERM = "notifications.view_delivery"


def _notify(user, subject, **kwargs):
    return notify(
        event="commission.status_changed",
        subject=subject,
        body="…",
        recipient_user=user,
        actor=SYSTEM,
        **kwargs,
    )


def test_the_inbox_shows_only_my_own_notifications(cast, login):
    mine = _notify(cast["customer_a"], "A 的委托单已受理")
    theirs = _notify(cast["customer_b"], "B 的委托单已受理")
    html = login(cast["customer_a"]).get("/notifications/").content.decode()
    assert "A 的委托单已受理" in html and f'data-notification="{mine.pk}"' in html
    assert "B 的委托单已受理" not in html and f'data-notification="{theirs.pk}"' not in html


def test_unread_come_first_and_marking_read_moves_them_down(cast, login):
    user = cast["customer_a"]
    older = _notify(user, "older")
    newer = _notify(user, "newer")
    client = login(user)
    page = client.get("/notifications/").context["page"]
    assert [n.pk for n in page] == [newer.pk, older.pk]
    assert client.post(f"/notifications/{newer.pk}/read/").status_code == 302
    page = client.get("/notifications/").context["page"]
    assert [n.pk for n in page] == [older.pk, newer.pk]
    newer.refresh_from_db()
    assert newer.read_at is not None


def test_nobody_marks_someone_elses_notification_read(cast, login):
    theirs = _notify(cast["customer_b"], "B")
    response = login(cast["customer_a"]).post(f"/notifications/{theirs.pk}/read/")
    assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.read_at is None
    from metrolab.core.service import ServiceError

    with pytest.raises(ServiceError):
        notification_mark_read(theirs, cast["customer_a"], actor=cast["customer_a"])


def test_mark_all_read_touches_only_my_own(cast, login):
    for i in range(3):
        _notify(cast["customer_a"], f"A{i}")
    theirs = _notify(cast["customer_b"], "B")
    login(cast["customer_a"]).post("/notifications/read-all/")
    assert not Notification.objects.filter(recipient=cast["customer_a"], read_at=None).exists()
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_the_inbox_is_paginated(cast, login):
    user = cast["customer_a"]
    for i in range(25):
        _notify(user, f"n{i}")
    client = login(user)
    first = client.get("/notifications/")
    assert len(first.context["page"]) == 20
    assert len(client.get("/notifications/?page=2").context["page"]) == 5


def test_everyone_signed_in_has_an_inbox(cast, client):
    for user in cast.values():
        client.force_login(user)
        assert client.get("/notifications/").status_code == 200


@pytest.fixture
def delivery_perm_mapped(monkeypatch):
    """The roles mapping the lead adds to core.roles (admin and quality manager)."""
    from metrolab.core.services import roles_sync

    for code in (roles.ADMIN, roles.QUALITY_MANAGER):
        monkeypatch.setitem(
            roles.ROLE_PERMISSIONS, code, roles.ROLE_PERMISSIONS[code] | {DELIVERY_PERM}
        )
    roles_sync(actor=SYSTEM)


def test_the_delivery_log_opens_only_with_the_permission(cast, client, delivery_perm_mapped):
    for username, user in cast.items():
        client.force_login(user)
        status = client.get(reverse("notifications:deliveries")).status_code
        expected = 200 if username in {"admin", "quality_manager"} else 403
        assert status == expected, f"{username}: {status}"


def test_the_inbox_does_not_grow_with_rows(cast, login):
    """1 notification and 10 in the inbox: the same number of queries."""
    user = cast["customer_a"]
    client = login(user)

    def get():
        response = client.get("/notifications/")
        assert response.status_code == 200
        return response

    assert_same_query_count_with_n_and_10n(
        get, lambda k: [_notify(user, f"n{i}") for i in range(k)]
    )
    assert len(get().context["page"]) == 10


def test_the_delivery_log_does_not_grow_with_rows(cast, login, delivery_perm_mapped, settings):
    """1 notification and 10, each delivered to the inbox and queued for SMS: the same
    number of queries on the delivery log."""
    settings.METROLAB_SMS_GATEWAY_URL = "http://127.0.0.1:9/sms"  # configured, never reached
    client = login(cast["quality_manager"])

    def get():
        response = client.get("/notifications/deliveries/")
        assert response.status_code == 200
        return response

    assert_same_query_count_with_n_and_10n(
        get,
        lambda k: [
            _notify(cast["customer_a"], f"n{i}", channels={"sms": "13800000000"}) for i in range(k)
        ],
    )
    assert len(get().context["page"]) == 20


def test_the_delivery_log_filters_by_status_and_channel(
    cast, login, delivery_perm_mapped, settings
):
    settings.METROLAB_SMS_GATEWAY_URL = "http://127.0.0.1:9/sms"  # configured, never reached
    sent = _notify(cast["customer_a"], "inbox only").deliveries.get()
    queued = _notify(cast["customer_a"], "with sms", channels={"sms": "13800000000"})
    pending = queued.deliveries.get(channel="sms")
    client = login(cast["quality_manager"])
    page = client.get("/notifications/deliveries/").context["page"]
    assert {d.pk for d in page} == set(Delivery.objects.values_list("pk", flat=True))
    page = client.get("/notifications/deliveries/?status=pending").context["page"]
    assert [d.pk for d in page] == [pending.pk]
    page = client.get("/notifications/deliveries/?channel=inbox&status=sent").context["page"]
    assert {d.pk for d in page} == {sent.pk, queued.deliveries.get(channel="inbox").pk}
    html = client.get("/notifications/deliveries/?channel=sms").content.decode()
    assert "13800000000" in html


def test_the_delivery_log_shows_unconfigured_channels_and_queues_nothing_for_them(
    cast, login, delivery_perm_mapped, settings
):
    settings.METROLAB_SMS_GATEWAY_URL = ""
    settings.METROLAB_WECHAT_GATEWAY_URL = "http://127.0.0.1:9/wechat"
    notification = _notify(
        cast["customer_a"], "受理", channels={"sms": "13800000000", "wechat": "o-1"}
    )
    assert sorted(notification.deliveries.values_list("channel", flat=True)) == [
        "inbox",
        "wechat",
    ]
    html = login(cast["quality_manager"]).get("/notifications/deliveries/").content.decode()
    assert '<li data-channel="sms">短信: <span class="badge">未配置</span></li>' in html
    assert '<li data-channel="wechat">微信: <span class="badge green">已配置</span></li>' in html
    assert "13800000000" not in html
    assert "is not set" not in html


def test_the_menu_shows_the_delivery_log_only_to_those_allowed(cast, client, delivery_perm_mapped):
    client.force_login(cast["customer_a"])
    html = client.get("/").content.decode()
    assert 'href="/notifications/"' in html and 'href="/notifications/deliveries/"' not in html
    client.force_login(cast["quality_manager"])
    assert 'href="/notifications/deliveries/"' in client.get("/").content.decode()


# --- API ----


def test_the_inbox_api_returns_only_my_notifications(cast, client):
    mine = _notify(cast["customer_a"], "mine", payload={"number": "WT-1"})
    _notify(cast["customer_b"], "theirs")
    client.force_login(cast["customer_a"])
    body = client.get("/api/v1/notifications/inbox").json()
    assert body["count"] == 1
    [item] = body["items"]
    assert item["id"] == mine.pk and item["subject"] == "mine"
    assert item["payload"] == {"number": "WT-1"} and item["read_at"] is None


def test_the_inbox_api_marks_only_my_own_read(cast, client):
    mine = _notify(cast["customer_a"], "mine")
    theirs = _notify(cast["customer_b"], "theirs")
    client.force_login(cast["customer_a"])
    assert client.post(f"/api/v1/notifications/{theirs.pk}/read").status_code == 404
    response = client.post(f"/api/v1/notifications/{mine.pk}/read")
    assert response.status_code == 200 and response.json()["read_at"]
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_the_inbox_api_with_a_token(cast, client):
    from metrolab.core.services import api_token_create

    _notify(cast["customer_b"], "for b")
    _token, raw = api_token_create(
        user=cast["customer_b"], name="portal app", roles=["customer"], actor=cast["customer_b"]
    )
    body = client.get(
        "/api/v1/notifications/inbox", headers={"Authorization": f"Bearer {raw}"}
    ).json()
    assert [n["subject"] for n in body["items"]] == ["for b"]
