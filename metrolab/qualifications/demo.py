"""Demo data of the qualification libraries (R6.8): the demo lab's authorised items (scope),
its people's profiles, certificates, trainings and authorisations — 张检定 (metrologist) and
赵核验 (checker, also a metrologist) perform, 赵核验 checks, 陈技术 (director) and 孙签字
(approver) approve — and `demo_task_setup`, which gives each demo task the authorised item,
method, measurement standard, equipment and instrument range it is assigned with.

Dates are relative to the day of seeding: 赵核验's 计量检定员证 expires in 21 days (and with
it his authorisations that rest on it), the vacuum-gauge item in 50 days. Call
`demo_seed_libraries(actor=SYSTEM)` after the demo users and disciplines exist
(metrolab.core.demo, metrolab.commissions.demo): it seeds methods, equipment and
qualifications in that order, each once.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.utils import timezone

from metrolab.core.models import OrganisationProfile, User
from metrolab.core.service import service
from metrolab.methods.ranges import stated_range
from metrolab.qualifications.models import (
    Authorisation,
    AuthorisedItem,
    PersonnelCertificate,
    StaffProfile,
    TrainingRecord,
)

LEGAL, ACCREDITED = "legal", "accredited"

# code, name, service, measurand, category, (low, high, unit), range as stated, CMC, methods
# (the first is the one demo tasks use; year None: the edition in force), standard, basis,
# valid until (days from today; None: the lab's authorisation period).
ITEMS = [
    (
        "P01",
        "弹性元件式一般压力表检定",
        "verification",
        "压力",
        "P-01",
        ("0", "60", "MPa"),
        "(0~60) MPa",
        "准确度等级 1.0、1.6、2.5、4.0 级",
        [("JJG 52", "2013"), ("SFJL/ZY-YL-01", None)],
        "弹簧管式精密压力表标准装置",
        LEGAL,
        None,
    ),
    (
        "P02",
        "弹性元件式压力真空表检定",
        "verification",
        "压力",
        "P-02",
        ("-0.1", "2.4", "MPa"),
        "(-0.1~2.4) MPa",
        "准确度等级 1.0、1.6、2.5、4.0 级",
        [("JJG 52", "2013"), ("SFJL/ZY-YL-01", None)],
        "弹簧管式精密压力表标准装置",
        LEGAL,
        None,
    ),
    (
        "P03",
        "弹性元件式真空表检定",
        "verification",
        "压力",
        "P-03",
        ("-0.1", "0", "MPa"),
        "(-0.1~0) MPa",
        "准确度等级 1.0、1.6、2.5、4.0 级",
        [("JJG 52", "2013"), ("SFJL/ZY-YL-01", None)],
        "弹簧管式精密压力表标准装置",
        LEGAL,
        50,
    ),
    (
        "P04",
        "精密压力表检定",
        "verification",
        "压力",
        "P-04",
        ("0", "60", "MPa"),
        "(0~60) MPa",
        "准确度等级 0.1、0.16、0.25、0.4 级",
        [("JJG 49", "2013")],
        "活塞式压力计标准装置",
        LEGAL,
        None,
    ),
    (
        "P05",
        "压力变送器校准",
        "calibration",
        "压力",
        "P-05",
        ("0", "60", "MPa"),
        "(0~60) MPa",
        "Urel=0.03%（k=2）",
        [("JJG 882", "2019")],
        "活塞式压力计标准装置",
        ACCREDITED,
        None,
    ),
    (
        "P06",
        "一般压力表校准",
        "calibration",
        "压力",
        "P-01",
        ("-0.1", "60", "MPa"),
        "(-0.1~60) MPa",
        "U=0.3%FS（k=2）",
        [("JJG 52", "2013")],
        "弹簧管式精密压力表标准装置",
        ACCREDITED,
        None,
    ),
    (
        "T01",
        "工作用玻璃液体温度计检定",
        "verification",
        "温度",
        "T-01",
        ("-30", "300", "℃"),
        "(-30~300) ℃",
        "分度值 0.1 ℃ 及以上（全浸式、局浸式）",
        [("JJG 130", "2011")],
        "二等标准水银温度计标准装置",
        LEGAL,
        None,
    ),
    (
        "T02",
        "数字温度计校准",
        "calibration",
        "温度",
        "T-02",
        ("-60", "300", "℃"),
        "(-60~300) ℃",
        "U=0.06 ℃（k=2）",
        [("JJF(川) 139", "2017"), ("SFJL/ZY-WD-03", None)],
        "二等标准铂电阻温度计标准装置",
        ACCREDITED,
        None,
    ),
    (
        "E01",
        "数字多用表校准",
        "calibration",
        "直流电压、交流电压、直流电流、交流电流、电阻",
        "E-01",
        (None, None, ""),
        "DCV 0~1000 V；ACV 1 mV~1000 V；DCI/ACI 0~20 A；电阻 0~100 MΩ",
        "DCV：Urel=8×10⁻⁶（k=2）；ACV：Urel=1.2×10⁻⁴（k=2）",
        [("JJF 1587", "2016")],
        "数字多用表校准装置",
        ACCREDITED,
        None,
    ),
    (
        "E02",
        "数字多用表电气安全性能检测（绝缘电阻）",
        "testing",
        "绝缘电阻",
        "E-01",
        (None, None, ""),
        "绝缘电阻 (0.01~10000) MΩ，试验电压 DC 500 V、1000 V",
        "Urel=3%（k=2）",
        [("GB/T 13978", "2008")],
        "电气安全性能检测装置",
        ACCREDITED,
        None,
    ),
    (
        "M01",
        "电子天平检定",
        "verification",
        "质量",
        "M-01",
        ("0", "5000", "g"),
        "Max ≤ 5 kg",
        "Ⅲ级、Ⅳ级；Ⅱ级（e ≥ 0.1 g）",
        [("JJG 1036", "2008")],
        "F1 等级砝码标准装置",
        LEGAL,
        None,
    ),
]
ALL_ITEMS = [row[0] for row in ITEMS]

# The CMC as a number where the stated CMC is one expanded uncertainty (records refuse a
# smaller U): in the scope's unit ("℃" is the templates' "°C": metrology.units), or relative
# ("%", "ppm"). The others state accuracy classes, a span of values or a fraction of
# full scale, which records do not compare.
CMC_VALUES = {
    "P05": ("0.03", "%"),
    "T02": ("0.06", "℃"),
    "E01": ("8", "ppm"),  # DCV
}

# The lab's authorisation period for its scope: from ~2 years ago for 5 years.
SCOPE_FROM_DAYS_AGO = 700
SCOPE_YEARS = 5

# username: employee no., department, professional title, education, joined (days ago), phone
PROFILES = {
    "admin": ("SF-0001", "综合办公室", "工程师", "本科", 3650, "010-8888 6601"),
    "director": (
        "SF-0002",
        "技术管理部（技术负责人）",
        "正高级工程师",
        "硕士研究生",
        7300,
        "010-8888 6602",
    ),
    "quality": ("SF-0003", "质量管理部（质量负责人）", "高级工程师", "本科", 5000, "010-8888 6603"),
    "approver": (
        "SF-0004",
        "技术管理部（授权签字人）",
        "高级工程师",
        "本科",
        6100,
        "010-8888 6604",
    ),
    "metrologist": (
        "SF-0105",
        "计量测试部",
        "工程师",
        "本科（测控技术与仪器）",
        2900,
        "010-8888 6615",
    ),
    "checker": ("SF-0106", "计量测试部", "高级工程师", "硕士研究生", 4700, "010-8888 6616"),
    "receptionist": ("SF-0110", "业务受理部", "助理工程师", "大专", 1200, "010-8888 6620"),
    "equipment": ("SF-0120", "设备管理科", "工程师", "本科", 3300, "010-8888 6621"),
    "keeper": ("SF-0130", "业务受理部", "", "大专", 900, "010-8888 6622"),
    "driver": ("SF-0140", "综合办公室", "", "高中", 1500, "010-8888 6623"),
}

# key, username, kind, number (the year is the issue year), issued by, issued (days ago) or
# expires (days from now), validity (years), items covered.
CERTIFICATES = [
    (
        "zhang-registered",
        "metrologist",
        PersonnelCertificate.Kind.REGISTERED_METROLOGIST,
        "2ZJ{year}0153",
        "示范省市场监督管理局",
        {"issued_days_ago": 900},
        5,
        ALL_ITEMS,
    ),
    (
        "zhao-registered",
        "checker",
        PersonnelCertificate.Kind.REGISTERED_METROLOGIST,
        "1ZJ{year}0027",
        "国家市场监督管理总局",
        {"issued_days_ago": 1500},
        5,
        ALL_ITEMS,
    ),
    (
        "zhao-verifier",
        "checker",
        PersonnelCertificate.Kind.VERIFICATION_OFFICER,
        "（示）计检证字第 0231 号",
        "示范省市场监督管理局",
        {"expires_in": 21},
        5,
        ["P01", "P04", "T01"],
    ),
    (
        "chen-registered",
        "director",
        PersonnelCertificate.Kind.REGISTERED_METROLOGIST,
        "1ZJ{year}0008",
        "国家市场监督管理总局",
        {"issued_days_ago": 1000},
        5,
        ALL_ITEMS,
    ),
    (
        "sun-signatory",
        "approver",
        PersonnelCertificate.Kind.INTERNAL,
        "SFJL-SQ-{year}-03",
        "示范市计量测试研究院",
        {"issued_days_ago": 300},
        3,
        ALL_ITEMS,
    ),
]

# username, capacity, items, certificate key, granted by
AUTHORISATIONS = [
    ("metrologist", Authorisation.Capacity.PERFORM, ALL_ITEMS, "zhang-registered", "director"),
    ("checker", Authorisation.Capacity.PERFORM, ["P01", "P04", "T01"], "zhao-verifier", "director"),
    (
        "checker",
        Authorisation.Capacity.PERFORM,
        ["P02", "P05", "P06", "T02", "E01"],
        "zhao-registered",
        "director",
    ),
    ("checker", Authorisation.Capacity.CHECK, ALL_ITEMS, "zhao-registered", "director"),
    ("director", Authorisation.Capacity.CHECK, ALL_ITEMS, "chen-registered", "admin"),
    ("director", Authorisation.Capacity.APPROVE, ALL_ITEMS, "chen-registered", "admin"),
    ("approver", Authorisation.Capacity.APPROVE, ALL_ITEMS, "sun-signatory", "director"),
]

# username, days ago, topic, provider, hours, result, items
TRAININGS = [
    (
        "metrologist",
        700,
        "JJG 52-2013《弹性元件式一般压力表、压力真空表和真空表》宣贯",
        "示范省计量测试学会",
        "8",
        "考核合格",
        ["P01", "P02", "P03", "P06"],
    ),
    (
        "metrologist",
        500,
        "JJF 1059.1-2012《测量不确定度评定与表示》",
        "示范省计量科学研究院",
        "16",
        "考核合格",
        [],
    ),
    (
        "metrologist",
        300,
        "JJG 882-2019《压力变送器》检定与校准技术",
        "全国压力计量技术委员会",
        "12",
        "考核合格",
        ["P05"],
    ),
    (
        "metrologist",
        120,
        "数字温度计校准作业指导书（SFJL/ZY-WD-03）",
        "本院计量测试部",
        "4",
        "合格",
        ["T02"],
    ),
    (
        "checker",
        800,
        "JJG 130-2011《工作用玻璃液体温度计》检定规程",
        "示范省计量测试学会",
        "8",
        "考核合格",
        ["T01"],
    ),
    (
        "checker",
        400,
        "CNAS-CL01:2018《检测和校准实验室能力认可准则》内审员培训",
        "中国合格评定国家认可委员会培训中心",
        "24",
        "取得内审员证书",
        [],
    ),
    (
        "director",
        600,
        "计量标准考核规范（JJF 1033）宣贯",
        "示范省市场监督管理局",
        "8",
        "合格",
        [],
    ),
    (
        "quality",
        600,
        "CNAS-CL01:2018《检测和校准实验室能力认可准则》内审员培训",
        "中国合格评定国家认可委员会培训中心",
        "24",
        "取得内审员证书",
        [],
    ),
    ("equipment", 90, "期间核查与控制图的应用", "本院质量管理部", "4", "合格", []),
]

# Which authorised item a demo commission line is done under: (instrument, service) → item.
LINE_SCOPES = {
    ("压力表", "verification"): "P01",
    ("压力表", "calibration"): "P06",
    ("压力真空表", "verification"): "P02",
    ("真空表", "verification"): "P03",
    ("精密压力表", "verification"): "P04",
    ("压力变送器", "calibration"): "P05",
    ("工作用玻璃液体温度计", "verification"): "T01",
    ("玻璃液体温度计", "verification"): "T01",
    ("数字温度计", "calibration"): "T02",
    ("数字多用表", "calibration"): "E01",
    ("数字多用表", "testing"): "E02",
    ("电子天平", "verification"): "M01",
}


def _add_years(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def _methods(specs) -> list:
    """The methods of (code, year) pairs; year None: every edition of that code (the
    superseded one stays linked so that the item shows its coming successor)."""
    from metrolab.methods.models import Method

    found = []
    for code, year in specs:
        editions = Method.objects.filter(code=code)
        if year is not None:
            editions = editions.filter(year=year)
        found.extend(editions.order_by("effective_date"))
    return found


def _items(today: dt.date) -> dict[str, AuthorisedItem]:
    from metrolab.equipment.models import MeasurementStandard
    from metrolab.methods.models import InstrumentCategory

    organisation = OrganisationProfile.objects.first()
    references = {
        LEGAL: getattr(organisation, "authorisation_no", "") or "",
        ACCREDITED: getattr(organisation, "accreditation_no", "") or "",
    }
    valid_from = today - dt.timedelta(days=SCOPE_FROM_DAYS_AGO)
    valid_until = _add_years(valid_from, SCOPE_YEARS) - dt.timedelta(days=1)
    items = {}
    for row in ITEMS:
        (code, name, service_, measurand, category, rng, range_text, cmc, methods) = row[:9]
        standard_name, basis, until_days = row[9:]
        low, high, unit = rng
        item = AuthorisedItem.objects.create(
            code=code,
            name=name,
            service=service_,
            measurand=measurand,
            category=InstrumentCategory.objects.get(code=category),
            range_low=Decimal(low) if low is not None else None,
            range_high=Decimal(high) if high is not None else None,
            unit=unit,
            range_text=range_text,
            cmc=cmc,
            cmc_value=Decimal(CMC_VALUES[code][0]) if code in CMC_VALUES else None,
            cmc_unit=CMC_VALUES[code][1] if code in CMC_VALUES else "",
            standard=MeasurementStandard.objects.filter(name=standard_name).first(),
            authorisation_ref=references[basis],
            valid_from=valid_from,
            valid_until=(
                today + dt.timedelta(days=until_days) if until_days is not None else valid_until
            ),
        )
        item.methods.set(_methods(methods))
        items[code] = item
    return items


def _certificates(today, users, items) -> dict[str, PersonnelCertificate]:
    certificates = {}
    for key, username, kind, number, issuer, when, years, covered in CERTIFICATES:
        person = users.get(username)
        if person is None:
            continue
        if "expires_in" in when:
            expiry = today + dt.timedelta(days=when["expires_in"])
            issued = _add_years(expiry, -years) + dt.timedelta(days=1)
        else:
            issued = today - dt.timedelta(days=when["issued_days_ago"])
            expiry = _add_years(issued, years) - dt.timedelta(days=1)
        certificate = PersonnelCertificate.objects.create(
            person=person,
            kind=kind,
            number=number.format(year=issued.year),
            issued_by=issuer,
            issue_date=issued,
            expiry_date=expiry,
        )
        certificate.items.set([items[c] for c in covered])
        certificates[key] = certificate
    return certificates


@service("demo.seed_qualifications", record_calls=False)
def demo_seed_qualifications(*, actor: Any) -> bool:
    """Seed the authorised items, staff profiles, certificates, trainings and authorisations
    once; returns False when authorised items exist already, or the instrument categories
    (metrolab.methods.demo) or the demo users do not exist yet."""
    from metrolab.methods.models import InstrumentCategory

    if AuthorisedItem.objects.exists() or not InstrumentCategory.objects.exists():
        return False
    users = {name: User.objects.filter(username=name).first() for name in PROFILES}
    if users.get("metrologist") is None:
        return False
    today = timezone.localdate()
    items = _items(today)
    for username, (number, department, title, education, joined, phone) in PROFILES.items():
        user = users[username]
        if user is None or StaffProfile.objects.filter(user=user).exists():
            continue
        StaffProfile.objects.create(
            user=user,
            employee_no=number,
            department=department,
            title=title,
            education=education,
            joined=today - dt.timedelta(days=joined),
            phone=phone,
        )
    certificates = _certificates(today, users, items)
    for username, capacity, codes, certificate_key, grantor in AUTHORISATIONS:
        person, certificate = users.get(username), certificates.get(certificate_key)
        if person is None or certificate is None:
            continue
        for code in codes:
            Authorisation.objects.create(
                person=person,
                item=items[code],
                capacity=capacity,
                certificate=certificate,
                valid_from=max(certificate.issue_date, items[code].valid_from),
                granted_by=users.get(grantor),
            )
    for username, days_ago, topic, provider, hours, result, codes in TRAININGS:
        person = users.get(username)
        if person is None:
            continue
        training = TrainingRecord.objects.create(
            person=person,
            date=today - dt.timedelta(days=days_ago),
            topic=topic,
            provider=provider,
            hours=Decimal(hours),
            result=result,
        )
        training.items.set([items[c] for c in codes])
    return True


@service("demo.seed_libraries", record_calls=False)
def demo_seed_libraries(*, actor: Any) -> bool:
    """The methods, equipment and qualification libraries of the demo lab, in that order
    (each needs the one before); each part is seeded once. True when anything was seeded."""
    from metrolab.equipment.demo import demo_seed_equipment
    from metrolab.methods.demo import demo_seed_methods

    seeded = [
        demo_seed_methods(actor=actor),
        demo_seed_equipment(actor=actor),
        demo_seed_qualifications(actor=actor),
    ]
    return any(seeded)


# --- what a demo task is assigned with ------------------------------------------------------


def line_range(model_range: str, unit: str) -> tuple[Decimal | None, Decimal | None]:
    """The instrument range written on a commission line, in `unit` (see `stated_range`)."""
    return stated_range(model_range, unit)


def demo_scope_for(line) -> AuthorisedItem | None:
    """The demo authorised item a commission line's instrument and service fall under."""
    code = LINE_SCOPES.get((line.instrument_name.strip(), line.service))
    return AuthorisedItem.objects.filter(code=code).first() if code else None


def demo_task_setup(task) -> dict[str, Any]:
    """The keyword arguments of `task_assign` that set a demo task up: the authorised item of
    its line, the item's listed current method fitting the instrument best (else the first),
    its measurement standard with the standard's usable equipment, and the instrument range
    from the line. Empty when no demo item covers the line."""
    from metrolab.equipment.models import Equipment
    from metrolab.methods.coverage import instrument_of_item, method_preferred

    line = task.item.line
    scope = demo_scope_for(line)
    if scope is None:
        return {}
    code = scope.code
    listed = next(row[8] for row in ITEMS if row[0] == code)
    current = [m for m in _methods(listed) if m.is_current_on()]
    method = method_preferred(current, instrument_of_item(task.item))
    standard = scope.standard
    equipment = (
        list(standard.equipment.filter(status__in=Equipment.USABLE).order_by("asset_no"))
        if standard is not None
        else []
    )
    low, high = line_range(line.model_range, scope.unit)
    return {
        "scope": scope,
        "method": method,
        "standard": standard,
        "equipment": equipment,
        "range_low": low,
        "range_high": high,
    }
