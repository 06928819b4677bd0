"""Regulation (R6.11e): the rules at and just beyond each threshold and hysteresis edge, one
command per change of state (no storm, no duplicate under concurrent ingesters), manual commands
and their refusals (which change nothing), the audit trail with the reason, and the API's roles."""

from __future__ import annotations

import datetime as dt
import threading
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone, translation

from metrolab.core.models import AuditEvent
from metrolab.core.permissions import SYSTEM
from metrolab.core.service import ServiceError
from metrolab.environment import control, ingest
from metrolab.environment.models import Actuator, Command, ControlRule, Sensor

pytestmark = pytest.mark.django_db

NOW = timezone.now().replace(microsecond=0)  # readings near the clock (fresh for evaluate_all)


@pytest.fixture(autouse=True)
def english(settings):
    """Rule reasons are written in settings.LANGUAGE_CODE; these tests read English."""
    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield


@pytest.fixture(autouse=True)
def no_listeners(monkeypatch):
    """The tests call the rule engine themselves (whatever apps.py registers)."""
    monkeypatch.setattr(ingest, "ingest_listeners", [])


@pytest.fixture
def hvac(room):
    return Actuator.objects.create(
        code="AC-1",
        name="Air conditioner",
        room=room,
        kind=Actuator.Kind.HVAC,
        protocol=Actuator.Protocol.SIMULATED,
        setpoint_min=Decimal("16"),
        setpoint_max=Decimal("30"),
        unit="℃",
    )


@pytest.fixture
def fan(room):
    return Actuator.objects.create(
        code="FAN-1",
        name="Ventilation",
        room=room,
        kind=Actuator.Kind.VENTILATION,
        protocol=Actuator.Protocol.SIMULATED,
    )


@pytest.fixture
def thermometers(room, make_sensor):
    return [
        make_sensor("T-01", room, period_seconds=60),
        make_sensor("T-02", room, period_seconds=60),
    ]


def rule(room, actuator, mode="switch", **limits) -> ControlRule:
    values = {key: None if v is None else Decimal(str(v)) for key, v in limits.items()}
    return ControlRule.objects.create(
        room=room, quantity="temperature", actuator=actuator, mode=mode, **values
    )


def report(*pairs, at=None) -> list[Command]:
    """Store (sensor, raw value) readings at `at` and run the ingestion listener on them."""
    at = at or NOW
    result = ingest.ingest_readings(
        [{"sensor": sensor.code, "time": at, "value": value} for sensor, value in pairs],
        channel="simulated",
        now=at,
    )
    assert result.stored == len(pairs), result.rejected
    return control.on_readings(result.readings)


def state(actuator):
    actuator.refresh_from_db()
    return actuator.on, actuator.setpoint


# --- the decision, at and just beyond every edge ---------------------------------------------


def _rule(mode="switch", **limits) -> ControlRule:
    values = {key: None if v is None else Decimal(str(v)) for key, v in limits.items()}
    return ControlRule(pk=7, quantity="temperature", mode=mode, **values)


@pytest.mark.parametrize(
    ("value", "on", "expected"),
    [
        (25.0, False, None),  # limits inclusive: at the limit is within
        (25.01, False, "on"),
        (30.0, True, None),  # already on
        (24.51, True, None),  # not yet back by the hysteresis
        (24.5, True, "off"),  # back within [.., high − hysteresis]
        (10.0, True, "off"),  # no low limit: any low value is back
    ],
)
def test_switch_rule_above_with_hysteresis(value, on, expected):
    decision = control.decide(_rule(high=25, hysteresis="0.5"), value, on=on, setpoint=None)
    assert (decision[0] if decision else None) == expected


@pytest.mark.parametrize(
    ("value", "on", "expected"),
    [
        (30.0, False, None),
        (29.99, False, "on"),  # a humidifier below 30 %RH
        (30.99, True, None),
        (31.0, True, "off"),  # back at low + hysteresis
    ],
)
def test_switch_rule_below_with_hysteresis(value, on, expected):
    decision = control.decide(_rule(low=30, hysteresis=1), value, on=on, setpoint=None)
    assert (decision[0] if decision else None) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [(15.5, "off"), (15.49, None), (24.5, "off"), (24.51, None), (14.99, None), (25.01, None)],
)
def test_switch_rule_with_both_limits_switches_off_only_inside_the_band(value, expected):
    decision = control.decide(
        _rule(low=15, high=25, hysteresis="0.5"), value, on=True, setpoint=None
    )
    assert (decision[0] if decision else None) == expected


