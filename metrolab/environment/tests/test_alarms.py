"""Environmental alarms (R6.11d, R6.9c), checked through the ingestion path they run on
(`ingest_readings` → after commit → `alarms.on_readings`).

The rules under test are the shared contract of issue 6 (`/work/brief-env2.md`, "Alarm"),
restated in `metrolab/environment/alarms.py`: corrected values, inclusive limits; raised when
still outside at t with t − t0 ≥ delay; a high alarm clears at ≤ high − hysteresis, a low one
at ≥ low + hysteresis; one open alarm per (requirement, sensor, kind); offline when the newest
reading is older than 2 × the period (the staleness rule of `selectors.room_status`). Each
boundary is tested just inside and just outside."""

from __future__ import annotations

import datetime as dt
import json
import threading
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone, translation

from metrolab.core.permissions import SYSTEM
from metrolab.core.service import ServiceError
from metrolab.core.services import user_create
from metrolab.environment import alarms, ingest
from metrolab.environment.filters import AlarmFilter
from metrolab.environment.ingest import ingest_readings
from metrolab.environment.models import Alarm, AlarmState, Reading, Requirement, Room
from metrolab.environment.mqtt import reading_topic
from metrolab.environment.tests.mqtt_fixtures import *  # noqa: F403  (the broker fixtures)
from metrolab.environment.tests.mqtt_fixtures import TEST_ROOT, wait_for
from metrolab.methods.models import Method
from metrolab.notifications.models import Notification

pytestmark = pytest.mark.django_db

# A past morning: readings are stored with `now` a day later (no "future time" refusal).
BASE = dt.datetime(2026, 11, 2, 8, 0, tzinfo=dt.UTC)


def at(seconds: float) -> dt.datetime:
    return BASE + dt.timedelta(seconds=seconds)


# --- fixtures (imported by test_alarm_api.py and test_watch.py) -------------------------------


@pytest.fixture(autouse=True)
def english(settings):
    """Alarm messages are stored in the default language: make it English for assertions."""
    settings.LANGUAGE_CODE = "en"


@pytest.fixture(autouse=True)
def no_listeners(monkeypatch):
    """Ingestion alone, unless a test asks for the listener: these tests call the engine
    themselves (apps.py registers the alarm and control listeners in production)."""
    monkeypatch.setattr(ingest, "ingest_listeners", [])


@pytest.fixture
def listen(no_listeners, monkeypatch):
    """The alarm engine as the only ingestion listener (as apps.py registers it, without the
    control rules)."""
    monkeypatch.setattr(ingest, "ingest_listeners", [alarms.on_readings])


@pytest.fixture
def feed(listen, django_capture_on_commit_callbacks):
    """feed(code, (seconds after BASE, value), ...): store readings and run the listeners
    their commit triggers, as the ingester does."""

    def _feed(code, *points, start=BASE, now=None):
        items = [
            {"sensor": code, "time": (start + dt.timedelta(seconds=s)).isoformat(), "value": v}
            for s, v in points
        ]
        with django_capture_on_commit_callbacks(execute=True):
            result = ingest_readings(
                items, channel="simulated", now=now or start + dt.timedelta(days=1)
            )
        assert not result.rejected, result.rejected

    return _feed


@pytest.fixture
def temp_req(room) -> Requirement:
    """TL-1's own temperature requirement, 15–25 ℃ (from conftest.room)."""
    return Requirement.objects.get(room=room, quantity="temperature", method=None)


@pytest.fixture
def probe(room, make_sensor):
    return make_sensor("T-01", room)


def configure(req: Requirement, **fields) -> Requirement:
    for name, value in fields.items():
        setattr(req, name, value)
    req.save()
    return req


def alarms_of(code: str, **filters) -> list[Alarm]:
    return list(Alarm.objects.filter(sensor__code=code, **filters).order_by("raised_at", "pk"))


def notified(event: str = "environment.alarm") -> list[tuple[str, str]]:
    """(recipient username, related alarm id) of the alarm notifications."""
    return sorted(
        (n.recipient.username, n.related_id) for n in Notification.objects.filter(event=event)
    )


@pytest.fixture
def method(db):
    return Method.objects.create(
        kind="JJF",
        code="JJF 1171",
        year="2007",
        title="Temperature indicators",
        effective_date=dt.date(2008, 1, 1),
    )


