"""Environment pages: who may open each (the lab reads; acknowledging is for the alarm
acknowledgers, manual control for the controllers, and their forms are only shown to them),
what the rooms page and a room's live dashboard show (values with unit, U, age and a colour
per requirement; requirements; open alarms; actuators; 24 h / 7 d statistics), the alarm and
command logs with their filters and pagination, acknowledging, manual control (a refusal is
shown on the form and writes nothing), the ingestion health page, and phone-friendly markup."""

from __future__ import annotations

import datetime as dt
import functools
import re
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from metrolab.core import testing
from metrolab.core.roles import LAB_STAFF
from metrolab.environment.ingest import ingest_readings
from metrolab.environment.models import (
    Actuator,
    Alarm,
    Command,
    IngestCounter,
    Requirement,
    Room,
    Sensor,
)
from metrolab.environment.roles import ALARM_ACKNOWLEDGERS, CONTROLLERS

pytestmark = pytest.mark.django_db

STAFF = set(LAB_STAFF)


def installed() -> dt.datetime:
    """When the page tests' sensors were installed: before any history they report."""
    return timezone.now() - dt.timedelta(days=30)


@pytest.fixture
def english(client, settings):
    from django.utils import translation

    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    with translation.override("en"):
        yield


# The block wrote no environment row and no audit event.
nothing_written = functools.partial(testing.nothing_written, "environment")


def report(sensor: Sensor, *values, step=60, end=None):
    """Ingest `values` for the sensor, one a `step` seconds, the last at `end` (now)."""
    end = end or timezone.now().replace(microsecond=0)
    n = len(values)
    items = [
        {
            "sensor": sensor.code,
            "time": (end - dt.timedelta(seconds=step * (n - 1 - i))).isoformat(),
            "value": v,
        }
        for i, v in enumerate(values)
    ]
    result = ingest_readings(items, channel="simulated")
    assert result.stored == n, result.rejected
    sensor.refresh_from_db()
    return sensor


@pytest.fixture
def t1(room):
    """TL-1's thermometer: U = 0.1 ℃, correction +0.1, reporting every 60 s."""
    return Sensor.objects.create(
        code="T-01",
        name="Bench thermometer",
        room=room,
        quantity="temperature",
        unit="℃",
        correction=Decimal("0.1"),
        uncertainty=Decimal("0.1"),
        installed_at=installed(),
    )


@pytest.fixture
def h1(room):
    return Sensor.objects.create(
        code="H-01",
        name="Hygrometer",
        room=room,
        quantity="humidity",
        unit="%RH",
        installed_at=installed(),
    )


@pytest.fixture
def hvac(room):
    return Actuator.objects.create(
        code="AC-1",
        name="Air conditioner",
        room=room,
        kind="hvac",
        protocol="simulated",
        setpoint_min=Decimal("16"),
        setpoint_max=Decimal("28"),
        unit="℃",
    )


@pytest.fixture
def dehumidifier(room):
    return Actuator.objects.create(
        code="DH-1", name="Dehumidifier", room=room, kind="dehumidifier", protocol="simulated"
    )


def make_alarm(sensor, *, kind="high", minutes_ago=5, **fields):
    req = Requirement.objects.filter(
        room=sensor.room, quantity=sensor.quantity, method__isnull=True
    ).first()
    raised = timezone.now() - dt.timedelta(minutes=minutes_ago)
    fields.setdefault("value", 26.3)
    fields.setdefault("limit", req.high if kind == "high" else req.low)
    return Alarm.objects.create(
        room=sensor.room,
        sensor=sensor,
        requirement=None if kind == "offline" else req,
        kind=kind,
        message=fields.pop("message", f"{sensor.room.code} {sensor.code} {kind}"),
        raised_at=raised,
        **fields,
    )


def html(response) -> str:
    return response.content.decode()


def article(page: str, marker: str) -> str:
    """The <article> of the page that carries `marker`."""
    at = page.index(marker)
    return page[page.rindex("<article", 0, at) : page.index("</article>", at)]


# --- access ---------------------------------------------------------------------------------


