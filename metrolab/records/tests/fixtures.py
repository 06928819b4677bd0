"""Fixtures of the records tests: the built-in templates approved, a started verification
task of a 0–1.6 MPa pressure gauge (the qualified set-up of the tasks' fixtures), a record of
it, readings of the engine's worked JJG 52 example, and helpers that move a record along.

Use from another test package with `from metrolab.records.tests.fixtures import *`.
"""

from __future__ import annotations

import pytest
from django.utils import timezone

__all__ = [
    "GAUGE_READINGS",
    "PASSWORD",
    "approved_version",
    "english",
    "gauge_cells",
    "gauge_record",
    "gauge_roles",
    "gauge_task",
    "move",
    "start_task",
]

PASSWORD = "cast-password-1"

# The engine's worked example (metrolab/metrology/tests/test_builtin_templates.py): a class 1.6
# 0–1.6 MPa gauge, points 0…100 % of span: (standard, up before, up after, down before, down
# after) in MPa. Largest error 0.035 MPa, largest hysteresis 0.010, tapping 0.005 → pass.
GAUGE_READINGS = {
    1: ("0", "0", "0", "0.010", "0.005"),
    2: ("0.32", "0.325", "0.330", "0.340", "0.335"),
    3: ("0.64", "0.640", "0.645", "0.655", "0.650"),
    4: ("0.96", "0.955", "0.960", "0.975", "0.970"),
    5: ("1.28", "1.290", "1.295", "1.305", "1.300"),
    6: ("1.6", "1.625", "1.630", "1.640", "1.635"),
}


def gauge_cells(accuracy_class: str = "1.6") -> dict[str, str]:
    cells = {"param.accuracy_class": accuracy_class, "header.appearance": "无异常"}
    names = ("standard", "up_before", "up_after", "down_before", "down_after")
    for point, values in GAUGE_READINGS.items():
        for name, text in zip(names, values, strict=True):
            cells[f"{name}.{point}"] = text
    return cells


def gauge_roles(task) -> dict[int, str]:
    """The roles of the gauge task's equipment: the qualified set-up's two pressure standards
    (活塞式压力计 YQ-001, 数字压力计 YQ-002) both fit the JJG 52 template's "standard", so no
    role is assigned unless given; YQ-001 is the standard here."""
    return {e.pk: ("standard" if e.asset_no == "YQ-001" else "") for e in task.equipment.all()}


@pytest.fixture
def english(client, settings):
    """The records core's tests read the English messages (the UI's default is Chinese)."""
    from django.utils import translation

    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    with translation.override("en"):
        yield


@pytest.fixture
def approved_version(cast):
    """approved_version(code="jjg52-2013-pressure-gauge", service=None, **template fields) →
    an approved TemplateVersion of a built-in template."""
    from metrolab.metrology.record_template import builtin_templates
    from metrolab.records.models import RecordTemplate, TemplateVersion
    from metrolab.records.services.templates import definition_digest

    def _make(code="jjg52-2013-pressure-gauge", service=None, **fields):
        definition = builtin_templates()[code]
        template, _ = RecordTemplate.objects.get_or_create(
            code=code,
            defaults={
                "title": definition["title"]["zh"],
                "service": service or definition["service"],
                "builtin": True,
                **fields,
            },
        )
        return TemplateVersion.objects.create(
            template=template,
            number=template.versions.count() + 1,
            definition=definition,
            digest=definition_digest(definition),
            status=TemplateVersion.Status.APPROVED,
            approved_by=cast["director"],
            approved_at=timezone.now(),
        )

    return _make


@pytest.fixture
def start_task(cast, make_commission, receive, qualified_assign):
    """start_task(service="verification", name=...) → a task of a new item, assigned to the
    cast's metrologist under the qualified set-up and started."""
    from metrolab.tasks.services import task_start

    def _start(service="verification", name="弹性元件式一般压力表 Pressure gauge", **assign):
        commission = make_commission(lines=[(name, 1, service)])
        item = receive(commission, 0)
        task = item.tasks.get()
        qualified_assign(task, **assign)
        task_start(task=task, actor=cast["metrologist"])
        task.refresh_from_db()
        return task

    return _start


@pytest.fixture
def gauge_task(start_task, approved_version):
    approved_version()
    return start_task()


@pytest.fixture
def gauge_record(cast, gauge_task):
    """A draft record of the started gauge task (the JJG 52 template), no cells yet; YQ-001
    is its standard (`gauge_roles`)."""
    from metrolab.records.services import record_create

    return record_create(task=gauge_task, actor=cast["metrologist"], roles=gauge_roles(gauge_task))


@pytest.fixture
def move(cast):
    """move(record, to="approved"): fill (the worked example), submit, check, approve by the
    cast's metrologist, checker and approver, as far as `to`."""
    from metrolab.records import services

    def _move(record, to="approved", cells=None):
        steps = ["filled", "submitted", "checked", "approved"]
        if record.status == "draft":
            services.record_write(
                record=record, values=cells or gauge_cells(), actor=cast["metrologist"]
            )
        if steps.index(to) >= 1:
            record = services.record_submit(
                record=record, actor=cast["metrologist"], password=PASSWORD
            )
        if steps.index(to) >= 2:
            record = services.record_check(record=record, actor=cast["checker"], password=PASSWORD)
        if steps.index(to) >= 3:
            record = services.record_approve(
                record=record, actor=cast["approver"], password=PASSWORD
            )
        record.refresh_from_db()
        return record

    return _move