@pytest.mark.parametrize(
    ("value", "on", "setpoint", "expected"),
    [
        (25.0, False, None, None),
        (25.01, False, None, ("set", Decimal("20"))),
        (17.99, False, None, ("set", Decimal("20"))),
        (18.0, False, None, None),
        (25.01, True, Decimal("20"), None),  # already on at the set-point
        (25.01, True, Decimal("22"), ("set", Decimal("20"))),
        (25.01, False, Decimal("20"), ("set", Decimal("20"))),  # off at the set-point
        (21.0, True, Decimal("22"), None),  # within: a set-point rule leaves it alone
    ],
)
def test_setpoint_rule(value, on, setpoint, expected):
    decision = control.decide(
        _rule("setpoint", low=18, high=25, setpoint=20), value, on=on, setpoint=setpoint
    )
    assert (decision[:2] if decision else None) == expected


# --- the rule engine through the database ----------------------------------------------------


def test_a_switch_rule_commands_on_state_changes_only(room, fan, thermometers):
    t1, _t2 = thermometers
    the_rule = rule(room, fan, high=25, hysteresis="0.5")
    step = dt.timedelta(seconds=60)

    assert report((t1, 25.0), at=NOW - 6 * step) == []
    [on] = report((t1, 26.1), at=NOW - 5 * step)
    assert (on.action, on.source, on.rule, on.issued_by) == ("on", "rule", the_rule, None)
    assert on.reason == f"rule {the_rule.pk}: temperature 26.1 ℃ above 25 ℃"
    assert state(fan) == (True, None)
    # Repeated readings outside, and inside the hysteresis band: nothing new.
    assert report((t1, 27.0), at=NOW - 4 * step) == []
    assert report((t1, 24.51), at=NOW - 3 * step) == []
    [off] = report((t1, 24.5), at=NOW - 2 * step)
    assert off.action == "off"
    assert off.reason == f"rule {the_rule.pk}: temperature 24.5 ℃ back at or below 24.5 ℃"
    assert report((t1, 23.0), at=NOW - step) == []
    assert state(fan) == (False, None)
    assert Command.objects.count() == 2


def test_the_value_is_the_mean_of_the_fresh_sensors_corrected(room, fan, thermometers):
    t1, t2 = thermometers
    rule(room, fan, high=25)
    # 26 and 23.5: mean 24.75, within.
    assert report((t1, 26.0), (t2, 23.5), at=NOW - dt.timedelta(minutes=10)) == []
    # T-02 silent for more than two periods: T-01 alone counts.
    [command] = report((t1, 26.0), at=NOW - dt.timedelta(minutes=10) + dt.timedelta(seconds=121))
    assert "26 ℃ above 25 ℃" in command.reason


def test_the_sensor_correction_applies(room, fan, make_sensor):
    probe = make_sensor("T-09", room, period_seconds=60, correction=Decimal("-1.2"))
    rule(room, fan, high=25)
    assert report((probe, 26.2), at=NOW - dt.timedelta(minutes=2)) == []  # 25.0: within
    [command] = report((probe, 26.3), at=NOW - dt.timedelta(minutes=1))  # 25.1
    assert "temperature 25.1 ℃ above 25 ℃" in command.reason


def test_a_setpoint_rule_sets_once_and_again_after_a_manual_change(room, hvac, thermometers, cast):
    t1, _ = thermometers
    the_rule = rule(room, hvac, "setpoint", low=18, high=25, setpoint=20)
    [command] = report((t1, 25.3), at=NOW - dt.timedelta(minutes=5))
    assert (command.action, command.value) == ("set", Decimal("20"))
    assert state(hvac) == (True, Decimal("20"))
    assert report((t1, 25.6), at=NOW - dt.timedelta(minutes=4)) == []
    control.command_send(
        hvac, action="set", value="23", reason="warmer for a test", actor=cast["equipment_manager"]
    )
    assert report((t1, 24.0), at=NOW - dt.timedelta(minutes=3)) == []  # within: left alone
    [again] = report((t1, 25.2), at=NOW - dt.timedelta(minutes=2))
    assert (again.action, again.value, again.rule) == ("set", Decimal("20"), the_rule)
    assert Command.objects.count() == 3


