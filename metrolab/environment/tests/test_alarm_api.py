"""`/api/v1/environment/alarms...` (R6.11d): the lab reads the alarm log; the people who answer
for the rooms and the work (roles.ALARM_ACKNOWLEDGERS) acknowledge with a comment; customers,
regulators, devices and anonymous callers are refused; refusals answer with the message
(409: acknowledged already) and change nothing."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from metrolab.core.permissions import SYSTEM
from metrolab.core.roles import LAB_STAFF
from metrolab.core.services import api_token_create
from metrolab.environment import alarms
from metrolab.environment.models import Alarm, Requirement, Room
from metrolab.environment.roles import ALARM_ACKNOWLEDGERS, HISTORY_READERS

pytestmark = pytest.mark.django_db

BASE = "/api/v1/environment"
T = dt.datetime(2026, 11, 2, 8, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def english_messages(settings):
    settings.LANGUAGE_CODE = "en"


@pytest.fixture
def lab(room, make_sensor):
    """TL-1 (15–25 ℃) with sensor T-01, and PL-1 with sensor P-01 (offline)."""
    other = Room.objects.create(code="PL-1", name="Pressure lab")
    return {
        "room": room,
        "other": other,
        "req": Requirement.objects.get(room=room, quantity="temperature"),
        "t": make_sensor("T-01", room),
        "p": make_sensor("P-01", other),
    }


def high_alarm(lab, seconds=0, value=26.0) -> Alarm:
    return alarms.alarm_raise(
        sensor=lab["t"],
        requirement=lab["req"],
        kind="high",
        at=T + dt.timedelta(seconds=seconds),
        value=value,
        actor=SYSTEM,
    )


def in_english(client):
    client.cookies["django_language"] = "en"
    return client


def post(client, url, data, **kw):
    return client.post(url, data, content_type="application/json", **kw)


def test_the_lab_reads_the_log_outsiders_are_refused(client, cast, lab):
    alarm = high_alarm(lab)
    for name, user in cast.items():
        client.force_login(user)
        listing = client.get(f"{BASE}/alarms")
        one = client.get(f"{BASE}/alarms/{alarm.pk}")
        expected = 200 if name in HISTORY_READERS else 403
        assert (listing.status_code, one.status_code) == (expected, expected), name
    assert set(HISTORY_READERS) == set(LAB_STAFF)
    client.logout()
    assert client.get(f"{BASE}/alarms").status_code == 401


def test_a_device_token_is_refused(client, make_device, lab):
    high_alarm(lab)
    _device, raw = make_device("probe-9")
    headers = {"Authorization": f"Bearer {raw}"}
    assert client.get(f"{BASE}/alarms", headers=headers).status_code == 403
    alarm = Alarm.objects.get()
    answer = post(
        client, f"{BASE}/alarms/{alarm.pk}/acknowledge", {"comment": "x"}, headers=headers
    )
    assert answer.status_code == 403
    alarm.refresh_from_db()
    assert alarm.acknowledged_at is None


def test_one_alarm_as_the_contract_shows_it(client, cast, lab):
    alarm = high_alarm(lab)
    client.force_login(cast["checker"])
    body = client.get(f"{BASE}/alarms/{alarm.pk}").json()
    assert body == {
        **{k: v for k, v in alarms.alarm_dict(alarm).items() if not k.endswith("_at")},
        "room": {"id": lab["room"].pk, "code": "TL-1", "name": "Temperature lab"},
        "raised_at": "2026-11-02T08:00:00Z",
        "acknowledged_at": None,
        "cleared_at": None,
        "cleared_value": None,
    }
    assert (body["message"], body["limit"], body["open"]) == (
        "TL-1 T-01 26 ℃ above 25 ℃",
        25.0,
        True,
    )
    missing = client.get(f"{BASE}/alarms/999999")
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "not_found"


def test_the_log_filters_and_pages(client, cast, lab):
    first = high_alarm(lab, 0)
    alarms.alarm_clear(first, at=T + dt.timedelta(seconds=30), value=20.0, actor=SYSTEM)
    second = high_alarm(lab, 60)
    offline = alarms.alarm_raise(
        sensor=lab["p"], kind="offline", at=T + dt.timedelta(seconds=90), actor=SYSTEM
    )
    client.force_login(cast["metrologist"])

    def ids(**query):
        answer = client.get(f"{BASE}/alarms", query)
        assert answer.status_code == 200, answer.json()
        return [a["id"] for a in answer.json()["items"]]

    assert ids() == [offline.pk, second.pk, first.pk]  # newest first
    assert ids(room=lab["room"].pk) == [second.pk, first.pk]
    assert ids(open="true") == [offline.pk, second.pk]
    assert ids(open="false") == [first.pk]
    assert ids(status="cleared") == [first.pk]
    assert ids(kind="offline") == [offline.pk]
    assert ids(sensor="T-01", status="raised") == [second.pk]
    assert ids(limit=2) == [offline.pk, second.pk]
    assert ids(limit=2, offset=2) == [first.pk]
    assert ids(limit=1000) == ids(limit=200)  # capped, not refused
    # Out of range is refused, as on every list (metrolab/core/api_contract.py).
    for params in ({"limit": 0}, {"offset": -5}, {"offset": 2**63}):
        assert client.get(f"{BASE}/alarms", params).status_code == 422
    bad = client.get(f"{BASE}/alarms", {"status": "burning"})
    assert bad.status_code == 422
    assert bad.json()["error"]["code"] == "invalid"


def test_the_page_and_the_api_list_the_same_alarms_for_the_same_days(client, cast, lab):
    """One filter (environment.filters.AlarmFilter) for the log's page and its API: `until`
    includes its whole day in the lab's time zone, on both (the API's end was a moment)."""
    day = dt.date(2026, 11, 2)
    midnight = timezone.make_aware(dt.datetime.combine(day, dt.time.min))
    raised = []
    for minutes in (-30, 10, 23 * 60 + 50, 24 * 60 + 10):  # the day before, 2 that day, after
        alarm = alarms.alarm_raise(
            sensor=lab["t"],
            requirement=lab["req"],
            kind="high",
            at=midnight + dt.timedelta(minutes=minutes),
            value=26.0,
            actor=SYSTEM,
        )
        alarms.alarm_clear(
            alarm, at=alarm.raised_at + dt.timedelta(minutes=1), value=20.0, actor=SYSTEM
        )
        raised.append(alarm.pk)
    client.force_login(cast["metrologist"])
    query = {"since": day.isoformat(), "until": day.isoformat(), "room": lab["room"].pk}
    api = [a["id"] for a in client.get(f"{BASE}/alarms", query).json()["items"]]
    page = client.get("/environment/alarms/", query)
    assert page.status_code == 200
    assert [a.pk for a in page.context["page"].object_list] == api == [raised[2], raised[1]]
    query["status"] = "open"  # the page's choice "open (not cleared)" means the same on both
    assert client.get(f"{BASE}/alarms", query).json() == {"items": [], "count": 0}
    assert list(client.get("/environment/alarms/", query).context["page"].object_list) == []


def test_only_acknowledgers_acknowledge(client, cast, lab):
    refused = [name for name in cast if name not in ALARM_ACKNOWLEDGERS]
    assert {"receptionist", "checker", "customer_a", "device"} <= set(refused)
    alarm = high_alarm(lab)
    for name in refused:
        client.force_login(cast[name])
        answer = post(client, f"{BASE}/alarms/{alarm.pk}/acknowledge", {"comment": "Seen."})
        assert answer.status_code == 403, name
    alarm.refresh_from_db()
    assert (alarm.status, alarm.acknowledged_at) == ("raised", None)

    alarms.alarm_clear(alarm, at=T, value=20.0, actor=SYSTEM)
    for n, name in enumerate(ALARM_ACKNOWLEDGERS):
        mine = high_alarm(lab, 100 * (n + 1))
        alarms.alarm_clear(
            mine, at=mine.raised_at, value=20.0, actor=SYSTEM
        )  # the next one may open
        client.force_login(cast[name])
        answer = post(client, f"{BASE}/alarms/{mine.pk}/acknowledge", {"comment": "Seen."})
        assert answer.status_code == 200, (name, answer.json())
        assert answer.json()["acknowledged_by"] == cast[name].display_name


def test_a_metrologist_acknowledges_with_a_comment_once(client, cast, lab):
    alarm = high_alarm(lab)
    client = in_english(client)
    client.force_login(cast["metrologist"])
    url = f"{BASE}/alarms/{alarm.pk}/acknowledge"

    empty = post(client, url, {"comment": "   "})
    assert empty.status_code == 422
    error = empty.json()["error"]
    assert error["message"] == "Write a comment: what you found and what was done."
    assert error["details"] == [{"loc": ["comment"], "message": error["message"]}]
    assert post(client, url, {}).status_code == 422
    alarm.refresh_from_db()
    assert alarm.acknowledged_at is None

    done = post(client, url, {"comment": "Air conditioner restarted."})
    assert done.status_code == 200
    body = done.json()
    assert (body["status"], body["acknowledged_by"], body["comment"], body["open"]) == (
        "acknowledged",
        "Metrologist",
        "Air conditioner restarted.",
        True,
    )
    assert body["acknowledged_at"] is not None

    client.force_login(cast["director"])
    again = post(client, url, {"comment": "Me too."})
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "conflict"
    assert again.json()["error"]["message"].startswith(
        "This alarm was already acknowledged by Metrologist"
    )
    assert post(client, f"{BASE}/alarms/999999/acknowledge", {"comment": "x"}).status_code == 404


def test_a_cleared_alarm_stays_cleared_when_acknowledged_with_a_token(client, cast, lab):
    alarm = high_alarm(lab)
    alarms.alarm_clear(alarm, at=T + dt.timedelta(minutes=5), value=24.0, actor=SYSTEM)
    me = cast["metrologist"]
    _token, raw = api_token_create(user=me, name="phone", roles=["metrologist"], actor=me)
    answer = post(
        client,
        f"{BASE}/alarms/{alarm.pk}/acknowledge",
        {"comment": "Back to normal before I arrived."},
        headers={"Authorization": f"Bearer {raw}"},
    )
    assert answer.status_code == 200, answer.json()
    body = answer.json()
    assert (body["status"], body["open"], body["cleared_value"]) == ("cleared", False, 24.0)
    alarm.refresh_from_db()
    assert (alarm.status, alarm.acknowledged_by) == ("cleared", me)