def test_every_page_opens_for_the_lab_only(cast, client, room, t1):
    alarm = make_alarm(t1)
    pages = {
        reverse("environment:rooms"): STAFF,
        reverse("environment:room", args=[room.pk]): STAFF,
        reverse("environment:alarms"): STAFF,
        reverse("environment:alarms") + f"?room={room.pk}&status=open": STAFF,
        reverse("environment:commands"): STAFF,
        reverse("environment:devices"): STAFF,
    }
    for url, allowed in pages.items():
        for username, user in cast.items():
            client.force_login(user)
            status = client.get(url).status_code
            expected = 200 if username in allowed else 403
            assert status == expected, f"{username} on {url}: {status}, expected {expected}"
    client.logout()
    response = client.get(reverse("environment:rooms"))
    assert response.status_code == 302 and "/login/" in response["Location"]
    # The writes: only their roles; GET is not allowed.
    for username, user in cast.items():
        client.force_login(user)
        ack = client.post(reverse("environment:alarm_acknowledge", args=[alarm.pk]), {})
        assert ack.status_code == (302 if username in ALARM_ACKNOWLEDGERS else 403), username
        cmd = client.post(reverse("environment:room_command", args=[room.pk]), {})
        assert cmd.status_code == (422 if username in CONTROLLERS else 403), username
    client.force_login(cast["admin"])
    assert client.get(reverse("environment:alarm_acknowledge", args=[alarm.pk])).status_code == 405
    assert client.get(reverse("environment:room_command", args=[room.pk])).status_code == 405
    assert client.get(reverse("environment:room", args=[99999])).status_code == 404


def test_the_status_api_answers_the_browser_session(cast, login, room, t1):
    """The status and series APIs answer a browser's session too (not only a token)."""
    report(t1, 21.0)
    client = login(cast["metrologist"])
    status = client.get(f"/api/v1/environment/rooms/{room.pk}/status")
    assert status.status_code == 200
    assert status.json()["sensors"][0]["code"] == "T-01"
    series = client.get("/api/v1/environment/sensors/T-01/series")
    assert series.status_code == 200 and len(series.json()["points"]) == 1


# --- the rooms ------------------------------------------------------------------------------


def test_rooms_show_their_colour_alarms_and_values(cast, login, room, t1, h1, make_sensor):
    report(t1, 21.9)  # corrected 22.0: within 15–25
    report(h1, 45)
    hot = Room.objects.create(code="ML-1", name="Mobile lab", kind="mobile_lab")
    Requirement.objects.create(
        room=hot, quantity="temperature", low=Decimal("15"), high=Decimal("25"), unit="℃"
    )
    report(make_sensor("T-ML", hot), 25.4)
    silent = Room.objects.create(code="MR-1", name="Machine room", kind="machine_room")
    Requirement.objects.create(room=silent, quantity="temperature", high=Decimal("30"), unit="℃")
    make_sensor("T-MR", silent)
    alarmed = Room.objects.create(code="PL-1", name="Pressure lab")
    Requirement.objects.create(
        room=alarmed, quantity="temperature", low=Decimal("18"), high=Decimal("22"), unit="℃"
    )
    offline_probe = report(make_sensor("T-PL", alarmed), 20)
    make_alarm(offline_probe, kind="offline")
    make_alarm(offline_probe, kind="high", cleared_at=timezone.now(), status="cleared")
    Room.objects.create(code="OLD-1", name="Closed store", active=False)

    page = html(login(cast["checker"]).get(reverse("environment:rooms")))
    states = dict(re.findall(r'data-room="([^"]+)" data-state="([^"]+)"', page))
    assert states == {"TL-1": "within", "ML-1": "outside", "MR-1": "stale", "PL-1": "outside"}
    assert "OLD-1" not in page
    pl = article(page, 'data-room="PL-1"')
    assert f"?room={alarmed.pk}&amp;status=open" in pl
    assert 'class="badge red"' in pl
    assert '<span class="badge state-badge red" data-state="outside">超出要求/报警</span>' in pl
    assert f"?room={room.pk}&amp;status=open" not in page
    tl = article(page, 'data-room="TL-1"')
    assert '<span class="badge state-badge green" data-state="within">符合要求</span>' in tl
    mr = article(page, 'data-room="MR-1"')
    assert '<span class="badge state-badge grey" data-state="stale">无数据</span>' in mr
    assert "<strong>22</strong> ℃" in tl
    assert "<strong>45</strong> %RH" in tl
    assert reverse("environment:room", args=[room.pk]) in tl


def test_the_rooms_page_refreshes_its_cards_in_place(cast, login, room, t1):
    """The cards carry a poll address (core/poll.js swaps them every 15 s); that address
    answers the cards alone, with the values as they are now."""
    client = login(cast["checker"])
    report(t1, 21.9)
    page = html(client.get(reverse("environment:rooms")))
    assert 'data-poll="/environment/?part=cards" data-poll-every="15000"' in page
    assert "core/poll.js" in page
    report(t1, 23.4, end=timezone.now().replace(microsecond=0) + dt.timedelta(seconds=1))
    cards = html(client.get(reverse("environment:rooms") + "?part=cards"))
    assert cards.startswith('<div class="env-rooms"') and "<html" not in cards
    assert "<strong>23.5</strong> ℃" in article(cards, 'data-room="TL-1"')


