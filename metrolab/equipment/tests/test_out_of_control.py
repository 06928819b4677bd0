"""Equipment out of statistical control (失控): one truth, kept by the equipment services. An
intermediate check breaking a control-chart test makes usable equipment restricted (限用) —
its status label in the register, on its card and in the API, and a refusal with the reason
by the eligibility service (assignment and start) — until an in-control check or a confirmed
recalibration brings it back to the status it had; each change is audited with its reason."""

from __future__ import annotations

import pytest
from django.utils import translation

from metrolab.core.models import AuditEvent
from metrolab.core.service import ServiceError
from metrolab.equipment import selectors, services
from metrolab.equipment.models import Equipment
from metrolab.equipment.tests.conftest import days
from metrolab.tasks.tests.fixtures import *  # noqa: F403

pytestmark = pytest.mark.django_db

S = Equipment.Status
TEST_1 = "test 1: a point beyond a control limit"


@pytest.fixture
def received_task(make_commission, receive, qualified_setup):
    """The calibration task of a received pressure gauge (the qualified set-up exists)."""
    commission = make_commission(lines=[("压力表 Gauge", 1, "calibration")])
    return receive(commission, 0).tasks.get()


def _out_of_control(plan, cast, day=-10, value="10.031"):
    return services.equipment_check_result_add(
        plan=plan, date=days(day), value=value, actor=cast["metrologist"]
    )


def _status_events(equipment):
    return list(
        AuditEvent.objects.filter(
            object_type="equipment.equipment",
            object_id=str(equipment.pk),
            action="equipment.set_status",
        ).order_by("pk")
    )


def test_a_broken_rule_restricts_the_equipment_with_the_reason_audited(gauge, plan, cast):
    services.equipment_check_result_add(
        plan=plan, date=days(-20), value="10.012", actor=cast["metrologist"]
    )
    gauge.refresh_from_db()
    assert gauge.status == S.IN_SERVICE and not gauge.out_of_control
    result = _out_of_control(plan, cast)
    gauge.refresh_from_db()
    assert gauge.status == S.RESTRICTED and gauge.status_colour == "red"
    assert gauge.out_of_control_check == result
    assert gauge.status_before_restriction == S.IN_SERVICE
    assert S.RESTRICTED not in Equipment.USABLE
    change = selectors.status_history(gauge)[0]
    assert (change["after_code"], change["by"]) == ("restricted", str(cast["metrologist"]))
    # The reason is written in the lab's language (settings.LANGUAGE_CODE: zh-hans).
    assert change["reason"] == (
        f"10 MPa 点示值于 {days(-10):%Y-%m-%d} 的期间核查失控（判异准则 1：有点超出控制限）："
        "限用，直至恢复受控或重新校准。"
    )
    event = _status_events(gauge)[-1]
    assert event.changes["status"] == {"before": "in_service", "after": "restricted"}
    assert event.reason == change["reason"]
    # Another broken rule keeps it restricted (no new status change) and names the latest.
    again = _out_of_control(plan, cast, day=-5, value="10.025")
    gauge.refresh_from_db()
    assert gauge.status == S.RESTRICTED and gauge.out_of_control_check == again
    assert len(_status_events(gauge)) == 1


def test_an_in_control_check_restores_the_status_it_had(gauge, plan, cast):
    manager = cast["equipment_manager"]
    services.equipment_set_status(
        equipment=gauge, status=S.LIMITED, reason="限 0~6 MPa", actor=manager
    )
    _out_of_control(plan, cast)
    gauge.refresh_from_db()
    assert (gauge.status, gauge.status_before_restriction) == (S.RESTRICTED, S.LIMITED)
    # While out of control, nobody returns it to use by hand.
    with pytest.raises(ServiceError) as refused:
        services.equipment_set_status(
            equipment=gauge, status=S.IN_SERVICE, reason="看起来没问题", actor=manager
        )
    assert refused.value.code == "out_of_control"
    assert "Record an intermediate check in control or confirm a new calibration" in (
        refused.value.message
    )
    services.equipment_check_result_add(
        plan=plan, date=days(0), value="10.002", actor=cast["metrologist"]
    )
    gauge.refresh_from_db()
    assert (gauge.status, gauge.out_of_control_check, gauge.status_before_restriction) == (
        S.LIMITED,
        None,
        "",
    )
    change = selectors.status_history(gauge)[0]
    assert (change["after_code"], change["reason"]) == (
        "limited",
        f"10 MPa 点示值于 {days(0):%Y-%m-%d} 的期间核查恢复受控。",
    )


