"""Small things every page relies on: a refusal is one log line, the site has a favicon."""

from __future__ import annotations

import logging

import pytest

pytestmark = pytest.mark.django_db


def test_a_refused_page_is_logged_as_one_line_without_traceback(cast, login, caplog):
    from metrolab.customers.services import customer_create

    customer = customer_create(data={"code": "A001", "name": "甲公司"}, actor=cast["receptionist"])
    client = login(cast["metrologist"])
    with caplog.at_level(logging.WARNING, logger="django.request"):
        response = client.get(f"/customers/{customer.pk}/")
    assert response.status_code == 403
    records = [r for r in caplog.records if r.name == "django.request"]
    assert len(records) == 1
    record = records[0]
    assert record.levelname == "WARNING"
    assert record.exc_info is None
    assert record.getMessage() == (
        f"Forbidden (Permission denied): /customers/{customer.pk}/ (user metrologist)"
    )
    assert "Traceback" not in caplog.text
    assert len(caplog.text.strip().splitlines()) == 1


def test_a_server_error_keeps_its_traceback():
    from metrolab.core.log import OneLineClientErrors

    try:
        raise RuntimeError("boom")
    except RuntimeError:
        import sys

        exc_info = sys.exc_info()
    record = logging.LogRecord("django.request", logging.ERROR, "", 0, "Server Error", (), exc_info)
    record.status_code = 500
    assert OneLineClientErrors().filter(record)
    assert record.exc_info is exc_info


def test_favicon_ico_answers_without_signing_in(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/x-icon"
    body = b"".join(response) if response.streaming else response.content
    assert body[:4] == b"\x00\x00\x01\x00"  # ICO header
    assert "max-age" in response["Cache-Control"]


def test_pages_link_the_favicon(client):
    html = client.get("/login/").content.decode()
    assert 'rel="icon"' in html and "core/favicon.svg" in html
    assert 'href="/favicon.ico"' in html
