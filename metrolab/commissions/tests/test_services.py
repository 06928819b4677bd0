"""Commission services (R6.1a-b, R6.12b, R9.1): creation through three channels, numbering,
query codes, lines and the quote, contract review, cancellation, the status nodes and every
refusal (a refusal changes nothing)."""

from __future__ import annotations

import datetime as dt
import functools
import re
from decimal import Decimal

import pytest
from django.utils import timezone

from metrolab.commissions.models import (
    Commission,
    CommissionCounter,
)
from metrolab.commissions.services import (
    QUERY_CODE_ALPHABET,
    commission_assert_can_receive,
    commission_cancel,
    commission_create,
    commission_refresh_status,
    commission_review,
)
from metrolab.core import testing
from metrolab.core.models import AuditEvent
from metrolab.core.permissions import SYSTEM
from metrolab.core.service import ServiceError
from metrolab.customers.models import Instrument

pytestmark = pytest.mark.django_db


def line(**fields):
    return {"instrument_name": "压力表", "service": "calibration", "quantity": 1, **fields}


def desk(cast, customer, lines=None, **kwargs):
    kwargs.setdefault("actor", cast["receptionist"])
    return commission_create(
        customer=customer, lines=lines or [line()], channel=kwargs.pop("channel", "desk"), **kwargs
    )


# refused(call, match=..., **kwargs): a refusal whose message contains `match`, and no row of
# commissions or customers (nor an audit event) written.
refused = functools.partial(testing.refused, unchanged=("commissions", "customers"))


# --- creation, numbering, query code ---------------------------------------------------------


def test_desk_commission_is_numbered_priced_and_applied(cast, org_a, pressure):
    year = timezone.localdate().year
    first = desk(
        cast,
        org_a,
        [
            line(quantity=2, serial_no="P-001", model_range="0-1.6 MPa", manufacturer="红旗"),
            line(instrument_name="压力变送器", service="calibration"),
            line(instrument_name="秒表", service="verification", quantity=3),
        ],
        promised_date=timezone.localdate() + dt.timedelta(days=7),
        requirements="加急",
    )
    second = desk(cast, org_a)
    assert first.number == f"WT{year}-000001" and second.number == f"WT{year}-000002"
    assert first.channel == "desk" and first.created_by == cast["receptionist"]
    assert first.status == "applied" and first.review == "pending"
    # 2 × 80.00 (price list) + 1 × 150.50 + 3 × 0 (no price-list entry: to be confirmed)
    assert first.quote_total == Decimal("310.50")
    lines = list(first.lines.order_by("pk"))
    assert [(ln.unit_price, ln.price_entry is not None) for ln in lines] == [
        (Decimal("80.00"), True),
        (Decimal("150.50"), True),
        (Decimal("0.00"), False),
    ]
    assert lines[0].promised_date == first.promised_date  # the commission's date by default
    assert [(e.status, e.by) for e in first.status_events.all()] == [
        ("applied", cast["receptionist"])
    ]
    assert AuditEvent.objects.filter(
        action="commission.create", object_type="commissions.commission", object_id=str(first.pk)
    ).exists()


def test_query_codes_are_eight_unambiguous_characters(cast, org_a, pressure):
    codes = {desk(cast, org_a).query_code for _ in range(5)}
    assert len(codes) == 5
    for code in codes:
        assert len(code) == 8 and set(code) <= set(QUERY_CODE_ALPHABET)
        assert not re.search(r"[01OIL]", code)


def test_numbers_restart_each_year_and_never_repeat(cast, org_a, pressure):
    CommissionCounter.objects.create(year=timezone.localdate().year - 1, last=41)
    number = desk(cast, org_a).number
    assert number.endswith("-000001")
    assert Commission.objects.filter(number=number).count() == 1


def test_onsite_by_a_metrologist_but_not_at_the_desk(cast, org_a, pressure):
    onsite = desk(cast, org_a, channel="onsite", actor=cast["metrologist"])
    assert onsite.channel == "onsite" and onsite.created_by == cast["metrologist"]
    refused(
        commission_create,
        match="not allowed",
        customer=org_a,
        lines=[line()],
        channel="desk",
        actor=cast["metrologist"],
    )


