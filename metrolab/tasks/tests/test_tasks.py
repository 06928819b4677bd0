"""Tasks (R6.1b, R6.4e, R6.7d): one per item × service at receipt, assigned by a lab manager
to an eligible person under an authorised item with a method, standard and equipment (one
eligibility service, every reason), workload per person, "my tasks", start by the assignee
(eligibility checked again, equipment usage written); the commission advances items received
→ tasks assigned → testing."""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal

import pytest
from django.utils import timezone

from metrolab.commissions.models import StatusEvent
from metrolab.core.models import AuditEvent
from metrolab.core.permissions import SYSTEM
from metrolab.core.service import ServiceError
from metrolab.core.services import api_token_create, user_create
from metrolab.equipment.models import Equipment, EquipmentCalibration, UsageRecord
from metrolab.items.models import Item
from metrolab.tasks import services
from metrolab.tasks.models import Task
from metrolab.tasks.selectors import workload
from metrolab.tasks.services import task_assign, task_assignment_problems, task_start

pytestmark = pytest.mark.django_db


@pytest.fixture
def second_metrologist(db, authorise):
    """A second metrologist, authorised to perform both the calibration and the verification
    item of the qualified set-up."""
    person = user_create(
        username="metrologist2",
        password="pw-2-metro",
        roles=["metrologist"],
        display_name="Li",
        actor=SYSTEM,
    )
    authorise(person, service="calibration")
    authorise(person, service="verification")
    return person


@pytest.fixture
def received(make_commission, receive, qualified_setup):
    commission = make_commission(
        lines=[("Gauge", 2, "calibration"), ("Thermometer", 1, "verification")]
    )
    items = [receive(commission, 0), receive(commission, 0), receive(commission, 1)]
    commission.refresh_from_db()
    return commission, items


def _status(commission):
    commission.refresh_from_db()
    return commission.status


def _set_up(task, setup):
    """Give a task its set-up directly (test arrangement, not the service)."""
    task.scope, task.method, task.standard = setup["scope"], setup["method"], setup["standard"]
    task.save()
    task.equipment.set(setup["equipment"])
    return task


def _overdue(equipment, days_ago=1):
    """Make the equipment's confirmed calibration fall due `days_ago` days before today."""
    calibration = equipment.current_calibration()
    calibration.due_date = timezone.localdate() - dt.timedelta(days=days_ago)
    calibration.save()
    return calibration


def test_one_task_per_item_and_service_at_receipt(received):
    commission, items = received
    tasks = Task.objects.filter(item__commission=commission)
    assert tasks.count() == 3
    assert {(t.item_id, t.service) for t in tasks} == {(i.pk, i.service) for i in items}
    assert all(t.status == Task.Status.UNASSIGNED for t in tasks)
    # Creating them again for an item adds nothing.
    assert services.tasks_create_for_item(item=items[0], actor=SYSTEM)[0] == items[0].tasks.get()


def test_assignment_problems(received, cast, qualified_setup):
    _commission, items = received
    task = items[0].tasks.get()
    # Not set up: every missing piece is named.
    problems = task_assignment_problems(task, cast["metrologist"])
    assert any("No authorised item is chosen" in p for p in problems)
    assert "No method is chosen." in problems
    _set_up(task, qualified_setup.setup("calibration"))
    assert task_assignment_problems(task, cast["metrologist"]) == []
    checker = task_assignment_problems(task, cast["checker"])
    assert "Checker does not hold the metrologist role." in checker
    assert "Checker is not authorised to perform CAL-P-01 弹性元件式一般压力表." in checker
    inactive = cast["metrologist"]
    inactive.is_active = False
    inactive.save()
    assert "not active" in task_assignment_problems(task, inactive)[0]
    assert task_assignment_problems(task, None) == ["Choose a person."]


def test_the_eligibility_service_is_registered_once(settings):
    from django.apps import apps

    from metrolab.qualifications.eligibility import assignment_check

    apps.get_app_config("qualifications").ready()  # a second ready() adds nothing
    assert services.assignment_checks.count(assignment_check) == 1


