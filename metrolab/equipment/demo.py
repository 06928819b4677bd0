"""Demo data of the equipment library (R6.5, R6.8a, R8c): the demo lab's reference standards
and auxiliary equipment with their own calibrations (corrections at points), intermediate
checks forming control charts, maintenance and faults, usage, bookings this week, locations,
and the measurement standards (计量标准装置) they compose.

Every date is relative to the day of seeding, so that what is "due soon" stays so whenever the
demo is started: calibrations fall due in about 25, 55 and 85 days for three items and months
later for the rest; one item out of service is overdue; one intermediate check has just
broken its control limits (on equipment no demo task uses); one standard certificate expires
within 90 days. Call `demo_seed_equipment(actor=SYSTEM)` after the demo users, disciplines and
methods exist; it does nothing when equipment exists already.

The numbers are chosen to look right for the instruments: a 0.02 级 piston gauge's
calibration uncertainty of about 5×10⁻⁵ of reading (k=2), a 0.05 级 digital pressure gauge's
of about 1/3 of its MPE, second-grade standard mercury thermometers' corrections of a few
hundredths of a degree, the F1 weights' U below 1/3 of their MPE (JJG 99-2022, table of MPEs),
the maximum permissible errors of the accuracy classes they are checked against.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.utils import timezone

from metrolab.commissions.models import Discipline
from metrolab.core.models import User
from metrolab.core.permissions import SYSTEM
from metrolab.core.service import service
from metrolab.equipment import control_chart
from metrolab.equipment.models import (
    Booking,
    CalibrationPoint,
    Equipment,
    EquipmentCalibration,
    IntermediateCheckPlan,
    IntermediateCheckResult,
    LocationEvent,
    MaintenanceRecord,
    MeasurementStandard,
    UsageRecord,
)
from metrolab.equipment.services import check_result_judged

NIM = "中国计量科学研究院"
PROVINCE = "示范省计量科学研究院"
IN_HOUSE = "示范市计量测试研究院压力室（内部校准）"
STANDARD_ISSUER = "示范省市场监督管理局"

PRESSURE_ROOM, TEMPERATURE_ROOM, ELECTRICAL_ROOM, MASS_ROOM = "压力室", "温度室", "电学室", "质量室"

S, A = Equipment.Kind.STANDARD, Equipment.Kind.AUXILIARY


def _points(rows, unit):
    """(nominal, correction, U) rows in one unit → point dicts (k=2)."""
    return [(str(n), unit, str(c), str(u)) for n, c, u in rows]


def _relative_points(nominals, unit, correction, uncertainty):
    """Points whose correction and U are a fixed fraction of the reading (piston gauges)."""
    rows = []
    for n in nominals:
        value = Decimal(n)
        rows.append(
            (
                n,
                unit,
                str((value * Decimal(correction)).quantize(Decimal("0.000001"))),
                str((value * Decimal(uncertainty)).quantize(Decimal("0.000001"))),
            )
        )
    return rows


# asset no, name, kind, model, serial, manufacturer, range, accuracy, discipline, location,
# status, purchased (days ago), interval (months), calibration: body, certificate prefix,
# due in (days from today), result, points; notes; RFID tag UID.
EQUIPMENT = [
    {
        "asset_no": "YQ-2012-001",
        "name": "活塞式压力计",
        "kind": S,
        "model": "YS-6",
        "serial_no": "1208-0417",
        "manufacturer": "西安仪表厂",
        "range_text": "(0.1~6) MPa",
        "accuracy_text": "0.02 级",
        "discipline": "P",
        "location": PRESSURE_ROOM,
        "purchased": 4950,
        "interval": 24,
        "body": NIM,
        "cert": "YL{year}-0317",
        "due_in": 210,
        "result": "符合 0.02 级要求，有效面积修正值已录入",
        "points": _relative_points(
            ["0.6", "1.2", "2.4", "3.6", "4.8", "6.0"], "MPa", "0.000042", "0.00005"
        ),
    },
    {
        "asset_no": "YQ-2012-002",
        "name": "活塞式压力计",
        "kind": S,
        "model": "YS-60",
        "serial_no": "1208-0522",
        "manufacturer": "西安仪表厂",
        "range_text": "(0.5~60) MPa",
        "accuracy_text": "0.02 级",
        "discipline": "P",
        "location": PRESSURE_ROOM,
        "purchased": 4950,
        "interval": 24,
        "body": NIM,
        "cert": "YL{year}-0318",
        "due_in": 25,
        "result": "符合 0.02 级要求，有效面积修正值已录入",
        "points": _relative_points(
            ["6", "12", "24", "36", "48", "60"], "MPa", "-0.000035", "0.00005"
        ),
    },
    {
        "asset_no": "YQ-2019-001",
        "name": "精密数字压力计",
        "kind": S,
        "model": "ConST211",
        "serial_no": "211A19070356",
        "manufacturer": "北京康斯特仪表科技股份有限公司",
        "range_text": "(-0.1~2.5) MPa",
        "accuracy_text": "0.05 级",
        "discipline": "P",
        "location": PRESSURE_ROOM,
        "purchased": 2400,
        "interval": 12,
        "body": PROVINCE,
        "cert": "SJY{year}YL01562",
        "due_in": 150,
        "result": "符合 0.05 级要求",
        "points": _points(
            [
                ("-0.08", "0.00010", "0.00025"),
                ("0", "0.00000", "0.00025"),
                ("0.5", "0.00020", "0.00025"),
                ("1.0", "0.00040", "0.00025"),
                ("1.5", "0.00030", "0.00025"),
                ("2.0", "0.00050", "0.00025"),
                ("2.5", "0.00060", "0.00025"),
            ],
            "MPa",
        ),
        "notes": "用于现场检定及压力变送器比对，不属于本院计量标准装置。",
        "rfid": "E2801160600002094B7C31A5",
    },
    {
        "asset_no": "YQ-2015-003",
        "name": "精密压力表组",
        "kind": S,
        "model": "YB-150A（5 只）",
        "serial_no": "15-0311~15-0315",
        "manufacturer": "上海自动化仪表有限公司",
        "range_text": "(0~0.6/1.6/6/25/60) MPa",
        "accuracy_text": "0.25 级",
        "discipline": "P",
        "location": PRESSURE_ROOM,
        "purchased": 3900,
        "interval": 12,
        "body": PROVINCE,
        "cert": "SJY{year}YL00873",
        "due_in": 55,
        "result": "5 只均符合 0.25 级要求",
        "points": _points(
            [
                ("0.4", "0.0010", "0.0003"),
                ("0.8", "-0.0005", "0.0003"),
                ("1.2", "0.0008", "0.0003"),
                ("1.6", "0.0012", "0.0003"),
                ("2", "-0.002", "0.001"),
                ("4", "0.003", "0.001"),
                ("6", "0.004", "0.001"),
            ],
            "MPa",
        ),
    },
    {
        "asset_no": "YQ-2016-004",
        "name": "压力校验器",
        "kind": A,
        "model": "YJY-60",
        "serial_no": "16-2208",
        "manufacturer": "西安仪表厂",
        "range_text": "(0~60) MPa",
        "accuracy_text": "—（压力源，不带示值）",
        "discipline": "P",
        "location": PRESSURE_ROOM,
        "purchased": 3500,
        "interval": 12,
        "body": IN_HOUSE,
        "cert": "NJ-YL-{year}-004",
        "due_in": 240,
        "result": "密封性、升压能力和稳压性能检查合格",
        "points": [],
    },
    {
        "asset_no": "YQ-2008-005",
        "name": "活塞式压力计",
        "kind": S,
        "model": "YS-0.6",
        "serial_no": "0805-1130",
        "manufacturer": "西安仪表厂",
        "range_text": "(0.04~0.6) MPa",
        "accuracy_text": "0.05 级",
        "discipline": "P",
        "location": PRESSURE_ROOM,
        "purchased": 6400,
        "interval": 12,
        "body": PROVINCE,
        "cert": "SJY{year}YL00412",
        "due_in": -40,
        "result": "符合 0.05 级要求",
        "points": _relative_points(["0.1", "0.3", "0.6"], "MPa", "0.00008", "0.00012"),
        "status": Equipment.Status.OUT_OF_SERVICE,
        "notes": "活塞下降速度超差，已贴停用标识，待厂家维修。",
    },
    {
        "asset_no": "YQ-2010-006",
        "name": "二等标准水银温度计组",
        "kind": S,
        "model": "7 支组，分度值 0.1 ℃",
        "serial_no": "1003-01~1003-07",
        "manufacturer": "河北武强县红星仪表厂",
        "range_text": "(-30~300) ℃",
        "accuracy_text": "二等",
        "discipline": "T",
        "location": TEMPERATURE_ROOM,
        "purchased": 5700,
        "interval": 24,
        "body": PROVINCE,
        "cert": "SJY{year}WD01288",
        "due_in": 85,
        "result": "符合二等标准水银温度计要求，各点修正值已录入",
        "points": _points(
            [
                ("-30", "-0.02", "0.03"),
                ("0", "0.01", "0.02"),
                ("20", "0.03", "0.03"),
                ("50", "-0.04", "0.03"),
                ("100", "0.06", "0.03"),
                ("150", "-0.03", "0.05"),
                ("200", "0.08", "0.05"),
                ("250", "0.05", "0.07"),
                ("300", "-0.10", "0.07"),
            ],
            "℃",
        ),
    },
    {
        "asset_no": "YQ-2018-007",
        "name": "二等标准铂电阻温度计",
        "kind": S,
        "model": "WZPB-2",
        "serial_no": "18-1536",
        "manufacturer": "云南仪表厂",
        "range_text": "(-189.344 2~419.527) ℃",
        "accuracy_text": "二等",
        "discipline": "T",
        "location": TEMPERATURE_ROOM,
        "purchased": 2900,
        "interval": 24,
        "body": PROVINCE,
        "cert": "SJY{year}WD00931",
        "due_in": 300,
        "result": "符合二等标准铂电阻温度计要求",
        "points": _points(
            [
                ("-38.8344", "0.0012", "0.004"),
                ("0.01", "0.0000", "0.002"),
                ("156.5985", "-0.0018", "0.005"),
                ("231.928", "-0.0025", "0.006"),
                ("419.527", "-0.0041", "0.010"),
            ],
            "℃",  # the record templates compute in °C: the same unit (metrology.units)
        ),
    },
    {
        "asset_no": "YQ-2018-008",
        "name": "数字测温电桥",
        "kind": S,
        "model": "1594A Super-Thermometer",
        "serial_no": "B84215",
        "manufacturer": "Fluke Calibration",
        "range_text": "(0~400) Ω",
        "accuracy_text": "电阻比 ±0.8×10⁻⁶（1 年）",
        "discipline": "T",
        "location": TEMPERATURE_ROOM,
        "purchased": 2900,
        "interval": 12,
        "body": PROVINCE,
        "cert": "SJY{year}DX02210",
        "due_in": 180,
        "result": "符合技术指标要求",
        "points": _points([("25", "0.000004", "0.000005"), ("100", "0.000020", "0.000020")], "Ω"),
        "rfid": "E2801160600002094B7C31B2",
    },
    {
        "asset_no": "YQ-2017-009",
        "name": "标准恒温油槽",
        "kind": A,
        "model": "6330",
        "serial_no": "A7C0592",
        "manufacturer": "Fluke Calibration (Hart Scientific)",
        "range_text": "(35~300) ℃",
        "accuracy_text": "均匀度 ≤0.01 ℃，波动度 ≤0.01 ℃/10 min",
        "discipline": "T",
        "location": TEMPERATURE_ROOM,
        "purchased": 3200,
        "interval": 12,
        "body": PROVINCE,
        "cert": "SJY{year}WD01305",
        "due_in": 120,
        "result": "100 ℃、200 ℃、300 ℃：水平均匀度 0.006 ℃，波动度 0.005 ℃/10 min",
        "points": [],
    },
    {
        "asset_no": "YQ-2017-010",
        "name": "恒温槽",
        "kind": A,
        "model": "7340",
        "serial_no": "A7B1184",
        "manufacturer": "Fluke Calibration (Hart Scientific)",
        "range_text": "(-40~150) ℃",
        "accuracy_text": "均匀度 ≤0.01 ℃（-40~100 ℃）",
        "discipline": "T",
        "location": TEMPERATURE_ROOM,
        "purchased": 3200,
        "interval": 12,
        "body": PROVINCE,
        "cert": "SJY{year}WD01306",
        "due_in": 160,
        "result": "150 ℃ 水平均匀度 0.028 ℃ 超出要求；-40~100 ℃ 均匀度 ≤0.008 ℃",
        "points": [],
        "status": Equipment.Status.LIMITED,
        "notes": "准用：限 -40~100 ℃ 范围内使用。",
    },
    {
        "asset_no": "YQ-2020-011",
        "name": "低温恒温槽",
        "kind": A,
        "model": "7080",
        "serial_no": "B0A2217",
        "manufacturer": "Fluke Calibration (Hart Scientific)",
        "range_text": "(-80~110) ℃",
        "accuracy_text": "均匀度 ≤0.01 ℃，波动度 ≤0.01 ℃/10 min",
        "discipline": "T",
        "location": TEMPERATURE_ROOM,
        "purchased": 2200,
        "interval": 12,
        "body": PROVINCE,
        "cert": "SJY{year}WD01307",
        "due_in": 210,
        "result": "-60 ℃、0 ℃、100 ℃：水平均匀度 0.007 ℃，波动度 0.006 ℃/10 min",
        "points": [],
    },
    {
        "asset_no": "YQ-2019-012",
        "name": "数字多用表（8½ 位）",
        "kind": S,
        "model": "8508A",
        "serial_no": "1125014",
        "manufacturer": "Fluke",
        "range_text": "DCV 0~1000 V；ACV 0~1000 V；DCI/ACI 0~20 A；电阻 0~20 GΩ",
        "accuracy_text": "DCV 10 V：±3.5×10⁻⁶（1 年）",
        "discipline": "E",
        "location": ELECTRICAL_ROOM,
        "purchased": 2500,
        "interval": 12,
        "body": NIM,
        "cert": "DL{year}-1187",
        "due_in": 270,
        "result": "各功能符合 1 年技术指标，修正值已录入",
        "points": [
            ("1", "V", "-0.0000003", "0.0000010"),
            ("10", "V", "0.0000012", "0.0000035"),
            ("100", "V", "-0.000025", "0.000060"),
            ("1000", "V", "0.00080", "0.0012"),
            ("10", "V (AC 1 kHz)", "0.00006", "0.00012"),
            ("10000", "Ω", "0.030", "0.025"),
        ],
    },
    {
        "asset_no": "YQ-2019-013",
        "name": "多功能校准源",
        "kind": S,
        "model": "5522A",
        "serial_no": "3354109",
        "manufacturer": "Fluke",
        "range_text": "DCV 0~1020 V；ACV 1 mV~1020 V；DCI/ACI 0~20.5 A；电阻 0~1100 MΩ",
        "accuracy_text": "DCV：±(11~15)×10⁻⁶（1 年）",
        "discipline": "E",
        "location": ELECTRICAL_ROOM,
        "purchased": 2500,
        "interval": 12,
        "body": NIM,
        "cert": "DL{year}-1188",
        "due_in": 230,
        "result": "各功能符合 1 年技术指标，修正值已录入",
        "points": [
            ("1", "V", "0.0000021", "0.0000040"),
            ("10", "V", "0.000015", "0.000025"),
            ("100", "V", "-0.00011", "0.00030"),
            ("1000", "V", "0.0021", "0.0045"),
            ("1", "A", "0.000018", "0.000060"),
            ("10", "V (AC 1 kHz)", "-0.00035", "0.00080"),
            ("10000", "Ω", "0.11", "0.05"),
        ],
        "rfid": "E2801160600002094B7C31C8",
    },
    {
        "asset_no": "YQ-2014-014",
        "name": "F1 等级砝码",
        "kind": S,
        "model": "1 mg~5 kg 组合",
        "serial_no": "14F1-0726",
        "manufacturer": "梅特勒-托利多仪器（上海）有限公司",
        "range_text": "1 mg~5 kg",
        "accuracy_text": "F1 等级",
        "discipline": "M",
        "location": MASS_ROOM,
        "purchased": 4300,
        "interval": 12,
        "body": PROVINCE,
        "cert": "SJY{year}ZL00655",
        "due_in": 190,
        "result": "符合 F1 等级要求，折算质量修正值已录入",
        "points": _points(
            [
                ("1", "0.00004", "0.00003"),
                ("10", "0.00008", "0.00006"),
                ("100", "-0.00012", "0.00016"),
                ("1000", "0.0008", "0.0016"),
                ("2000", "0.0015", "0.0030"),
                ("5000", "-0.004", "0.008"),
            ],
            "g",
        ),
    },
    {
        "asset_no": "YQ-2020-015",
        "name": "温湿度计",
        "kind": A,
        "model": "testo 608-H1",
        "serial_no": "60820-1431",
        "manufacturer": "德图仪器",
        "range_text": "(0~50) ℃；(10~95) %RH",
        "accuracy_text": "±0.5 ℃；±3 %RH",
        "discipline": "P",
        "location": PRESSURE_ROOM,
        "purchased": 2100,
        "interval": 12,
        "body": PROVINCE,
        "cert": "SJY{year}WD02034",
        "due_in": 130,
        "result": "符合技术指标要求",
        "points": [
            ("20", "℃", "0.2", "0.3"),
            ("25", "℃", "0.2", "0.3"),
            ("50", "%RH", "-1.5", "2.0"),
        ],
    },
    {
        "asset_no": "YQ-2020-016",
        "name": "温湿度计",
        "kind": A,
        "model": "testo 608-H1",
        "serial_no": "60820-1432",
        "manufacturer": "德图仪器",
        "range_text": "(0~50) ℃；(10~95) %RH",
        "accuracy_text": "±0.5 ℃；±3 %RH",
        "discipline": "T",
        "location": TEMPERATURE_ROOM,
        "purchased": 2100,
        "interval": 12,
        "body": PROVINCE,
        "cert": "SJY{year}WD02035",
        "due_in": 130,
        "result": "符合技术指标要求",
        "points": [
            ("20", "℃", "-0.1", "0.3"),
            ("25", "℃", "-0.1", "0.3"),
            ("50", "%RH", "1.2", "2.0"),
        ],
    },
    {
        "asset_no": "YQ-2021-017",
        "name": "绝缘电阻表",
        "kind": S,
        "model": "1508",
        "serial_no": "3021874",
        "manufacturer": "Fluke",
        "range_text": "(0.01~10000) MΩ；试验电压 DC 50 V、100 V、250 V、500 V、1000 V",
        "accuracy_text": "绝缘电阻 ±(3 % 读数 + 5 个字)；试验电压 (0~+20) %",
        "discipline": "E",
        "location": ELECTRICAL_ROOM,
        "purchased": 1800,
        "interval": 12,
        "body": PROVINCE,
        "cert": "SJY{year}DX00862",
        "due_in": 190,
        "result": "符合技术指标要求",
        "points": [
            ("20", "MΩ", "0.2", "0.4"),
            ("100", "MΩ", "-1.0", "2.0"),
            ("1000", "MΩ", "12", "20"),
            ("500", "V", "8", "3"),
        ],
    },
]

# Intermediate-check plans: asset no, checked quantity, method, check standard, unit, interval
# (days), centre line, control limits, warning limits, the results (oldest first) and how many
# days ago the latest was done. Plan YQ-2019-001's latest result breaks its control limits
# (a drift upwards); that equipment belongs to no measurement standard and no demo task.
CHECK_PLANS = [
    {
        "asset_no": "YQ-2012-001",
        "quantity": "3 MPa 点两台活塞式压力计平衡压差",
        "method": "与 YQ-2012-002 在 3 MPa 点交叉平衡比对，记录平衡时的压差。",
        "check_standard": "活塞式压力计 YQ-2012-002（0.02 级）",
        "unit": "kPa",
        "interval": 90,
        "centre": "0",
        "limits": ("-0.6", "0.6"),
        "warnings": ("-0.4", "0.4"),
        "values": [
            "0.12",
            "-0.08",
            "0.21",
            "0.05",
            "-0.15",
            "0.18",
            "0.02",
            "-0.06",
            "0.10",
            "0.15",
        ],
        "last_days_ago": 40,
        "by": "metrologist",
    },
    {
        "asset_no": "YQ-2019-001",
        "quantity": "1.000 MPa 点示值",
        "method": "以活塞式压力计 YQ-2012-001 在 1.000 MPa 点比对，读取 3 次取平均。",
        "check_standard": "活塞式压力计 YQ-2012-001（0.02 级）",
        "unit": "MPa",
        "interval": 60,
        "centre": "1.0000",
        "limits": ("0.9990", "1.0010"),
        "warnings": ("0.9993", "1.0007"),
        "values": [
            "1.00012",
            "0.99994",
            "1.00021",
            "1.00008",
            "0.99985",
            "1.00030",
            "1.00041",
            "1.00055",
            "1.00072",
            "1.00118",
        ],
        "last_days_ago": 5,
        "by": "metrologist",
        "last_note": "超出控制限，已报告设备管理员，安排追加核查和复校。",
    },
    {
        "asset_no": "YQ-2010-006",
        "quantity": "冰点（0 ℃）示值修正值",
        "method": "在冰点器中测量 0 ℃ 示值，与证书修正值比较。",
        "check_standard": "冰点器（蒸馏水冰）",
        "unit": "℃",
        "interval": 120,
        "centre": "0.010",
        "limits": ("-0.030", "0.050"),
        "warnings": ("-0.017", "0.037"),
        "values": ["0.01", "0.02", "0.00", "0.01", "0.02", "0.01", "0.00", "0.02", "0.01"],
        "last_days_ago": 100,
        "by": "checker",
    },
    {
        "asset_no": "YQ-2018-007",
        "quantity": "水三相点电阻 Rtp 变化（等效温度）",
        "method": "在水三相点瓶中测量 Rtp，与上次校准值之差换算为温度。",
        "check_standard": "水三相点瓶",
        "unit": "mK",
        "interval": 90,
        "centre": "0",
        "limits": ("-2.0", "2.0"),
        "warnings": ("-1.3", "1.3"),
        "values": ["0.3", "-0.2", "0.5", "0.1", "-0.4", "0.6", "0.2", "-0.1", "0.4", "0.7", "0.3"],
        "last_days_ago": 30,
        "by": "checker",
    },
    {
        "asset_no": "YQ-2019-012",
        "quantity": "10 V 直流电压示值偏差",
        "method": "测量 Fluke 732B 直流电压标准 10 V 输出，与其证书值比较。",
        "check_standard": "Fluke 732B 直流电压标准（10 V）",
        "unit": "µV",
        "interval": 90,
        "centre": "0",
        "limits": ("-4.0", "4.0"),
        "warnings": ("-2.7", "2.7"),
        "values": ["0.8", "-0.5", "1.2", "0.3", "-1.0", "0.6", "1.5", "-0.2", "0.9", "0.4"],
        "last_days_ago": 20,
        "by": "metrologist",
    },
    {
        "asset_no": "YQ-2014-014",
        "quantity": "1 kg 砝码折算质量修正值",
        "method": "与 E2 等级 1 kg 核查砝码在质量比较仪上 ABBA 比较。",
        "check_standard": "E2 等级 1 kg 核查砝码",
        "unit": "mg",
        "interval": 180,
        "centre": "0.8",
        "limits": ("-0.8", "2.4"),
        "warnings": ("-0.27", "1.87"),
        "values": ["0.7", "0.9", "1.1", "0.6", "0.8", "1.0", "0.5", "0.9"],
        "last_days_ago": 60,
        "by": "metrologist",
    },
]

# Measurement standards: name, certificate no. (the year is the issue year), issued (days
# ago), validity (years), discipline, measurands, range, uncertainty, equipment, methods,
# responsible person. The certificate of the pressure-gauge standard expires in 75 days.
STANDARDS = [
    {
        "name": "活塞式压力计标准装置",
        "number": "（{year}）示量标法证字第 003 号",
        "issued_days_ago": 1100,
        "discipline": "P",
        "measurands": "压力",
        "range_text": "(0.1~60) MPa",
        "uncertainty_text": "0.02 级",
        "equipment": ["YQ-2012-001", "YQ-2012-002"],
        "methods": [("JJG 49", "2013"), ("JJG 882", "2019"), ("JJG 52", "2013")],
        "custodian": "metrologist",
    },
    {
        "name": "弹簧管式精密压力表标准装置",
        "number": "（{year}）示量标法证字第 001 号",
        "expires_in": 75,
        "discipline": "P",
        "measurands": "压力",
        "range_text": "(-0.1~60) MPa",
        "uncertainty_text": "0.25 级",
        "equipment": ["YQ-2015-003", "YQ-2016-004"],
        "methods": [("JJG 52", "2013"), ("SFJL/ZY-YL-01", None)],
        "custodian": "metrologist",
    },
    {
        "name": "二等标准水银温度计标准装置",
        "number": "（{year}）示量标法证字第 012 号",
        "issued_days_ago": 700,
        "discipline": "T",
        "measurands": "温度",
        "range_text": "(-30~300) ℃",
        "uncertainty_text": "U=(0.03~0.07) ℃（k=2）",
        "equipment": ["YQ-2010-006", "YQ-2017-009", "YQ-2017-010"],
        "methods": [("JJG 130", "2011")],
        "custodian": "checker",
    },
    {
        "name": "二等标准铂电阻温度计标准装置",
        "number": "（{year}）示量标法证字第 015 号",
        "issued_days_ago": 400,
        "discipline": "T",
        "measurands": "温度",
        "range_text": "(-60~300) ℃",
        "uncertainty_text": "U=(0.01~0.03) ℃（k=2）",
        "equipment": ["YQ-2018-007", "YQ-2018-008", "YQ-2017-009", "YQ-2020-011"],
        "methods": [("JJF(川) 139", "2017"), ("SFJL/ZY-WD-03", None), ("JJG 130", "2011")],
        "custodian": "checker",
    },
    {
        "name": "数字多用表校准装置",
        "number": "（{year}）示量标法证字第 021 号",
        "issued_days_ago": 900,
        "discipline": "E",
        "measurands": "直流电压、交流电压、直流电流、交流电流、电阻",
        "range_text": "DCV 0~1000 V；ACV 1 mV~1000 V；DCI/ACI 0~20 A；电阻 0~100 MΩ",
        "uncertainty_text": "DCV：Urel=(3.5~20)×10⁻⁶（k=2）",
        "equipment": ["YQ-2019-012", "YQ-2019-013"],
        "methods": [("JJF 1587", "2016")],
        "custodian": "checker",
    },
    {
        "name": "电气安全性能检测装置",
        "number": "（{year}）示量标法证字第 027 号",
        "issued_days_ago": 600,
        "discipline": "E",
        "measurands": "绝缘电阻",
        "range_text": "(0.01~10000) MΩ；试验电压 DC 50 V~1000 V",
        "uncertainty_text": "Urel=3%（k=2）",
        "equipment": ["YQ-2021-017"],
        "methods": [("GB/T 13978", "2008")],
        "custodian": "checker",
    },
    {
        "name": "F1 等级砝码标准装置",
        "number": "（{year}）示量标法证字第 008 号",
        "issued_days_ago": 1300,
        "discipline": "M",
        "measurands": "质量",
        "range_text": "1 mg~5 kg",
        "uncertainty_text": "F1 等级",
        "equipment": ["YQ-2014-014"],
        "methods": [("JJG 1036", "2008")],
        "custodian": "metrologist",
    },
]

STANDARD_VALIDITY_YEARS = 5


def _add_years(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def _at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    """A time of day in the lab's time zone."""
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour, minute)))