def test_inactive_rules_actuators_and_stale_sensors_do_nothing(room, hvac, fan, thermometers):
    t1, _ = thermometers
    inactive = rule(room, fan, high=25)
    inactive.active = False
    inactive.save()
    rule(room, hvac, "setpoint", high=25, setpoint=20)
    hvac.active = False
    hvac.save()
    assert report((t1, 30.0), at=NOW - dt.timedelta(minutes=1)) == []
    assert not Command.objects.exists()


def test_evaluate_all_judges_freshness_against_now(room, fan, thermometers):
    rule(room, fan, high=25)
    ingest.ingest_readings(
        [{"sensor": "T-01", "time": NOW - dt.timedelta(minutes=5), "value": 26}],
        channel="simulated",
    )
    assert control.evaluate_all(NOW) == []  # five minutes old: stale (period 60 s)
    [command] = control.evaluate_all(NOW - dt.timedelta(minutes=4))
    assert command.action == "on"
    assert control.evaluate_all(NOW - dt.timedelta(minutes=4)) == []


def test_a_rule_command_that_changes_nothing_is_refused_under_the_lock(room, fan):
    the_rule = rule(room, fan, high=25)
    stale = Actuator.objects.get(pk=fan.pk)
    control.command_send(fan, action="on", reason="rule", rule=the_rule, actor=SYSTEM)
    events = AuditEvent.objects.count()
    assert stale.on is False  # what a second ingester read before the first one committed
    with pytest.raises(ServiceError) as refused:
        control.command_send(stale, action="on", reason="rule", rule=the_rule, actor=SYSTEM)
    assert refused.value.code == "unchanged"
    assert Command.objects.count() == 1
    assert AuditEvent.objects.count() == events


@pytest.mark.django_db(transaction=True)
def test_two_ingesters_at_once_send_one_command(room, fan, thermometers):
    rule(room, fan, high=25)
    ingest.ingest_readings(
        [{"sensor": "T-01", "time": NOW, "value": 27}], channel="simulated", now=NOW
    )
    barrier = threading.Barrier(4)
    results, errors = [], []

    def evaluate():
        try:
            barrier.wait(10)
            results.append(control.evaluate_room(room, NOW))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=evaluate) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors
    assert sorted(len(r) for r in results) == [0, 0, 0, 1]
    assert Command.objects.count() == 1
    assert Actuator.objects.get(pk=fan.pk).on is True


# --- manual commands: refusals, audit, delivery ----------------------------------------------


@pytest.mark.parametrize(
    ("target", "action", "value", "reason", "field", "message"),
    [
        ("hvac", "set", "35", "hot", "value", "The set-point must be between 16 and 30 ℃."),
        ("hvac", "set", "15.9999", "cold", "value", "The set-point must be between 16 and 30 ℃."),
        ("hvac", "set", None, "x", "value", "Give the set-point."),
        ("hvac", "set", "warm", "x", "value", "The set-point must be a number."),
        ("hvac", "set", "NaN", "x", "value", "The set-point must be a finite number."),
        ("fan", "set", "20", "x", "action", "FAN-1 has no set-point: switch it on or off."),
        ("hvac", "on", None, "  ", "reason", "Say why you send this command."),
        ("hvac", "open", None, "x", "action", "The action is one of: on, off, set."),
        ("inactive", "on", None, "x", "actuator", "The actuator AC-1 is not active."),
    ],
)
def test_refused_commands_change_nothing(
    hvac, fan, cast, target, action, value, reason, field, message
):
    if target == "inactive":
        hvac.active = False
        hvac.save()
    actuator = fan if target == "fan" else hvac
    before = state(actuator)
    events = AuditEvent.objects.count()
    with pytest.raises(ServiceError) as refused:
        control.command_send(
            actuator, action=action, value=value, reason=reason, actor=cast["equipment_manager"]
        )
    assert (refused.value.field, refused.value.message) == (field, message)
    assert not Command.objects.exists()
    assert state(actuator) == before
    assert AuditEvent.objects.count() == events


