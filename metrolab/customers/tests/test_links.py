"""Links only where the user may follow them: a metrologist sees the customer's name on the
instrument register and on a commission without a link to the customer card (which would
answer 403); a receptionist gets the link."""

from __future__ import annotations

import pytest
from django.template import Context, Template
from django.test import RequestFactory

from metrolab.customers.models import Instrument

pytestmark = pytest.mark.django_db


def _customer_link(org) -> str:
    return f'<a href="/customers/{org.pk}/">{org.name}</a>'


@pytest.fixture
def commission(cast, org_a, pressure):
    from metrolab.commissions.services import commission_create

    return commission_create(
        customer=org_a,
        lines=[{"instrument_name": "压力表", "service": "calibration"}],
        channel="desk",
        actor=cast["receptionist"],
    )


def test_metrologist_sees_the_customer_name_without_a_link(cast, login, org_a, commission):
    Instrument.objects.create(customer=org_a, name="压力表", serial_no="E1")
    client = login(cast["metrologist"])
    assert client.get(f"/customers/{org_a.pk}/").status_code == 403
    for url in ("/customers/instruments/", f"/commissions/{commission.pk}/"):
        response = client.get(url)
        assert response.status_code == 200, url
        html = response.content.decode()
        assert org_a.name in html, url
        assert f"/customers/{org_a.pk}/" not in html, url


def test_receptionist_gets_the_link_to_the_customer(cast, login, org_a, commission):
    Instrument.objects.create(customer=org_a, name="压力表", serial_no="E1")
    client = login(cast["receptionist"])
    for url in ("/customers/instruments/", f"/commissions/{commission.pk}/"):
        html = client.get(url).content.decode()
        assert _customer_link(org_a) in html, url
    assert client.get(f"/customers/{org_a.pk}/").status_code == 200


def test_permitted_link_tag_follows_the_target_views_declaration(cast):
    template = Template(
        "{% load links %}{% permitted_link 'customers:detail' 7 data_testid='c' %}"
        "<b>甲</b>{% endpermitted_link %}|{% permitted_url 'customers:list' as u %}[{{ u }}]"
    )
    request = RequestFactory().get("/")
    for who, expected in (
        ("receptionist", '<a href="/customers/7/" data-testid="c"><b>甲</b></a>|[/customers/]'),
        ("director", '<a href="/customers/7/" data-testid="c"><b>甲</b></a>|[/customers/]'),
        ("metrologist", "<b>甲</b>|[]"),
        ("driver", "<b>甲</b>|[]"),
    ):
        request.user = cast[who]
        assert template.render(Context({"request": request})) == expected, who