# --- delay ------------------------------------------------------------------------------------


def test_the_delay_runs_from_the_first_reading_outside(feed, probe, temp_req):
    """Contract: outside since t0 and still outside at t with t − t0 ≥ delay → raise."""
    configure(temp_req, alarm_delay_seconds=300)
    feed("T-01", (0, 26.0), (299, 26.5))  # delay − 1 s: not yet
    assert alarms_of("T-01") == []
    state = AlarmState.objects.get(requirement=temp_req, sensor=probe)
    assert (state.side, state.outside_since, state.last_value) == ("high", at(0), 26.5)

    feed("T-01", (300, 26.3))  # t − t0 = delay: raised
    (alarm,) = alarms_of("T-01")
    assert (alarm.kind, alarm.status, alarm.raised_at) == ("high", "raised", at(300))
    assert (alarm.value, alarm.limit, alarm.requirement, alarm.room) == (
        26.3,
        Decimal("25"),
        temp_req,
        temp_req.room,
    )
    assert alarm.message == "TL-1 T-01 26.3 ℃ above 25 ℃"


def test_a_reading_back_inside_starts_the_delay_again(feed, probe, temp_req):
    configure(temp_req, alarm_delay_seconds=300)
    feed("T-01", (0, 26.0), (100, 25.0), (200, 26.0), (499, 26.0))  # 25.0 is inside
    assert alarms_of("T-01") == []
    feed("T-01", (500, 26.0))
    assert [a.raised_at for a in alarms_of("T-01")] == [at(500)]


def test_within_one_batch_the_readings_are_walked_in_time_order(feed, probe, temp_req):
    configure(temp_req, alarm_delay_seconds=60)
    feed("T-01", (60, 27.0), (0, 26.0), (30, 26.5))  # sent out of order
    assert [(a.raised_at, a.value) for a in alarms_of("T-01")] == [(at(60), 27.0)]


def test_a_reading_older_than_the_last_one_evaluated_is_history(feed, probe, temp_req):
    feed("T-01", (100, 20.0))
    feed("T-01", (50, 30.0))  # stored (late), but the engine has moved past it
    assert alarms_of("T-01") == []


def test_within_a_batch_readings_older_than_the_state_are_history(feed, probe, temp_req):
    configure(temp_req, alarm_delay_seconds=300)
    feed("T-01", (0, 26.0), (100, 26.0))  # outside since 0
    feed("T-01", (50, 20.0), (200, 26.0))  # the late 20.0 does not end the excursion
    feed("T-01", (300, 26.0))
    assert [a.raised_at for a in alarms_of("T-01")] == [at(300)]


# --- limits and corrections ----------------------------------------------------------------------


def test_limits_are_inclusive(feed, probe, temp_req):
    feed("T-01", (0, 25.0), (1, 15.0))  # on the limits: inside
    assert alarms_of("T-01") == []
    feed("T-01", (2, 25.0001))
    assert [(a.kind, a.value) for a in alarms_of("T-01")] == [("high", 25.0001)]
    feed("T-01", (3, 14.9999))
    low = alarms_of("T-01", kind="low")
    assert [(a.kind, a.value, a.limit) for a in low] == [("low", 14.9999, Decimal("15"))]
    assert low[0].message == "TL-1 T-01 14.9999 ℃ below 15 ℃"


def test_the_sensor_correction_is_applied_exactly(feed, room, make_sensor, temp_req):
    make_sensor("T-02", room, correction=Decimal("0.1"))
    make_sensor("T-03", room, correction=Decimal("-0.5"))
    # 24.9 + 0.1 is exactly 25 (decimal addition, selectors.corrected): on the limit, inside.
    feed("T-02", (0, 24.9))
    feed("T-03", (0, 25.4))  # 24.9: inside although the raw value is outside
    assert Alarm.objects.count() == 0
    feed("T-02", (1, 24.95))  # 25.05
    (alarm,) = alarms_of("T-02")
    assert (alarm.value, alarm.message) == (25.05, "TL-1 T-02 25.05 ℃ above 25 ℃")