def test_the_eligibility_check_can_be_extended(received, cast, monkeypatch, qualified_assign):
    """Further checks (e.g. training) can be added next to the eligibility service."""
    _commission, items = received
    task = items[0].tasks.get()

    def not_authorised_for_verification(task, person):
        return ["not authorised for this method"] if task.service == "calibration" else []

    monkeypatch.setattr(services, "assignment_checks", [not_authorised_for_verification])
    with pytest.raises(ServiceError) as refused:
        qualified_assign(task)
    assert refused.value.code == "not_eligible"
    assert "not authorised" in refused.value.message
    task.refresh_from_db()
    assert task.status == Task.Status.UNASSIGNED and task.assignee is None


def test_only_lab_managers_assign(received, cast, qualified_assign):
    _commission, items = received
    task = items[0].tasks.get()
    for username in ("receptionist", "metrologist", "quality_manager", "customer_a"):
        with pytest.raises(ServiceError) as refused:
            qualified_assign(task, actor=cast[username])
        assert refused.value.code == "forbidden"
    qualified_assign(task, actor=cast["admin"])
    task.refresh_from_db()
    assert (task.assignee, task.assigned_by, task.status) == (
        cast["metrologist"],
        cast["admin"],
        Task.Status.ASSIGNED,
    )
    assert task.assigned_at is not None


def test_assignment_stores_the_setup_and_defaults_from_the_scope(received, cast, qualified_setup):
    _commission, items = received
    task = items[0].tasks.get()
    spare, broken = qualified_setup.equipment
    broken.status = Equipment.Status.UNDER_REPAIR
    broken.save()
    # Only the authorised item is given: its current method, its standard and that standard's
    # usable equipment (the one under repair is left out).
    task_assign(
        task=task,
        assignee=cast["metrologist"],
        actor=cast["director"],
        scope=qualified_setup.scope,
        range_low=Decimal("0"),
        range_high=Decimal("25"),
    )
    task.refresh_from_db()
    assert (task.scope, task.method, task.standard) == (
        qualified_setup.scope,
        qualified_setup.method,
        qualified_setup.standard,
    )
    assert list(task.equipment.all()) == [spare]
    assert (task.range_low, task.range_high) == (Decimal("0"), Decimal("25"))
    # Reassigning with nothing new keeps the set-up.
    task_assign(task=task, assignee=cast["metrologist"], actor=cast["director"])
    task.refresh_from_db()
    assert task.scope == qualified_setup.scope and list(task.equipment.all()) == [spare]
    # The lower end above the upper: a clear error, nothing changed.
    with pytest.raises(ServiceError) as refused:
        task_assign(
            task=task,
            assignee=cast["metrologist"],
            actor=cast["director"],
            range_low=Decimal("30"),
        )
    assert refused.value.field == "range_low"


def test_refused_with_every_reason_writes_nothing_then_passes_after_the_fix(
    received, cast, qualified_setup
):
    _commission, items = received
    task = items[0].tasks.get()
    yq1 = qualified_setup.equipment[0]
    due = _overdue(yq1).due_date
    authorisation = qualified_setup.authorisations[("metrologist", "calibration")]
    authorisation.valid_until = timezone.localdate() - dt.timedelta(days=1)
    authorisation.save()
    events = AuditEvent.objects.count()
    with pytest.raises(ServiceError) as refused:
        task_assign(
            task=task,
            assignee=cast["metrologist"],
            actor=cast["director"],
            scope=qualified_setup.scope,
            range_low=Decimal("0"),
            range_high=Decimal("70"),
        )
    error = refused.value
    assert (error.code, error.field) == ("not_eligible", "assignee")
    assert f"Equipment YQ-001 活塞式压力计 was due for calibration on {due:%Y-%m-%d}." in (
        error.message
    )
    assert "Metrologist's authorisation to perform CAL-P-01" in error.message
    assert "The instrument range 0–70 MPa lies outside the authorised range 0–60 MPa" in (
        error.message
    )
    assert len(error.problems) == 3
    # Nothing written: not the assignee, not the set-up, not an audit event.
    task.refresh_from_db()
    assert task.status == Task.Status.UNASSIGNED and task.assignee is None
    assert (task.scope, task.method, task.standard) == (None, None, None)
    assert (task.range_low, task.range_high) == (None, None)
    assert not task.equipment.exists()
    assert AuditEvent.objects.count() == events
    # Put right: a new, confirmed calibration; the authorisation renewed; the range corrected.
    EquipmentCalibration.objects.create(
        equipment=yq1,
        certificate_no="YJL2026-0100",
        body="省计量院",
        date=timezone.localdate(),
        due_date=timezone.localdate() + dt.timedelta(days=365),
        confirmed_at=timezone.now(),
        confirmed_by=cast["equipment_manager"],
    )
    authorisation.valid_until = timezone.localdate() + dt.timedelta(days=365)
    authorisation.save()
    task_assign(
        task=task,
        assignee=cast["metrologist"],
        actor=cast["director"],
        scope=qualified_setup.scope,
        range_low=Decimal("0"),
        range_high=Decimal("60"),
    )
    task.refresh_from_db()
    assert task.status == Task.Status.ASSIGNED and task.assignee == cast["metrologist"]
    assert task.range_high == Decimal("60")