def test_another_plan_still_out_of_control_keeps_it_restricted(gauge, plan, cast):
    second = services.equipment_check_plan_create(
        equipment=gauge,
        actor=cast["equipment_manager"],
        quantity="1 MPa 点示值",
        unit="MPa",
        reference_value="1.000",
        lower_limit="0.997",
        upper_limit="1.003",
    )
    _out_of_control(plan, cast)
    failing = services.equipment_check_result_add(
        plan=second, date=days(-8), value="1.009", actor=cast["metrologist"]
    )
    services.equipment_check_result_add(
        plan=plan, date=days(-1), value="10.001", actor=cast["metrologist"]
    )
    gauge.refresh_from_db()
    assert gauge.status == S.RESTRICTED and gauge.out_of_control_check == failing
    services.equipment_check_result_add(
        plan=second, date=days(0), value="1.000", actor=cast["metrologist"]
    )
    gauge.refresh_from_db()
    assert gauge.status == S.IN_SERVICE and not gauge.out_of_control


def test_a_recalibration_after_the_check_restores_it(gauge, plan, cast, calibrate):
    calibrate(gauge, date=days(-60))
    _out_of_control(plan, cast)
    # A calibration done before the failing check is no recalibration.
    calibrate(gauge, date=days(-30))
    gauge.refresh_from_db()
    assert gauge.status == S.RESTRICTED
    calibration = calibrate(gauge, date=days(-2), certificate_no="JL-RECAL")
    gauge.refresh_from_db()
    assert gauge.status == S.IN_SERVICE and not gauge.out_of_control
    change = selectors.status_history(gauge)[0]
    assert change["after_code"] == "in_service" and change["by"] == str(cast["equipment_manager"])
    assert change["reason"] == (
        f"重新校准：{days(-2):%Y-%m-%d} 的校准 {calibration.certificate_no} 已确认，"
        f"此前 10 MPa 点示值于 {days(-10):%Y-%m-%d} 的期间核查失控。"
    )


def test_a_fault_on_restricted_equipment_stops_it_and_the_state_stays(gauge, plan, cast):
    _out_of_control(plan, cast)
    services.equipment_maintenance_add(
        equipment=gauge,
        kind="fault",
        date=days(0),
        description="指针卡滞",
        take_out_of_service=True,
        actor=cast["checker"],
    )
    gauge.refresh_from_db()
    assert gauge.status == S.OUT_OF_SERVICE and gauge.out_of_control
    # Back in control, it stays out of service (a fault is not cleared by a check).
    services.equipment_check_result_add(
        plan=plan, date=days(0), value="10.0", actor=cast["metrologist"]
    )
    gauge.refresh_from_db()
    assert gauge.status == S.OUT_OF_SERVICE and not gauge.out_of_control


def test_the_register_the_card_and_the_api_show_the_restriction(client, gauge, plan, cast):
    _out_of_control(plan, cast)
    client.force_login(cast["checker"])
    # The register and the card, in the lab's default language (Chinese).
    client.cookies["django_language"] = "zh-hans"
    listing = client.get("/equipment/").content.decode()
    row = listing[listing.index('<tr data-asset="EQ-001"') :].split("</tr>")[0]
    assert 'class="badge status-label red"' in row and 'data-status="restricted"' in row
    assert ">限用</span>" in row and "合格" not in row
    card = client.get(f"/equipment/{gauge.pk}/").content.decode()
    head = card[: card.index('id="status"')]
    assert ">限用</span>" in head and "合格" not in head
    assert (
        f"10 MPa 点示值于 {days(-10):%Y-%m-%d} 的期间核查失控（判异准则 1：有点超出控制限）："
        "恢复受控或重新校准前不得使用。"
    ) in head
    assert "booking-form" not in card
    # The API, in English.
    client.cookies["django_language"] = "en"
    body = client.get(f"/api/v1/equipment/{gauge.pk}", HTTP_ACCEPT_LANGUAGE="en").json()
    assert (body["status"], body["status_label"], body["status_colour"]) == (
        "restricted",
        "restricted (限用)",
        "red",
    )
    assert body["out_of_control"] is True
    assert body["out_of_control_reason"] == (
        f"Intermediate check of 10 MPa 点示值 on {days(-10):%Y-%m-%d} out of control ({TEST_1}): "
        "not to be used until an intermediate check is back in control or it is recalibrated."
    )
    listed = client.get("/api/v1/equipment/", {"status": "restricted"}).json()["items"]
    assert [(e["asset_no"], e["out_of_control"]) for e in listed] == [("EQ-001", True)]