def test_only_alarming_requirements_of_the_room_and_quantity_apply(
    feed, room, make_sensor, temp_req
):
    other = Room.objects.create(code="PL-1", name="Pressure lab")
    Requirement.objects.create(room=other, quantity="temperature", low=0, high=1, unit="℃")
    make_sensor("H-01", room, quantity="humidity", unit="%RH")
    make_sensor("T-01", room)
    configure(temp_req, alarm=False)
    feed("T-01", (0, 40.0))  # no temperature requirement of TL-1 raises alarms now
    feed("H-01", (0, 50.0))  # humidity 30–70: inside; the other room's 0–1 is not TL-1's
    assert Alarm.objects.count() == 0
    feed("H-01", (1, 70.5))
    assert [(a.sensor.code, a.kind, a.limit) for a in Alarm.objects.all()] == [
        ("H-01", "high", Decimal("70"))
    ]


def test_an_inactive_room_raises_nothing(feed, room, probe):
    room.active = False
    room.save()
    feed("T-01", (0, 40.0))
    assert Alarm.objects.count() == 0


# --- hysteresis ---------------------------------------------------------------------------------


def test_a_high_alarm_clears_only_below_the_limit_minus_the_hysteresis(feed, probe, temp_req):
    configure(temp_req, hysteresis=Decimal("0.5"))
    feed("T-01", (0, 26.0))
    feed("T-01", (10, 24.6))  # inside, but within the hysteresis (> 24.5): still open
    (alarm,) = alarms_of("T-01")
    assert (alarm.open, alarm.status) == (True, "raised")
    feed("T-01", (20, 24.5))  # high − h, inclusive: cleared
    alarm.refresh_from_db()
    assert (alarm.open, alarm.status, alarm.cleared_at, alarm.cleared_value) == (
        False,
        "cleared",
        at(20),
        24.5,
    )


def test_a_low_alarm_clears_only_above_the_limit_plus_the_hysteresis(feed, probe, temp_req):
    configure(temp_req, hysteresis=Decimal("0.5"))
    feed("T-01", (0, 14.0), (10, 15.4))  # 15.4 < 15.5: still open
    (alarm,) = alarms_of("T-01")
    assert (alarm.kind, alarm.open) == ("low", True)
    feed("T-01", (20, 15.5))
    alarm.refresh_from_db()
    assert (alarm.cleared_at, alarm.cleared_value) == (at(20), 15.5)


def test_a_swing_from_high_to_low_clears_the_high_alarm_and_raises_a_low_one(feed, probe, temp_req):
    configure(temp_req, hysteresis=Decimal("0.5"))
    feed("T-01", (0, 26.0), (10, 10.0))
    high, low = alarms_of("T-01")
    assert (high.kind, high.open, high.cleared_at) == ("high", False, at(10))
    assert (low.kind, low.open, low.raised_at) == ("low", True, at(10))


def test_raised_and_cleared_within_one_batch(feed, probe, temp_req):
    feed("T-01", (0, 26.0), (10, 20.0))
    (alarm,) = alarms_of("T-01")
    assert (alarm.raised_at, alarm.cleared_at, alarm.cleared_value) == (at(0), at(10), 20.0)


# --- one open alarm -------------------------------------------------------------------------------


def test_one_open_alarm_per_requirement_sensor_and_kind(feed, probe, temp_req, cast):
    feed("T-01", *[(s, 26.0 + s / 100) for s in range(50)])
    for s in range(50, 60):
        feed("T-01", (s, 27.0))  # one batch each
    assert len(alarms_of("T-01")) == 1
    feed("T-01", (60, 20.0))  # cleared
    feed("T-01", (70, 26.0))  # outside again: a new alarm
    first, second = alarms_of("T-01")
    assert (first.open, second.open, second.raised_at) == (False, True, at(70))
    # Told once per alarm: two alarms, one notification each for the equipment manager.
    assert notified() == [
        ("equipment_manager", str(first.pk)),
        ("equipment_manager", str(second.pk)),
    ]