def test_the_rooms_page_query_count_does_not_grow_per_sensor(
    cast, login, room, t1, h1, django_assert_max_num_queries
):
    report(t1, 21)
    report(h1, 45)
    client = login(cast["metrologist"])
    with django_assert_max_num_queries(20):
        assert client.get(reverse("environment:rooms")).status_code == 200


# --- the dashboard --------------------------------------------------------------------------


@pytest.fixture
def method_requirement(room):
    from metrolab.methods.models import Method

    method = Method.objects.create(
        kind="JJF",
        code="JJF 1171",
        year="2007",
        title="温度巡回检测仪校准规范",
        effective_date=dt.date(2007, 8, 21),
    )
    return Requirement.objects.create(
        room=room,
        quantity="temperature",
        low=Decimal("18"),
        high=Decimal("22"),
        unit="℃",
        method=method,
        hysteresis=Decimal("0.2"),
        alarm_delay_seconds=60,
    )


def test_the_dashboard_shows_values_requirements_alarms_and_actuators(
    cast, login, english, room, t1, h1, hvac, dehumidifier, method_requirement
):
    report(t1, 20.0, 21.0, 22.4)  # corrected 22.5: within the room's 15–25, above 22 (method)
    h1.last_time = timezone.now() - dt.timedelta(minutes=10)  # silent: older than 2 × 60 s
    h1.last_value = 45
    h1.save()
    alarm = make_alarm(t1, message="TL-1 T-01 22.5 ℃ above 22 ℃ required by JJF 1171")
    old = make_alarm(t1, minutes_ago=90, message="earlier", status="acknowledged")
    old.acknowledged_at = timezone.now() - dt.timedelta(minutes=80)
    old.acknowledged_by = cast["metrologist"]
    old.cleared_at = timezone.now() - dt.timedelta(minutes=70)
    old.status = "cleared"
    old.save()  # cleared and acknowledged: no longer on the dashboard
    Command.objects.create(
        actuator=hvac,
        action="set",
        value=Decimal("20.5"),
        source="manual",
        issued_by=cast["equipment_manager"],
        reason="cooling down for a calibration",
        issued_at=timezone.now(),
        status="sent",
    )
    hvac.on, hvac.setpoint = True, Decimal("20.5")
    hvac.save()

    client = login(cast["metrologist"])
    response = client.get(reverse("environment:room", args=[room.pk]))
    assert response.status_code == 200
    page = html(response)
    # Values with unit, U, age, and a colour per requirement.
    card = article(page, 'data-testid="sensor-T-01"')
    assert 'data-state="outside"' in card
    assert 'data-testid="value-T-01">22.5</span> <span class="unit">℃' in card
    assert "U = 0.1 ℃ (k=2)" in card
    assert re.search(r"\d+ s ago", card)
    room_req = Requirement.objects.get(room=room, quantity="temperature", method=None)
    assert f'data-requirement="{room_req.pk}" data-state="within"' in card
    assert f'data-requirement="{method_requirement.pk}" data-state="outside"' in card
    humid = article(page, 'data-testid="sensor-H-01"')
    assert 'data-state="stale"' in humid[:200]
    assert "10 min ago" in humid
    # The room is red (an open alarm); requirements listed with their verdicts.
    assert re.search(r'data-state="outside" data-testid="room-state"', page)
    reqs = page[page.index('data-testid="requirements"') :]
    assert "JJF 1171" in reqs and "hysteresis 0.2, delay 60 s" in reqs
    verdicts = dict(re.findall(r'<tr data-requirement="(\d+)">.*?data-verdict="(\w+)"', reqs, re.S))
    humidity_req = Requirement.objects.get(room=room, quantity="humidity")
    assert verdicts == {
        str(room_req.pk): "within",
        str(method_requirement.pk): "outside",
        str(humidity_req.pk): "no_data",
    }
    # Alarms: the open one, with the acknowledge form for this metrologist.
    alarms = page[page.index('data-testid="alarms"') : page.index('id="requirements"')]
    assert f'data-alarm-id="{alarm.pk}"' in alarms and "earlier" not in alarms
    assert "required by JJF 1171" in alarms
    assert f'data-testid="acknowledge-form-{alarm.pk}"' in alarms
    assert "value 26.3 ℃" in alarms and "limit 25 ℃" in alarms
    # Actuators with their state and last command; no manual control for a metrologist.
    acts = page[page.index('data-testid="actuators"') :]
    assert 'data-testid="actuator-AC-1"' in acts and 'data-on="true"' in acts
    assert "20.5 ℃" in acts and "cooling down for a calibration" in acts
    assert 'data-testid="actuator-DH-1"' in acts and "no command yet" in acts
    assert 'data-testid="command-form"' not in page
    # 24 h and 7 d statistics of the corrected values.
    trend = page[page.index('data-testid="trend-T-01-24h"') :]
    stats = dict(re.findall(r'class="stat-(\w+)">([^<]*)<', trend[: trend.index("</figure>")]))
    assert stats == {"min": "20.1", "max": "22.5", "mean": "21.233", "count": "3"}
    assert 'data-testid="trend-T-01-7d"' in page
    # Refreshed in place by core/poll.js from server-rendered fragments: no script of its own.
    assert f'data-poll="/environment/rooms/{room.pk}/?part=live" data-poll-every="5000"' in page
    assert f'data-poll="/environment/rooms/{room.pk}/?part=trends" data-poll-every="60000"' in page
    assert "core/poll.js" in page and "dashboard.js" not in page
    assert "environment-config" not in page
    assert response["Content-Security-Policy"]
    # Badges: the shared component, coloured by the one verdict code (selectors.verdict_badge)
    # or by the tone registered for the choice; the stylesheet in <head>.
    assert (
        '<span class="badge state-badge red" data-state="outside" data-testid="room-state">'
        "outside / alarm</span>" in page
    )
    verdict_badges = re.findall(
        r'<span class="badge verdict (\w+)" data-verdict="(\w+)">([^<]*)<', reqs
    )
    assert sorted(verdict_badges) == [
        ("green", "within", "within"),
        ("grey", "no_data", "no data"),
        ("red", "outside", "outside"),
    ]
    assert (
        '<span class="badge alarm-kind red" data-kind="high">above the upper limit</span>' in alarms
    )
    assert '<span class="badge alarm-status yellow" data-status="raised">raised</span>' in alarms
    assert '<span class="badge cmd-status green" data-status="sent">sent</span>' in acts
    head, body = page.split("</head>", 1)
    assert 'href="/static/environment/environment.css"' in head
    assert 'rel="stylesheet"' not in body


