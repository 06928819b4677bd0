"""Demo certificates (issue 15 "Demo"; R6.3): the demo lab's signing keys (`metrolab pki init`
into METROLAB_PKI_DIR when none are there), then every certificate its approved records queued
is issued at once through the worker's own job (`certificate_issue_run`), oldest first, so
that the thermometers' amended record's certificate replaces the one issued before it. Then
one demo commission is carried to 完成: its items, every one certified, are returned to the
customer.

`demo_seed_certificates(actor=SYSTEM)` runs after the records (order 70); it issues only what
is queued, so running it again does nothing.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings

from metrolab.certificates.models import Certificate
from metrolab.certificates.services import certificate_issue_run
from metrolab.core.service import service


def demo_signing_keys() -> None:
    """The demo lab's CA and signing key, made once (never in production: there the keys are
    issued and configured)."""
    from pathlib import Path

    from metrolab.certificates import pki
    from metrolab.core.models import OrganisationProfile

    if Path(settings.METROLAB_SIGNING_P12).exists():
        return
    lab = OrganisationProfile.objects.filter(pk=1).first()
    pki.pki_init(settings.METROLAB_PKI_DIR, lab_name=(lab.name if lab else "") or "MetroLab")


# The commission carried to 完成: two gauges of customer KH0002 verified (one conforms, one
# does not), certified and returned.
COMPLETED_SPEC = {
    "template": "jjg52-2013-pressure-gauge",
    "scope": "P01",
    "room": "PL-1",
    "equipment": None,
    "customer": "KH0002",
}


def _completed_commission(actor: Any) -> None:
    from metrolab.customers.models import Customer
    from metrolab.environment.models import Room
    from metrolab.items.services import item_mark_awaiting_return, item_return
    from metrolab.records import demo as records_demo
    from metrolab.records.models import TemplateVersion

    people = records_demo.demo_staff()
    customer = Customer.objects.filter(code=COMPLETED_SPEC["customer"]).first()
    version = (
        TemplateVersion.objects.filter(
            template__code=COMPLETED_SPEC["template"], status=TemplateVersion.Status.APPROVED
        )
        .order_by("-number")
        .first()
    )
    if None in people.values() or customer is None or version is None:
        return
    gauge = records_demo.GAUGE_LINE
    worked = records_demo.GAUGE_WORKED
    spec = {
        **COMPLETED_SPEC,
        "records": [
            # class 1.6: conforms → 检定证书; the same readings as class 1.0 do not → 检定结果通知书
            (
                {**gauge, "serial_no": "YB-2025-0301"},
                "approved",
                records_demo.gauge_cells(worked, "1.6"),
                {},
            ),
            (
                {**gauge, "serial_no": "YB-2025-0302", "accuracy_class": "1.0级"},
                "approved",
                records_demo.gauge_cells(worked, "1.0"),
                {},
            ),
        ],
    }
    room = Room.objects.filter(code=COMPLETED_SPEC["room"], active=True).first()
    records_demo.rooms_reporting([room] if room else [])
    records = records_demo.demo_commission_records(
        spec, customer=customer, people=people, version=version, room=room
    )
    for record in records:
        certificate_issue_run(certificate_id=record.certificates.get().pk)
    for record in records:
        item = record.task.item
        item_mark_awaiting_return(item=item, actor=people["keeper"], note="证书已出具，待取")
        item_return(item=item, collected_by="李四（示范水务公司）", actor=people["keeper"])


@service("demo.seed_certificates", record_calls=False)
def demo_seed_certificates(*, actor: Any) -> bool:
    """Issue the demo's queued certificates and carry one commission to 完成 (once)."""
    queued = Certificate.objects.filter(status=Certificate.Status.QUEUED).order_by("pk")
    if not queued.exists():
        return False
    if not getattr(settings, "PRODUCTION", False):
        demo_signing_keys()
    for pk in list(queued.values_list("pk", flat=True)):
        certificate_issue_run(certificate_id=pk)
    _completed_commission(actor)
    return True