@pytest.mark.parametrize("username", ["customer_a", "checker", "regulator", "driver"])
def test_only_the_lab_creates_desk_commissions(cast, org_a, pressure, username):
    error = refused(
        commission_create,
        match="not allowed",
        customer=org_a,
        lines=[line()],
        channel="desk",
        actor=cast[username],
    )
    assert error.code == "forbidden"


def test_portal_application_books_a_slot(cast, org_a, slot):
    commission = commission_create(
        customer=org_a, lines=[line()], channel="portal", slot=slot, actor=cast["customer_a"]
    )
    assert commission.channel == "portal" and commission.slot == slot
    assert commission.created_by == cast["customer_a"]


def test_portal_refusals(cast, org_a, org_b, slot):
    refused(
        commission_create,
        match="own organisation",
        customer=org_b,
        lines=[line()],
        channel="portal",
        slot=slot,
        actor=cast["customer_a"],
    )
    refused(
        commission_create,
        match="own organisation",
        customer=org_a,
        lines=[line()],
        channel="portal",
        slot=slot,
        actor=cast["receptionist"],
    )
    refused(
        commission_create,
        match="appointment slot",
        customer=org_a,
        lines=[line()],
        channel="portal",
        actor=cast["customer_a"],
    )
    slot.date = timezone.localdate() - dt.timedelta(days=1)
    slot.save()
    refused(
        commission_create,
        match="is over",
        customer=org_a,
        lines=[line()],
        channel="portal",
        slot=slot,
        actor=cast["customer_a"],
    )


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        ([], "at least one line"),
        ([line(service="repair")], "Line 1: unknown service “repair”"),
        ([line(), line(service="")], "Line 2: unknown service"),
        ([line(quantity=0)], "Line 1: the quantity must be at least 1"),
        ([line(quantity=-2)], "at least 1"),
        ([line(quantity="two")], "whole number"),
        ([line(quantity=1.5)], "whole number"),
        ([line(instrument_name=" ")], "name the instrument"),
        ([line(colour="red")], "unknown field: colour"),
        ([line(price_entry=999999)], "no such price-list entry"),
        ([line(promised_date="2000-01-01")], "in the past"),
        ("not a list", "at least one line"),
    ],
)
def test_bad_lines_are_refused_and_nothing_is_written(cast, org_a, pressure, lines, message):
    error = refused(
        commission_create,
        match=message,
        customer=org_a,
        lines=lines,
        channel="desk",
        actor=cast["receptionist"],
    )
    assert error.field is None or error.field.startswith("lines")


def test_other_refusals_of_creation(cast, org_a, org_b, pressure):
    from metrolab.customers.services import customer_update

    kwargs = {"lines": [line()], "channel": "desk", "actor": cast["receptionist"]}
    refused(
        commission_create, match="Unknown channel", customer=org_a, **{**kwargs, "channel": "fax"}
    )
    refused(
        commission_create,
        match="another customer",
        customer=org_a,
        contact=org_b.contacts.get(),
        **kwargs,
    )
    refused(
        commission_create,
        match="in the past",
        customer=org_a,
        promised_date=timezone.localdate() - dt.timedelta(days=1),
        **kwargs,
    )
    customer_update(customer=org_a, data={"active": False}, actor=cast["receptionist"])
    org_a.refresh_from_db()
    refused(commission_create, match="inactive", customer=org_a, **kwargs)


def test_a_named_price_entry_is_used_and_must_match_the_service(cast, org_a, pressure):
    from metrolab.commissions.models import PriceListEntry

    entry = PriceListEntry.objects.get(instrument="压力表", service="verification")
    commission = desk(
        cast,
        org_a,
        [line(instrument_name="精密压力表", service="verification", price_entry=entry.pk)],
    )
    assert commission.quote_total == Decimal("60.00")
    refused(
        commission_create,
        match="another service",
        customer=org_a,
        lines=[line(service="calibration", price_entry=entry.pk)],
        channel="desk",
        actor=cast["receptionist"],
    )


def test_the_appointments_discipline_is_preferred_for_prices(cast, org_a, slot):
    from metrolab.commissions.models import Discipline, PriceListEntry

    other = Discipline.objects.create(code="A", name="另一专业")
    PriceListEntry.objects.create(
        discipline=other, instrument="压力表", service="calibration", unit_price="99.00"
    )
    assert desk(cast, org_a).quote_total == Decimal("99.00")  # "A" sorts before "P"
    assert desk(cast, org_a, slot=slot).quote_total == Decimal("80.00")  # the slot's discipline