def test_start_checks_again_and_writes_equipment_usage(
    received, cast, qualified_setup, qualified_assign
):
    _commission, items = received
    task = items[0].tasks.get()
    qualified_assign(task)
    # Since the assignment: a calibration fell due and the authorisation was revoked.
    yq2 = qualified_setup.equipment[1]
    due = _overdue(yq2).due_date
    authorisation = qualified_setup.authorisations[("metrologist", "calibration")]
    authorisation.revoked = True
    authorisation.save()
    with pytest.raises(ServiceError) as refused:
        task_start(task=task, actor=cast["metrologist"])
    assert refused.value.code == "not_eligible"
    assert f"Equipment YQ-002 数字压力计 was due for calibration on {due:%Y-%m-%d}." in (
        refused.value.message
    )
    assert "authorisation to perform CAL-P-01 弹性元件式一般压力表 was revoked" in (
        refused.value.message
    )
    task.refresh_from_db()
    assert task.status == Task.Status.ASSIGNED
    assert not UsageRecord.objects.exists()
    assert Item.objects.get(pk=items[0].pk).state != Item.State.IN_TESTING
    # Put right, the task starts and each of its equipment gets an automatic usage record.
    authorisation.revoked = False
    authorisation.save()
    calibration = yq2.current_calibration()
    calibration.due_date = timezone.localdate()  # valid on its due date
    calibration.save()
    before = timezone.now()
    task_start(task=task, actor=cast["metrologist"])
    usage = list(UsageRecord.objects.order_by("equipment__asset_no"))
    assert [u.equipment.asset_no for u in usage] == ["YQ-001", "YQ-002"]
    assert all(
        (u.source, u.task_id, u.user) == ("auto", task.pk, cast["metrologist"]) for u in usage
    )
    assert all(u.started_at >= before and u.ended_at is None for u in usage)


def test_commission_advances_through_assignment_and_start(
    received, cast, second_metrologist, qualified_assign
):
    commission, items = received
    assert _status(commission) == "items_received"
    tasks = [i.tasks.get() for i in items]
    qualified_assign(tasks[0])
    qualified_assign(tasks[1], assignee=second_metrologist)
    assert _status(commission) == "items_received"  # one task still unassigned
    qualified_assign(tasks[2])
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
        qualified_assign(tasks[0], assignee=second_metrologist)
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


def test_reassignment_before_start_and_items_that_left(
    received, cast, second_metrologist, qualified_assign
):
    from metrolab.items.services import item_return

    _commission, items = received
    task = items[0].tasks.get()
    qualified_assign(task)
    qualified_assign(task, assignee=second_metrologist)
    task.refresh_from_db()
    assert task.assignee == second_metrologist
    other = items[1].tasks.get()
    item_return(
        item=items[1], collected_by="Customer", actor=cast["receptionist"], reason="客户取回"
    )
    with pytest.raises(ServiceError) as refused:
        qualified_assign(other)
    assert "left the lab" in refused.value.message


def test_workload_counts_open_tasks(received, cast, second_metrologist, qualified_assign):
    _commission, items = received
    tasks = [i.tasks.get() for i in items]
    qualified_assign(tasks[0])
    qualified_assign(tasks[1])
    qualified_assign(tasks[2], assignee=second_metrologist)
    task_start(task=tasks[0], actor=cast["metrologist"])
    load = {p.username: (p.open_tasks, p.in_progress) for p in workload()}
    assert load == {"metrologist": (2, 1), "metrologist2": (1, 0)}