def test_set_points_at_the_range_ends_are_accepted(hvac, cast):
    for value in ("16", "30", Decimal("22.5")):
        control.command_send(
            hvac, action="set", value=value, reason="range end", actor=cast["director"]
        )
    assert state(hvac) == (True, Decimal("22.5"))


def test_a_manual_command_is_audited_with_its_reason_and_delivered(
    hvac, cast, django_capture_on_commit_callbacks
):
    manager = cast["equipment_manager"]
    with django_capture_on_commit_callbacks(execute=True):
        command = control.command_send(
            hvac, action="set", value=21, reason="Calibration at 21 ℃ this afternoon", actor=manager
        )
    command.refresh_from_db()
    assert (command.source, command.issued_by, command.status) == ("manual", manager, "sent")
    assert command.sent_at is not None and command.error == ""
    assert state(hvac) == (True, Decimal("21"))
    created = AuditEvent.objects.get(
        action="actuator.command", object_type="environment.command", operation="create"
    )
    assert created.reason == "Calibration at 21 ℃ this afternoon"
    assert created.actor_label == manager.username
    assert created.changes["action"]["after"] == "set"
    changed = AuditEvent.objects.get(action="actuator.command", object_type="environment.actuator")
    assert changed.changes["on"] == {"before": False, "after": True}
    assert AuditEvent.objects.filter(
        action="actuator.command_delivered", object_id=str(command.pk)
    ).exists()


def test_a_rule_command_is_audited_with_the_rule_and_the_value(room, fan, thermometers):
    t1, _ = thermometers
    the_rule = rule(room, fan, high=25)
    [command] = report((t1, 26.3), at=NOW - dt.timedelta(minutes=1))
    event = AuditEvent.objects.get(action="actuator.command", object_type="environment.command")
    assert event.reason == f"rule {the_rule.pk}: temperature 26.3 ℃ above 25 ℃"
    assert event.actor_type == "system"
    assert event.object_id == str(command.pk)


def test_a_failed_delivery_is_recorded(hvac):
    command = control.command_send(hvac, action="on", reason="test", actor=SYSTEM)
    control.command_delivered(command, False, "device unreachable", actor=SYSTEM)
    command.refresh_from_db()
    assert (command.status, command.error, command.sent_at) == (
        "failed",
        "device unreachable",
        None,
    )


def test_actuator_dict_has_the_status_keys(hvac, cast):
    assert control.actuator_dict(hvac) == {
        "code": "AC-1",
        "name": "Air conditioner",
        "kind": "hvac",
        "kind_label": "air conditioner (set-point)",
        "protocol": "simulated",
        "on": False,
        "setpoint": None,
        "unit": "℃",
        "setpoint_min": 16.0,
        "setpoint_max": 30.0,
        "last_command": None,
    }
    command = control.command_send(
        hvac, action="set", value="20.5", reason="why not", actor=cast["director"]
    )
    hvac.refresh_from_db()
    last = control.actuator_dict(hvac)["last_command"]
    assert last == {
        "action": "set",
        "value": 20.5,
        "source": "manual",
        "reason": "why not",
        "issued_at": command.issued_at.isoformat(),
        "status": "pending",
        "issued_by": str(cast["director"]),
    }
    assert control.actuator_dict(hvac)["on"] is True


# --- the API ---------------------------------------------------------------------------------

ACTUATORS = "/api/v1/environment/actuators"
COMMANDS = "/api/v1/environment/commands"


@pytest.fixture
def english_client(client, settings):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def command_url(code="AC-1"):
    return f"{ACTUATORS}/{code}/commands"


def test_staff_and_devices_list_the_actuators(
    english_client, room, hvac, fan, cast, login, make_device
):
    client = english_client
    assert client.get(ACTUATORS).status_code == 401
    login(cast["customer_a"])
    assert client.get(ACTUATORS).status_code == 403
    login(cast["metrologist"])
    response = client.get(ACTUATORS, {"room": room.pk})
    assert response.status_code == 200
    assert [a["code"] for a in response.json()["items"]] == ["AC-1", "FAN-1"]
    assert response.json()["items"][0] == control.actuator_dict(hvac)
    assert client.get(ACTUATORS, {"room": room.pk + 1000}).json() == {"items": [], "count": 0}
    client.logout()
    _device, raw = make_device()
    response = client.get(ACTUATORS, headers={"Authorization": f"Bearer {raw}"})
    assert response.status_code == 200