def test_the_dashboard_statistics_of_huge_values_do_not_overflow(cast, login, english, room):
    """A sensor with no plausible range reporting 1.7e308 twice: the 24 h and 7 d means are
    1.7e308 (their sums would overflow), and the page opens."""
    from metrolab.environment.views import number

    big = Sensor.objects.create(
        code="T-BIG",
        name="Broken probe",
        room=room,
        quantity="temperature",
        unit="℃",
        installed_at=installed(),
    )
    report(big, 1.7e308, 1.7e308, step=10)
    client = login(cast["metrologist"])
    response = client.get(reverse("environment:room", args=[room.pk]))
    assert response.status_code == 200
    page = html(response)
    for window in ("24h", "7d"):
        trend = page[page.index(f'data-testid="trend-T-BIG-{window}"') :]
        stats = dict(re.findall(r'class="stat-(\w+)">([^<]*)<', trend[: trend.index("</figure>")]))
        assert stats == {
            "min": number(1.7e308),
            "max": number(1.7e308),
            "mean": number(1.7e308),
            "count": "2",
        }


def test_the_dashboard_query_count_does_not_grow_per_alarm(
    cast, login, room, t1, h1, hvac, dehumidifier, django_assert_max_num_queries
):
    report(t1, 21, 22, 23)
    for i in range(30):
        make_alarm(t1, minutes_ago=i + 1)
    _command(hvac, reason="x")
    client = login(cast["equipment_manager"])
    with django_assert_max_num_queries(25):
        assert client.get(reverse("environment:room", args=[room.pk])).status_code == 200


def test_acknowledge_and_control_forms_are_only_shown_to_their_roles(cast, login, room, t1, hvac):
    alarm = make_alarm(t1)
    url = reverse("environment:room", args=[room.pk])
    checker = html(login(cast["checker"]).get(url))
    assert f'data-testid="acknowledge-form-{alarm.pk}"' not in checker
    assert 'data-testid="command-form"' not in checker
    manager = html(login(cast["equipment_manager"]).get(url))
    assert f'data-testid="acknowledge-form-{alarm.pk}"' in manager
    assert 'data-testid="command-form"' in manager
    assert '<option value="AC-1">AC-1 Air conditioner</option>' in manager