def test_assignment_pages_and_my_tasks(
    received, cast, client, second_metrologist, qualified_setup, qualified_assign
):
    _commission, items = received
    tasks = [i.tasks.get() for i in items]
    client.force_login(cast["director"])
    html = client.get("/tasks/assign/").content.decode()
    assert all(i.number in html for i in items)
    assert 'data-testid="workload"' in html and 'data-testid="open-metrologist">0<' in html
    assert "not set up" in html and f'href="/tasks/{tasks[0].pk}/assign/?next=' in html
    # The task's page: nothing set up yet, so nobody may take it, with the reasons.
    page = client.get(f"/tasks/{tasks[0].pk}/assign/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "CAL-P-01" in html and "VER-P-01" not in html  # items of the task's service only
    assert "No authorised item is chosen" in html
    # Checking with only the authorised item chosen fills in its method, standard and
    # equipment, and shows who may take it: ✓ for the authorised metrologists.
    html = client.post(
        f"/tasks/{tasks[0].pk}/assign/",
        {
            "action": "check",
            "scope": qualified_setup.scope.pk,
            "range_low": "0",
            "range_high": "10",
        },
    ).content.decode()
    assert f'<option value="{qualified_setup.method.pk}" selected>' in html
    assert f'<option value="{qualified_setup.standard.pk}" selected>' in html
    assert f'<option value="{qualified_setup.equipment[0].pk}" selected>' in html
    assert "✓ Metrologist (0)" in html and "✓ Li (0)" in html
    assert 'data-testid="verdict-metrologist" class="ok"' in html
    tasks[0].refresh_from_db()
    assert tasks[0].scope is None  # checking writes nothing
    # Refused: every reason in the page's error area, nothing written.
    _overdue(qualified_setup.equipment[0])
    response = client.post(
        f"/tasks/{tasks[0].pk}/assign/",
        {
            "action": "assign",
            "scope": qualified_setup.scope.pk,
            "range_low": "0",
            "range_high": "100",
            "assignee": cast["metrologist"].pk,
        },
    )
    html = response.content.decode()
    assert response.status_code == 200 and 'data-testid="refusal"' in html
    assert "Metrologist may not take this task:" in html
    assert "Equipment YQ-001 活塞式压力计 was due for calibration on" in html
    assert "The instrument range 0–100 MPa lies outside" in html
    assert 'data-testid="verdict-metrologist" class="not-ok"' in html
    tasks[0].refresh_from_db()
    assert tasks[0].assignee is None and tasks[0].scope is None
    # Put right (a new confirmed calibration), the assignment goes through.
    EquipmentCalibration.objects.create(
        equipment=qualified_setup.equipment[0],
        certificate_no="YJL2026-0200",
        body="省计量院",
        date=timezone.localdate(),
        due_date=timezone.localdate() + dt.timedelta(days=365),
        confirmed_at=timezone.now(),
    )
    response = client.post(
        f"/tasks/{tasks[0].pk}/assign/",
        {
            "action": "assign",
            "scope": qualified_setup.scope.pk,
            "range_low": "0",
            "range_high": "60",
            "assignee": cast["metrologist"].pk,
            "next": "/tasks/assign/",
        },
    )
    assert response.status_code == 302 and response.headers["Location"] == "/tasks/assign/"
    html = client.get("/tasks/assign/").content.decode()
    assert "assigned to Metrologist" in html
    assert 'data-testid="open-metrologist">1<' in html
    html = client.get("/tasks/assign/").content.decode()
    assert items[0].number not in html  # assigned: no longer waiting
    html = client.get("/tasks/assign/", {"show": "all"}).content.decode()
    assert items[0].number in html and "<code>CAL-P-01</code>" in html
    # A set-up task is reassigned from the list with the person alone.
    response = client.post(
        f"/tasks/{tasks[0].pk}/assign/",
        {"action": "assign", "assignee": second_metrologist.pk, "next": "/tasks/assign/?show=all"},
    )
    assert response.headers["Location"] == "/tasks/assign/?show=all"
    tasks[0].refresh_from_db()
    assert tasks[0].assignee == second_metrologist and tasks[0].range_high == Decimal("60")
    qualified_assign(tasks[0])
    # An ineligible person is refused with the reasons.
    qualified_assign(tasks[1], assignee=second_metrologist)
    wang = user_create(
        username="wang", password=None, roles=["metrologist"], display_name="Wang", actor=SYSTEM
    )
    html = client.post(
        f"/tasks/{tasks[1].pk}/assign/", {"action": "assign", "assignee": wang.pk}
    ).content.decode()
    assert "Wang may not take this task:" in html
    assert "Wang is not authorised to perform CAL-P-01 弹性元件式一般压力表." in html
    assert "✗ Wang — Wang is not authorised" in html
    tasks[1].refresh_from_db()
    assert tasks[1].assignee == second_metrologist
    # A bad range is a form error.
    html = client.post(
        f"/tasks/{tasks[2].pk}/assign/",
        {
            "action": "assign",
            "range_low": "10",
            "range_high": "1",
            "assignee": cast["metrologist"].pk,
        },
    ).content.decode()
    assert "must not be below its lower end" in html
    client.force_login(cast["metrologist"])
    html = client.get("/tasks/").content.decode()
    assert items[0].number in html and items[1].number not in html
    assert client.post(f"/tasks/{tasks[0].pk}/start/").status_code == 302
    tasks[0].refresh_from_db()
    assert tasks[0].status == Task.Status.IN_PROGRESS
    client.force_login(second_metrologist)
    assert f'href="/items/{items[0].number}/"' not in client.get("/tasks/").content.decode()
    assert client.post(f"/tasks/{tasks[0].pk}/start/").status_code == 404


def test_start_refused_on_the_page_with_the_reasons(
    received, cast, client, qualified_setup, qualified_assign
):
    _commission, items = received
    task = items[0].tasks.get()
    qualified_assign(task)
    qualified_setup.standard.active = False
    qualified_setup.standard.save()
    client.force_login(cast["metrologist"])
    response = client.post(f"/tasks/{task.pk}/start/", follow=True)
    html = response.content.decode()
    assert "This task cannot be started now:" in html
    assert "Measurement standard 0.05级活塞式压力计标准装置 is no longer in use." in html
    task.refresh_from_db()
    assert task.status == Task.Status.ASSIGNED


def test_task_page_roles(cast, client, received):
    _commission, items = received
    task = items[0].tasks.get()
    for username, user in cast.items():
        client.force_login(user)
        manager = username in {"admin", "director"}
        assert client.get("/tasks/assign/").status_code == (200 if manager else 403), username
        assert client.get(f"/tasks/{task.pk}/assign/").status_code == (200 if manager else 403), (
            username
        )
        mine = client.get("/tasks/").status_code
        staff = username not in {"customer", "customer_a", "customer_b", "regulator", "device"}
        assert mine == (200 if staff else 403), username
    client.force_login(cast["director"])
    assert client.get("/tasks/999999/assign/").status_code == 404


@pytest.fixture
def director_api(db):
    director = user_create(
        username="boss", password=None, roles=["director"], display_name="Boss", actor=SYSTEM
    )
    _t, raw = api_token_create(user=director, name="planning", roles=["director"], actor=director)
    return {"Authorization": f"Bearer {raw}"}


def test_tasks_api(received, cast, client, qualified_setup, director_api):
    _commission, items = received
    tasks = [i.tasks.get() for i in items]
    auth = director_api
    waiting = client.get("/api/v1/tasks/to-assign", headers=auth).json()["items"]
    assert {t["item"] for t in waiting} == {i.number for i in items}
    # Not set up: refused with the reasons.
    refused = client.post(
        f"/api/v1/tasks/{tasks[0].pk}/assign",
        {"assignee": "metrologist"},
        content_type="application/json",
        headers=auth,
    )
    assert refused.status_code == 422 and refused.json()["error"]["code"] == "not_eligible"
    assert "No authorised item is chosen" in refused.json()["error"]["message"]
    # With the authorised item (defaults for the rest) and the instrument range.
    response = client.post(
        f"/api/v1/tasks/{tasks[0].pk}/assign",
        {
            "assignee": "metrologist",
            "scope": qualified_setup.scope.pk,
            "range_low": "0",
            "range_high": "16",
        },
        content_type="application/json",
        headers=auth,
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["assignee"], body["status"], body["scope"], body["method"]) == (
        "metrologist",
        "assigned",
        "CAL-P-01",
        "JJG 52-2013",
    )
    assert body["equipment"] == ["YQ-001", "YQ-002"] and float(body["range_high"]) == 16
    # Every part may be named; unknown ids are clear errors.
    yq2 = qualified_setup.equipment[1]
    response = client.post(
        f"/api/v1/tasks/{tasks[2].pk}/assign",
        {
            "assignee": "metrologist",
            "scope": qualified_setup.scope_verification.pk,
            "method": qualified_setup.method.pk,
            "standard": qualified_setup.standard.pk,
            "equipment": [yq2.pk],
        },
        content_type="application/json",
        headers=auth,
    )
    assert response.status_code == 200 and response.json()["equipment"] == ["YQ-002"]
    for field, value in (("scope", 999999), ("equipment", [yq2.pk, 999999])):
        bad = client.post(
            f"/api/v1/tasks/{tasks[1].pk}/assign",
            {"assignee": "metrologist", field: value},
            content_type="application/json",
            headers=auth,
        )
        assert bad.status_code == 422 and bad.json()["error"]["details"][0]["loc"] == [field]
    refused = client.post(
        f"/api/v1/tasks/{tasks[1].pk}/assign",
        {"assignee": "checker", "scope": qualified_setup.scope.pk},
        content_type="application/json",
        headers=auth,
    )
    assert refused.status_code == 422 and refused.json()["error"]["code"] == "not_eligible"
    load = client.get("/api/v1/tasks/workload", headers=auth).json()["items"]
    assert {
        "username": "metrologist",
        "name": "Metrologist",
        "open_tasks": 2,
        "in_progress": 0,
    } in load
    client.force_login(cast["metrologist"])
    mine = client.get("/api/v1/tasks/mine").json()["items"]
    assert [t["item"] for t in mine] == [items[0].number, items[2].number]
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
    assert UsageRecord.objects.filter(task=tasks[0], source="auto").count() == 2
    assert client.post(f"/api/v1/tasks/{tasks[1].pk}/start").status_code == 404
    client.force_login(cast["customer_a"])
    assert client.get("/api/v1/tasks/mine").status_code == 403


def test_eligibility_api(received, cast, client, qualified_setup, qualified_assign, director_api):
    _commission, items = received
    task = items[0].tasks.get()
    qualified_assign(task)
    url = f"/api/v1/tasks/{task.pk}/eligibility"

    def ask(person, capacity=None, headers=director_api, **extra):
        params = {"person": cast[person].pk, **extra}
        if capacity:
            params["capacity"] = capacity
        return client.get(url, params, headers=headers)

    assert ask("metrologist").json() == {"eligible": True, "problems": [], "warnings": []}
    assert ask("checker", "check").json() == {"eligible": True, "problems": [], "warnings": []}
    assert ask("approver", "approve").json() == {"eligible": True, "problems": [], "warnings": []}
    body = ask("checker").json()
    assert body["eligible"] is False
    assert [p["code"] for p in body["problems"]] == ["role_missing", "not_qualified"]
    assert body["problems"][1] == {
        "code": "not_qualified",
        "message": "Checker is not authorised to perform CAL-P-01 弹性元件式一般压力表.",
        "deviable": False,
    }
    assert [p["code"] for p in ask("metrologist", "approve").json()["problems"]] == [
        "not_qualified"
    ]
    # On a day after the authorisation ends.
    authorisation = qualified_setup.authorisations[("checker", "calibration")]
    until = authorisation.valid_until = qualified_setup.today + dt.timedelta(days=10)
    authorisation.save()
    assert ask("checker", "check", on=until.isoformat()).json()["eligible"] is True
    late = ask("checker", "check", on=(until + dt.timedelta(days=1)).isoformat()).json()
    assert [p["code"] for p in late["problems"]] == ["qualification_expired"]
    # Deviable problems say so.
    task.refresh_from_db()
    task.range_high = Decimal("100")
    task.save()
    problems = ask("metrologist").json()["problems"]
    assert problems[0]["code"] == "range_outside_scope" and problems[0]["deviable"] is True
    # Bad input.
    bad = ask("metrologist", "sign")
    assert bad.status_code == 422 and bad.json()["error"]["details"][0]["loc"] == ["capacity"]
    missing = client.get(url, {"person": 999999}, headers=director_api)
    assert missing.status_code == 422
    assert (
        client.get(
            "/api/v1/tasks/999999/eligibility", {"person": 1}, headers=director_api
        ).status_code
        == 404
    )
    # Who may ask: the lab managers (those who assign), nobody else.
    for username in cast:
        client.force_login(cast[username])
        status = client.get(url, {"person": cast["metrologist"].pk}).status_code
        assert status == (200 if username in {"admin", "director"} else 403), username
    client.logout()
    assert client.get(url, {"person": cast["metrologist"].pk}).status_code == 401


def test_the_task_page_does_not_grow_with_people(
    received, cast, client, authorise, qualified_setup
):
    """The verdict of every person comes from one look-up of authorisations, not one each."""
    from metrolab.core.testing import assert_same_query_count_with_n_and_10n

    _commission, items = received
    task = _set_up(items[0].tasks.get(), qualified_setup.setup())
    client.force_login(cast["director"])
    url = f"/tasks/{task.pk}/assign/"
    serial = itertools.count()

    def add(k):
        for _ in range(k):
            n = next(serial)
            person = user_create(
                username=f"m{n}",
                password=None,
                roles=["metrologist"],
                display_name=f"M{n}",
                actor=SYSTEM,
            )
            authorise(person)

    def get():
        response = client.get(url)
        assert response.status_code == 200
        return response

    assert_same_query_count_with_n_and_10n(get, add)
    html = get().content.decode()
    assert html.count('data-testid="verdict-') == 11 and html.count('class="badge green"') == 11


def test_the_instrument_range_is_read_from_the_item_and_checked(received, qualified_setup, cast):
    """The authorised range is 0–60 MPa (qualified_setup). An item written "0-100 MPa" is
    refused as outside the scope without anyone typing the range; "0-10 MPa" passes and the
    range is stored on the task."""
    _commission, items = received
    wide, narrow = items[0], items[1]
    wide.model_range = "0-100 MPa"
    wide.save()
    task = wide.tasks.get()
    with pytest.raises(ServiceError) as refused:
        task_assign(
            task=task,
            assignee=cast["metrologist"],
            actor=cast["director"],
            scope=qualified_setup.scope,
        )
    assert any("100" in problem for problem in refused.value.problems)
    task.refresh_from_db()
    assert task.range_high is None and task.scope_id is None

    task = narrow.tasks.get()
    task_assign(
        task=task, assignee=cast["metrologist"], actor=cast["director"], scope=qualified_setup.scope
    )
    task.refresh_from_db()
    assert (task.range_low, task.range_high) == (Decimal(0), Decimal(10))


def test_custody_follows_the_work(received, cast, qualified_assign):
    """An item whose task is open is returned or disposed of only with a reason, kept in the
    audit log (issue 14: custody follows the work)."""
    from metrolab.core.testing import nothing_written
    from metrolab.items.errors import ItemRefusal
    from metrolab.items.services import item_dispose, item_return

    _commission, items = received
    qualified_assign(items[0].tasks.get())
    for attempt in (
        lambda: item_return(item=items[0], collected_by="Li", actor=cast["receptionist"]),
        lambda: item_dispose(item=items[0], note="broken", actor=cast["admin"]),
    ):
        with nothing_written("items", "tasks"), pytest.raises(ServiceError) as refused:
            attempt()
        assert refused.value.code == ItemRefusal.OPEN_WORK
        assert "assigned" in refused.value.message
    item_return(
        item=items[0], collected_by="Li", actor=cast["receptionist"], reason="客户急用，撤回"
    )
    items[0].refresh_from_db()
    assert items[0].state == Item.State.RETURNED
    assert AuditEvent.objects.filter(action="item.return", reason="客户急用，撤回").exists()


def test_custody_api_asks_for_a_reason_while_work_is_open(received, cast, client):
    _commission, items = received
    client.force_login(cast["receptionist"])
    url = f"/api/v1/items/{items[0].number}/custody"
    body = {"event": "returned", "collected_by": "Li"}
    refused = client.post(url, body, content_type="application/json")
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "open_work"
    done = client.post(url, {**body, "reason": "客户撤回"}, content_type="application/json")
    assert done.status_code == 201
