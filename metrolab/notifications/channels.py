"""Notification channels behind one interface (R6.1c): in-app inbox, e-mail over SMTP, SMS and
WeChat through an HTTP gateway, and customer webhooks.

A channel is a class with a `name` and `send(delivery)`, registered with `@register`; it
returns when the message left, or raises `DeliveryError(retryable=...)`. The services decide
what happens next (retry with back-off, or give up). A later channel plugs in by subclassing
`Channel` and decorating it with `@register`; nothing else changes.

SMS / WeChat gateway protocol (one adapter for both; a provider-specific gateway translates):
``POST <METROLAB_SMS_GATEWAY_URL | METROLAB_WECHAT_GATEWAY_URL>`` with
``Authorization: Bearer <..._GATEWAY_KEY>`` and a JSON body
``{"to": phone or openid, "text": "...", "template": event code or payload["template"]}``.
Any 2xx is success; 5xx, 408, 429 and network errors are retried; other answers are final.

Webhook signature scheme (for customers to verify)
--------------------------------------------------
Each webhook is ``POST <endpoint URL>`` with ``Content-Type: application/json; charset=utf-8``,
a UTF-8 JSON body ``{"delivery", "event", "created_at", "subject", "body", "payload",
"related": {"type", "id"}}`` and these headers:

- ``X-MetroLab-Event``: the event code, e.g. ``commission.status_changed``;
- ``X-MetroLab-Delivery``: the delivery id (the same on every retry: use it to drop repeats);
- ``X-MetroLab-Timestamp``: Unix time in seconds when this attempt was signed;
- ``X-MetroLab-Signature``: ``sha256=`` + hex HMAC-SHA256, keyed with the endpoint's secret
  (UTF-8), over the bytes ``<timestamp> + "." + <raw request body>``.

To verify: recompute the HMAC over the timestamp header, a dot and the raw body exactly as
received, compare with a constant-time comparison, and refuse timestamps more than five
minutes from your clock (replays). In Python::

    expected = "sha256=" + hmac.new(secret.encode(), f"{ts}.".encode() + body, "sha256").hexdigest()
    ok = hmac.compare_digest(expected, signature) and abs(time.time() - int(ts)) < 300

Answer 2xx to accept. 5xx, 408, 429 or no answer within the timeout are retried with back-off;
any other answer (including redirects, which are not followed) fails the delivery for good.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import smtplib
import time
import urllib.error
import urllib.request
from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, ClassVar

from django.conf import settings
from django.core.mail import EmailMessage, mailers
from django.core.serializers.json import DjangoJSONEncoder
from django.utils.translation import gettext as _

if TYPE_CHECKING:
    from metrolab.notifications.models import Delivery

DEFAULT_TIMEOUT = 10  # seconds, for SMTP and HTTP; settings may change it
RETRYABLE_HTTP = frozenset({408, 425, 429})


class DeliveryError(Exception):
    """Sending failed. `retryable` says whether trying again later may succeed (R6.1c)."""

    def __init__(self, message: str, *, retryable: bool):
        super().__init__(message)
        self.retryable = retryable


class Channel(ABC):
    """One way of reaching a recipient (R6.1c). `inline` channels involve no network and are
    delivered inside the notifying transaction instead of by a background task."""

    name: ClassVar[str] = ""
    inline: ClassVar[bool] = False

    @classmethod
    def configured(cls) -> bool:
        """Whether the settings this channel needs are given. An unconfigured channel is shown
        as such on the delivery log and is not attempted (`notify` queues nothing for it)."""
        return True

    @abstractmethod
    def send(self, delivery: Delivery) -> None:
        """Send one delivery, or raise DeliveryError."""


REGISTRY: dict[str, type[Channel]] = {}


def register(cls: type[Channel]) -> type[Channel]:
    """Make a channel class available under its `name`."""
    REGISTRY[cls.name] = cls
    return cls


def channel_get(name: str) -> Channel:
    """The channel registered as `name`; an unknown name is a permanent delivery error."""
    try:
        return REGISTRY[name]()
    except KeyError:
        raise DeliveryError(f"no channel named {name!r}", retryable=False) from None


def configured(name: str) -> bool:
    """Whether the channel registered as `name` exists and has its settings."""
    return name in REGISTRY and REGISTRY[name].configured()


def timeout() -> float:
    return float(getattr(settings, "METROLAB_NOTIFY_TIMEOUT", DEFAULT_TIMEOUT))


@register
class InboxChannel(Channel):
    """The in-app inbox: the notification row is the message, so there is nothing to send."""

    name = "inbox"
    inline = True

    def send(self, delivery: Delivery) -> None:
        return None


@register
class EmailChannel(Channel):
    """E-mail through Django's default mailer: settings.MAILERS["default"] (Django 6.1), or the
    older EMAIL_HOST / EMAIL_PORT / ... settings while those are still in use."""

    name = "email"

    def send(self, delivery: Delivery) -> None:
        notification = delivery.notification
        message = EmailMessage(
            subject=notification.subject,
            body=notification.body,
            from_email=getattr(settings, "DEFAULT_FROM_EMAIL", None),
            to=[delivery.target],
            headers={"X-MetroLab-Event": notification.event},
        )
        try:
            mailer = mailers.default
            if getattr(mailer, "timeout", 0) is None:
                mailer.timeout = timeout()  # never wait for ever on a mail server
            mailer.send_messages([message])
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _msg in exc.recipients.values()]
            refused = DeliveryError(f"recipient refused: {exc.recipients}", retryable=_soft(codes))
            raise refused from exc
        except smtplib.SMTPResponseException as exc:
            raise DeliveryError(
                f"SMTP {exc.smtp_code}: {exc.smtp_error!r}", retryable=_soft([exc.smtp_code])
            ) from exc
        except (smtplib.SMTPException, OSError) as exc:
            raise DeliveryError(f"SMTP: {exc!r}", retryable=True) from exc


def _soft(smtp_codes: list[int]) -> bool:
    """SMTP 4xx answers are temporary (RFC 5321 §4.2.1); 5xx are permanent."""
    return all(400 <= code < 500 for code in smtp_codes)


class _RefuseRedirects(urllib.request.HTTPRedirectHandler):
    """Redirects are answered as errors: a POST is never silently turned into a GET, nor sent
    somewhere other than the configured URL."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