def test_the_rooms_overview_and_the_dashboard_judge_a_room_alike(
    cast, login, room, t1, h1, method_requirement
):
    """A method's requirement not met makes the room red on its card as on its dashboard
    (one verdict, `selectors.room_boards`), and the card's value red too."""
    report(t1, 22.4)  # corrected 22.5: within the room's 15–25, above the method's 18–22
    report(h1, 45)
    client = login(cast["metrologist"])
    card = article(html(client.get(reverse("environment:rooms"))), 'data-room="TL-1"')
    dashboard = html(client.get(reverse("environment:room", args=[room.pk])))
    assert 'data-room="TL-1" data-state="outside"' in card
    assert '<li class="state-outside" data-sensor="T-01">' in card
    assert '<li class="state-within" data-sensor="H-01">' in card
    assert 'data-state="outside" data-testid="room-state"' in dashboard
    assert 'data-state="outside" data-testid="sensor-T-01"' in dashboard


def test_the_dashboard_fragments_answer_alone_with_the_values_as_they_are_now(
    cast, login, english, room, t1
):
    """The live part and the trends are fragments of their own (core/poll.js swaps them in):
    after a new reading and an alarm, the live part shows the value, the red state, the alarm
    with its acknowledge form going back to the dashboard, and says it is live; the trends
    are drawn on the server (SVG) with the requirement band and the values outside marked."""
    report(t1, 20.0, end=timezone.now().replace(microsecond=0) - dt.timedelta(seconds=30))
    client = login(cast["metrologist"])
    url = reverse("environment:room", args=[room.pk])
    first = html(client.get(url))
    assert (
        'data-live="initial"' in first and 'data-state="within" data-testid="sensor-T-01"' in first
    )
    report(t1, 26.2)  # corrected 26.3: above 25
    alarm = make_alarm(t1)
    live = html(client.get(url + "?part=live"))
    assert live.startswith('<div id="room-live"') and "<html" not in live
    assert 'data-testid="value-T-01">26.3</span>' in live
    assert 'data-state="outside" data-testid="sensor-T-01"' in live
    assert 'data-state="outside" data-testid="room-state"' in live
    assert 'data-live="ok"' in live and "Live · updated at" in live
    assert f'data-testid="acknowledge-form-{alarm.pk}"' in live
    assert f'name="next" value="{url}"' in live
    assert 'data-testid="open-alarm-count">1</span>' in live
    assert 'id="trends"' not in live and 'data-testid="command-form"' not in live
    trends = html(client.get(url + "?part=trends"))
    assert trends.startswith('<section id="trends"') and "<html" not in trends
    figure = article(trends, 'data-testid="trend-T-01-24h"')
    figure = figure[figure.index("<figure") : figure.index("</figure>")]
    assert 'data-points="2"' in figure
    assert '<path d="M' in figure and 'class="line"' in figure
    assert figure.count('class="band"') == 1
    assert figure.count('class="outside"') == 1  # 26.3 marked
    assert 'class="stat-max">26.3<' in figure
    week = trends[trends.index('data-testid="trend-T-01-7d"') :]
    assert 'class="stat-count">2<' in week[: week.index("</figure>")]  # the hour's bucket


def test_a_window_without_readings_says_so(cast, login, english, room, t1):
    page = html(login(cast["metrologist"]).get(reverse("environment:room", args=[room.pk])))
    day = page[page.index('data-testid="trend-T-01-24h"') :]
    day = day[: day.index("</figure>")]
    assert "No readings in this period." in day and "<svg" not in day
    assert 'class="stat-count">0<' in day


def test_a_room_without_sensors_or_data_is_grey(cast, login, room):
    page = html(login(cast["metrologist"]).get(reverse("environment:room", args=[room.pk])))
    assert 'data-state="stale" data-testid="room-state"' in page
    assert 'data-testid="sensors"' in page


# --- acknowledging --------------------------------------------------------------------------


def test_acknowledging_from_the_dashboard(cast, login, english, room, t1):
    alarm = make_alarm(t1)
    client = login(cast["metrologist"])
    dashboard = reverse("environment:room", args=[room.pk])
    response = client.post(
        reverse("environment:alarm_acknowledge", args=[alarm.pk]),
        {"comment": "Door left open; closed it.", "next": dashboard},
    )
    assert response.status_code == 302 and response["Location"] == dashboard
    alarm.refresh_from_db()
    assert alarm.status == "acknowledged"
    assert alarm.acknowledged_by == cast["metrologist"]
    assert alarm.comment == "Door left open; closed it."
    page = html(client.get(dashboard))
    assert "Alarm acknowledged" in page
    assert f'data-testid="acknowledge-form-{alarm.pk}"' not in page
    assert "acknowledged by Metrologist" in page