def test_a_method_requirement_raises_its_own_alarm(feed, room, probe, temp_req, method):
    """A method adds a stricter range for the room (20 ± 2 ℃); both are watched."""
    strict = Requirement.objects.create(
        room=room, quantity="temperature", low=18, high=22, unit="℃", method=method
    )
    feed("T-01", (0, 22.0))  # on the method's limit: inside
    assert alarms_of("T-01") == []
    feed("T-01", (1, 23.0))
    (alarm,) = alarms_of("T-01")
    assert (alarm.requirement, alarm.limit) == (strict, Decimal("22"))
    assert alarm.message == "TL-1 T-01 23 ℃ above 22 ℃ required by JJF 1171-2007"
    feed("T-01", (2, 26.0))  # now the room's own range too
    assert [(a.requirement_id, a.limit) for a in alarms_of("T-01")] == [
        (strict.pk, Decimal("22")),
        (temp_req.pk, Decimal("25")),
    ]


def test_a_quiet_batch_costs_three_queries_and_writes_nothing(
    room, make_sensor, temp_req, django_assert_num_queries
):
    """Readings inside their limits of sensors whose states stay inside: the requirements, the
    states and the open alarms are read; nothing is written."""
    sensors = [make_sensor(f"T-{n:02d}", room) for n in range(20)]
    ingest_readings(
        [
            {"sensor": s.code, "time": at(t).isoformat(), "value": 20.0}
            for s in sensors
            for t in (0, 1)
        ],
        channel="simulated",
        now=at(86400),
    )
    readings = list(Reading.objects.select_related("sensor").order_by("time"))
    assert alarms.on_readings(readings[:20]) == ([], [])  # history: T-nn has newer readings
    assert AlarmState.objects.count() == 0
    alarms.on_readings(readings[20:])  # creates the 20 states
    assert AlarmState.objects.count() == 20
    with django_assert_num_queries(3):
        assert alarms.on_readings(readings[20:]) == ([], [])
    assert set(AlarmState.objects.values_list("side", "last_time")) == {("", None)}

    readings[-1].value = 30.0  # one sensor outside (delay 0): one alarm; one state written
    changes = alarms.on_readings(readings[20:])
    assert [a.sensor for a in changes.raised] == [readings[-1].sensor]
    assert AlarmState.objects.exclude(last_time=None).count() == 1


# --- offline --------------------------------------------------------------------------------------


def recent(seconds_ago: float) -> dt.datetime:
    return timezone.now().replace(microsecond=0) - dt.timedelta(seconds=seconds_ago)


def test_a_sensor_silent_for_more_than_two_periods_is_offline(feed, room, make_sensor):
    make_sensor("T-09", room, period_seconds=60)
    last = recent(600)
    feed("T-09", (0, 20.0), start=last, now=timezone.now())
    assert alarms.check_offline(last + dt.timedelta(seconds=120)) == ([], [])  # 2 periods
    changes = alarms.check_offline(last + dt.timedelta(seconds=121))
    (alarm,) = changes.raised
    assert (alarm.kind, alarm.requirement, alarm.status) == ("offline", None, "raised")
    local = timezone.localtime(last).strftime("%Y-%m-%d %H:%M:%S")
    assert alarm.message == f"TL-1 T-09 silent since {local} (expected every 60 s)"
    # Checked again: still the one alarm.
    assert alarms.check_offline(last + dt.timedelta(seconds=600)) == ([], [])
    assert len(alarms_of("T-09", kind="offline")) == 1

    # A late reading that still leaves the sensor stale does not clear it...
    feed("T-09", (0, 20.5), start=recent(300), now=timezone.now())
    assert alarms_of("T-09")[0].open
    # ... a fresh one does.
    now = recent(5)
    feed("T-09", (0, 21.0), start=now, now=timezone.now())
    alarm.refresh_from_db()
    assert (alarm.open, alarm.status, alarm.cleared_at, alarm.cleared_value) == (
        False,
        "cleared",
        now,
        21.0,
    )


def test_a_sensor_that_never_reported_is_offline_two_periods_after_its_creation(room, make_sensor):
    sensor = make_sensor("T-10", room, period_seconds=30)
    assert alarms.check_offline(sensor.created_at + dt.timedelta(seconds=60)) == ([], [])
    (alarm,) = alarms.check_offline(sensor.created_at + dt.timedelta(seconds=61)).raised
    assert alarm.message == "TL-1 T-10 has never reported (expected every 30 s)"