def _working_day(day: dt.date) -> dt.date:
    while day.weekday() >= 5:
        day += dt.timedelta(days=1)
    return day


def _users() -> dict[str, User | None]:
    names = ("equipment", "metrologist", "checker", "director")
    return {name: User.objects.filter(username=name).first() for name in names}


def _calibrations(equipment: Equipment, row: dict, today: dt.date, manager: User | None) -> None:
    """The current calibration (due `due_in` days from today) and, for items in use for more
    than a cycle, the one before it; both confirmed by the equipment manager."""
    cycle = dt.timedelta(days=round(row["interval"] * 365 / 12))
    due = today + dt.timedelta(days=row["due_in"])
    dates = [due - cycle]
    if (today - dates[0]).days + cycle.days < row["purchased"]:
        dates.insert(0, dates[0] - cycle)
    for n, date in enumerate(dates):
        current = n == len(dates) - 1
        confirmed_on = date + dt.timedelta(days=4)
        calibration = EquipmentCalibration.objects.create(
            equipment=equipment,
            certificate_no=row["cert"].format(year=date.year),
            body=row["body"],
            date=date,
            due_date=date + cycle,
            result_summary=row["result"],
            confirmed_by=manager,
            confirmed_at=_at(confirmed_on, 10) if manager else None,
            confirmation_note="结果满足使用要求，准予投入使用。" if manager else "",
            entered_by=manager,
        )
        for nominal, unit, correction, uncertainty in row["points"]:
            CalibrationPoint.objects.create(
                calibration=calibration,
                nominal=Decimal(nominal),
                unit=unit,
                correction=Decimal(correction)
                if current
                else (Decimal(correction) * 2 / 3).quantize(Decimal(correction)),
                expanded_uncertainty=Decimal(uncertainty),
                coverage_factor=Decimal(2),
            )


