"""Tasks (R6.1b, R6.4e): one per item × service at receipt, assigned by a lab manager to an
eligible person (one service, one eligibility function), workload per person, "my tasks",
start by the assignee; the commission advances items received → tasks assigned → testing."""

from __future__ import annotations

import pytest

from metrolab.commissions.models import StatusEvent
from metrolab.core.service import ServiceError
from metrolab.core.services import api_token_create, user_create
from metrolab.items.models import Item
from metrolab.tasks import services
from metrolab.tasks.models import Task
from metrolab.tasks.selectors import workload
from metrolab.tasks.services import task_assign, task_assignment_problems, task_start

pytestmark = pytest.mark.django_db


@pytest.fixture
def second_metrologist(db):
    return user_create(
        username="metrologist2", password="pw-2-metro", roles=["metrologist"], display_name="Li"
    )


@pytest.fixture
def received(make_commission, receive):
    commission = make_commission(
        lines=[("Gauge", 2, "calibration"), ("Thermometer", 1, "verification")]
    )
    items = [receive(commission, 0), receive(commission, 0), receive(commission, 1)]
    commission.refresh_from_db()
    return commission, items


def _status(commission):
    commission.refresh_from_db()
    return commission.status


def test_one_task_per_item_and_service_at_receipt(received):
    commission, items = received
    tasks = Task.objects.filter(item__commission=commission)
    assert tasks.count() == 3
    assert {(t.item_id, t.service) for t in tasks} == {(i.pk, i.service) for i in items}
    assert all(t.status == Task.Status.UNASSIGNED for t in tasks)
    # Creating them again for an item adds nothing.
    assert services.tasks_create_for_item(item=items[0])[0] == items[0].tasks.get()


def test_assignment_problems(received, cast):
    _commission, items = received
    task = items[0].tasks.get()
    assert task_assignment_problems(task, cast["metrologist"]) == []
    assert (
        "does not hold the metrologist role" in task_assignment_problems(task, cast["checker"])[0]
    )
    inactive = cast["metrologist"]
    inactive.is_active = False
    inactive.save()
    assert "not active" in task_assignment_problems(task, inactive)[0]
    assert task_assignment_problems(task, None)


def test_the_eligibility_check_can_be_extended(received, cast, monkeypatch):
    """The methods / equipment / quality issue adds its checks here (R6.4e)."""
    _commission, items = received
    task = items[0].tasks.get()

    def not_authorised_for_verification(task, person):
        return ["not authorised for this method"] if task.service == "calibration" else []

    monkeypatch.setattr(services, "assignment_checks", [not_authorised_for_verification])
    with pytest.raises(ServiceError) as refused:
        task_assign(task=task, assignee=cast["metrologist"], actor=cast["director"])
    assert refused.value.code == "not_eligible"
    assert "not authorised" in refused.value.message
    task.refresh_from_db()
    assert task.status == Task.Status.UNASSIGNED and task.assignee is None


def test_only_lab_managers_assign(received, cast):
    _commission, items = received
    task = items[0].tasks.get()
    for username in ("receptionist", "metrologist", "quality_manager", "customer_a"):
        with pytest.raises(ServiceError) as refused:
            task_assign(task=task, assignee=cast["metrologist"], actor=cast[username])
        assert refused.value.code == "forbidden"
    task_assign(task=task, assignee=cast["metrologist"], actor=cast["admin"])
    task.refresh_from_db()
    assert (task.assignee, task.assigned_by, task.status) == (
        cast["metrologist"],
        cast["admin"],
        Task.Status.ASSIGNED,
    )
    assert task.assigned_at is not None


def test_commission_advances_through_assignment_and_start(received, cast, second_metrologist):
    commission, items = received
    assert _status(commission) == "items_received"
    tasks = [i.tasks.get() for i in items]
    task_assign(task=tasks[0], assignee=cast["metrologist"], actor=cast["director"])
    task_assign(task=tasks[1], assignee=second_metrologist, actor=cast["director"])
    assert _status(commission) == "items_received"  # one task still unassigned
    task_assign(task=tasks[2], assignee=cast["metrologist"], actor=cast["director"])
    assert _status(commission) == "tasks_assigned"
    # Someone else may not start my task.
    with pytest.raises(ServiceError) as refused:
        task_start(task=tasks[0], actor=second_metrologist)
    assert refused.value.code == "forbidden"
    task_start(task=tasks[0], actor=cast["metrologist"])
    task_start(task=tasks[1], actor=second_metrologist)
    assert _status(commission) == "tasks_assigned"
    # A started task cannot be reassigned or started twice.
    with pytest.raises(ServiceError):
        task_assign(task=tasks[0], assignee=second_metrologist, actor=cast["director"])
    with pytest.raises(ServiceError):
        task_start(task=tasks[0], actor=cast["metrologist"])
    task_start(task=tasks[2], actor=cast["metrologist"])
    assert _status(commission) == "testing"
    nodes = list(
        StatusEvent.objects.filter(commission=commission)
        .order_by("at", "pk")
        .values_list("status", flat=True)
    )
    assert nodes == ["items_received", "tasks_assigned", "testing"]
    # Starting a task puts its item into testing, held by the assignee.
    item = Item.objects.get(pk=items[0].pk)
    assert item.state == Item.State.IN_TESTING
    assert item.custody_events.last().by == cast["metrologist"]


