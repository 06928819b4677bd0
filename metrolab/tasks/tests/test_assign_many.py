"""Several tasks assigned in one step to one person with one set-up (R6.4e): each task's
eligibility is checked on its own; the tasks that pass are assigned, those that fail are
reported with every reason and left as they were (partial, not all-or-nothing). Service, the
assignment page (ticked tasks) and the API."""

from __future__ import annotations

import pytest

from metrolab.core.permissions import SYSTEM
from metrolab.core.service import ServiceError
from metrolab.core.services import api_token_create, user_create
from metrolab.tasks.models import Task
from metrolab.tasks.services import tasks_assign_many

pytestmark = pytest.mark.django_db


@pytest.fixture
def delivery(make_commission, receive, qualified_setup):
    """Four pressure gauges for calibration; the third one's range (0-100 MPa) lies outside
    the authorised 0-60 MPa."""
    commission = make_commission(lines=[("Gauge", 4, "calibration")])
    items = [receive(commission, 0) for _ in range(4)]
    items[2].model_range = "0-100 MPa"
    items[2].save()
    return [item.tasks.get() for item in items]


def _state(task):
    task.refresh_from_db()
    return (task.status, task.assignee_id, task.scope_id)


def test_eligible_tasks_are_assigned_and_the_others_reported(cast, delivery, qualified_setup):
    result = tasks_assign_many(
        tasks=delivery,
        assignee=cast["metrologist"],
        actor=cast["director"],
        scope=qualified_setup.scope,
    )
    assert [t.pk for t in result.assigned] == [delivery[i].pk for i in (0, 1, 3)]
    [(refused, problems)] = result.refused
    assert refused.pk == delivery[2].pk
    assert any("0–100 MPa lies outside the authorised range 0–60 MPa" in p for p in problems)
    for i in (0, 1, 3):
        assert _state(delivery[i]) == (
            Task.Status.ASSIGNED,
            cast["metrologist"].pk,
            qualified_setup.scope.pk,
        )
        assert set(delivery[i].equipment.all()) == set(qualified_setup.equipment)
    # The refused task is exactly as it was: no assignee, no set-up.
    assert _state(delivery[2]) == (Task.Status.UNASSIGNED, None, None)
    assert not delivery[2].equipment.exists()


def test_only_managers_and_at_least_one_task(cast, delivery, qualified_setup):
    with pytest.raises(ServiceError, match="Only a technical manager") as error:
        tasks_assign_many(
            tasks=delivery,
            assignee=cast["metrologist"],
            actor=cast["receptionist"],
            scope=qualified_setup.scope,
        )
    assert error.value.code == "forbidden"
    with pytest.raises(ServiceError, match="Choose at least one task"):
        tasks_assign_many(tasks=[], assignee=cast["metrologist"], actor=cast["director"])
    assert all(_state(t)[0] == Task.Status.UNASSIGNED for t in delivery)


def test_assignment_page_assigns_the_ticked_tasks(cast, client, delivery, qualified_setup):
    client.force_login(cast["director"])
    page = client.get("/tasks/assign/")
    html = page.content.decode()
    assert 'id="assign-many"' in html and f'data-testid="tick-{delivery[0].pk}"' in html
    ticked = [delivery[0].pk, delivery[2].pk]
    response = client.post(
        "/tasks/assign/many/",
        {
            "tasks": ticked,
            "assignee": cast["metrologist"].pk,
            "scope": qualified_setup.scope.pk,
            "next": "/tasks/assign/",
        },
        follow=True,
    )
    assert response.status_code == 200
    shown = [str(m) for m in response.context["messages"]]
    assert any(delivery[0].item.number in m and "assigned to" in m for m in shown)
    assert any(
        m.startswith(f"Task {delivery[2]} was not assigned") and "0–100 MPa" in m for m in shown
    )
    assert _state(delivery[0])[0] == Task.Status.ASSIGNED
    assert _state(delivery[2])[0] == Task.Status.UNASSIGNED
    assert _state(delivery[1])[0] == Task.Status.UNASSIGNED  # not ticked
    client.force_login(cast["metrologist"])
    assert client.post("/tasks/assign/many/", {"tasks": ticked}).status_code == 403


def test_assign_many_api(cast, client, delivery, qualified_setup):
    director = user_create(
        username="boss", password=None, roles=["director"], display_name="Boss", actor=SYSTEM
    )
    _t, raw = api_token_create(user=director, name="planning", roles=["director"], actor=director)
    auth = {"Authorization": f"Bearer {raw}"}
    body = {
        "tasks": [t.pk for t in delivery],
        "assignee": "metrologist",
        "scope": qualified_setup.scope.pk,
    }
    response = client.post(
        "/api/v1/tasks/assign-many", body, content_type="application/json", headers=auth
    )
    assert response.status_code == 200, response.content
    data = response.json()
    assert [t["id"] for t in data["assigned"]] == [delivery[i].pk for i in (0, 1, 3)]
    assert {t["assignee"] for t in data["assigned"]} == {"metrologist"}
    [refused] = data["refused"]
    assert (refused["id"], refused["item"]) == (delivery[2].pk, delivery[2].item.number)
    assert any("outside the authorised range" in p for p in refused["problems"])
    unknown = client.post(
        "/api/v1/tasks/assign-many",
        {**body, "tasks": [999999]},
        content_type="application/json",
        headers=auth,
    )
    assert unknown.status_code == 422 and "999999" in unknown.json()["error"]["message"]