def _check_plan(plan_row: dict, equipment: Equipment, today: dt.date, users: dict) -> None:
    low, high = plan_row["limits"]
    low_warning, high_warning = plan_row["warnings"]
    values = plan_row["values"]
    interval = dt.timedelta(days=plan_row["interval"])
    last = today - dt.timedelta(days=plan_row["last_days_ago"])
    first = last - interval * (len(values) - 1)
    plan = IntermediateCheckPlan.objects.create(
        equipment=equipment,
        quantity=plan_row["quantity"],
        method=plan_row["method"],
        check_standard=plan_row["check_standard"],
        unit=plan_row["unit"],
        interval_days=plan_row["interval"],
        reference_value=Decimal(plan_row["centre"]),
        lower_limit=Decimal(low),
        upper_limit=Decimal(high),
        lower_warning=Decimal(low_warning),
        upper_warning=Decimal(high_warning),
        first_due=first,
    )
    limits = control_chart.Limits.of(plan_row["centre"], low, high, low_warning, high_warning)
    performer = users.get(plan_row["by"]) or users.get("equipment")
    result = None
    for n, (value, broken) in enumerate(
        zip(values, control_chart.evaluate(values, limits), strict=True)
    ):
        latest = n == len(values) - 1
        result = IntermediateCheckResult.objects.create(
            plan=plan,
            date=first + interval * n,
            value=Decimal(value),
            performed_by=performer,
            passed=not broken,
            rules_broken=",".join(str(rule) for rule in broken),
            note=plan_row.get("last_note", "") if latest else "",
        )
    if result is not None:
        # The latest check judged as a recorded one is: out of control restricts the item.
        check_result_judged(equipment, result, actor=SYSTEM)


