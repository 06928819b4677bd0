"""Browser journey (issue 6, Proof: "the dashboard shows a value change and an alarm appearing
without reload"): a metrologist opens the temperature lab's live dashboard; a new reading is
ingested by the test (the same `ingest_readings` the HTTP, MQTT and Modbus channels call) and
the value changes on the open page; an out-of-range reading raises an alarm (the alarm engine
listening to ingestion) and the alarm appears on the open page, the value and the room turn
red; the metrologist acknowledges it from the page. The same dashboard on a 390 px phone, and
its "connection lost" indicator when its live part cannot be refreshed.

Arranged with the ORM (a room, its 15–25 ℃ requirement, a sensor with a first reading).
The UI stays in its default language (Chinese): the assertions read values, CSS states and
``data-testid`` hooks, never the wording. Screenshots: /tmp/e2e-environment-*.png.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from decimal import Decimal

import pytest
from django.db import connections
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from e2e.conftest import PHONE, SCREENSHOTS, sign_in
from metrolab.environment import alarms, ingest, views
from metrolab.environment.models import Alarm, Requirement, Room, Sensor

pytestmark = pytest.mark.browser

WAIT_MS = 15_000  # a few refreshes of the live part (every 5 s)
LIVE_PART = re.compile(r".*/environment/rooms/\d+/\?part=live$")


@pytest.fixture
def alarm_engine(monkeypatch):
    """The alarm engine listens to ingestion (the app registers it; make sure it does here)."""
    if alarms.on_readings not in ingest.ingest_listeners:
        monkeypatch.setattr(
            ingest, "ingest_listeners", [*ingest.ingest_listeners, alarms.on_readings]
        )


@pytest.fixture
def fast_poll(monkeypatch):
    """The dashboard polls its status every second instead of every five: the same page, the
    same polling, a shorter wait for each change."""
    monkeypatch.setattr(views, "POLL_SECONDS", 1)


def _ingest(sensor: Sensor, value: float) -> None:
    result = ingest.ingest_readings(
        [{"sensor": sensor.code, "time": timezone.now().isoformat(), "value": value}],
        channel="simulated",
    )
    assert result.stored == 1, result.rejected
    connections.close_all()


def _value(page, code: str) -> str:
    return page.inner_text(f"[data-testid=value-{code}]").strip()


def test_dashboard_shows_a_new_value_and_an_alarm_without_reload(
    live_server, cast, new_page, alarm_engine, fast_poll
):
    base = live_server.url
    room = Room.objects.create(code="TL-1", name="温度实验室 Temperature lab")
    Requirement.objects.create(
        room=room,
        quantity="temperature",
        low=Decimal("15"),
        high=Decimal("25"),
        unit="℃",
        hysteresis=Decimal("0.2"),
        alarm_delay_seconds=0,
    )
    sensor = Sensor.objects.create(
        code="T-01",
        name="工作台温度计 Bench thermometer",
        room=room,
        quantity="temperature",
        unit="℃",
        uncertainty=Decimal("0.1"),
        period_seconds=60,
        installed_at=timezone.now() - dt.timedelta(days=30),
    )
    ingest.ingest_readings(
        [
            {
                "sensor": "T-01",
                "time": (timezone.now() - dt.timedelta(seconds=30)).isoformat(),
                "value": 21.0,
            }
        ],
        channel="simulated",
    )
    connections.close_all()
    dashboard = base + reverse("environment:room", args=[room.pk])

    # 1. The metrologist opens the dashboard: the value, green, the connection live.
    page = new_page(viewport={"width": 1280, "height": 900})
    sign_in(page, base, "metrologist")
    page.goto(dashboard)
    assert _value(page, "T-01") == "21"
    card = page.locator("[data-testid=sensor-T-01]")
    assert card.get_attribute("data-state") == "within"
    page.wait_for_selector("[data-testid=live][data-live=ok]", timeout=WAIT_MS)
    page.wait_for_selector(  # a dot: a zero-length path with round caps (no box of its own)
        "[data-testid=trend-T-01-24h][data-drawn] svg path.dot", state="attached"
    )
    assert page.locator("[data-testid=alarms] li").count() == 0
    page.evaluate("window.__notReloaded = true")

    # 2. A new reading arrives: the value changes on the open page.
    _ingest(sensor, 22.4)
    expect(page.locator("[data-testid=value-T-01]")).to_have_text("22.4", timeout=WAIT_MS)
    assert card.get_attribute("data-state") == "within"

    # 3. Out of range: the alarm engine raises an alarm, which appears without reload.
    _ingest(sensor, 26.3)
    alarm = Alarm.objects.get(sensor=sensor, kind="high")
    assert alarm.status == "raised"
    connections.close_all()
    item = page.locator(f"[data-testid=alarm-{alarm.pk}]")
    item.wait_for(timeout=WAIT_MS)
    assert _value(page, "T-01") == "26.3"
    assert card.get_attribute("data-state") == "outside"
    assert page.get_attribute("[data-testid=room-state]", "data-state") == "outside"
    assert item.get_attribute("data-status") == "raised"
    assert "26.3" in item.inner_text()
    assert page.inner_text("[data-testid=open-alarm-count]").strip() == "1"
    assert page.evaluate("window.__notReloaded") is True  # all of it without a reload
    page.screenshot(path=str(SCREENSHOTS / "e2e-environment-1-alarm-desk.png"), full_page=True)

    # 4. Acknowledged from the page, with a comment.
    page.click(f"[data-testid=acknowledge-{alarm.pk}]")
    form = page.locator(f"[data-testid=acknowledge-form-{alarm.pk}]")
    form.locator("textarea[name=comment]").fill(
        "空调回风口被遮挡，已清理 Air return blocked; cleared"
    )
    with page.expect_navigation():
        form.locator("button[type=submit]").click()
    page.wait_for_url(re.compile(rf"/environment/rooms/{room.pk}/$"))
    item = page.locator(f"[data-testid=alarm-{alarm.pk}]")
    assert item.get_attribute("data-status") == "acknowledged"
    assert page.locator(f"[data-testid=acknowledge-form-{alarm.pk}]").count() == 0
    assert page.locator(".messages .msg.success").count() == 1
    page.screenshot(path=str(SCREENSHOTS / "e2e-environment-2-acknowledged.png"), full_page=True)
    page.goto(base + reverse("environment:alarms"))
    row = page.locator(f"[data-testid=alarm-row-{alarm.pk}]")
    assert row.locator("[data-status]").get_attribute("data-status") == "acknowledged"
    page.screenshot(path=str(SCREENSHOTS / "e2e-environment-3-alarm-log.png"), full_page=True)
    alarm.refresh_from_db()
    assert alarm.status == "acknowledged"
    assert alarm.acknowledged_by_id == cast["metrologist"].pk
    assert alarm.comment.startswith("空调回风口被遮挡")
    connections.close_all()

    # 5. The same dashboard on a phone: nothing wider than the screen; and when the status API
    #    cannot be reached, the page says so.
    phone = new_page(viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True)
    sign_in(phone, base, "metrologist")
    phone.goto(base + reverse("environment:rooms"))
    assert phone.get_attribute("[data-testid=room-TL-1]", "data-state") == "outside"
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    phone.screenshot(path=str(SCREENSHOTS / "e2e-environment-4-rooms-phone.png"), full_page=True)
    phone.click("[data-testid=room-TL-1] h2 a")
    phone.wait_for_url(dashboard)
    phone.wait_for_selector("[data-testid=live][data-live=ok]", timeout=WAIT_MS)
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    assert phone.locator("[data-testid=sensor-T-01]").get_attribute("data-state") == "outside"
    phone.screenshot(
        path=str(SCREENSHOTS / "e2e-environment-5-dashboard-phone.png"), full_page=True
    )
    phone.route(LIVE_PART, lambda route: route.abort())
    phone.wait_for_selector("[data-testid=room-live][data-poll-state=lost]", timeout=WAIT_MS)
    assert phone.locator("[data-testid=live] .live-lost").is_visible()
    assert not phone.locator("[data-testid=live] .live-ok").is_visible()
    phone.screenshot(path=str(SCREENSHOTS / "e2e-environment-6-phone-lost.png"))
    phone.unroute(LIVE_PART)
    phone.wait_for_selector("[data-testid=room-live][data-poll-state=ok]", timeout=WAIT_MS)
    assert phone.locator("[data-testid=live] .live-ok").is_visible()


def test_trends_and_manual_control_from_the_dashboard(live_server, cast, new_page):
    """A week of history drawn with the requirement bands; the equipment manager sets the air
    conditioner from the page and its state follows."""
    from metrolab.environment.models import Actuator, Command
    from metrolab.methods.models import Method

    base = live_server.url
    room = Room.objects.create(code="TL-2", name="温度实验室二 Temperature lab 2")
    Requirement.objects.create(
        room=room, quantity="temperature", low=Decimal("15"), high=Decimal("25"), unit="℃"
    )
    method = Method.objects.create(
        kind="JJF",
        code="JJF 1171",
        year="2007",
        title="温度巡回检测仪校准规范",
        effective_date=dt.date(2007, 8, 21),
    )
    Requirement.objects.create(
        room=room,
        quantity="temperature",
        low=Decimal("18"),
        high=Decimal("22"),
        unit="℃",
        method=method,
    )
    Requirement.objects.create(
        room=room, quantity="humidity", low=Decimal("30"), high=Decimal("70"), unit="%RH"
    )
    for code, quantity, unit in (("T-21", "temperature", "℃"), ("H-21", "humidity", "%RH")):
        Sensor.objects.create(
            code=code,
            name=code,
            room=room,
            quantity=quantity,
            unit=unit,
            period_seconds=60,
            installed_at=timezone.now() - dt.timedelta(days=30),
        )
    # A week every 10 minutes: a daily swing, a little over the method's 22 ℃ each afternoon.
    now = timezone.now().replace(microsecond=0)
    items = []
    for i in range(7 * 24 * 6):
        at = now - dt.timedelta(minutes=10 * i)
        phase = 2 * math.pi * (at.hour * 60 + at.minute) / 1440
        items.append(
            {"sensor": "T-21", "time": at.isoformat(), "value": 20 + 2.6 * math.sin(phase)}
        )
        items.append({"sensor": "H-21", "time": at.isoformat(), "value": 50 + 9 * math.cos(phase)})
    assert ingest.ingest_readings(items, channel="simulated").stored == len(items)
    hvac = Actuator.objects.create(
        code="AC-21",
        name="空调 Air conditioner",
        room=room,
        kind="hvac",
        protocol="simulated",
        setpoint_min=Decimal("16"),
        setpoint_max=Decimal("28"),
        unit="℃",
    )
    connections.close_all()
    dashboard = base + reverse("environment:room", args=[room.pk])

    page = new_page(viewport={"width": 1280, "height": 900})
    sign_in(page, base, "equipment_manager")
    page.goto(dashboard)
    for window in ("24h", "7d"):
        figure = page.locator(f"[data-testid=trend-T-21-{window}]")
        figure.locator("svg path.line").wait_for(timeout=WAIT_MS)
        assert figure.locator("svg rect.band").count() == 2  # the room's and the method's
        assert int(figure.get_attribute("data-points")) > 100
        assert figure.locator(".stat-max").inner_text() != "—"
    assert page.locator("[data-testid=trend-T-21-24h] svg path.outside").count() > 0
    assert page.locator("[data-testid=trend-T-21-7d] svg polygon.envelope").count() >= 1

    page.click("[data-testid=manual-control]")
    form = page.locator("[data-testid=command-form]")
    form.locator("select[name=actuator]").select_option("AC-21")
    form.locator("select[name=action]").select_option("set")
    form.locator("input[name=value]").fill("21")
    form.locator("input[name=reason]").fill("下午超出 22 ℃，调低设定点 Afternoon above 22 ℃")
    with page.expect_navigation():
        form.locator("button[type=submit]").click()
    page.wait_for_url(re.compile(rf"/environment/rooms/{room.pk}/#actuators$"))
    row = page.locator("[data-testid=actuator-AC-21]")
    assert row.locator(".act-state").get_attribute("data-on") == "true"
    assert "21 ℃" in row.locator(".act-setpoint").inner_text()
    assert "Afternoon above 22" in row.locator(".act-last").inner_text()
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(SCREENSHOTS / "e2e-environment-7-trends-control.png"), full_page=True)
    command = Command.objects.get(actuator=hvac)
    assert (command.action, command.value, command.source) == ("set", Decimal("21"), "manual")
    assert command.issued_by_id == cast["equipment_manager"].pk
    connections.close_all()