def test_lines_with_a_serial_no_fill_the_instrument_register(cast, org_a, org_b, pressure):
    first = desk(cast, org_a, [line(serial_no="SN-1", manufacturer="红旗"), line()])
    again = desk(cast, org_a, [line(serial_no="sn-1", model_range="0-1 MPa")])
    other = desk(cast, org_b, [line(serial_no="SN-1")])
    first_line, unnamed = first.lines.order_by("pk")
    assert unnamed.instrument is None  # no serial no.: nothing to recognise it by
    instrument = first_line.instrument
    assert instrument.customer == org_a and instrument.manufacturer == "红旗"
    assert again.lines.get().instrument == instrument  # same serial no. (any case) and name
    instrument.refresh_from_db()
    assert instrument.model_range == "0-1 MPa"  # a blank detail is filled in
    assert other.lines.get().instrument.customer == org_b  # B's own register
    assert Instrument.objects.count() == 2


# --- contract review --------------------------------------------------------------------------


def test_accept_with_conditions(cast, org_a, pressure):
    commission = desk(cast, org_a)
    commission_review(
        commission=commission, decision="accepted", note="送检前请清洁", actor=cast["director"]
    )
    commission.refresh_from_db()
    assert commission.review == "accepted" and commission.review_note == "送检前请清洁"
    assert commission.reviewed_by == cast["director"] and commission.reviewed_at is not None
    assert commission.status == "applied"  # the review is not a status node
    events = AuditEvent.objects.filter(action="commission.review")
    event = next(e for e in events if "review" in e.changes)
    assert event.actor_label == "director"
    assert event.changes["review"] == {"before": "pending", "after": "accepted"}


def test_reject_needs_a_reason_and_a_review_happens_once(cast, org_a, pressure):
    commission = desk(cast, org_a)
    refused(
        commission_review,
        match="reason",
        commission=commission,
        decision="rejected",
        note=" ",
        actor=cast["receptionist"],
    )
    refused(
        commission_review,
        match="accept or to reject",
        commission=commission,
        decision="maybe",
        actor=cast["receptionist"],
    )
    commission_review(
        commission=commission, decision="rejected", note="超出能力范围", actor=cast["receptionist"]
    )
    error = refused(
        commission_review,
        match="reviewed already",
        commission=commission,
        decision="accepted",
        actor=cast["director"],
    )
    assert error.code == "conflict"


def test_a_cancelled_commission_cannot_be_reviewed(cast, org_a, pressure):
    commission = desk(cast, org_a)
    commission_cancel(commission=commission, reason="客户撤回", actor=cast["receptionist"])
    refused(
        commission_review,
        match="cancelled",
        commission=commission,
        decision="accepted",
        actor=cast["director"],
    )


# --- cancellation -----------------------------------------------------------------------------


def test_cancel_with_a_reason_records_the_node(cast, org_a, pressure):
    commission = desk(cast, org_a)
    refused(
        commission_cancel,
        match="reason",
        commission=commission,
        reason="",
        actor=cast["receptionist"],
    )
    commission_cancel(commission=commission, reason="客户撤回", actor=cast["receptionist"])
    commission.refresh_from_db()
    assert commission.status == "cancelled"
    event = commission.status_events.get(status="cancelled")
    assert event.note == "客户撤回" and event.by == cast["receptionist"]
    audit = AuditEvent.objects.filter(action="commission.cancel").last()
    assert audit.reason == "客户撤回"
    refused(
        commission_cancel,
        match="cancelled already",
        commission=commission,
        reason="again",
        actor=cast["receptionist"],
    )


def test_customers_cancel_only_their_own(cast, org_a, org_b, slot):
    mine = commission_create(
        customer=org_a, lines=[line()], channel="portal", slot=slot, actor=cast["customer_a"]
    )
    refused(
        commission_cancel,
        match="only your own",
        commission=mine,
        reason="不要了",
        actor=cast["customer_b"],
    )
    commission_cancel(commission=mine, reason="不要了", actor=cast["customer_a"])
    assert Commission.objects.get(pk=mine.pk).status == "cancelled"


def _receive_all(commission, user):
    from metrolab.items.models import Item

    items = []
    for line_ in commission.lines.all():
        for n in range(line_.quantity):
            items.append(
                Item.objects.create(
                    number=f"T{commission.pk}-{line_.pk}-{n}",
                    commission=commission,
                    line=line_,
                    name=line_.instrument_name,
                    service=line_.service,
                    received_by=user,
                    received_at=timezone.now(),
                )
            )
    return items