def test_acknowledging_refusals_change_nothing(cast, login, english, room, t1):
    alarm = make_alarm(t1)
    client = login(cast["quality_manager"])
    url = reverse("environment:alarm_acknowledge", args=[alarm.pk])
    with nothing_written():
        response = client.post(url, {"comment": "   "}, follow=True)
    assert "This field is required." in html(response)
    # A redirect target elsewhere is not followed.
    with nothing_written():
        response = client.post(url, {"comment": "", "next": "https://evil.example/"})
    assert response["Location"] == reverse("environment:room", args=[room.pk])
    client.post(url, {"comment": "Checked the HVAC."})
    with nothing_written():
        response = client.post(url, {"comment": "Again."}, follow=True)
    assert "already acknowledged by Quality Manager" in html(response)
    assert (
        client.post(reverse("environment:alarm_acknowledge", args=[99999]), {}).status_code == 404
    )


# --- the alarm log --------------------------------------------------------------------------


def test_the_alarm_log_filters(cast, login, english, room, t1, h1):
    other = Room.objects.create(code="ML-1", name="Mobile lab")
    Requirement.objects.create(room=other, quantity="temperature", high=Decimal("30"), unit="℃")
    t9 = Sensor.objects.create(
        code="T-ML", name="T-ML", room=other, quantity="temperature", unit="℃"
    )  # no readings: its installation does not matter
    high = make_alarm(t1, minutes_ago=10)
    low = make_alarm(t1, kind="low", minutes_ago=20, value=14.0, status="acknowledged")
    low.acknowledged_at, low.acknowledged_by = timezone.now(), cast["admin"]
    low.save()
    offline = make_alarm(h1, kind="offline", value=None, limit=None)
    cleared = make_alarm(t9, minutes_ago=60 * 24 * 3, status="cleared", cleared_at=timezone.now())
    client = login(cast["director"])
    url = reverse("environment:alarms")

    def shown(query=""):
        page = html(client.get(url + query))
        return {int(pk) for pk in re.findall(r'data-testid="alarm-row-(\d+)"', page)}

    assert shown() == {high.pk, low.pk, offline.pk, cleared.pk}
    assert shown(f"?room={room.pk}") == {high.pk, low.pk, offline.pk}
    assert shown("?status=open") == {high.pk, low.pk, offline.pk}
    assert shown("?status=unacknowledged") == {high.pk, offline.pk, cleared.pk}
    assert shown("?status=acknowledged") == {low.pk}
    assert shown("?status=cleared") == {cleared.pk}
    assert shown("?kind=offline") == {offline.pk}
    assert shown(f"?kind=high&room={other.pk}") == {cleared.pk}
    today = timezone.localdate()
    raised_today = {
        a.pk for a in (high, low, offline, cleared) if timezone.localdate(a.raised_at) == today
    }
    assert shown(f"?since={today.isoformat()}") == raised_today
    three_days_ago = timezone.localtime(cleared.raised_at).date()
    assert shown(f"?since={three_days_ago}&until={three_days_ago}") == {cleared.pk}
    # Acknowledge forms for the unacknowledged rows only.
    page = html(client.get(url))
    assert f'data-testid="acknowledge-form-{high.pk}"' in page
    assert f'data-testid="acknowledge-form-{low.pk}"' not in page
    assert f'data-testid="acknowledge-form-{cleared.pk}"' in page
    # A bad filter is said and shows everything rather than guessing.
    bad = html(client.get(url + f"?since={today}&until={today - dt.timedelta(days=1)}"))
    assert "The period ends before it starts." in bad
    bad = html(client.get(url + "?kind=loud"))
    assert "Select a valid choice." in bad


def test_the_alarm_log_acknowledges_from_the_list(cast, login, room, t1):
    alarm = make_alarm(t1)
    client = login(cast["admin"])
    log = reverse("environment:alarms") + "?status=unacknowledged"
    response = client.post(
        reverse("environment:alarm_acknowledge", args=[alarm.pk]),
        {"comment": "Sensor re-seated.", "next": log},
    )
    assert response["Location"] == log
    alarm.refresh_from_db()
    assert alarm.acknowledged_by == cast["admin"] and alarm.status == "acknowledged"
    assert f'data-testid="alarm-row-{alarm.pk}"' not in html(client.get(log))