_opener = urllib.request.build_opener(_RefuseRedirects)


def post_json(url: str, body: bytes, headers: dict[str, str]) -> int:
    """POST `body` as JSON to `url`; return the 2xx status, or raise DeliveryError (retryable
    for 5xx, 408, 425, 429 and network failures; permanent for everything else)."""
    if not url.lower().startswith(("http://", "https://")):
        raise DeliveryError(f"not an http(s) URL: {url!r}", retryable=False)
    request = urllib.request.Request(  # noqa: S310 - scheme checked above
        url,
        data=body,
        method="POST",
        headers={"Content-Type": "application/json; charset=utf-8", **headers},
    )
    try:
        with _opener.open(request, timeout=timeout()) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        code = exc.code
        detail = exc.read(300).decode("utf-8", "replace")
        retryable = code >= 500 or code in RETRYABLE_HTTP
        raise DeliveryError(f"HTTP {code}: {detail}", retryable=retryable) from exc
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        raise DeliveryError(f"{url}: {exc!r}", retryable=True) from exc


class GatewayChannel(Channel):
    """SMS-like messages through an HTTP gateway adapter configured by two settings."""

    url_setting: ClassVar[str] = ""
    key_setting: ClassVar[str] = ""

    @classmethod
    def configured(cls) -> bool:
        return bool(getattr(settings, cls.url_setting, ""))

    def send(self, delivery: Delivery) -> None:
        url = getattr(settings, self.url_setting, "")
        if not url:
            # Queued while the gateway was configured, and it no longer is.
            raise DeliveryError(
                _("The channel is not configured (%(setting)s is not set).")
                % {"setting": self.url_setting},
                retryable=False,
            )
        notification = delivery.notification
        message = {
            "to": delivery.target,
            "text": "\n".join(p for p in (notification.subject, notification.body) if p),
            "template": notification.payload.get("template", notification.event),
        }
        key = getattr(settings, self.key_setting, "")
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        post_json(url, json.dumps(message, ensure_ascii=False).encode(), headers)


@register
class SmsChannel(GatewayChannel):
    """SMS to a mobile number through the SMS gateway."""

    name = "sms"
    url_setting = "METROLAB_SMS_GATEWAY_URL"
    key_setting = "METROLAB_SMS_GATEWAY_KEY"


@register
class WechatChannel(GatewayChannel):
    """A WeChat template message to an openid through the WeChat gateway."""

    name = "wechat"
    url_setting = "METROLAB_WECHAT_GATEWAY_URL"
    key_setting = "METROLAB_WECHAT_GATEWAY_KEY"


def webhook_body(delivery: Delivery) -> bytes:
    """The JSON a webhook carries (see the module docstring)."""
    n = delivery.notification
    document = {
        "delivery": delivery.pk,
        "event": n.event,
        "created_at": n.created_at.isoformat(),
        "subject": n.subject,
        "body": n.body,
        "payload": n.payload,
        "related": {"type": n.related_type, "id": n.related_id},
    }
    return json.dumps(
        document, ensure_ascii=False, separators=(",", ":"), cls=DjangoJSONEncoder
    ).encode()


def webhook_signature(secret: str, timestamp: str, body: bytes) -> str:
    """`sha256=` + hex HMAC-SHA256 over `<timestamp>.<body>` keyed with the endpoint secret."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


@register
class WebhookChannel(Channel):
    """Signed JSON to a customer's webhook endpoint."""

    name = "webhook"

    def send(self, delivery: Delivery) -> None:
        endpoint = delivery.endpoint
        if endpoint is None or not endpoint.active:
            raise DeliveryError("the webhook endpoint was removed or disabled", retryable=False)
        body = webhook_body(delivery)
        timestamp = str(int(time.time()))
        headers = {
            "User-Agent": "MetroLab-Webhook/1",
            "X-MetroLab-Event": delivery.notification.event,
            "X-MetroLab-Delivery": str(delivery.pk),
            "X-MetroLab-Timestamp": timestamp,
            "X-MetroLab-Signature": webhook_signature(endpoint.secret, timestamp, body),
        }
        post_json(delivery.target, body, headers)