def test_an_anonymous_visitor_is_refused_where_the_system_is_trusted(cast, org_a, slot):
    """Before, a call without a signed-in user skipped the creator and cancellation checks."""
    from django.contrib.auth.models import AnonymousUser

    for channel in ("portal", "desk"):
        refused(
            commission_create,
            match="own organisation" if channel == "portal" else "through this channel",
            customer=org_a,
            lines=[line()],
            channel=channel,
            slot=slot,
            actor=AnonymousUser(),
        )
    mine = commission_create(
        customer=org_a, lines=[line()], channel="portal", slot=slot, actor=cast["customer_a"]
    )
    refused(
        commission_cancel,
        match="only your own",
        commission=mine,
        reason="不要了",
        actor=AnonymousUser(),
    )
    commission_cancel(commission=mine, reason="不要了", actor=SYSTEM)
    assert Commission.objects.get(pk=mine.pk).status == "cancelled"


def test_no_cancellation_once_an_item_is_received(cast, org_a, pressure):
    commission = desk(cast, org_a, [line(quantity=2)])
    from metrolab.items.models import Item

    line_ = commission.lines.get()
    Item.objects.create(  # one of two received: the status is still "applied"
        number="T-1",
        commission=commission,
        line=line_,
        name=line_.instrument_name,
        service=line_.service,
        received_by=cast["receptionist"],
        received_at=timezone.now(),
    )
    error = refused(
        commission_cancel,
        match="no longer be cancelled",
        commission=commission,
        reason="太晚了",
        actor=cast["receptionist"],
    )
    assert error.code == "conflict"


# --- receipt gate and status nodes ------------------------------------------------------------


def test_receiving_needs_an_accepted_live_commission(cast, org_a, pressure):
    pending, accepted, rejected, cancelled = (desk(cast, org_a) for _ in range(4))
    commission_review(commission=accepted, decision="accepted", actor=cast["director"])
    commission_review(
        commission=rejected, decision="rejected", note="无能力", actor=cast["director"]
    )
    commission_cancel(commission=cancelled, reason="撤回", actor=cast["receptionist"])
    commission_assert_can_receive(accepted)
    with pytest.raises(ServiceError, match="not been accepted in contract review"):
        commission_assert_can_receive(pending)
    with pytest.raises(ServiceError, match="rejected at contract review") as caught:
        commission_assert_can_receive(rejected)
    assert rejected.number in caught.value.message and caught.value.code == "conflict"
    with pytest.raises(ServiceError, match="is cancelled"):
        commission_assert_can_receive(cancelled)


def test_status_nodes_follow_items_and_tasks_each_timestamped_once(cast, org_a, pressure):
    from metrolab.commissions.services import status_listeners
    from metrolab.tasks.models import Task

    heard = []
    status_listeners.append(lambda c, s: heard.append(s))
    try:
        commission = desk(cast, org_a, [line(quantity=2)])
        commission_review(commission=commission, decision="accepted", actor=cast["director"])
        assert commission_refresh_status(commission, actor=SYSTEM) == []
        items = _receive_all(commission, cast["receptionist"])
        assert commission_refresh_status(commission, actor=cast["receptionist"]) == [
            "items_received"
        ]
        tasks = [Task.objects.create(item=i, service=i.service) for i in items]
        assert commission_refresh_status(commission, actor=SYSTEM) == []  # not yet assigned
        for task in tasks:
            task.status = Task.Status.ASSIGNED
            task.assignee = cast["metrologist"]
            task.save()
        assert commission_refresh_status(commission, actor=SYSTEM) == ["tasks_assigned"]
        for task in tasks:
            task.status = Task.Status.IN_PROGRESS
            task.save()
        assert commission_refresh_status(commission, actor=SYSTEM) == ["testing"]
        assert commission_refresh_status(commission, actor=SYSTEM) == []  # nothing twice
    finally:
        status_listeners.pop()
    commission.refresh_from_db()
    assert commission.status == "testing"
    events = list(commission.status_events.order_by("at", "pk"))
    assert [e.status for e in events] == ["applied", "items_received", "tasks_assigned", "testing"]
    assert all(e.at is not None for e in events)
    assert events[1].by == cast["receptionist"]
    assert "items_received" in heard and "testing" in heard
    audited = AuditEvent.objects.filter(
        action="commission.status_refresh", object_type="commissions.statusevent"
    )
    assert audited.count() == 3