def test_the_alarm_log_pages_by_50(cast, login, room, t1):
    for i in range(51):
        make_alarm(t1, minutes_ago=i + 1, message=f"alarm {i}")
    client = login(cast["metrologist"])
    first = html(client.get(reverse("environment:alarms")))
    assert len(re.findall(r'data-testid="alarm-row-', first)) == 50
    assert "page=2" in first
    second = html(client.get(reverse("environment:alarms") + "?page=2"))
    assert len(re.findall(r'data-testid="alarm-row-', second)) == 1
    assert "alarm 50" in second


# --- the command log ------------------------------------------------------------------------


def _command(actuator, *, source="manual", minutes_ago=1, **fields):
    fields.setdefault("reason", "test")
    return Command.objects.create(
        actuator=actuator,
        action=fields.pop("action", "on"),
        source=source,
        issued_at=timezone.now() - dt.timedelta(minutes=minutes_ago),
        **fields,
    )


def test_the_command_log_filters_and_pages(cast, login, english, room, hvac, dehumidifier):
    from metrolab.environment.models import ControlRule

    rule = ControlRule.objects.create(
        room=room,
        quantity="humidity",
        actuator=dehumidifier,
        mode="switch",
        high=Decimal("60"),
        hysteresis=Decimal("3"),
    )
    manual = _command(
        hvac,
        action="set",
        value=Decimal("21"),
        issued_by=cast["equipment_manager"],
        reason="before the 10:00 calibration",
        status="sent",
        sent_at=timezone.now(),
    )
    auto = _command(
        dehumidifier, source="rule", rule=rule, reason="humidity 62 %RH above 60", status="failed"
    )
    auto.error = "broker unreachable"
    auto.save()
    other_room = Room.objects.create(code="ML-1", name="Mobile lab")
    fan = Actuator.objects.create(code="FAN-9", name="Fan", room=other_room, kind="ventilation")
    far = _command(fan, minutes_ago=60 * 24 * 10)
    client = login(cast["checker"])
    url = reverse("environment:commands")

    def shown(query=""):
        page = html(client.get(url + query))
        return {int(pk) for pk in re.findall(r'data-testid="command-row-(\d+)"', page)}

    assert shown() == {manual.pk, auto.pk, far.pk}
    assert shown(f"?room={room.pk}") == {manual.pk, auto.pk}
    assert shown(f"?actuator={dehumidifier.pk}") == {auto.pk}
    assert shown("?source=rule") == {auto.pk}
    assert shown("?source=manual") == {manual.pk, far.pk}
    assert shown(f"?since={timezone.localdate()}") == {manual.pk, auto.pk}
    page = html(client.get(url))
    assert "before the 10:00 calibration" in page and "21 ℃" in page
    assert "broker unreachable" in page and 'data-status="failed"' in page
    assert "Select a valid choice." in html(client.get(url + "?source=robot"))
    for i in range(50):
        _command(fan, minutes_ago=i + 2)
    assert len(re.findall(r"data-testid=\"command-row-", html(client.get(url)))) == 50
    assert len(re.findall(r"data-testid=\"command-row-", html(client.get(url + "?page=2")))) == 3


# --- manual control -------------------------------------------------------------------------


def test_manual_control_switches_and_sets(cast, login, english, room, hvac, dehumidifier):
    client = login(cast["equipment_manager"])
    url = reverse("environment:room_command", args=[room.pk])
    response = client.post(
        url, {"actuator": "DH-1", "action": "on", "value": "", "reason": "damp after cleaning"}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("environment:room", args=[room.pk]) + "#actuators"
    command = Command.objects.get(actuator=dehumidifier)
    assert (command.action, command.source, command.issued_by, command.reason) == (
        "on",
        "manual",
        cast["equipment_manager"],
        "damp after cleaning",
    )
    dehumidifier.refresh_from_db()
    assert dehumidifier.on is True
    response = client.post(
        url, {"actuator": "AC-1", "action": "set", "value": "20.5", "reason": "calibration at 20"}
    )
    assert response.status_code == 302
    hvac.refresh_from_db()
    assert hvac.on is True and hvac.setpoint == Decimal("20.5")
    page = html(client.get(reverse("environment:room", args=[room.pk])))
    assert "Command sent to AC-1." in page
    assert "calibration at 20" in page


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"actuator": "AC-1", "action": "set", "value": "35", "reason": "hot"}, "between 16"),
        ({"actuator": "DH-1", "action": "set", "value": "20", "reason": "x"}, "has no set-point"),
        ({"actuator": "AC-1", "action": "set", "value": "", "reason": "x"}, "Give the set-point."),
        (
            {"actuator": "AC-1", "action": "on", "value": "", "reason": ""},
            "This field is required.",
        ),
        (
            {"actuator": "XX-9", "action": "on", "value": "", "reason": "x"},
            "Select a valid choice.",
        ),
        (
            {"actuator": "AC-1", "action": "boost", "value": "", "reason": "x"},
            "Select a valid choice.",
        ),
    ],
)
def test_manual_control_refusals_are_shown_on_the_form_and_change_nothing(
    cast, login, english, room, hvac, dehumidifier, data, message
):
    client = login(cast["director"])
    with nothing_written():
        response = client.post(reverse("environment:room_command", args=[room.pk]), data)
    assert response.status_code == 422
    page = html(response)
    form = page[
        page.index('data-testid="command-form"') : page.index(
            "</form>", page.index('data-testid="command-form"')
        )
    ]
    assert message in form
    assert '<details class="manual" open>' in page  # the form stays open with what was tried