@pytest.mark.django_db(transaction=True)
def test_a_controller_commands_by_hand(english_client, room, hvac, cast, login):
    login(cast["equipment_manager"])
    response = english_client.post(
        command_url(),
        {"action": "set", "value": 22, "reason": "Customer asked for 22 ℃"},
        content_type="application/json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["action"] == "set" and body["value"] == 22.0
    assert body["source"] == "manual" and body["issued_by"] == str(cast["equipment_manager"])
    assert body["status"] == "sent"  # simulated: delivered at the commit
    assert body["reason"] == "Customer asked for 22 ℃"
    assert state(hvac) == (True, Decimal("22"))


def test_who_may_command(english_client, room, hvac, cast, login, make_device):
    client = english_client
    body = {"action": "on", "reason": "test"}
    assert client.post(command_url(), body, content_type="application/json").status_code == 401
    for who in ("metrologist", "customer_a", "checker", "quality_manager"):
        login(cast[who])
        response = client.post(command_url(), body, content_type="application/json")
        assert response.status_code == 403, who
    client.logout()
    _device, raw = make_device()
    response = client.post(
        command_url(),
        body,
        content_type="application/json",
        headers={"Authorization": f"Bearer {raw}"},
    )
    assert response.status_code == 403
    assert not Command.objects.exists()
    for who in ("admin", "director", "equipment_manager"):
        login(cast[who])
        response = client.post(command_url(), body, content_type="application/json")
        assert response.status_code == 201, who
    assert Command.objects.count() == 3


def test_a_refused_command_is_422_with_the_message(english_client, room, hvac, cast, login):
    login(cast["director"])
    response = english_client.post(
        command_url(),
        {"action": "set", "value": 40, "reason": "hot"},
        content_type="application/json",
    )
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["message"] == "The set-point must be between 16 and 30 ℃."
    assert error["details"] == [{"loc": ["value"], "message": error["message"]}]
    response = english_client.post(command_url(), {"action": "on"}, content_type="application/json")
    assert response.status_code == 422
    assert response.json()["error"]["message"] == "Say why you send this command."
    assert (
        english_client.post(
            command_url("NOPE"), {"action": "on", "reason": "x"}, content_type="application/json"
        ).status_code
        == 404
    )
    assert not Command.objects.exists()
    assert state(hvac) == (False, None)


def test_the_command_log_is_paginated_and_filtered(
    english_client, room, hvac, fan, cast, login, make_device
):
    for index in range(3):
        control.command_send(hvac, action="set", value=20 + index, reason=f"r{index}", actor=SYSTEM)
    control.command_send(fan, action="on", reason="air", actor=SYSTEM)
    client = english_client
    login(cast["customer_a"])
    assert client.get(COMMANDS).status_code == 403
    login(cast["metrologist"])
    page = client.get(COMMANDS, {"limit": 2}).json()
    assert page["count"] == 4
    assert [c["reason"] for c in page["items"]] == ["air", "r2"]
    page = client.get(COMMANDS, {"limit": 2, "offset": 2}).json()
    assert [c["reason"] for c in page["items"]] == ["r1", "r0"]
    page = client.get(COMMANDS, {"actuator": "FAN-1"}).json()
    assert [c["actuator"] for c in page["items"]] == ["FAN-1"]
    assert client.get(COMMANDS, {"room": room.pk}).json()["count"] == 4
    assert client.get(COMMANDS, {"room": room.pk + 1000}).json()["count"] == 0
    client.logout()
    _device, raw = make_device()
    headers = {"Authorization": f"Bearer {raw}"}
    assert client.get(COMMANDS, headers=headers).status_code == 403


def test_rule_reason_is_written_in_the_lab_language(room, fan, thermometers, settings):
    t1, _ = thermometers
    rule(room, fan, high=25)
    settings.LANGUAGE_CODE = "en"
    with translation.override("zh-hans"):  # whoever happens to be active: not what counts
        [command] = report((t1, 26.0), at=NOW - dt.timedelta(minutes=1))
    assert "above 25 ℃" in command.reason
    assert Sensor.objects.get(code="T-01").last_value == 26.0
