"""Demo data for items and tasks: storage places, and accepted commissions carried to a
chosen stage through the real services (receipt with a photo, shelving, assignment, start,
return). Called by the demo seed of the lab (metrolab.core.demo)."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from django.core.files.uploadedfile import SimpleUploadedFile

from metrolab.commissions.models import Commission
from metrolab.core.models import User
from metrolab.core.service import service
from metrolab.items.models import Item, StorageLocation
from metrolab.items.services import (
    item_mark_awaiting_return,
    item_move,
    item_receive,
    item_return,
)

if TYPE_CHECKING:
    from metrolab.tasks.models import Task

DEMO_PLACES = [
    ("样品间 101", "A-01", "S101-A01"),
    ("样品间 101", "A-02", "S101-A02"),
    ("样品间 101", "B-01", "S101-B01"),
    ("待取区", "R-01", "RET-01"),
]

# The stages a demo commission can be carried to, in order.
STAGES = ("items_received", "tasks_assigned", "testing", "awaiting_return", "returned")


def demo_storage_places() -> list[StorageLocation]:
    places = []
    for room, shelf, code in DEMO_PLACES:
        place = StorageLocation.objects.filter(code=code).first()
        if place is None:
            place = StorageLocation.objects.create(room=room, shelf=shelf, code=code)
        places.append(place)
    return places


def demo_photo(text: str) -> SimpleUploadedFile:
    """A small JPEG standing in for a photo taken at receipt."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (480, 360), (226, 232, 240))
    draw = ImageDraw.Draw(image)
    draw.rectangle((60, 60, 420, 300), outline=(11, 83, 148), width=6)
    draw.ellipse((170, 110, 310, 250), outline=(29, 39, 51), width=5)
    draw.text((70, 310), text, fill=(29, 39, 51))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=80)
    return SimpleUploadedFile(f"{text}.jpg", buffer.getvalue(), content_type="image/jpeg")


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