def _standards(today: dt.date, equipment: dict[str, Equipment], disciplines, users) -> None:
    from metrolab.methods.models import Method

    for row in STANDARDS:
        if "expires_in" in row:
            expiry = today + dt.timedelta(days=row["expires_in"])
            issued = _add_years(expiry, -STANDARD_VALIDITY_YEARS) + dt.timedelta(days=1)
        else:
            issued = today - dt.timedelta(days=row["issued_days_ago"])
            expiry = _add_years(issued, STANDARD_VALIDITY_YEARS) - dt.timedelta(days=1)
        standard = MeasurementStandard.objects.create(
            name=row["name"],
            certificate_no=row["number"].format(year=issued.year),
            certificate_issuer=STANDARD_ISSUER,
            certificate_issued=issued,
            certificate_expiry=expiry,
            discipline=disciplines.get(row["discipline"]),
            measurands=row["measurands"],
            range_text=row["range_text"],
            uncertainty_text=row["uncertainty_text"],
            custodian=users.get(row["custodian"]),
        )
        standard.equipment.set([equipment[a] for a in row["equipment"]])
        methods = []
        for code, year in row["methods"]:
            found = Method.objects.filter(code=code)
            if year is not None:
                found = found.filter(year=year)
            methods.extend(found)
        standard.methods.set(methods)


