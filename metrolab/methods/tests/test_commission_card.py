"""The commission card lists its deviations and, for those who may request one, links to the
request form for every line that is not a verification (R6.7c)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from metrolab.methods.models import Deviation


@pytest.fixture
def mixed_commission(make_commission):
    return make_commission(
        "a",
        lines=(
            ("数字压力计 Pressure gauge", 1, "calibration"),
            ("一般压力表 Pressure gauge", 1, "verification"),
        ),
    )


@pytest.mark.django_db
def test_requesters_get_a_link_for_non_verification_lines_only(mixed_commission, cast, login):
    calibration, verification = mixed_commission.lines.order_by("pk")
    client = login(cast["metrologist"])
    html = client.get(reverse("commissions:detail", args=[mixed_commission.pk])).content.decode()
    assert reverse("methods:deviation_request", args=[calibration.pk]) in html
    assert reverse("methods:deviation_request", args=[verification.pk]) not in html

    client = login(cast["receptionist"])  # reads the commission, may not request
    html = client.get(reverse("commissions:detail", args=[mixed_commission.pk])).content.decode()
    assert 'data-testid="deviations"' not in html


@pytest.mark.django_db
def test_the_customer_sees_the_deviations_of_their_commission(
    mixed_commission, cast, login, make_method
):
    line = mixed_commission.lines.order_by("pk").first()
    deviation = Deviation.objects.create(
        line=line,
        method=make_method(code="JJF 1587", year="2016"),
        description="5 points instead of 10",
        justification="customer's range of use",
        requested_by=cast["metrologist"],
    )
    client = login(cast["customer_a"])
    html = client.get(reverse("commissions:detail", args=[mixed_commission.pk])).content.decode()
    assert reverse("methods:deviation_detail", args=[deviation.pk]) in html
    assert "methods:deviation_request" not in html
    assert reverse("methods:deviation_request", args=[line.pk]) not in html
