"""Demo data for items and tasks: accepted commissions carried to a chosen stage through the
real services (receipt with a photo, shelving, assignment, start, return). Registered with the
demo seed of the lab (metrolab.core.demo) in TasksConfig.ready."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from metrolab.commissions.models import Commission
from metrolab.core.models import User
from metrolab.core.service import service
from metrolab.items.demo import demo_photo, demo_storage_places
from metrolab.items.models import Item
from metrolab.items.services import (
    item_mark_awaiting_return,
    item_move,
    item_receive,
    item_return,
)
from metrolab.tasks.models import Task

# The stages a demo commission can be carried to, in order.
STAGES = ("items_received", "tasks_assigned", "testing", "awaiting_return", "returned")


def demo_carry_commission(
    commission: Commission,
    stage: str,
    *,
    receptionist: User,
    keeper: User,
    manager: User,
    metrologist: User,
    task_setup: Callable[[Task], dict[str, Any]] | None = None,
) -> list[Item]:
    """Receive every item of an accepted commission (a photo with the first) and carry it
    to `stage` (one of STAGES) through the services, so the demo shows real histories. Each
    task is assigned with the keyword arguments `task_setup(task)` gives (authorised item,
    method, standard, equipment, range) so that the assignment passes the eligibility
    checks; by default the demo authorised item of its line, with that item's method,
    measurement standard and equipment (metrolab.qualifications.demo.demo_task_setup)."""
    from metrolab.qualifications.demo import demo_task_setup
    from metrolab.tasks.services import task_assign, task_start

    task_setup = task_setup or demo_task_setup

    if stage not in STAGES:
        raise ValueError(f"unknown demo stage {stage!r}")
    upto = STAGES.index(stage)
    places = demo_storage_places()
    items = []
    for line in commission.lines.order_by("pk"):
        for n in range(line.quantity):
            photos = [demo_photo(f"{commission.number}-{line.pk}-{n}")] if not items else []
            items.append(
                item_receive(
                    line=line,
                    actor=receptionist,
                    condition="外观完好，附件齐全",
                    photos=photos,
                    reason="demo",
                )
            )
    for i, item in enumerate(items):
        item_move(item=item, location=places[i % 3], actor=keeper, reason="demo")
    if upto >= STAGES.index("tasks_assigned"):
        for item in items:
            for task in item.tasks.all():
                task_assign(
                    task=task,
                    assignee=metrologist,
                    actor=manager,
                    reason="demo",
                    **task_setup(task),
                )
    if upto >= STAGES.index("testing"):
        for item in items:
            for task in item.tasks.all():
                task_start(task=task, actor=metrologist, reason="demo")
    if upto >= STAGES.index("awaiting_return"):
        for item in items:
            item_mark_awaiting_return(item=item, actor=keeper, location=places[3], reason="demo")
    if upto >= STAGES.index("returned"):
        for item in items:
            item_return(item=item, collected_by="客户经办人", actor=receptionist, reason="demo")
    return items


@service("demo.seed_flow", record_calls=False)
def demo_seed_flow(*, actor: Any) -> bool:
    """Commissions at every later node (items received → awaiting return / returned), carried
    there through the real services so items have numbers, labels, photos, custody histories
    and tasks assigned under the lab's authorised items. Runs once, after the commissions
    demo; seeds the methods, equipment and qualification libraries first if they are not."""
    from metrolab.commissions.services import commission_create, commission_review
    from metrolab.customers.models import Customer
    from metrolab.qualifications.demo import demo_seed_libraries

    if Item.objects.exists():
        return False
    users = {
        name: User.objects.filter(username=name).first()
        for name in ("receptionist", "keeper", "director", "metrologist")
    }
    customers = list(Customer.objects.order_by("code")[:2])
    if not customers or None in users.values():
        return False
    demo_seed_libraries(actor=actor)
    lines = [
        [
            {
                "instrument_name": "压力表",
                "service": "calibration",
                "model_range": "0-1.6 MPa",
                "accuracy_class": "1.6级",
                "quantity": 2,
            }
        ],
        [{"instrument_name": "数字温度计", "service": "calibration", "model_range": "-50~150 ℃"}],
        [
            {
                "instrument_name": "电子天平",
                "service": "verification",
                "model_range": "3200 g",
                "accuracy_class": "Ⅲ",
            }
        ],
        [{"instrument_name": "压力变送器", "service": "calibration", "model_range": "0-2.5 MPa"}],
        [{"instrument_name": "数字多用表", "service": "calibration", "model_range": "6½ 位"}],
    ]
    for n, stage in enumerate(STAGES):
        commission = commission_create(
            customer=customers[n % 2],
            lines=lines[n],
            channel="desk",
            actor=users["receptionist"],
            reason="demo",
        )
        commission_review(
            commission=commission, decision="accepted", note="", actor=users["director"]
        )
        demo_carry_commission(
            commission,
            stage,
            receptionist=users["receptionist"],
            keeper=users["keeper"],
            manager=users["director"],
            metrologist=users["metrologist"],
        )
    return True
