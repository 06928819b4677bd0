"""Sending notifications through real local servers, with retries and the delivery log
(R6.1c). The channel code runs unmodified against aiosmtpd and a local HTTP server."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone, translation
from django_tasks_db.models import DBTaskResult

from metrolab.core.models import AuditEvent
from metrolab.core.permissions import SYSTEM
from metrolab.core.service import ServiceError
from metrolab.notifications.channels import webhook_signature
from metrolab.notifications.models import Delivery, Notification, WebhookEndpoint
from metrolab.notifications.services import delivery_attempt, notify
from metrolab.notifications.tests.conftest import free_port, signature_ok, smtp_mailer

EVENT = "commission.status_changed"


def run_worker():
    call_command("db_worker", batch=True, no_startup_delay=True, verbosity=0)


def _notify(**kwargs):
    defaults = {
        "event": EVENT,
        "subject": "委托单 WT-2026-0001：样品已接收",
        "body": "您的委托单已进入“样品接收”节点。",
        "payload": {"number": "WT-2026-0001", "status": "items_received"},
        "actor": SYSTEM,
    }
    return notify(**{**defaults, **kwargs})


def _delivery(notification, channel) -> Delivery:
    return notification.deliveries.get(channel=channel)


# --- every channel, end to end through the background worker ----


@pytest.mark.django_db(transaction=True)
def test_every_channel_is_delivered_by_the_worker(cast, smtp_server, http_receiver, customer_org):
    endpoint = WebhookEndpoint.objects.create(
        customer=customer_org, url=http_receiver.url("/hook"), events=[EVENT]
    )
    http_receiver.secrets["/hook"] = endpoint.secret
    notification = _notify(
        recipient_user=cast["customer_a"],
        channels={"email": "a@customer.example", "sms": "13800000001", "wechat": "oAbC-openid"},
        related=cast["customer_a"],
        webhooks_for=customer_org,
    )
    assert DBTaskResult.objects.count() == 4  # inbox is delivered inline, the rest queued
    run_worker()

    statuses = dict(notification.deliveries.values_list("channel", "status"))
    assert statuses == dict.fromkeys(["inbox", "email", "sms", "wechat", "webhook"], "sent")
    assert all(d.attempts == 1 and d.sent_at for d in notification.deliveries.all())

    [mail] = smtp_server.messages
    assert mail["To"] == "a@customer.example"
    assert mail["From"] == "lab@metrolab.example"
    assert mail["Subject"] == "委托单 WT-2026-0001：样品已接收"
    assert mail["X-MetroLab-Event"] == EVENT
    assert "样品接收" in mail.get_content()

    [sms] = http_receiver.at("/sms")
    assert sms.headers["Authorization"] == "Bearer sms-key"
    assert sms.json() == {
        "to": "13800000001",
        "text": "委托单 WT-2026-0001：样品已接收\n您的委托单已进入“样品接收”节点。",
        "template": EVENT,
    }
    [wechat] = http_receiver.at("/wechat")
    assert wechat.headers["Authorization"] == "Bearer wechat-key"
    assert wechat.json()["to"] == "oAbC-openid"

    [hook] = http_receiver.at("/hook")
    assert signature_ok(endpoint.secret, hook.headers, hook.body)
    assert hook.headers["X-MetroLab-Event"] == EVENT
    assert hook.headers["X-MetroLab-Delivery"] == str(_delivery(notification, "webhook").pk)
    document = hook.json()
    assert document["event"] == EVENT and document["payload"]["number"] == "WT-2026-0001"
    assert document["related"] == {"type": "core.user", "id": str(cast["customer_a"].pk)}


def test_the_signature_matches_the_documented_scheme():
    """The example of the module docstring, worked by hand."""
    import hashlib
    import hmac

    body = b'{"event":"x"}'
    expected = hmac.new(b"s3cret", b"1700000000." + body, hashlib.sha256).hexdigest()
    assert webhook_signature("s3cret", "1700000000", body) == "sha256=" + expected


@pytest.mark.django_db(transaction=True)
def test_a_wrong_secret_is_refused_by_the_customer_and_not_retried(
    cast, http_receiver, customer_org
):
    endpoint = WebhookEndpoint.objects.create(
        customer=customer_org, url=http_receiver.url("/hook"), events=["*"]
    )
    http_receiver.secrets["/hook"] = "not-the-shared-secret"
    notification = _notify(webhooks_for=customer_org)
    run_worker()
    delivery = _delivery(notification, "webhook")
    assert delivery.status == Delivery.Status.FAILED and delivery.attempts == 1
    assert "HTTP 401" in delivery.last_error
    assert endpoint.secret != "not-the-shared-secret"


# --- retries ----


@pytest.mark.django_db(transaction=True)
def test_a_server_error_is_retried_until_it_succeeds(cast, http_receiver, settings):
    settings.METROLAB_NOTIFY_RETRY_DELAYS = (0, 0, 0, 0)
    http_receiver.script["/sms"] = [500, 200]
    notification = _notify(channels={"sms": "13800000002"})
    run_worker()
    delivery = _delivery(notification, "sms")
    assert delivery.status == Delivery.Status.SENT
    assert delivery.attempts == 2 and delivery.last_error == ""
    assert len(http_receiver.at("/sms")) == 2


@pytest.mark.django_db(transaction=True)
def test_the_worker_gives_up_after_five_attempts(cast, http_receiver, settings):
    settings.METROLAB_NOTIFY_RETRY_DELAYS = (0, 0, 0, 0)
    http_receiver.script["/wechat"] = [503]
    notification = _notify(channels={"wechat": "oXyZ"})
    run_worker()
    delivery = _delivery(notification, "wechat")
    assert delivery.status == Delivery.Status.GAVE_UP
    assert delivery.attempts == 5 and "HTTP 503" in delivery.last_error
    assert len(http_receiver.at("/wechat")) == 5


@pytest.mark.django_db(transaction=True)
def test_a_client_error_fails_at_once_without_retry(cast, http_receiver):
    http_receiver.script["/sms"] = [400, 200]
    notification = _notify(channels={"sms": "not-a-number"})
    run_worker()
    delivery = _delivery(notification, "sms")
    assert delivery.status == Delivery.Status.FAILED
    assert delivery.attempts == 1 and "HTTP 400" in delivery.last_error
    assert delivery.next_attempt_at is None
    assert len(http_receiver.at("/sms")) == 1
    assert not DBTaskResult.objects.exclude(status="SUCCESSFUL").exists()


def test_retries_back_off_1_5_30_120_minutes(
    cast, http_receiver, django_capture_on_commit_callbacks
):
    """With the default delays, each failure schedules the next task that much later."""
    http_receiver.script["/sms"] = [502]
    with django_capture_on_commit_callbacks(execute=True):
        notification = _notify(channels={"sms": "13800000003"})
    delivery = _delivery(notification, "sms")
    waits = []
    for _attempt in range(5):
        before = timezone.now()
        with django_capture_on_commit_callbacks(execute=True):
            status = delivery_attempt(delivery.pk)
        delivery.refresh_from_db()
        if status == "pending":
            waits.append(round((delivery.next_attempt_at - before).total_seconds() / 60))
            assert DBTaskResult.objects.filter(run_after=delivery.next_attempt_at).exists()
    assert waits == [1, 5, 30, 120]
    assert delivery.status == Delivery.Status.GAVE_UP and delivery.attempts == 5
    assert delivery_attempt(delivery.pk) == "skipped"  # a stray task sends nothing more
    assert len(http_receiver.at("/sms")) == 5


def test_a_slow_gateway_times_out_and_is_retried(cast, http_receiver, settings):
    settings.METROLAB_NOTIFY_TIMEOUT = 0.3
    http_receiver.delay["/sms"] = 1.0
    notification = _notify(channels={"sms": "13800000004"})
    delivery = _delivery(notification, "sms")
    assert delivery_attempt(delivery.pk) == "pending"
    delivery.refresh_from_db()
    assert delivery.attempts == 1 and "timed out" in delivery.last_error
    assert delivery.next_attempt_at > timezone.now() + dt.timedelta(seconds=50)


def test_an_unconfigured_channel_is_not_attempted(cast, settings):
    settings.METROLAB_SMS_GATEWAY_URL = ""
    settings.METROLAB_WECHAT_GATEWAY_URL = ""
    notification = _notify(channels={"sms": "13800000005", "wechat": "o-1", "email": "a@b.cn"})
    assert sorted(notification.deliveries.values_list("channel", flat=True)) == ["email"]
    assert not Delivery.objects.filter(status__in=["failed", "gave_up"]).exists()


def test_a_gateway_removed_after_queueing_fails_with_a_clear_error(cast, http_receiver, settings):
    notification = _notify(channels={"sms": "13800000005"})
    settings.METROLAB_SMS_GATEWAY_URL = ""
    with translation.override("zh-hans"):
        assert delivery_attempt(_delivery(notification, "sms").pk) == "failed"
    assert _delivery(notification, "sms").last_error == (
        "该渠道未配置（未设置 METROLAB_SMS_GATEWAY_URL）。"
    )


def test_refused_mail_recipients_fail_or_retry_by_smtp_code(cast, smtp_server):
    smtp_server.refuse["gone@customer.example"] = "550 5.1.1 no such user"
    smtp_server.refuse["busy@customer.example"] = "451 4.3.0 try again later"
    gone = _notify(channels={"email": "gone@customer.example"})
    busy = _notify(channels={"email": "busy@customer.example"})
    assert delivery_attempt(_delivery(gone, "email").pk) == "failed"
    assert delivery_attempt(_delivery(busy, "email").pk) == "pending"
    assert "550" in _delivery(gone, "email").last_error
    assert smtp_server.messages == []


def test_a_closed_smtp_port_is_retried(cast, settings):
    smtp_mailer(settings, free_port())  # nothing listens there
    notification = _notify(channels={"email": "a@customer.example"})
    assert delivery_attempt(_delivery(notification, "email").pk) == "pending"


# --- the caller's transaction ----


def test_tasks_are_queued_only_when_the_callers_transaction_commits(
    cast, django_capture_on_commit_callbacks, settings
):
    settings.METROLAB_SMS_GATEWAY_URL = "http://127.0.0.1:9/sms"
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        notify(
            event=EVENT,
            subject="s",
            body="b",
            channels={"sms": "1", "email": "a@b.cn"},
            actor=SYSTEM,
        )
        assert DBTaskResult.objects.count() == 0
    assert len(callbacks) == 2
    for callback in callbacks:
        callback()
    assert DBTaskResult.objects.count() == 2


@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_notification_sends_nothing(cast, smtp_server, http_receiver, customer_org):
    WebhookEndpoint.objects.create(customer=customer_org, url=http_receiver.url("/h"), events=["*"])
    with pytest.raises(RuntimeError), transaction.atomic():
        _notify(
            recipient_user=cast["customer_a"],
            channels={"email": "a@customer.example", "sms": "13800000006"},
            webhooks_for=customer_org,
        )
        raise RuntimeError("the caller's service failed after notifying")
    run_worker()
    assert Notification.objects.count() == 0 and Delivery.objects.count() == 0
    assert DBTaskResult.objects.count() == 0
    assert http_receiver.requests == [] and smtp_server.messages == []


# --- what notify() records and refuses ----


def test_notify_records_the_notification_and_an_inline_inbox_delivery(cast):
    user = cast["customer_a"]
    notification = _notify(recipient_user=user, related=user, channels={"sms": " ", "email": ""})
    assert notification.recipient == user and notification.read_at is None
    assert (notification.related_type, notification.related_id) == ("core.user", str(user.pk))
    [inbox] = notification.deliveries.all()  # empty targets are skipped
    assert (inbox.channel, inbox.target, inbox.status) == ("inbox", "customer_a", "sent")
    assert AuditEvent.objects.filter(
        action="notification.create", object_type="notifications.notification"
    ).exists()


@pytest.mark.parametrize(
    ("channels", "message"),
    [
        ({"fax": "010-1234"}, "Unknown notification channel: fax"),
        ({"inbox": "someone"}, "The inbox is addressed through the recipient user."),
        ({"webhook": "http://127.0.0.1/x"}, "Webhooks go to a customer's registered endpoints"),
    ],
)
def test_bad_channels_are_refused_and_nothing_is_recorded(cast, settings, channels, message):
    settings.LANGUAGE_CODE = "en"
    with pytest.raises(ServiceError, match=message):
        _notify(recipient_user=cast["customer_a"], channels=channels)
    assert Notification.objects.count() == 0 and Delivery.objects.count() == 0


def test_only_active_endpoints_subscribed_to_the_event_get_webhooks(customer_org, other_org):
    make = WebhookEndpoint.objects.create
    wanted = make(customer=customer_org, url="http://127.0.0.1:9/a", events=[EVENT])
    every = make(customer=customer_org, url="http://127.0.0.1:9/b", events=["*"])
    make(customer=customer_org, url="http://127.0.0.1:9/c", events=["certificate.issued"])
    make(customer=customer_org, url="http://127.0.0.1:9/d", events=[EVENT], active=False)
    make(customer=other_org, url="http://127.0.0.1:9/e", events=["*"])
    notification = _notify(webhooks_for=customer_org)
    hooks = notification.deliveries.filter(channel="webhook")
    assert {(d.endpoint, d.target) for d in hooks} == {(wanted, wanted.url), (every, every.url)}


def test_a_disabled_endpoint_fails_its_pending_deliveries(customer_org):
    endpoint = WebhookEndpoint.objects.create(
        customer=customer_org, url="http://127.0.0.1:9/a", events=["*"]
    )
    notification = _notify(webhooks_for=customer_org)
    endpoint.active = False
    endpoint.save()
    assert delivery_attempt(_delivery(notification, "webhook").pk) == "failed"


def test_the_webhook_secret_never_reaches_the_audit_log(customer_org):
    endpoint = WebhookEndpoint.objects.create(customer=customer_org, url="http://127.0.0.1:9/a")
    assert len(endpoint.secret) >= 40
    event = AuditEvent.objects.get(
        object_type="notifications.webhookendpoint", object_id=str(endpoint.pk)
    )
    assert event.changes["secret"] == {"before": "***", "after": "***"}


def test_payloads_may_carry_decimals_and_dates(cast):
    import decimal

    notification = _notify(
        recipient_user=cast["customer_a"],
        payload={"price": decimal.Decimal("120.50"), "due": dt.date(2026, 12, 1)},
    )
    notification.refresh_from_db()
    assert notification.payload == {"price": "120.50", "due": "2026-12-01"}