def _history(today: dt.date, equipment: dict[str, Equipment], users: dict) -> None:
    """Maintenance and faults, manual usage entries and bookings this week."""
    manager = users["equipment"]
    metrologist = users["metrologist"] or manager
    checker = users["checker"] or manager
    for asset_no, kind, days_ago, description, outcome, by in [
        (
            "YQ-2008-005",
            MaintenanceRecord.Kind.FAULT,
            70,
            "活塞下降速度超过规程要求（>1 mm/min），疑似活塞与活塞筒磨损。",
            "贴停用标识，移出计量标准装置，已联系厂家报价维修。",
            manager,
        ),
        (
            "YQ-2012-001",
            MaintenanceRecord.Kind.MAINTENANCE,
            30,
            "更换工作介质（癸二酸酯），清洁活塞、活塞筒及专用砝码。",
            "运行正常，下降速度和转动延续时间符合要求。",
            metrologist,
        ),
        (
            "YQ-2019-012",
            MaintenanceRecord.Kind.MAINTENANCE,
            15,
            "清洁风扇滤网，执行 ACAL 内部自校准。",
            "自校准通过。",
            manager,
        ),
        (
            "YQ-2017-010",
            MaintenanceRecord.Kind.FAULT,
            220,
            "150 ℃ 时槽内温场均匀度明显变差。",
            "经校准确认 150 ℃ 点超差，贴准用标识，限 -40~100 ℃ 使用。",
            checker,
        ),
        (
            "YQ-2017-009",
            MaintenanceRecord.Kind.MAINTENANCE,
            95,
            "更换导热介质（二甲基硅油），清洁搅拌器。",
            "升温至 300 ℃ 运行 4 h，控温正常。",
            checker,
        ),
    ]:
        if by is None:
            continue
        MaintenanceRecord.objects.create(
            equipment=equipment[asset_no],
            kind=kind,
            date=today - dt.timedelta(days=days_ago),
            description=description,
            outcome=outcome,
            by=by,
        )
    for asset_no, user, days_ago, hours, note in [
        ("YQ-2012-001", metrologist, 1, (9, 11), "检定精密压力表 3 只"),
        ("YQ-2015-003", metrologist, 1, (14, 16), "检定一般压力表 12 只"),
        ("YQ-2010-006", checker, 2, (9, 12), "检定工作用玻璃液体温度计 8 支"),
        ("YQ-2019-012", metrologist, 3, (14, 17), "数字多用表校准"),
        ("YQ-2019-013", metrologist, 3, (14, 17), "数字多用表校准"),
    ]:
        if user is None:
            continue
        day = today - dt.timedelta(days=days_ago)
        UsageRecord.objects.create(
            equipment=equipment[asset_no],
            user=user,
            started_at=_at(day, hours[0]),
            ended_at=_at(day, hours[1], 30),
            source=UsageRecord.Source.MANUAL,
            condition_before="正常",
            condition_after="正常",
            note=note,
        )
    tomorrow = _working_day(today + dt.timedelta(days=1))
    after = _working_day(tomorrow + dt.timedelta(days=1))
    for asset_no, user, day, hours, purpose in [
        ("YQ-2012-002", checker, tomorrow, (9, 12), "精密压力表检定（客户送检 10 只）"),
        ("YQ-2019-013", metrologist, after, (14, 17), "数字多用表校准"),
    ]:
        if user is None:
            continue
        Booking.objects.create(
            equipment=equipment[asset_no],
            user=user,
            starts_at=_at(day, hours[0]),
            ends_at=_at(day, hours[1]),
            purpose=purpose,
        )


