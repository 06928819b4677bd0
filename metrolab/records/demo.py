"""Demo original records (issue 14 "Demo"; R6.2, R4.4): for each of the calibration and
verification built-in templates — JJG 52-2013 pressure gauges, digital thermometers against the
second-class SPRT, DMM DC voltage against the multifunction calibrator — records in every
state, made by the demo people (张检定 measures, 赵核验 checks, 孙签字 and 陈技术 approve)
with the demo equipment in the demo rooms, through the real services only: commissions
accepted and carried to "testing" (metrolab.tasks.demo), then `record_create` →
`record_write` → `record_submit` / `record_check` / `record_approve` (each signer
re-authenticated with the demo password), `record_return` with a reason and the measurer's
correction with a reason, `record_cancel`, `record_amend`. So the trail, the status changes,
the signatures, the tasks' steps, the customers' instrument registers and the audit log are
what the lab's own use would leave.

Per template (`PLAN`): approved (locked, task done, the customer's register updated), checked,
submitted, returned and corrected (a draft again, its trail showing old → new with the
reason, its first signature now invalid), a draft partly filled. The gauges' checked record is
the failing gauge (不合格) and they add a cancelled record; the thermometers' approved record is
an amendment (the record it corrects, approved before, is superseded). Rooms: the pressure lab
(PL-1), the temperature lab (TL-1), the electrical lab (EL-1). The testing template
(insulation resistance of a DMM, GB/T 13978-2008) has one approved record, so that the demo
holds a test (检测) record and its report.

Readings are the engine's worked examples (metrolab/metrology/tests/test_builtin_templates.py)
and variations of them: the passing class 1.6 gauge exactly, the same readings as class 1.0
failing; the DMM's 1 V / 10 V example; the thermometer's bath comparison at 0, 50 and 100 °C
for an indicator of 0.1 °C resolution (so that U stays at or above the authorised CMC of
0.06 °C; the engine's example, 0.01 °C resolution, would be refused below it).

Readings are refused while a room's requirements do not hold (`measurement_blocked`): before
writing, the rooms used get their recent minutes of readings from the simulated rooms
(`environment.simulator.Simulator`, stored through the ingester) when they have none.

`demo_seed_records(actor=SYSTEM)` runs after the tasks flow, the built-in templates and the
environment (order 60); it does nothing when records exist.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from metrolab.core.demo import DEMO_PASSWORD
from metrolab.core.models import User
from metrolab.core.service import service

# --- the readings ----------------------------------------------------------------------------

GAUGE_INPUTS = ("standard", "up_before", "up_after", "down_before", "down_after")
# The engine's worked example (0-1.6 MPa; class 1.6 passes, class 1.0 fails): per point the
# standard's value, rising before / after tapping, falling before / after tapping (MPa).
GAUGE_WORKED = {
    1: ("0", "0", "0", "0.010", "0.005"),
    2: ("0.32", "0.325", "0.330", "0.340", "0.335"),
    3: ("0.64", "0.640", "0.645", "0.655", "0.650"),
    4: ("0.96", "0.955", "0.960", "0.975", "0.970"),
    5: ("1.28", "1.290", "1.295", "1.305", "1.300"),
    6: ("1.6", "1.625", "1.630", "1.640", "1.635"),
}
GAUGE_A = {
    1: ("0", "0", "0", "0.005", "0.005"),
    2: ("0.32", "0.320", "0.325", "0.330", "0.330"),
    3: ("0.64", "0.645", "0.645", "0.650", "0.650"),
    4: ("0.96", "0.960", "0.965", "0.970", "0.970"),
    5: ("1.28", "1.285", "1.285", "1.290", "1.295"),
    6: ("1.6", "1.605", "1.610", "1.615", "1.615"),
}
GAUGE_B = {
    1: ("0", "0", "0", "0", "0"),
    2: ("0.32", "0.315", "0.320", "0.325", "0.325"),
    3: ("0.64", "0.635", "0.640", "0.645", "0.650"),
    4: ("0.96", "0.955", "0.960", "0.970", "0.965"),
    5: ("1.28", "1.275", "1.280", "1.290", "1.290"),
    6: ("1.6", "1.600", "1.605", "1.610", "1.610"),
}
APPEARANCE = "外观完好，指针平直，分度清晰，零位指针紧靠止销"


def gauge_cells(readings: dict, accuracy_class: str) -> dict[str, str]:
    cells = {"param.accuracy_class": accuracy_class, "header.appearance": APPEARANCE}
    for point, values in readings.items():
        for name, text in zip(GAUGE_INPUTS, values, strict=True):
            cells[f"{name}.{point}"] = text
    return cells


# Thermometers: the SPRT and the indication at 0, 50 and 100 °C, four readings each; the bath's
# uniformity and stability from its calibration (低温恒温槽 7080: 0.007 ℃, 0.006 ℃/10 min).
THERMO_PARAMETERS = {
    "param.points": "0, 50, 100",
    "param.repeats": "4",
    "param.uniformity": "0.007",
    "param.stability": "0.006",
    "param.resolution": "0.1",
}
THERMO_1 = {
    1: (("-0.012", "-0.011", "-0.012", "-0.010"), ("0.0", "0.1", "0.0", "0.0")),
    2: (("50.004", "50.006", "50.005", "50.005"), ("50.1", "50.1", "50.0", "50.1")),
    3: (("100.010", "100.012", "100.011", "100.011"), ("100.1", "100.1", "100.0", "100.1")),
}
THERMO_2 = {
    1: (("0.008", "0.009", "0.008", "0.010"), ("0.1", "0.0", "0.0", "0.0")),
    2: (("49.996", "49.997", "49.995", "49.996"), ("50.0", "50.1", "50.0", "50.0")),
    3: (("99.991", "99.993", "99.992", "99.992"), ("100.1", "100.0", "100.0", "100.0")),
}


def thermo_cells(readings: dict, **parameters: str) -> dict[str, str]:
    cells = {**THERMO_PARAMETERS, **{f"param.{k}": v for k, v in parameters.items()}}
    for point, (std, uut) in readings.items():
        for repeat, (s, u) in enumerate(zip(std, uut, strict=True), start=1):
            cells[f"std.{point}.{repeat}"] = s
            cells[f"uut.{point}.{repeat}"] = u
    return cells


# DMMs, 10 V range, 1 V and 10 V, five readings each: the engine's worked example (10 V
# undecided: |error| between MPE − U and MPE + U) and a DMM passing at both points.
DMM_WORKED = {
    1: ("1.00002", "1.00003", "1.00002", "1.00001", "1.00002"),
    2: ("10.00040", "10.00042", "10.00041", "10.00040", "10.00042"),
}
DMM_PASSING = {
    1: ("1.00001", "1.00002", "1.00001", "1.00001", "1.00002"),
    2: ("10.00012", "10.00014", "10.00013", "10.00012", "10.00014"),
}


def dmm_cells(readings: dict) -> dict[str, str]:
    cells = {"param.range": "10", "param.points": "1, 10", "param.repeats": "5"}
    for point, values in readings.items():
        for repeat, text in enumerate(values, start=1):
            cells[f"reading.{point}.{repeat}"] = text
    return cells


# Insulation resistance (testing): 500 V DC, minimum 20 MΩ, the three positions (mains to
# enclosure, measuring input to enclosure, mains to input) all well above the limit; the
# engine's worked example has position 3 at 18.6 MΩ (fail).
INSULATION_PASSING = {1: ("512", "1250"), 2: ("508", "860"), 3: ("505", "2200")}
PREPARATION = "样品外观完好，不通电，电源开关置于接通位置，测试导线已短接"


def insulation_cells(readings: dict) -> dict[str, str]:
    cells = {"header.preparation": PREPARATION}
    for point, (voltage, resistance) in readings.items():
        cells[f"voltage.{point}"] = voltage
        cells[f"resistance.{point}"] = resistance
    return cells


def partly(cells: dict[str, str], readings: int) -> dict[str, str]:
    """The parameters and header fields and the first `readings` readings (a draft)."""
    kept = {k: v for k, v in cells.items() if k.startswith(("param.", "header."))}
    rest = [k for k in cells if k not in kept]
    return kept | {k: cells[k] for k in rest[:readings]}


# --- the plan --------------------------------------------------------------------------------

# A record's story: "draft" (partly filled), "cancelled", "submitted", "returned" (returned by
# the checker, corrected by the measurer: a draft), "checked", "approved", "amended" (approved,
# then corrected by an approved amendment).
# template code, authorised item, the room's code, the asset numbers of the task's equipment
# (they take the template's roles where unambiguous: metrolab.records.services.records),
# the commission's customer and its lines: (line fields, story, cells, the story's details).
GAUGE_LINE = {
    "instrument_name": "压力表",
    "service": "verification",
    "model_range": "0-1.6 MPa",
    "accuracy_class": "1.6级",
    "manufacturer": "上海自动化仪表有限公司",
}
THERMO_LINE = {
    "instrument_name": "数字温度计",
    "service": "calibration",
    "model_range": "-50~150 ℃",
    "manufacturer": "示范仪表有限公司",
}
DMM_LINE = {
    "instrument_name": "数字多用表",
    "service": "calibration",
    "model_range": "6½ 位",
    "manufacturer": "Keysight",
}
INSULATION_LINE = {
    "instrument_name": "数字多用表",
    "service": "testing",
    "model_range": "4½ 位",
    "manufacturer": "示范仪表有限公司",
}

PLAN = [
    {
        "template": "jjg52-2013-pressure-gauge",
        "scope": "P01",
        "room": "PL-1",
        "equipment": None,  # the standard's usable equipment (精密压力表组, 压力校验器)
        "customer": "KH0001",
        "records": [
            (
                {**GAUGE_LINE, "serial_no": "YB-2024-0116"},
                "approved",
                gauge_cells(GAUGE_WORKED, "1.6"),
                {},
            ),
            (
                {**GAUGE_LINE, "serial_no": "YB-2024-0117", "accuracy_class": "1.0级"},
                "checked",
                gauge_cells(GAUGE_WORKED, "1.0"),
                {},
            ),
            (
                {**GAUGE_LINE, "serial_no": "YB-2024-0119"},
                "submitted",
                gauge_cells(GAUGE_B, "1.6"),
                {},
            ),
            (
                {**GAUGE_LINE, "serial_no": "YB-2024-0120"},
                "returned",
                gauge_cells(GAUGE_B, "1.6"),
                {
                    "cell": "up_after.5",
                    "wrong": "1.208",
                    "returned": "第 5 点上行程轻敲后示值 1.208 MPa 与轻敲前 1.275 MPa 相差过大，"
                    "疑为抄录错误，请核对原始读数。",
                    "corrected": "核对检定台原始读数，更正第 5 点上行程轻敲后示值的抄录错误"
                    "（1.208 → 1.280）。",
                },
            ),
            ({**GAUGE_LINE, "serial_no": "YB-2024-0121"}, "draft", gauge_cells(GAUGE_A, "1.6"), {}),
            (
                {**GAUGE_LINE, "serial_no": "YB-2024-0122"},
                "cancelled",
                gauge_cells(GAUGE_A, "1.6"),
                {"reason": "升压至 0.64 MPa 时指针卡滞，无法继续检定；退回委托方修理后另行送检。"},
            ),
        ],
    },
    {
        "template": "digital-thermometer-sprt",
        "scope": "T02",
        "room": "TL-1",
        "equipment": ["YQ-2018-007", "YQ-2020-011"],  # the SPRT, the low-temperature bath
        "customer": "KH0001",
        "records": [
            ({**THERMO_LINE, "serial_no": "TM-2025-031"}, "checked", thermo_cells(THERMO_2), {}),
            ({**THERMO_LINE, "serial_no": "TM-2025-032"}, "submitted", thermo_cells(THERMO_1), {}),
            (
                {**THERMO_LINE, "serial_no": "TM-2025-033"},
                "returned",
                thermo_cells(THERMO_2),
                {
                    "cell": "std.2.3",
                    "wrong": "49.959",
                    "returned": "50 ℃ 点第 3 次标准器示值 49.959 ℃ 与其余三次相差约 0.04 ℃，"
                    "请核对。",
                    "corrected": "核对测温电桥记录，更正 50 ℃ 点第 3 次标准器示值（49.959 → "
                    "49.995）。",
                },
            ),
            ({**THERMO_LINE, "serial_no": "TM-2025-034"}, "draft", thermo_cells(THERMO_1), {}),
            (
                {**THERMO_LINE, "serial_no": "TM-2025-030"},
                "amended",
                thermo_cells(THERMO_2, stability="0.005"),
                {
                    "cell": "param.stability",
                    "right": "0.006",
                    "reason": "不确定度评定中恒温槽波动性误用默认值 0.005 ℃，按恒温槽校准结果"
                    "（0.006 ℃/10 min）更正。",
                },
            ),
        ],
    },
    {
        "template": "dmm-dc-voltage",
        "scope": "E01",
        "room": "EL-1",
        "equipment": ["YQ-2019-013"],  # the multifunction calibrator
        "customer": "KH0003",
        "records": [
            ({**DMM_LINE, "serial_no": "MY-2023-0540"}, "approved", dmm_cells(DMM_WORKED), {}),
            ({**DMM_LINE, "serial_no": "MY-2023-0541"}, "checked", dmm_cells(DMM_PASSING), {}),
            ({**DMM_LINE, "serial_no": "MY-2023-0542"}, "submitted", dmm_cells(DMM_PASSING), {}),
            (
                {**DMM_LINE, "serial_no": "MY-2023-0543"},
                "returned",
                dmm_cells(DMM_PASSING),
                {
                    "cell": "reading.2.3",
                    "wrong": "10.00031",
                    "returned": "10 V 点第 3 次读数 10.00031 V 与其余读数相差约 180 µV，请核对。",
                    "corrected": "核对被校表显示记录，更正 10 V 点第 3 次读数的抄录错误"
                    "（10.00031 → 10.00013）。",
                },
            ),
            ({**DMM_LINE, "serial_no": "MY-2023-0544"}, "draft", dmm_cells(DMM_PASSING), {}),
        ],
    },
    {
        "template": "insulation-resistance",
        "scope": "E02",
        "room": "EL-1",
        "equipment": None,  # the standard's usable equipment (the insulation resistance tester)
        "customer": "KH0003",
        "records": [
            (
                {**INSULATION_LINE, "serial_no": "DM-2024-1207"},
                "approved",
                insulation_cells(INSULATION_PASSING),
                {},
            ),
        ],
    },
]

# Who does what (metrolab.core.demo users).
MEASURER, CHECKER, APPROVER, DIRECTOR = "metrologist", "checker", "approver", "director"
STAFF = ("receptionist", "keeper", "director", "metrologist", "checker", "approver")


# --- the rooms' recent readings ------------------------------------------------------------


def rooms_reporting(rooms, now: dt.datetime | None = None) -> int:
    """Give each room (an environment Room) the readings of the minutes its conditions are
    checked over (`CONDITIONS_WINDOW` before now) when it has none since: its simulated
    sensors report, a reading a minute, through the ingester (the live simulator's way;
    the demo's simulator keeps them reporting once it runs). Returns the readings stored."""
    from metrolab.environment.models import Reading
    from metrolab.environment.simulator import Simulator
    from metrolab.records.services.records import CONDITIONS_WINDOW

    now = now or timezone.now()
    stored = 0
    for room in rooms:
        newest = (
            Reading.objects.filter(sensor__room=room, sensor__active=True)
            .order_by("-time")
            .values_list("time", flat=True)
            .first()
        )
        start = now - CONDITIONS_WINDOW + dt.timedelta(seconds=30)
        if newest is not None and newest >= start:
            continue
        simulator = Simulator([room.code], step_seconds=60, start=start)
        while simulator.clock <= now:
            stored += simulator.step()
    return stored


# --- the stories -----------------------------------------------------------------------------


def _setup(spec: dict):
    """task_setup for metrolab.tasks.demo.demo_carry_commission: the demo item's defaults with
    the plan's equipment."""
    from metrolab.equipment.models import Equipment
    from metrolab.qualifications.demo import demo_task_setup

    def setup(task) -> dict[str, Any]:
        kwargs = demo_task_setup(task)
        if spec["equipment"] is not None:
            kwargs["equipment"] = list(
                Equipment.objects.filter(asset_no__in=spec["equipment"]).order_by("asset_no")
            )
        return kwargs

    return setup


def _sign(step, record, user, reason: str = ""):
    return step(record=record, actor=user, password=DEMO_PASSWORD, reason=reason)


def _story(task, version, room, story: str, cells: dict, details: dict, people: dict):
    from metrolab.records.services import (
        record_amend,
        record_approve,
        record_cancel,
        record_check,
        record_create,
        record_return,
        record_submit,
        record_write,
    )

    measurer, checker = people[MEASURER], people[CHECKER]
    record = record_create(task=task, actor=measurer, template_version=version, room=room)
    if story in ("draft", "cancelled"):
        record = record_write(record=record, values=partly(cells, 8), actor=measurer)
        if story == "cancelled":
            record = record_cancel(record=record, actor=measurer, reason=details["reason"])
        return record
    typed = dict(cells)
    if story == "returned":
        typed[details["cell"]] = details["wrong"]
    record = record_write(record=record, values=typed, actor=measurer)
    record = _sign(record_submit, record, measurer)
    if story == "submitted":
        return record
    if story == "returned":
        record = record_return(record=record, actor=checker, reason=details["returned"])
        return record_write(
            record=record,
            values={details["cell"]: cells[details["cell"]]},
            actor=measurer,
            reason=details["corrected"],
        )
    record = _sign(record_check, record, checker)
    if story == "checked":
        return record
    record = _sign(record_approve, record, people[APPROVER])
    if story == "approved":
        return record
    amendment = record_amend(record=record, actor=measurer, reason=details["reason"])
    amendment = record_write(
        record=amendment,
        values={details["cell"]: details["right"]},
        actor=measurer,
        reason=details["reason"],
    )
    amendment = _sign(record_submit, amendment, measurer)
    amendment = _sign(record_check, amendment, checker)
    return _sign(record_approve, amendment, people[DIRECTOR])


def demo_commission_records(spec: dict, *, customer, people: dict, version, room) -> list:
    """One commission of `spec` (a PLAN entry): accepted, its items received and carried to
    testing, each item's record taken through its story. Returns the records."""
    from metrolab.commissions.services import commission_create, commission_review
    from metrolab.tasks.demo import demo_carry_commission

    commission = commission_create(
        customer=customer,
        lines=[line for line, *_rest in spec["records"]],
        channel="desk",
        actor=people["receptionist"],
        reason="demo",
    )
    commission_review(commission=commission, decision="accepted", note="", actor=people["director"])
    items = demo_carry_commission(
        commission,
        "testing",
        receptionist=people["receptionist"],
        keeper=people["keeper"],
        manager=people["director"],
        metrologist=people[MEASURER],
        task_setup=_setup(spec),
    )
    return [
        _story(item.tasks.get(), version, room, story, cells, details, people)
        for item, (_line, story, cells, details) in zip(items, spec["records"], strict=True)
    ]


def demo_staff() -> dict:
    """The demo people who make records, by their demo role name (None when missing)."""
    return {name: User.objects.filter(username=name).first() for name in STAFF}


@service("demo.seed_records", record_calls=False)
def demo_seed_records(*, actor: Any) -> bool:
    """Seed the demo's original records once (see the module docstring); returns False when
    records exist, or the demo users, customers, authorised items or built-in templates do
    not."""
    from metrolab.customers.models import Customer
    from metrolab.environment.models import Room
    from metrolab.qualifications.models import AuthorisedItem
    from metrolab.records.models import Record, TemplateVersion

    if Record.objects.exists():
        return False
    people = demo_staff()
    versions = {
        v.template.code: v
        for v in TemplateVersion.objects.filter(
            status=TemplateVersion.Status.APPROVED, template__builtin=True
        ).select_related("template")
    }
    customers = {c.code: c for c in Customer.objects.all()}
    if (
        None in people.values()
        or any(spec["template"] not in versions for spec in PLAN)
        or any(spec["customer"] not in customers for spec in PLAN)
        or not AuthorisedItem.objects.filter(code__in=[s["scope"] for s in PLAN]).exists()
    ):
        return False
    rooms = {room.code: room for room in Room.objects.filter(active=True)}
    rooms_reporting([rooms[s["room"]] for s in PLAN if s["room"] in rooms])
    for spec in PLAN:
        demo_commission_records(
            spec,
            customer=customers[spec["customer"]],
            people=people,
            version=versions[spec["template"]],
            room=rooms.get(spec["room"]),
        )
    return True