def test_assignment_and_start_refuse_it_with_the_reason_until_restored(
    client, received_task, qualified_setup, qualified_assign, cast
):
    """The eligibility service refuses restricted equipment at assignment and at start, with
    the reason; the assignment page offers it labelled restricted, not 合格."""
    from metrolab.tasks.services import task_assign, task_start

    task = received_task
    s = qualified_setup
    yq1 = s.equipment[0]
    qualified_assign(task)
    result = services.equipment_check_result_add(
        plan=s.plan, date=days(-1), value="10.007", actor=cast["equipment_manager"]
    )
    yq1.refresh_from_db()
    assert yq1.status == S.RESTRICTED and yq1.out_of_control_check == result
    reason = (
        "Equipment YQ-001 活塞式压力计 is restricted (限用): Intermediate check of 10 MPa 点示值 "
        f"on {days(-1):%Y-%m-%d} out of control ({TEST_1}): not to be used until an "
        "intermediate check is back in control or it is recalibrated."
    )
    with pytest.raises(ServiceError) as refused:
        task_start(task=task, actor=cast["metrologist"])
    assert refused.value.code == "not_eligible" and reason in refused.value.problems
    with pytest.raises(ServiceError) as refused:
        task_assign(
            task=task,
            assignee=cast["metrologist"],
            actor=cast["director"],
            **{**s.setup("calibration"), "equipment": [Equipment.objects.get(pk=yq1.pk)]},
        )
    assert refused.value.problems == [reason]
    # The assignment page offers it as restricted, never 合格.
    client.force_login(cast["director"])
    with translation.override("zh-hans"):
        client.cookies["django_language"] = "zh-hans"
        page = client.get(f"/tasks/{task.pk}/assign/").content.decode()
    option = page[page.index("YQ-001 活塞式压力计") :].split("</option>")[0]
    assert "限用" in option and "合格" not in option
    # An in-control check restores it: the task starts.
    services.equipment_check_result_add(
        plan=s.plan, date=days(0), value="10.001", actor=cast["equipment_manager"]
    )
    task_start(task=task, actor=cast["metrologist"])
    task.refresh_from_db()
    assert task.status == "in_progress"


def test_the_eligibility_api_gives_the_reason(client, received_task, qualified_setup, cast):
    s = qualified_setup
    from metrolab.tasks.services import task_assign

    task_assign(
        task=received_task,
        assignee=cast["metrologist"],
        actor=cast["director"],
        **s.setup("calibration"),
    )
    services.equipment_check_result_add(
        plan=s.plan, date=days(-1), value="10.007", actor=cast["equipment_manager"]
    )
    client.force_login(cast["director"])
    body = client.get(
        f"/api/v1/tasks/{received_task.pk}/eligibility",
        {"person": cast["metrologist"].pk},
    ).json()
    assert body["eligible"] is False
    assert [(p["code"], p["message"].split(":")[0]) for p in body["problems"]] == [
        ("equipment_check_failed", "Equipment YQ-001 活塞式压力计 is restricted (限用)")
    ]


def test_checks_recorded_before_the_rule_are_applied_once_by_the_command(gauge, plan, cast):
    """After an upgrade: results written without the rule (here straight into the table) are
    applied by `metrolab equipment_control`, audited; a second run changes nothing."""
    import io
    from decimal import Decimal

    from django.core.management import call_command

    from metrolab.equipment.models import IntermediateCheckResult

    IntermediateCheckResult.objects.create(
        plan=plan,
        date=days(-3),
        value=Decimal("10.040"),
        performed_by=cast["metrologist"],
        passed=False,
        rules_broken="1",
    )
    out = io.StringIO()
    call_command("equipment_control", stdout=out)
    gauge.refresh_from_db()
    assert gauge.status == S.RESTRICTED and gauge.out_of_control
    assert "EQ-001" in out.getvalue() and "out of control: 1 item(s)" in out.getvalue()
    assert selectors.status_history(gauge)[0]["reason"].startswith(
        f"10 MPa 点示值于 {days(-3):%Y-%m-%d} 的期间核查失控"
    )
    out = io.StringIO()
    call_command("equipment_control", stdout=out)
    assert "out of control: 0 item(s)" in out.getvalue() and len(_status_events(gauge)) == 1