def test_reassignment_before_start_and_items_that_left(received, cast, second_metrologist):
    from metrolab.items.services import item_return

    _commission, items = received
    task = items[0].tasks.get()
    task_assign(task=task, assignee=cast["metrologist"], actor=cast["director"])
    task_assign(task=task, assignee=second_metrologist, actor=cast["director"])
    task.refresh_from_db()
    assert task.assignee == second_metrologist
    other = items[1].tasks.get()
    item_return(item=items[1], collected_by="Customer", actor=cast["receptionist"])
    with pytest.raises(ServiceError) as refused:
        task_assign(task=other, assignee=cast["metrologist"], actor=cast["director"])
    assert "left the lab" in refused.value.message


def test_workload_counts_open_tasks(received, cast, second_metrologist):
    _commission, items = received
    tasks = [i.tasks.get() for i in items]
    task_assign(task=tasks[0], assignee=cast["metrologist"], actor=cast["director"])
    task_assign(task=tasks[1], assignee=cast["metrologist"], actor=cast["director"])
    task_assign(task=tasks[2], assignee=second_metrologist, actor=cast["director"])
    task_start(task=tasks[0], actor=cast["metrologist"])
    load = {p.username: (p.open_tasks, p.in_progress) for p in workload()}
    assert load == {"metrologist": (2, 1), "metrologist2": (1, 0)}


def test_assignment_page_and_my_tasks(received, cast, client, second_metrologist):
    _commission, items = received
    tasks = [i.tasks.get() for i in items]
    client.force_login(cast["director"])
    html = client.get("/tasks/assign/").content.decode()
    assert all(i.number in html for i in items)
    assert 'data-testid="workload"' in html and 'data-testid="open-metrologist">0<' in html
    response = client.post(
        f"/tasks/{tasks[0].pk}/assign/",
        {"assignee": cast["metrologist"].pk, "next": "/tasks/assign/"},
    )
    assert response.status_code == 302 and response.headers["Location"] == "/tasks/assign/"
    html = client.get("/tasks/assign/").content.decode()
    assert "assigned to Metrologist" in html
    assert 'data-testid="open-metrologist">1<' in html
    html = client.get("/tasks/assign/").content.decode()
    assert items[0].number not in html  # assigned: no longer waiting
    assert items[0].number in client.get("/tasks/assign/", {"show": "all"}).content.decode()
    # An ineligible person is refused with the reason.
    client.post(f"/tasks/{tasks[1].pk}/assign/", {"assignee": cast["checker"].pk})
    assert "does not hold the metrologist role" in client.get("/tasks/assign/").content.decode()
    tasks[1].refresh_from_db()
    assert tasks[1].assignee is None
    client.force_login(cast["metrologist"])
    html = client.get("/tasks/").content.decode()
    assert items[0].number in html and items[1].number not in html
    assert client.post(f"/tasks/{tasks[0].pk}/start/").status_code == 302
    tasks[0].refresh_from_db()
    assert tasks[0].status == Task.Status.IN_PROGRESS
    client.force_login(second_metrologist)
    assert f'href="/items/{items[0].number}/"' not in client.get("/tasks/").content.decode()
    assert client.post(f"/tasks/{tasks[0].pk}/start/").status_code == 404


def test_task_page_roles(cast, client):
    for username, user in cast.items():
        client.force_login(user)
        assign = client.get("/tasks/assign/").status_code
        assert assign == (200 if username in {"admin", "director"} else 403), username
        mine = client.get("/tasks/").status_code
        staff = username not in {"customer", "customer_a", "customer_b", "regulator", "device"}
        assert mine == (200 if staff else 403), username


def test_tasks_api(received, cast, client):
    _commission, items = received
    tasks = [i.tasks.get() for i in items]
    director = user_create(username="boss", password=None, roles=["director"], display_name="Boss")
    _t, raw = api_token_create(user=director, name="planning", roles=["director"], actor=director)
    auth = {"Authorization": f"Bearer {raw}"}
    waiting = client.get("/api/v1/tasks/to-assign", headers=auth).json()
    assert {t["item"] for t in waiting} == {i.number for i in items}
    response = client.post(
        f"/api/v1/tasks/{tasks[0].pk}/assign",
        {"assignee": "metrologist"},
        content_type="application/json",
        headers=auth,
    )
    assert response.status_code == 200, response.content
    assert response.json()["assignee"] == "metrologist" and response.json()["status"] == "assigned"
    refused = client.post(
        f"/api/v1/tasks/{tasks[1].pk}/assign",
        {"assignee": "checker"},
        content_type="application/json",
        headers=auth,
    )
    assert refused.status_code == 422 and refused.json()["error"]["code"] == "not_eligible"
    load = client.get("/api/v1/tasks/workload", headers=auth).json()
    assert {
        "username": "metrologist",
        "name": "Metrologist",
        "open_tasks": 1,
        "in_progress": 0,
    } in load
    client.force_login(cast["metrologist"])
    mine = client.get("/api/v1/tasks/mine").json()
    assert [t["item"] for t in mine] == [items[0].number]
    assert (
        client.post(
            f"/api/v1/tasks/{tasks[0].pk}/assign",
            {"assignee": "metrologist"},
            content_type="application/json",
        ).status_code
        == 403
    )
    started = client.post(f"/api/v1/tasks/{tasks[0].pk}/start")
    assert started.status_code == 200 and started.json()["status"] == "in_progress"
    assert client.post(f"/api/v1/tasks/{tasks[1].pk}/start").status_code == 404
    client.force_login(cast["customer_a"])
    assert client.get("/api/v1/tasks/mine").status_code == 403