def test_inactive_sensors_and_rooms_are_not_watched(room, make_sensor):
    make_sensor("T-11", room, active=False)
    quiet = Room.objects.create(code="OLD", name="Closed room", active=False)
    make_sensor("T-12", quiet)
    assert alarms.check_offline(timezone.now() + dt.timedelta(days=1)) == ([], [])


def test_the_watch_clears_offline_alarms_a_reading_did_not(room, make_sensor):
    """Without the listener (a restart, a race), the next check clears what is fresh again,
    and the alarm of a sensor taken out of service."""
    back = make_sensor("T-13", room, period_seconds=60)
    gone = make_sensor("T-14", room, period_seconds=60)
    later = timezone.now() + dt.timedelta(hours=1)
    assert len(alarms.check_offline(later).raised) == 2
    ingest_readings(
        [{"sensor": "T-13", "time": later.isoformat(), "value": 20}],
        channel="simulated",
        now=later,
    )
    gone.active = False
    gone.save()
    changes = alarms.check_offline(later + dt.timedelta(seconds=10))
    assert sorted((a.sensor.code, a.cleared_at) for a in changes.cleared) == [
        ("T-13", later),
        ("T-14", later + dt.timedelta(seconds=10)),
    ]
    assert back.alarms.get().cleared_value == 20.0


# --- check_delays --------------------------------------------------------------------------------


def test_the_watch_raises_an_alarm_whose_delay_ran_out_without_a_newer_reading(
    feed, probe, temp_req
):
    configure(temp_req, alarm_delay_seconds=300)
    feed("T-01", (0, 26.0))
    assert alarms.check_delays(at(299)) == ([], [])
    (alarm,) = alarms.check_delays(at(300)).raised
    assert (alarm.kind, alarm.raised_at, alarm.value) == ("high", at(300), 26.0)
    assert alarms.check_delays(at(900)) == ([], [])
    feed("T-01", (400, 26.5))  # still outside: no second alarm
    assert len(alarms_of("T-01")) == 1


def test_the_watch_does_not_raise_when_the_limits_changed_meanwhile(feed, probe, temp_req):
    configure(temp_req, alarm_delay_seconds=300)
    feed("T-01", (0, 26.0))
    configure(temp_req, high=Decimal("30"))
    assert alarms.check_delays(at(600)) == ([], [])
    configure(temp_req, high=Decimal("25"), alarm=False)
    assert alarms.check_delays(at(600)) == ([], [])


# --- notifications --------------------------------------------------------------------------------


def test_the_responsible_person_and_the_equipment_managers_are_told_once(
    feed, room, probe, temp_req, cast
):
    room.responsible = cast["metrologist"]
    room.save()
    second = user_create(username="em2", password=None, roles=["equipment_manager"], actor=SYSTEM)
    former = user_create(username="em3", password=None, roles=["equipment_manager"], actor=SYSTEM)
    former.is_active = False
    former.save()
    feed("T-01", (0, 26.0), (1, 27.0), (2, 28.0))
    feed("T-01", (3, 20.0))  # cleared: nobody is told
    (alarm,) = alarms_of("T-01")
    assert notified() == [
        ("em2", str(alarm.pk)),
        ("equipment_manager", str(alarm.pk)),
        ("metrologist", str(alarm.pk)),
    ]
    note = Notification.objects.filter(recipient=second).get()
    assert note.subject == "TL-1 T-01 26 ℃ above 25 ℃"
    assert "Room: TL-1 Temperature lab" in note.body
    assert note.payload == {"alarm": alarm.pk, "room": "TL-1", "sensor": "T-01", "kind": "high"}


def test_a_responsible_equipment_manager_is_told_once(feed, room, probe, temp_req, cast):
    room.responsible = cast["equipment_manager"]
    room.save()
    feed("T-01", (0, 26.0))
    (alarm,) = alarms_of("T-01")
    assert notified() == [("equipment_manager", str(alarm.pk))]


def test_the_stored_message_is_in_the_default_language(feed, probe, temp_req, settings):
    settings.LANGUAGE_CODE = "zh-hans"
    with translation.override("en"):  # whoever's request triggered it
        feed("T-01", (0, 26.0))
    (alarm,) = alarms_of("T-01")
    with translation.override("zh-hans"):
        expected = alarms._threshold_message(temp_req, alarm.sensor, "high", 26.0)
    assert alarm.message == expected


# --- acknowledging ----------------------------------------------------------------------------


