"""The instruments' demo (issue 16 "Demo"): after the demo lab is seeded, the demo calibrator
is connected to the simulated bench and a DMM's draft record waits; the demo metrologist runs
the built-in procedure on it through the API, the worker's job runs it and the record is
filled (readings, errors, uncertainty, decision). Seeding twice makes nothing more. The
`instruments-simulate` command answers *IDN? on its fixed ports and stops on SIGTERM; the demo
starts it beside the server."""

from __future__ import annotations

import os
import random
import signal
import socket
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

import pytest

from metrolab.core.permissions import SYSTEM
from metrolab.instruments import services
from metrolab.instruments.demo import (
    CALIBRATOR,
    ROOM,
    UUT_LINE,
    demo_record,
    demo_run_body,
    demo_seed_instruments,
)
from metrolab.instruments.models import InstrumentConnection, Run, RunEvent
from metrolab.instruments.simulators.bench import DemoBench, demo_connections
from metrolab.instruments.tests.runs_fixtures import no_sleep  # noqa: F401

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[3]
API = "/api/v1/instruments"
BACKEND = "metrolab.core.auth.ThrottledModelBackend"


def free_base_port() -> int:
    """A base port whose next three ports are free too (the bench's four instruments)."""
    for _attempt in range(50):
        base = random.randint(20000, 60000)
        sockets = []
        try:
            for port in range(base, base + 4):
                s = socket.socket()
                sockets.append(s)
                s.bind(("127.0.0.1", port))
            return base
        except OSError:
            continue
        finally:
            for s in sockets:
                s.close()
    raise RuntimeError("no four free consecutive ports")


@pytest.fixture
def bench(settings):
    """The demo's bench in this process on free ports (no settling time: the worker here does
    not wait), the settings pointing at them."""
    base = free_base_port()
    settings.METROLAB_DEMO_INSTRUMENTS_HOST = "127.0.0.1"
    settings.METROLAB_DEMO_INSTRUMENTS_PORT = base
    bench = DemoBench("127.0.0.1", base, tau=0.0, delay=0.0).start()
    yield bench
    bench.stop()


def _post(client, url, body=None):
    return client.post(url, body or {}, content_type="application/json")


@pytest.mark.usefixtures("no_sleep")
def test_the_demo_metrologist_runs_the_demo_record_end_to_end(demo_lab, bench, client):
    from metrolab.commissions.models import Commission
    from metrolab.core.models import User
    from metrolab.equipment.models import Equipment
    from metrolab.records.models import Record
    from metrolab.tasks.models import Task

    assert demo_seed_instruments(actor=SYSTEM) is True
    counts = (Record.objects.count(), Task.objects.count(), Commission.objects.count())
    # a second `metrolab demo` makes nothing more
    assert demo_seed_instruments(actor=SYSTEM) is False
    assert (Record.objects.count(), Task.objects.count(), Commission.objects.count()) == counts

    metrologist = User.objects.get(username="metrologist")
    calibrator = Equipment.objects.get(asset_no=CALIBRATOR)
    link = InstrumentConnection.objects.get(equipment=calibrator)
    assert link.connection == bench.connections()["calibrator"]
    assert calibrator.location == ROOM
    assert calibrator.location_events.order_by("-at", "-pk").first().source == "reader"
    record = demo_record()
    assert record.status == Record.Status.DRAFT and record.measured_by == metrologist
    assert record.room.code == ROOM and record.task.assignee == metrologist
    assert record.task.item.serial_no == UUT_LINE["serial_no"]
    assert not any(k.startswith("reading.") for k in record.cells)
    # the simulated calibrator is the register's 5522A
    identified = services.connection_identify(equipment=calibrator, actor=metrologist)
    assert identified["matches"] is True, identified["mismatches"]

    client.force_login(metrologist, backend=BACKEND)
    answer = _post(client, f"{API}/runs/", demo_run_body(record))
    assert answer.status_code == 201, answer.content
    run_id = answer.json()["id"]
    assert answer.json()["status"] == "queued"
    # the worker's job runs it up to the connection prompt
    assert services.run_execute(run_id=run_id) == Run.Status.WAITING_PROMPT
    answer = _post(client, f"{API}/runs/{run_id}/confirm")
    assert answer.status_code == 200, answer.content
    assert services.run_execute(run_id=run_id) == Run.Status.DONE
    body = client.get(f"{API}/runs/{run_id}").json()
    assert body["status"] == "done" and body["reason"] == ""

    record.refresh_from_db()
    readings = {k: Decimal(v) for k, v in record.cells.items() if k.startswith("reading.")}
    assert len(readings) == 4 * 5  # 1, 5, 10, −10 V, five readings each
    # the simulated DMM reads output × (1 + 12 ppm) + 3 µV, σ = 2 µV
    for point, nominal in ((1, "1"), (2, "5"), (3, "10"), (4, "-10")):
        expected = Decimal(nominal) * (1 + Decimal("1.2e-5")) + Decimal("3e-6")
        for repeat in range(1, 6):
            assert abs(readings[f"reading.{point}.{repeat}"] - expected) < Decimal("0.00001")
    assert record.complete is True
    assert record.decision == "pass", record.decision
    # the record's own evaluation: each point's error = mean − nominal, U, the decision
    points = {p["point"]: p["values"] for p in record.results["points"]}
    for point, nominal in ((1, "1"), (2, "5"), (3, "10"), (4, "-10")):
        values = [readings[f"reading.{point}.{repeat}"] for repeat in range(1, 6)]
        error = sum(values, Decimal(0)) / 5 - Decimal(nominal)
        assert Decimal(points[point]["error"]["value"]) == error
        assert abs(error - Decimal(nominal) * Decimal("1.2e-5")) < Decimal("0.00001")
        assert Decimal(points[point]["U"]["value"]) > 0
        assert points[point]["decision"]["value"] == "pass"
    run = Run.objects.get(pk=run_id)
    assert run.started_by == metrologist and run.record == record
    assert RunEvent.objects.filter(run=run, kind="done").count() == 1
    assert RunEvent.objects.filter(run=run, kind="command", role="source", text="STBY").exists()


def test_instruments_simulate_answers_on_its_ports_and_stops_on_sigterm(tmp_path):
    from metrolab.instruments.connections import open_driver

    base = free_base_port()
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    env |= {
        "METROLAB_DEMO_INSTRUMENTS_PORT": str(base),
        "METROLAB_VAR_DIR": str(tmp_path),
        "PYTHONUNBUFFERED": "1",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "metrolab.cli", "instruments-simulate"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        lines = []
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            line = process.stdout.readline()
            assert line, "".join(lines)
            lines.append(line)
            if line.strip().startswith("bath"):
                break
        assert f"TCPIP0::127.0.0.1::{base}::SOCKET" in "".join(lines)
        identities = {}
        for name, connection in demo_connections("127.0.0.1", base, 2000).items():
            driver = open_driver(connection)
            identities[name] = driver.connected_identity
            driver.close()
        assert (identities["calibrator"].model, identities["calibrator"].serial) == (
            "5522A",
            "3354109",
        )
        assert identities["dmm"].model == "34401A"
        assert identities["pressure"].model == "PACE5000"
        assert identities["bath"].model == "7341"
        process.send_signal(signal.SIGTERM)
        out, _ = process.communicate(timeout=15)
        assert process.returncode == 0, out
        assert "Simulated instruments stopped." in out
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_the_demo_starts_the_simulated_instruments_beside_the_server():
    from metrolab.core.demo import demo_children

    commands = demo_children()
    assert [sys.executable, "-m", "metrolab.cli", "instruments_simulate"] in commands
