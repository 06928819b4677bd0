"""Demo data of the methods library (技术依据库): the instrument categories the demo lab works
on and the regulations, specifications and in-house work instructions it uses — current ones,
superseded editions, one being superseded within weeks and one not yet effective.

National documents carry their published dates (sources in the report of issue 5; dates not
confirmed there are plausible ones). The in-house work instructions are invented for the demo
and dated relative to the day of seeding, so that "being superseded" stays true whenever the
demo is started. Call `demo_seed_methods()` after the demo disciplines exist
(metrolab.commissions.demo); it does nothing when the library holds methods already.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from metrolab.commissions.models import Discipline
from metrolab.core.service import service
from metrolab.methods.models import InstrumentCategory, Method

# code, name, English name, discipline code
CATEGORIES = [
    ("P-01", "弹性元件式一般压力表", "Elastic-element pressure gauge for general use", "P"),
    ("P-02", "弹性元件式压力真空表", "Elastic-element pressure-vacuum gauge", "P"),
    ("P-03", "弹性元件式真空表", "Elastic-element vacuum gauge", "P"),
    ("P-04", "精密压力表", "Precision pressure gauge (Bourdon tube)", "P"),
    ("P-05", "压力变送器", "Pressure transmitter", "P"),
    ("T-01", "工作用玻璃液体温度计", "Working liquid-in-glass thermometer", "T"),
    ("T-02", "数字温度计", "Digital thermometer", "T"),
    ("E-01", "数字多用表", "Digital multimeter", "E"),
    ("M-01", "电子天平", "Electronic balance", "M"),
]

# The national documents: kind, code, year, title, English title, published, effective,
# disciplines, categories, services, notes. Dates: JJG 52-2013 (published 2013-06-27, in
# force 2013-12-27, replaces JJG 52-1999 and JJG 573-2003) and JJG 130-2004 (2004-03-02 /
# 2004-09-02) from the texts' title pages; JJG 882-2019 (2019-12-31 / 2020-03-31) and
# JJG 1036-2008 (2008-02-20 / 2008-05-20) likewise; JJF(川) 139-2017 (2017-12-30 /
# 2018-01-30) from the Sichuan specification's title page; GB/T 13978-2008 (2008-08-19 /
# 2009-03-01) from its title page. The others are plausible dates.
NATIONAL = [
    (
        "JJG",
        "JJG 52",
        "1999",
        "弹簧管式一般压力表、压力真空表和真空表",
        "Bourdon-tube pressure gauges, pressure-vacuum gauges and vacuum gauges for general use",
        dt.date(1999, 4, 20),
        dt.date(1999, 10, 1),
        ["P"],
        ["P-01", "P-02", "P-03"],
        "verification",
        "已被 JJG 52-2013 代替。",
    ),
    (
        "JJG",
        "JJG 52",
        "2013",
        "弹性元件式一般压力表、压力真空表和真空表",
        "Elastic element pressure gauges, pressure-vacuum gauges and vacuum gauges for general use",
        dt.date(2013, 6, 27),
        dt.date(2013, 12, 27),
        ["P"],
        ["P-01", "P-02", "P-03"],
        "verification,calibration",
        "代替 JJG 52-1999 和 JJG 573-2003。本院压力表校准亦参照本规程执行。",
    ),
    (
        "JJG",
        "JJG 49",
        "2013",
        "弹簧管式精密压力表和真空表",
        "Bourdon-tube precision pressure gauges and vacuum gauges",
        dt.date(2013, 6, 27),
        dt.date(2013, 12, 27),
        ["P"],
        ["P-04"],
        "verification",
        "",
    ),
    (
        "JJG",
        "JJG 882",
        "2019",
        "压力变送器",
        "Pressure transmitters",
        dt.date(2019, 12, 31),
        dt.date(2020, 3, 31),
        ["P"],
        ["P-05"],
        "verification,calibration",
        "代替 JJG 882-2004。本院压力变送器校准参照本规程执行。",
    ),
    (
        "JJG",
        "JJG 130",
        "2004",
        "工作用玻璃液体温度计",
        "Liquid-in-glass thermometers for working",
        dt.date(2004, 3, 2),
        dt.date(2004, 9, 2),
        ["T"],
        ["T-01"],
        "verification",
        "已被 JJG 130-2011 代替。",
    ),
    (
        "JJG",
        "JJG 130",
        "2011",
        "工作用玻璃液体温度计",
        "Liquid-in-glass thermometers for working",
        dt.date(2011, 6, 14),
        dt.date(2011, 12, 14),
        ["T"],
        ["T-01"],
        "verification",
        "代替 JJG 130-2004。",
    ),
    (
        "JJF",
        "JJF(川) 139",
        "2017",
        "数字温度计校准规范",
        "Calibration specification for digital thermometers",
        dt.date(2017, 12, 30),
        dt.date(2018, 1, 30),
        ["T"],
        ["T-02"],
        "calibration",
        "四川省地方计量技术规范。",
    ),
    (
        "JJG",
        "JJG 1036",
        "2008",
        "电子天平",
        "Electronic balances",
        dt.date(2008, 2, 20),
        dt.date(2008, 5, 20),
        ["M"],
        ["M-01"],
        "verification",
        "",
    ),
    (
        "JJF",
        "JJF 1587",
        "2016",
        "数字多用表校准规范",
        "Calibration specification for digital multimeters",
        dt.date(2016, 6, 27),
        dt.date(2016, 12, 27),
        ["E"],
        ["E-01"],
        "calibration",
        "",
    ),
    (
        "GB/T",
        "GB/T 13978",
        "2008",
        "数字多用表",
        "Digital multimeters",
        dt.date(2008, 8, 19),
        dt.date(2009, 3, 1),
        ["E"],
        ["E-01"],
        "testing",
        "代替 GB/T 13978-1992。本院数字多用表电气安全性能（绝缘电阻）检测依据。",
    ),
    (
        "JJF",
        "JJF 1059.1",
        "2012",
        "测量不确定度评定与表示",
        "Evaluation and expression of uncertainty in measurement",
        dt.date(2012, 12, 3),
        dt.date(2013, 6, 3),
        ["P", "T", "M", "E"],
        [],
        "verification,calibration,testing",
        "通用技术规范，各专业测量不确定度评定依据。",
    ),
]

# The accuracy classes the pressure-gauge regulations cover (their scope clauses): JJG 52-2013
# general gauges of class 1.0, 1.6, 2.5 and 4.0; JJG 49-2013 precision gauges of class 0.1,
# 0.16, 0.25 and 0.4. The in-house instruction for general gauges follows JJG 52-2013.
ACCURACY_CLASSES = {
    ("JJG 52", "2013"): "1.0, 1.6, 2.5, 4.0",
    ("JJG 49", "2013"): "0.1, 0.16, 0.25, 0.4",
    ("SFJL/ZY-YL-01", None): "1.0, 1.6, 2.5, 4.0",
}

# Successions among the national documents: (code, old year, new year).
SUCCESSIONS = [("JJG 52", "1999", "2013"), ("JJG 130", "2004", "2011")]

# The in-house work instruction whose new edition takes effect in this many days (the radar
# shows the old one "being superseded"; the new one is "not yet effective").
NEW_EDITION_IN_DAYS = 45


def _disciplines() -> dict[str, Discipline]:
    return {d.code: d for d in Discipline.objects.all()}


def _method(
    *,
    kind: str,
    code: str,
    year: str,
    title: str,
    title_en: str = "",
    published: dt.date | None,
    effective: dt.date,
    disciplines: list[Discipline],
    categories: list[InstrumentCategory],
    services: str,
    notes: str = "",
) -> Method:
    method = Method.objects.create(
        kind=kind,
        code=code,
        year=year,
        title=title,
        title_en=title_en,
        published_date=published,
        effective_date=effective,
        services=services,
        notes=notes,
    )
    method.disciplines.set(disciplines)
    method.categories.set(categories)
    return method


@service("demo.seed_methods", record_calls=False)
def demo_seed_methods(*, actor: Any) -> bool:
    """Seed the instrument categories and methods once; returns False when the library holds
    methods or categories already, or the demo disciplines do not exist yet."""
    if Method.objects.exists() or InstrumentCategory.objects.exists():
        return False
    disciplines = _disciplines()
    if not disciplines:
        return False
    today = timezone.localdate()
    categories = {}
    for code, name, name_en, discipline in CATEGORIES:
        categories[code] = InstrumentCategory.objects.create(
            code=code, name=name, name_en=name_en, discipline=disciplines.get(discipline)
        )

    methods = {}
    for row in NATIONAL:
        (kind, code, year, title, title_en, published, effective, discs, cats, services_, notes) = (
            row
        )
        methods[(code, year)] = _method(
            kind=kind,
            code=code,
            year=year,
            title=title,
            title_en=title_en,
            published=published,
            effective=effective,
            disciplines=[disciplines[d] for d in discs if d in disciplines],
            categories=[categories[c] for c in cats],
            services=services_,
            notes=notes,
        )
    for code, old, new in SUCCESSIONS:
        superseded = methods[(code, old)]
        superseded.superseded_by = methods[(code, new)]
        superseded.save()

    # In-house work instructions (作业指导书): one current, one being superseded by a new
    # edition that takes effect in NEW_EDITION_IN_DAYS days.
    pressure, temperature = disciplines.get("P"), disciplines.get("T")
    _method(
        kind=Method.Kind.INHOUSE,
        code="SFJL/ZY-WD-03",
        year=str((today - dt.timedelta(days=420)).year),
        title="数字温度计校准作业指导书",
        title_en="Work instruction: calibration of digital thermometers",
        published=today - dt.timedelta(days=450),
        effective=today - dt.timedelta(days=420),
        disciplines=[temperature] if temperature else [],
        categories=[categories["T-02"]],
        services="calibration",
        notes="依据 JJF(川) 139-2017 编制，补充本院低温恒温槽和数字测温电桥的操作步骤。",
    )
    new_edition_from = today + dt.timedelta(days=NEW_EDITION_IN_DAYS)
    new_edition = _method(
        kind=Method.Kind.INHOUSE,
        code="SFJL/ZY-YL-01",
        year=str((today - dt.timedelta(days=30)).year),
        title="一般压力表检定作业指导书",
        title_en="Work instruction: verification of pressure gauges for general use",
        published=today - dt.timedelta(days=30),
        effective=new_edition_from,
        disciplines=[pressure] if pressure else [],
        categories=[categories[c] for c in ("P-01", "P-02", "P-03")],
        services="verification",
        notes="第 2 版：增加数字压力计作标准器时的操作要求。",
    )
    old_edition = _method(
        kind=Method.Kind.INHOUSE,
        code="SFJL/ZY-YL-01",
        year=str((today - dt.timedelta(days=1500)).year),
        title="一般压力表检定作业指导书",
        title_en="Work instruction: verification of pressure gauges for general use",
        published=today - dt.timedelta(days=1520),
        effective=today - dt.timedelta(days=1500),
        disciplines=[pressure] if pressure else [],
        categories=[categories[c] for c in ("P-01", "P-02", "P-03")],
        services="verification",
        notes="第 1 版，依据 JJG 52-2013 编制。",
    )
    old_edition.superseded_by = new_edition
    old_edition.save()
    for (code, year), classes in ACCURACY_CLASSES.items():
        covered = Method.objects.filter(code=code)
        if year is not None:
            covered = covered.filter(year=year)
        for method in covered:
            method.accuracy_classes = classes
            method.save(update_fields=["accuracy_classes", "updated_at"])
    return True


def demo_method(code: str, year: str) -> Method | None:
    """A method of the demo library by code and year (None when not seeded)."""
    return Method.objects.filter(code=code, year=year).first()