def test_acknowledged_then_cleared(feed, room, probe, temp_req, cast):
    feed("T-01", (0, 26.0))
    (alarm,) = alarms_of("T-01")
    assert alarms.room_alarms(room) == [alarm]
    done = alarms.alarm_acknowledge(
        alarm, actor=cast["metrologist"], comment="  Door left open; closed.  "
    )
    assert (done.status, done.acknowledged_by, done.comment) == (
        "acknowledged",
        cast["metrologist"],
        "Door left open; closed.",
    )
    assert done.acknowledged_at is not None and done.open
    assert alarms.room_alarms(room) == [alarm]  # still open
    feed("T-01", (60, 20.0))
    alarm.refresh_from_db()
    assert (alarm.status, alarm.acknowledged_by, alarm.cleared_at) == (
        "cleared",
        cast["metrologist"],
        at(60),
    )
    assert alarms.room_alarms(room) == []  # cleared and acknowledged: done


def test_cleared_then_acknowledged(feed, room, probe, temp_req, cast):
    feed("T-01", (0, 26.0), (60, 20.0))
    (alarm,) = alarms_of("T-01")
    assert (alarm.status, alarm.acknowledged_at) == ("cleared", None)
    assert alarms.room_alarms(room) == [alarm]  # cleared, but nobody has looked
    done = alarms.alarm_acknowledge(alarm, actor=cast["director"], comment="Seen afterwards.")
    assert (done.status, done.acknowledged_by) == ("cleared", cast["director"])
    assert done.acknowledged_at is not None
    assert alarms.room_alarms(room) == []


def test_acknowledging_needs_a_comment_and_happens_once(feed, probe, temp_req, cast):
    feed("T-01", (0, 26.0))
    (alarm,) = alarms_of("T-01")
    with translation.override("en"):
        for blank in ("", "   "):
            with pytest.raises(ServiceError) as refused:
                alarms.alarm_acknowledge(alarm, actor=cast["metrologist"], comment=blank)
            assert refused.value.field == "comment"
            assert refused.value.message == "Write a comment: what you found and what was done."
        with pytest.raises(ServiceError, match="too long"):
            alarms.alarm_acknowledge(
                alarm, actor=cast["metrologist"], comment="x" * (alarms.COMMENT_MAX + 1)
            )
        alarm.refresh_from_db()
        assert (alarm.status, alarm.acknowledged_at, alarm.comment) == ("raised", None, "")
        alarms.alarm_acknowledge(alarm, actor=cast["metrologist"], comment="x" * alarms.COMMENT_MAX)
        with pytest.raises(ServiceError) as again:
            alarms.alarm_acknowledge(alarm, actor=cast["director"], comment="Me too.")
    assert again.value.code == "conflict"
    assert again.value.message.startswith("This alarm was already acknowledged by Metrologist")
    alarm.refresh_from_db()
    assert alarm.acknowledged_by == cast["metrologist"]


# --- reads ------------------------------------------------------------------------------------


def test_alarm_dict_has_the_contract_keys(feed, probe, temp_req, cast):
    feed("T-01", (0, 26.0))
    (alarm,) = alarms_of("T-01")
    alarms.alarm_acknowledge(alarm, actor=cast["metrologist"], comment="Checked.")
    alarm.refresh_from_db()
    with translation.override("en"):
        assert alarms.alarm_dict(alarm) == {
            "id": alarm.pk,
            "kind": "high",
            "kind_label": "above the upper limit",
            "status": "acknowledged",
            "status_label": "acknowledged",
            "sensor": "T-01",
            "quantity": "temperature",
            "requirement": temp_req.pk,
            "message": "TL-1 T-01 26 ℃ above 25 ℃",
            "value": 26.0,
            "limit": 25.0,
            "raised_at": at(0).isoformat(),
            "acknowledged_at": alarm.acknowledged_at.isoformat(),
            "acknowledged_by": "Metrologist",
            "comment": "Checked.",
            "cleared_at": None,
            "open": True,
        }
    json.dumps(alarms.alarm_dict(alarm))  # JSON as it is