def test_an_inactive_actuator_is_not_offered_and_cannot_be_commanded(
    cast, login, english, room, hvac
):
    hvac.active = False
    hvac.save()
    client = login(cast["admin"])
    page = html(client.get(reverse("environment:room", args=[room.pk])))
    assert 'data-testid="command-form"' not in page
    with nothing_written():
        response = client.post(
            reverse("environment:room_command", args=[room.pk]),
            {"actuator": "AC-1", "action": "on", "reason": "x"},
        )
    assert response.status_code == 422


# --- ingestion health -----------------------------------------------------------------------


def test_the_ingestion_health_page(cast, login, english, room, t1, h1, make_device):
    device, _raw = make_device("probe-7")
    t1.device = device
    t1.save()
    ingest_readings(
        [
            {"sensor": "T-01", "time": timezone.now().isoformat(), "value": 21},
            {"sensor": "T-01", "time": timezone.now().isoformat(), "value": "NaN"},
        ],
        device=device,
        channel="http",
    )
    h1.last_time = timezone.now() - dt.timedelta(hours=3)
    h1.last_value = 40
    h1.save()
    Sensor.objects.create(
        code="T-OFF", name="retired", room=room, quantity="temperature", unit="℃", active=False
    )
    client = login(cast["receptionist"])
    url = reverse("environment:devices")
    page = html(client.get(url))
    counter = IngestCounter.objects.get(device=device, channel="http")
    assert (counter.accepted, counter.rejected) == (1, 1)
    row = page[page.index('data-testid="counter-probe-7-http"') :]
    row = row[: row.index("</tr>")]
    assert '<td data-label="Accepted" class="num">1</td>' in row
    assert "The value must be a finite number." in row
    rows = dict(re.findall(r'data-sensor="([^"]+)" data-stale="(\w+)"', page))
    assert rows == {"T-01": "false", "H-01": "true"}
    assert "3 h ago" in page
    stale_only = html(client.get(url + "?stale=on"))
    assert dict(re.findall(r'data-sensor="([^"]+)" data-stale="(\w+)"', stale_only)) == {
        "H-01": "true"
    }
    other = Room.objects.create(code="ML-1", name="Mobile lab")
    Sensor.objects.create(code="T-ML", name="T-ML", room=other, quantity="temperature", unit="℃")
    by_room = html(client.get(url + f"?room={other.pk}"))
    assert dict(re.findall(r'data-sensor="([^"]+)" data-stale="(\w+)"', by_room)) == {
        "T-ML": "true"
    }


# --- phone-friendly markup ------------------------------------------------------------------


def test_pages_are_phone_friendly_and_need_no_inline_code(cast, login, room, t1, hvac):
    report(t1, 21)
    alarm = make_alarm(t1)
    _command(hvac, reason="x")
    client = login(cast["admin"])
    for url in (
        reverse("environment:rooms"),
        reverse("environment:room", args=[room.pk]),
        reverse("environment:alarms"),
        reverse("environment:commands"),
        reverse("environment:devices"),
    ):
        page = html(client.get(url))
        assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in page
        assert "environment/environment.css" in page
        assert " style=" not in page, url  # the CSP allows no inline styles
        for script in re.findall(r"<script\b[^>]*>", page):
            assert " src=" in script or 'type="application/json"' in script, (url, script)
        # Tables fold into cards on a phone: every cell says what it is.
        for cell in re.findall(r"<td\b[^>]*>", page):
            assert "data-label=" in cell or "colspan=" in cell, (url, cell)
    assert alarm.pk