def _locations(today: dt.date, equipment: dict[str, Equipment], rows, manager) -> None:
    """Where each item was put when it came into service, and an RFID-tagged gauge's trip
    out to an on-site job and back."""
    for row in rows:
        item = equipment[row["asset_no"]]
        since = item.commissioning_date or today
        LocationEvent.objects.create(
            equipment=item,
            location=row["location"],
            at=_at(since, 9),
            source=LocationEvent.Source.STAFF,
            by=manager,
        )
        item.location_updated_at = _at(since, 9)
        item.save()
    gauge = equipment["YQ-2019-001"]
    for days_ago, hour, place, reader in [
        (3, 8, "现场检定车", "车库门读写器 R-03"),
        (2, 17, PRESSURE_ROOM, "压力室门禁读写器 R-01"),
    ]:
        at = _at(today - dt.timedelta(days=days_ago), hour)
        LocationEvent.objects.create(
            equipment=gauge,
            location=place,
            at=at,
            source=LocationEvent.Source.READER,
            reader=reader,
        )
        gauge.location = place
        gauge.location_updated_at = at
    gauge.save()


@service("demo.seed_equipment", record_calls=False)
def demo_seed_equipment(*, actor: Any) -> bool:
    """Seed the demo lab's equipment and measurement standards once; returns False when
    equipment exists already or the demo disciplines do not exist yet."""
    if Equipment.objects.exists() or MeasurementStandard.objects.exists():
        return False
    disciplines = {d.code: d for d in Discipline.objects.all()}
    if not disciplines:
        return False
    today = timezone.localdate()
    users = _users()
    manager = users["equipment"]
    if manager is None:  # the demo users (metrolab.core.demo) come first
        return False
    equipment: dict[str, Equipment] = {}
    for row in EQUIPMENT:
        purchased = today - dt.timedelta(days=row["purchased"])
        item = Equipment.objects.create(
            asset_no=row["asset_no"],
            name=row["name"],
            kind=row["kind"],
            model=row["model"],
            serial_no=row["serial_no"],
            manufacturer=row["manufacturer"],
            range_text=row["range_text"],
            accuracy_text=row["accuracy_text"],
            discipline=disciplines.get(row["discipline"]),
            location=row["location"],
            rfid_uid=row.get("rfid"),
            custodian=manager,
            purchase_date=purchased,
            commissioning_date=purchased + dt.timedelta(days=30),
            status=row.get("status", Equipment.Status.IN_SERVICE),
            calibration_interval_months=row["interval"],
            notes=row.get("notes", ""),
        )
        equipment[row["asset_no"]] = item
        _calibrations(item, row, today, manager)
    for plan_row in CHECK_PLANS:
        _check_plan(plan_row, equipment[plan_row["asset_no"]], today, users)
    _standards(today, equipment, disciplines, users)
    _history(today, equipment, users)
    _locations(today, equipment, EQUIPMENT, manager)
    return True