def test_alarm_list_filters(feed, room, make_sensor, temp_req, cast):
    make_sensor("T-01", room)
    make_sensor("H-01", room, quantity="humidity", unit="%RH")
    feed("T-01", (0, 26.0), (10, 20.0), (20, 10.0))  # high (cleared), low (open)
    feed("H-01", (30, 80.0))
    humid = alarms_of("H-01")[0]
    alarms.alarm_acknowledge(humid, actor=cast["metrologist"], comment="Dehumidifier on.")

    def codes(**filters):
        return [(a.sensor.code, a.kind) for a in alarms.alarm_list(AlarmFilter(**filters))]

    assert codes() == [("H-01", "high"), ("T-01", "low"), ("T-01", "high")]  # newest first
    assert codes(open=True) == [("H-01", "high"), ("T-01", "low")]
    assert codes(open=False) == [("T-01", "high")]
    assert codes(status="acknowledged") == [("H-01", "high")]
    assert codes(kind="low") == [("T-01", "low")]
    assert codes(sensor="H-01") == [("H-01", "high")]
    day = timezone.localdate(at(0))
    assert codes(room=room.pk, since=day, until=day) == codes()  # the end day included
    assert codes(until=day - dt.timedelta(days=1)) == []
    assert codes(since=day + dt.timedelta(days=1)) == []
    assert codes(room=Room.objects.create(code="X", name="X").pk) == []
    assert codes(kind=None, open=None) == codes()


# --- concurrency ------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_concurrent_evaluations_raise_one_alarm(room, make_sensor, temp_req, cast):
    """Eight threads (eight database connections: on PostgreSQL eight sessions racing on the
    state rows) evaluate the same out-of-range readings at once: one alarm, told once."""
    make_sensor("T-01", room)
    ingest_readings(
        [{"sensor": "T-01", "time": at(s).isoformat(), "value": 26.0} for s in range(5)],
        channel="simulated",
        now=at(86400),
    )
    readings = list(Reading.objects.select_related("sensor").order_by("time"))
    start = threading.Barrier(8)
    errors = []

    def evaluate(batch):
        try:
            start.wait(30)
            alarms.on_readings(batch)
        except Exception as exc:  # reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [
        threading.Thread(target=evaluate, args=(readings[n % 5 :] if n % 2 else readings,))
        for n in range(8)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    (alarm,) = alarms_of("T-01")
    # Whichever batch won the race began the excursion (delay 0: raised at its first reading).
    state = AlarmState.objects.get()
    assert alarm.raised_at == state.outside_since
    assert alarm.raised_at in [at(s) for s in range(5)]
    assert (state.side, state.last_time, state.last_value) == ("high", at(4), 26.0)
    assert notified() == [("equipment_manager", str(alarm.pk))]


# --- end to end through MQTT ------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_reading_published_over_mqtt_raises_an_alarm(
    mqtt_broker, run_ingester, listen, room, make_sensor, temp_req, cast
):
    make_sensor("T-01", room)
    run_ingester()
    moment = timezone.now().replace(microsecond=0) - dt.timedelta(seconds=5)
    gateway = mqtt_broker.publisher()
    try:
        gateway.publish(
            reading_topic("T-01", root=TEST_ROOT),
            json.dumps({"time": moment.isoformat(), "value": 26.3}),
        )
    finally:
        gateway.close()
    alarm = wait_for(lambda: Alarm.objects.filter(sensor__code="T-01").first())
    assert (alarm.kind, alarm.value, alarm.raised_at) == ("high", 26.3, moment)
    assert alarm.message == "TL-1 T-01 26.3 ℃ above 25 ℃"
    wait_for(lambda: notified() == [("equipment_manager", str(alarm.pk))])


def test_the_alarms_and_the_verdicts_share_one_rule_for_the_limits():
    """The alarm engine's side of a limit is the verdicts' rule (inclusive limits)."""
    from decimal import Decimal

    from metrolab.environment import alarms as engine
    from metrolab.environment.models import Requirement
    from metrolab.environment.selectors import beyond, within

    req = Requirement(low=Decimal("18"), high=Decimal("22"))
    for value, side in ((17.99, "low"), (18.0, ""), (22.0, ""), (22.01, "high")):
        assert engine._side(value, req) == beyond(value, req.low, req.high) == side
        assert within(value, req.low, req.high) is (side == "")
    assert engine.HIGH == "high" and engine.LOW == "low"
