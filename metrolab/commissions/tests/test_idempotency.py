"""`Idempotency-Key` on creates (R7.2a): a retry of a commission create returns the first
answer and creates nothing new (metrolab/core/idempotency.py)."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from metrolab.commissions.models import Commission
from metrolab.core.models import AuditEvent, IdempotencyKey

pytestmark = pytest.mark.django_db

URL = "/api/v1/commissions/"
LINE = {"instrument_name": "压力表", "service": "calibration", "quantity": 2}


def _create(client, body, key=None):
    headers = {"Idempotency-Key": key} if key is not None else {}
    return client.post(URL, json.dumps(body), content_type="application/json", headers=headers)


def test_a_retry_with_the_same_key_returns_the_first_answer(cast, client, org_a, slot):
    client.force_login(cast["customer_a"])
    body = {"slot_id": slot.pk, "lines": [LINE]}
    first = _create(client, body, key="order-2026-12-07-001")
    assert first.status_code == 201, first.content
    events = AuditEvent.objects.count()
    retry = _create(client, body, key="order-2026-12-07-001")
    assert retry.status_code == 201
    assert retry.json() == first.json()
    assert retry["Idempotent-Replayed"] == "true"
    assert Commission.objects.count() == 1
    assert AuditEvent.objects.count() == events
    # Without a key, a second POST is a second commission, as before.
    assert _create(client, body).status_code == 201
    assert Commission.objects.count() == 2


def test_the_same_key_with_another_body_is_refused(cast, client, org_a, slot):
    client.force_login(cast["customer_a"])
    assert _create(client, {"slot_id": slot.pk, "lines": [LINE]}, key="k-1").status_code == 201
    other = _create(client, {"slot_id": slot.pk, "lines": [LINE, LINE]}, key="k-1")
    assert other.status_code == 422
    assert other.json()["error"]["code"] == "idempotency_key_reused"
    assert Commission.objects.count() == 1


def test_keys_belong_to_one_client(cast, client, org_a, org_b, slot):
    body = {"slot_id": slot.pk, "lines": [LINE]}
    client.force_login(cast["customer_a"])
    assert _create(client, body, key="shared").status_code == 201
    client.force_login(cast["customer_b"])
    theirs = _create(client, body, key="shared")
    assert theirs.status_code == 201 and "Idempotent-Replayed" not in theirs
    assert theirs.json()["customer"]["id"] == org_b.pk
    assert Commission.objects.count() == 2


def test_a_refusal_is_not_kept(cast, client, org_a, slot):
    """A refused create wrote nothing; the corrected retry with the same key may succeed."""
    client.force_login(cast["customer_a"])
    bad = _create(client, {"slot_id": slot.pk, "lines": [{**LINE, "quantity": 0}]}, key="k-2")
    assert bad.status_code == 422
    assert not IdempotencyKey.objects.exists()
    good = _create(client, {"slot_id": slot.pk, "lines": [LINE]}, key="k-2")
    assert good.status_code == 201


def test_keys_expire_after_24_hours(cast, client, org_a, slot):
    client.force_login(cast["customer_a"])
    body = {"slot_id": slot.pk, "lines": [LINE]}
    assert _create(client, body, key="k-3").status_code == 201
    stored = IdempotencyKey.objects.get()
    stored.created_at -= dt.timedelta(hours=24, seconds=1)
    stored.save()
    again = _create(client, body, key="k-3")
    assert again.status_code == 201 and "Idempotent-Replayed" not in again
    assert Commission.objects.count() == 2
    assert IdempotencyKey.objects.count() == 1  # the expired one is gone


def test_a_malformed_key_is_refused(cast, client, org_a, slot):
    client.force_login(cast["customer_a"])
    response = _create(client, {"slot_id": slot.pk, "lines": [LINE]}, key="has spaces")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "idempotency_key_invalid"
    assert not Commission.objects.exists()


def test_the_key_and_the_create_commit_together(cast, client, org_a, slot, monkeypatch):
    """A failure after the operation's writes (here: storing the key) rolls the create back,
    so the client's retry cannot find a commission without its key."""
    client.force_login(cast["customer_a"])

    def fail(*args, **kwargs):
        raise RuntimeError("crash between the write and the answer")

    monkeypatch.setattr(IdempotencyKey.objects, "create", fail)
    with pytest.raises(RuntimeError):
        _create(client, {"slot_id": slot.pk, "lines": [LINE]}, key="k-4")
    assert not Commission.objects.exists()
