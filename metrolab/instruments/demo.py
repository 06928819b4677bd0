"""Demo of the intelligent standard devices (issue 16 "Demo"; R8a–c, R6.2a, R6.9d): the demo
lab's simulated bench runs beside the demo server (`metrolab instruments-simulate`, a demo
child), the multifunction calibrator of the equipment register (YQ-2019-013, Fluke 5522A) is
connected to the simulated calibrator, and a customer's 6½-digit DMM (the simulator's 34401A,
serial no. MY41012345) waits for its DC-voltage calibration: its task assigned to and started
by the demo metrologist (张检定) under the authorised item E01 with that calibrator, and a
draft record of the built-in `dmm-dc-voltage` template in the electrical lab (EL-1), where the
calibrator's RFID tag was last read. So after `metrolab demo` the metrologist starts the
built-in procedure `dmm-dc-voltage` on that record (`POST /api/v1/instruments/runs/` with
`demo_run_body(record)`), confirms the connection prompt, and the run fills the record: its
errors, uncertainty and decision.

`demo_seed_instruments(actor=SYSTEM)` runs after the records (order 65, before the
certificates, which it does not touch). Every time it sets the calibrator's connection to the
configured host and port (`METROLAB_DEMO_INSTRUMENTS_HOST` / `_PORT`); the task and the record
are made once (a second `metrolab demo` makes no other).
"""

from __future__ import annotations

import sys
from typing import Any

from django.conf import settings

from metrolab.core.service import service
from metrolab.instruments.simulators.bench import DMM_IDENTITY, demo_connections

CALIBRATOR = "YQ-2019-013"  # the demo register's multifunction calibrator
ROOM = "EL-1"  # the electrical lab (metrolab.environment.demo)
SCOPE = "E01"  # the authorised item: DMM calibration (metrolab.qualifications.demo)
CUSTOMER = "KH0003"
TEMPLATE = PROCEDURE = "dmm-dc-voltage"
READER = "电学实验室门禁读写器 R-04"
UUT_LINE = {
    "instrument_name": "数字多用表",
    "service": "calibration",
    "model_range": f"{DMM_IDENTITY['model']} 6½ 位",
    "manufacturer": "Hewlett-Packard",
    "serial_no": DMM_IDENTITY["serial"],
}


def demo_children() -> list[list[str]]:
    """The simulated bench, on the configured ports, beside the demo server."""
    return [[sys.executable, "-m", "metrolab.cli", "instruments_simulate"]]


def demo_bench_connections() -> dict[str, dict]:
    """The connection of each simulated instrument at the configured host and port."""
    return demo_connections(
        settings.METROLAB_DEMO_INSTRUMENTS_HOST, settings.METROLAB_DEMO_INSTRUMENTS_PORT
    )


def demo_run_body(record) -> dict[str, Any]:
    """What the demo metrologist posts to `/api/v1/instruments/runs/` to run the procedure on
    the demo record: the calibrator as the source, the simulated DMM as the unit under test."""
    from metrolab.equipment.models import Equipment

    calibrator = Equipment.objects.get(asset_no=CALIBRATOR)
    return {
        "record": record.pk,
        "procedure": PROCEDURE,
        "equipment": {"source": calibrator.pk},
        "connections": {"uut": demo_bench_connections()["dmm"]},
    }


def demo_record():
    """The demo's draft record waiting for its automatic calibration (None before seeding)."""
    from metrolab.records.models import Record

    return (
        Record.objects.filter(
            task__item__serial_no=UUT_LINE["serial_no"],
            template_version__template__code=TEMPLATE,
        )
        .order_by("pk")
        .first()
    )


def _connect(calibrator) -> None:
    from metrolab.instruments.models import InstrumentConnection

    connection = demo_bench_connections()["calibrator"]
    link = InstrumentConnection.objects.filter(equipment=calibrator).first()
    if link is None:
        InstrumentConnection.objects.create(
            equipment=calibrator, connection=connection, driver=connection["driver"]
        )
    elif link.connection != connection:
        link.connection, link.driver = connection, connection["driver"]
        link.save(update_fields=["connection", "driver", "updated_at"])


def _task_setup(calibrator):
    from metrolab.qualifications.demo import demo_task_setup

    def setup(task) -> dict[str, Any]:
        return {**demo_task_setup(task), "equipment": [calibrator]}

    return setup


@service("demo.seed_instruments", record_calls=False)
def demo_seed_instruments(*, actor: Any) -> bool:
    """Connect the demo calibrator (every time) and, once, seed the DMM waiting for its
    automatic calibration (see the module docstring). Returns True when the task and record
    were made; False when they exist or the demo lab lacks what they need (the calibrator,
    the people, the customer, the authorised item, the built-in template, the room)."""
    from metrolab.commissions.services import commission_create, commission_review
    from metrolab.customers.models import Customer
    from metrolab.environment.models import Room
    from metrolab.equipment.models import Equipment
    from metrolab.equipment.services import equipment_locate_by_tag
    from metrolab.qualifications.models import AuthorisedItem
    from metrolab.records.demo import MEASURER, demo_staff, rooms_reporting
    from metrolab.records.models import TemplateVersion
    from metrolab.records.services import record_create
    from metrolab.tasks.demo import demo_carry_commission

    calibrator = Equipment.objects.filter(asset_no=CALIBRATOR).first()
    if calibrator is None:
        return False
    _connect(calibrator)
    if demo_record() is not None:
        return False
    people = demo_staff()
    customer = Customer.objects.filter(code=CUSTOMER).first()
    room = Room.objects.filter(code=ROOM, active=True).first()
    version = (
        TemplateVersion.objects.filter(
            template__code=TEMPLATE, template__builtin=True, status=TemplateVersion.Status.APPROVED
        )
        .order_by("-pk")
        .first()
    )
    if (
        None in people.values()
        or None in (customer, room, version)
        or not AuthorisedItem.objects.filter(code=SCOPE).exists()
    ):
        return False
    if calibrator.rfid_uid:  # carried into the electrical lab: its door reader saw the tag
        equipment_locate_by_tag(uid=calibrator.rfid_uid, location=ROOM, reader=READER, actor=actor)
    rooms_reporting([room])
    commission = commission_create(
        customer=customer,
        lines=[UUT_LINE],
        channel="desk",
        actor=people["receptionist"],
        reason="demo",
    )
    commission_review(commission=commission, decision="accepted", note="", actor=people["director"])
    (item,) = demo_carry_commission(
        commission,
        "testing",
        receptionist=people["receptionist"],
        keeper=people["keeper"],
        manager=people["director"],
        metrologist=people[MEASURER],
        task_setup=_task_setup(calibrator),
    )
    record_create(
        task=item.tasks.get(), actor=people[MEASURER], template_version=version, room=room
    )
    return True
