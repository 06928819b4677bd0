"""Real local servers for the channel tests (R6.1c): an SMTP server (aiosmtpd) and an HTTP
server that plays the SMS / WeChat gateway and a customer's webhook receiver. Nothing in the
channel code is mocked; only loopback addresses are used (the suite blocks other networks)."""

from __future__ import annotations

import email
import email.policy
import hashlib
import hmac
import json
import socket
import threading
import time
from dataclasses import dataclass, field
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Mailbox:
    """An aiosmtpd handler that keeps what it receives and can refuse chosen recipients."""

    def __init__(self):
        self.messages: list[email.message.EmailMessage] = []
        self.envelopes = []
        self.refuse: dict[str, str] = {}  # recipient address -> SMTP reply, e.g. "550 no such user"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.envelopes.append(envelope)
        self.messages.append(
            email.message_from_bytes(envelope.content, policy=email.policy.default)
        )
        return "250 Message accepted for delivery"


def smtp_mailer(settings, port: int) -> None:
    """Point Django's default mailer (MAILERS, Django 6.1) at an SMTP server on loopback."""
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": port, "timeout": 5},
        }
    }


@pytest.fixture
def smtp_server(settings):
    """A real SMTP server on a free loopback port; Django's SMTP backend points at it."""
    mailbox = Mailbox()
    port = free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    smtp_mailer(settings, port)
    settings.DEFAULT_FROM_EMAIL = "lab@metrolab.example"
    try:
        yield mailbox
    finally:
        controller.stop()


@dataclass
class Received:
    path: str
    headers: Message
    body: bytes

    def json(self):
        return json.loads(self.body)


@dataclass
class Receiver:
    """What the local HTTP server received, and how it answers: `script[path]` is a list of
    statuses answered in turn (the last one repeats); unscripted paths answer 200.
    `secrets[path]` makes the path verify the webhook signature as a customer would."""

    base_url: str = ""
    requests: list[Received] = field(default_factory=list)
    script: dict[str, list[int]] = field(default_factory=dict)
    secrets: dict[str, str] = field(default_factory=dict)
    delay: dict[str, float] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def url(self, path: str) -> str:
        return self.base_url + path

    def at(self, path: str) -> list[Received]:
        return [r for r in self.requests if r.path == path]

    def answer(self, path: str) -> int:
        with self.lock:
            statuses = self.script.get(path, [200])
            return statuses.pop(0) if len(statuses) > 1 else statuses[0]


def signature_ok(secret: str, headers: Message, body: bytes, tolerance: int = 300) -> bool:
    """How a customer verifies a MetroLab webhook (the scheme in channels.py)."""
    timestamp = headers.get("X-MetroLab-Timestamp", "")
    signature = headers.get("X-MetroLab-Signature", "")
    if not timestamp.isdigit() or abs(time.time() - int(timestamp)) > tolerance:
        return False
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return hmac.compare_digest("sha256=" + mac.hexdigest(), signature)


class _Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        receiver: Receiver = self.server.receiver
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        headers = self.headers  # case-insensitive, as HTTP header names are
        with receiver.lock:
            receiver.requests.append(Received(self.path, headers, body))
        time.sleep(receiver.delay.get(self.path, 0))
        status = receiver.answer(self.path)
        secret = receiver.secrets.get(self.path)
        if secret is not None and not signature_ok(secret, headers, body):
            status = 401
        reply = b'{"ok": true}' if status < 300 else b'{"error": "scripted"}'
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)

    def log_message(self, format, *args):
        pass


@pytest.fixture
def http_receiver(settings):
    """A local HTTP server (SMS / WeChat gateway at /sms and /wechat, webhooks elsewhere)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.daemon_threads = True
    host, port = server.server_address[:2]
    receiver = Receiver(base_url=f"http://{host}:{port}")
    server.receiver = receiver
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    settings.METROLAB_SMS_GATEWAY_URL = receiver.url("/sms")
    settings.METROLAB_SMS_GATEWAY_KEY = "sms-key"
    settings.METROLAB_WECHAT_GATEWAY_URL = receiver.url("/wechat")
    settings.METROLAB_WECHAT_GATEWAY_KEY = "wechat-key"
    settings.METROLAB_NOTIFY_TIMEOUT = 2
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def customer_org(db):
    """A customer organisation (the owner of webhook endpoints)."""
    from metrolab.customers.models import Customer

    return Customer.objects.create(code="C-A", name="甲方计量用户有限公司")


@pytest.fixture
def other_org(db):
    from metrolab.customers.models import Customer

    return Customer.objects.create(code="C-B", name="乙方仪器有限公司")