def test_a_cancelled_commission_never_moves_on(cast, org_a, pressure):
    commission = desk(cast, org_a)
    commission_cancel(commission=commission, reason="撤回", actor=cast["receptionist"])
    assert commission_refresh_status(commission, actor=SYSTEM) == []
    assert Commission.objects.get(pk=commission.pk).status == "cancelled"


# --- the applicant is told -------------------------------------------------------------------


def test_the_applicant_is_notified_on_their_channels_and_inbox(cast, org_a, pressure, settings):
    from metrolab.notifications.models import Notification

    settings.METROLAB_SMS_GATEWAY_URL = "http://127.0.0.1:9/sms"  # configured, never reached

    commission = desk(cast, org_a)
    notification = Notification.objects.get(
        event="commission.status_changed", related_id=str(commission.pk)
    )
    assert notification.recipient == cast["customer_a"]  # the portal user's inbox
    assert commission.number in notification.subject
    assert commission.query_code in notification.body  # the applied node carries the code
    assert notification.payload["status"] == "applied"
    channels = dict(notification.deliveries.values_list("channel", "target"))
    assert channels == {
        "inbox": "customer_a",
        "sms": "13800000001",
        "email": "zhang@a.example",
    }
    commission_review(
        commission=commission, decision="rejected", note="无能力", actor=cast["director"]
    )
    review = Notification.objects.get(event="commission.reviewed", related_id=str(commission.pk))
    assert "无能力" in review.body and review.payload["review"] == "rejected"


def test_the_applicant_is_told_as_the_person_who_acted(cast, org_a, pressure):
    """The status listener sends its notice as the actor of the call that reached the node."""
    from metrolab.notifications.models import Notification

    commission = desk(cast, org_a)
    notification = Notification.objects.get(
        event="commission.status_changed", related_id=str(commission.pk)
    )
    event = AuditEvent.objects.get(
        action="notification.create",
        object_type="notifications.notification",
        object_id=str(notification.pk),
    )
    assert (event.actor_type, event.actor_label) == ("user", "receptionist")


def test_contact_preferences_choose_the_channels(cast, org_a, pressure, settings):
    from metrolab.customers.services import contact_create
    from metrolab.notifications.models import Notification

    settings.METROLAB_WECHAT_GATEWAY_URL = "http://127.0.0.1:9/wechat"  # never reached

    wechat_only = contact_create(
        customer=org_a,
        data={
            "name": "王工",
            "phone": "13700000003",
            "email": "wang@a.example",
            "wechat_id": "wx-wang",
            "notify_sms": False,
            "notify_email": False,
            "notify_wechat": True,
        },
        actor=cast["receptionist"],
    )
    commission = desk(cast, org_a, contact=wechat_only)
    notification = Notification.objects.get(related_id=str(commission.pk))
    channels = dict(notification.deliveries.values_list("channel", "target"))
    assert channels == {"inbox": "customer_a", "wechat": "wx-wang"}


def test_without_the_notification_service_commissions_still_work(
    cast, org_a, pressure, monkeypatch
):
    import sys

    from metrolab.notifications.models import Notification

    monkeypatch.setitem(sys.modules, "metrolab.notifications.services", None)  # ImportError
    commission = desk(cast, org_a)
    assert commission.pk and not Notification.objects.exists()


def test_a_failing_notification_does_not_undo_the_work(cast, org_a, pressure, monkeypatch):
    import metrolab.notifications.services as notifications

    def broken(**kwargs):
        raise RuntimeError("gateway exploded")

    monkeypatch.setattr(notifications, "notify", broken)
    commission = desk(cast, org_a)
    assert Commission.objects.filter(pk=commission.pk).exists()
    commission_review(commission=commission, decision="accepted", actor=cast["director"])
    assert Commission.objects.get(pk=commission.pk).review == "accepted"


def test_nobody_to_tell_records_no_notification(cast, pressure):
    from metrolab.customers.services import customer_create
    from metrolab.notifications.models import Notification

    walk_in = customer_create(data={"code": "W1", "name": "散客"}, actor=cast["receptionist"])
    desk(cast, walk_in)
    assert not Notification.objects.exists()
