"""The qualification pages: who may open them, everything linked both ways (R6.8b: item →
methods, standard, equipment, people; person → items), the forms that keep the libraries, and
the certificate files."""

from __future__ import annotations

import itertools

import pytest
from django.urls import reverse

from metrolab.core.permissions import SYSTEM
from metrolab.core.roles import LAB_STAFF
from metrolab.core.testing import assert_same_query_count_with_n_and_10n
from metrolab.qualifications.models import Authorisation, AuthorisedItem, PersonnelCertificate
from metrolab.qualifications.tests.conftest import PDF_BYTES, days, pdf_upload

pytestmark = pytest.mark.django_db

READERS = sorted(LAB_STAFF)
OUTSIDERS = ["customer_a", "regulator", "device"]


@pytest.fixture
def linked(cast, grant, certificate, library, today):
    """The library with a metrologist, checker and approver authorised for P-001."""
    cert = certificate(cast["metrologist"], number="JD-LINKED", expiry=today + days(20))
    grant(cast["metrologist"], certificate=cert)
    grant(cast["checker"], "check")
    grant(cast["approver"], "approve", valid_until=today + days(400))
    return library


@pytest.mark.parametrize("username", READERS)
def test_every_lab_role_reads_every_page(cast, login, linked, username):
    client = login(cast[username])
    for url in [
        reverse("qualifications:items"),
        reverse("qualifications:item_detail", args=[linked.item.pk]),
        reverse("qualifications:people"),
        reverse("qualifications:person", args=[cast["metrologist"].pk]),
        reverse("qualifications:person", args=[cast[username].pk]),
    ]:
        response = client.get(url)
        assert response.status_code == 200, (username, url)
        assert b"qualifications.css" in response.content
    assert client.get(reverse("qualifications:mine")).url == reverse(
        "qualifications:person", args=[cast[username].pk]
    )


@pytest.mark.parametrize("username", OUTSIDERS)
def test_outsiders_see_only_their_own_page(cast, login, linked, username):
    client = login(cast[username])
    assert client.get(reverse("qualifications:items")).status_code == 403
    assert client.get(reverse("qualifications:people")).status_code == 403
    item_page = reverse("qualifications:item_detail", args=[linked.item.pk])
    assert client.get(item_page).status_code == 403
    other = reverse("qualifications:person", args=[cast["metrologist"].pk])
    assert client.get(other).status_code == 404
    assert client.get(reverse("qualifications:person", args=[cast[username].pk])).status_code == 200


def test_anonymous_is_sent_to_sign_in(client, linked, cast):
    for url in [
        reverse("qualifications:items"),
        reverse("qualifications:person", args=[cast["metrologist"].pk]),
    ]:
        response = client.get(url)
        assert response.status_code == 302 and "login" in response.url


def test_the_item_page_links_everything(cast, login, linked, today):
    html = (
        login(cast["metrologist"])
        .get(reverse("qualifications:item_detail", args=[linked.item.pk]))
        .content.decode()
    )
    assert reverse("methods:detail", args=[linked.jjg52.pk]) in html
    assert reverse("methods:detail", args=[linked.jjg52_old.pk]) in html
    assert 'data-status="superseded"' in html and 'data-status="current"' in html
    assert reverse("equipment:standard_detail", args=[linked.standard.pk]) in html
    assert reverse("equipment:detail", args=[linked.piston.pk]) in html
    assert reverse("equipment:detail", args=[linked.digital.pk]) in html
    assert 'class="badge green" data-status="in_service"' in html
    assert 'class="badge yellow" data-status="limited"' in html
    assert "no confirmed calibration" in html  # the digital gauge
    for person in ("metrologist", "checker", "approver"):
        assert reverse("qualifications:person", args=[cast[person].pk]) in html
    assert "JD-LINKED" in html  # the basis of the metrologist's authorisation
    assert "New authorised item" not in html and "Authorise a person" not in html


def test_the_person_page_links_back_to_the_items(cast, login, linked, today):
    html = (
        login(cast["checker"])
        .get(reverse("qualifications:person", args=[cast["metrologist"].pk]))
        .content.decode()
    )
    assert reverse("qualifications:item_detail", args=[linked.item.pk]) in html
    assert "JD-LINKED" in html
    assert 'data-testid="person-expiring"' in html  # the certificate ends in 20 days
    assert reverse("qualifications:certificate_create", args=[cast["metrologist"].pk]) not in html


def test_validity_on_another_day(cast, login, linked, today):
    client = login(cast["metrologist"])
    url = reverse("qualifications:item_detail", args=[linked.item.pk])
    after = (today + days(21)).isoformat()  # the metrologist's certificate has expired
    html = client.get(url, {"on": after}).content.decode()
    assert 'data-testid="day-note"' in html
    perform = html.split('data-testid="capacity-perform"')[1].split("</div>")[0]
    assert 'data-state="expired"' in perform


def test_people_list_marks_what_expires(cast, login, linked):
    html = login(cast["director"]).get(reverse("qualifications:people")).content.decode()
    assert reverse("qualifications:person", args=[cast["metrologist"].pk]) in html
    assert html.count('data-testid="expiring-marker"') == 1
    assert reverse("qualifications:person", args=[cast["customer_a"].pk]) not in html


def test_editors_keep_items_through_the_pages(cast, login, library, today):
    client = login(cast["quality_manager"])
    assert "New authorised item" in client.get(reverse("qualifications:items")).content.decode()
    form = {
        "code": "P-NEW",
        "name": "压力变送器校准",
        "service": "calibration",
        "measurand": "压力",
        "category": library.gauge.pk,
        "range_low": "5",
        "range_high": "1",
        "unit": "MPa",
        "cmc": "0.05 %",
        "methods": [library.jjg52.pk],
    }
    refused = client.post(reverse("qualifications:item_create"), form)
    assert refused.status_code == 422
    assert "The range must go from a lower to a higher value" in refused.content.decode()
    assert not AuthorisedItem.objects.filter(code="P-NEW").exists()
    created = client.post(reverse("qualifications:item_create"), {**form, "range_low": "0"})
    item = AuthorisedItem.objects.get(code="P-NEW")
    assert created.url == reverse("qualifications:item_detail", args=[item.pk])
    edit = reverse("qualifications:item_edit", args=[item.pk])
    assert client.get(edit).status_code == 200
    client.post(edit, {**form, "range_low": "0", "cmc": "0.02 %"})
    item.refresh_from_db()
    assert item.cmc == "0.02 %"


@pytest.mark.parametrize("username", ["metrologist", "equipment_manager", "director", "customer_a"])
def test_readers_cannot_open_the_forms(cast, login, library, username):
    client = login(cast[username])
    person = cast["metrologist"].pk
    for url in [
        reverse("qualifications:item_create"),
        reverse("qualifications:item_edit", args=[library.item.pk]),
        reverse("qualifications:profile_edit", args=[person]),
        reverse("qualifications:certificate_create", args=[person]),
        reverse("qualifications:training_create", args=[person]),
        reverse("qualifications:authorisation_create"),
    ]:
        assert client.get(url).status_code == 403, url
        assert client.post(url, {}).status_code == 403, url


def test_grant_and_revoke_through_the_pages(cast, login, library, certificate, today):
    client = login(cast["admin"])
    person = cast["metrologist"]
    theirs = certificate(cast["checker"], number="NOT-HIS")
    url = reverse("qualifications:authorisation_create")
    page = client.get(url, {"person": person.pk, "item": library.item.pk})
    assert page.status_code == 200
    assert "NOT-HIS" not in page.content.decode()  # only the person's own certificates
    data = {
        "person": person.pk,
        "item": library.item.pk,
        "capacity": "check",
        "valid_from": today.isoformat(),
    }
    refused = client.post(url, data)
    assert refused.status_code == 422
    assert "needs the role" in refused.content.decode()
    refused = client.post(url, {**data, "capacity": "perform", "certificate": theirs.pk})
    assert refused.status_code == 422 and "belongs to" in refused.content.decode()
    assert not Authorisation.objects.exists()
    done = client.post(url, {**data, "capacity": "perform"})
    assert done.url == reverse("qualifications:person", args=[person.pk])
    authorisation = Authorisation.objects.get()
    revoke = reverse("qualifications:authorisation_revoke", args=[authorisation.pk])
    assert client.post(revoke, {"reason": ""}).status_code == 422
    client.post(revoke, {"reason": "changed post"})
    authorisation.refresh_from_db()
    assert authorisation.revoked and authorisation.revoke_reason == "changed post"
    html = client.get(reverse("qualifications:person", args=[person.pk])).content.decode()
    assert "changed post" in html and 'data-state="revoked"' in html


def test_nobody_grants_an_authorisation_to_themselves_through_the_page(cast, login, library, today):
    from metrolab.core.services import user_create

    editor = user_create(
        username="qm-metrologist",
        password=None,
        roles=["quality_manager", "metrologist"],
        actor=SYSTEM,
    )
    client = login(editor)
    url = reverse("qualifications:authorisation_create")
    data = {
        "person": editor.pk,
        "item": library.item.pk,
        "capacity": "perform",
        "valid_from": today.isoformat(),
    }
    refused = client.post(url, data)
    assert refused.status_code == 422
    assert (
        "Nobody may grant an authorisation to themselves: another quality manager or an "
        f"administrator must authorise {editor}."
    ) in refused.content.decode()
    assert not Authorisation.objects.exists()
    client = login(cast["quality_manager"])
    assert client.post(url, data).status_code == 302
    assert Authorisation.objects.get().granted_by == cast["quality_manager"]


def test_the_item_form_refuses_a_method_unfit_for_the_service(cast, login, library, today):
    from metrolab.methods.models import Method

    jjf = Method.objects.create(
        kind="JJF",
        code="JJF 1587",
        year="2016",
        title="数字多用表",
        effective_date=today - days(900),
    )
    client = login(cast["quality_manager"])
    form = {
        "code": "V-NEW",
        "name": "压力表检定",
        "service": "verification",
        "measurand": "压力",
        "category": library.gauge.pk,
        "range_low": "0",
        "range_high": "10",
        "unit": "MPa",
        "cmc": "1.6 级",
        "methods": [jjf.pk],
    }
    refused = client.post(reverse("qualifications:item_create"), form)
    assert refused.status_code == 422
    assert (
        "A verification (检定) is done under a verification regulation (JJG), not under "
        "JJF 1587-2016 (JJF technical specification)."
    ) in refused.content.decode()
    assert not AuthorisedItem.objects.filter(code="V-NEW").exists()
    created = client.post(
        reverse("qualifications:item_create"), {**form, "methods": [library.jjg52.pk]}
    )
    assert created.status_code == 302
    assert list(AuthorisedItem.objects.get(code="V-NEW").methods.all()) == [library.jjg52]


def test_profile_certificate_and_training_forms(cast, login, library, today, settings):
    client = login(cast["quality_manager"])
    person = cast["checker"]
    client.post(
        reverse("qualifications:profile_edit", args=[person.pk]),
        {"employee_no": "E-12", "department": "温度室"},
    )
    client.post(
        reverse("qualifications:profile_edit", args=[person.pk]),
        {"employee_no": "E-12", "department": "压力室"},
    )
    assert person.staff_profile.department == "压力室"
    response = client.post(
        reverse("qualifications:certificate_create", args=[person.pk]),
        {
            "kind": "verifier",
            "number": "JD-77",
            "issue_date": today.isoformat(),
            "expiry_date": (today - days(1)).isoformat(),
        },
    )
    assert response.status_code == 422 and not PersonnelCertificate.objects.exists()
    response = client.post(
        reverse("qualifications:certificate_create", args=[person.pk]),
        {
            "kind": "verifier",
            "number": "JD-77",
            "issue_date": today.isoformat(),
            "items": [library.item.pk],
            "file": pdf_upload(),
        },
    )
    assert response.status_code == 302
    cert = PersonnelCertificate.objects.get()
    assert cert.has_file and list(cert.items.all()) == [library.item]
    edit = reverse("qualifications:certificate_edit", args=[cert.pk])
    assert cert.file_name in client.get(edit).content.decode()
    client.post(
        edit,
        {
            "kind": "verifier",
            "number": "JD-77",
            "issue_date": today.isoformat(),
            "expiry_date": (today + days(700)).isoformat(),
        },
    )
    cert.refresh_from_db()
    assert cert.expiry_date == today + days(700) and cert.has_file
    response = client.post(
        reverse("qualifications:training_create", args=[person.pk]),
        {
            "date": today.isoformat(),
            "topic": "数据核验要点",
            "hours": "4",
            "items": [library.item.pk],
        },
    )
    assert response.status_code == 302
    html = client.get(reverse("qualifications:person", args=[person.pk])).content.decode()
    assert "数据核验要点" in html and "JD-77" in html and "压力室" in html


def test_certificate_files_for_readers_and_the_holder(cast, login, today):
    from metrolab.qualifications.services import certificate_add

    cert = certificate_add(
        person=cast["metrologist"],
        data={"kind": "registered", "number": "ZC-1", "issue_date": today},
        upload=pdf_upload("注册证.pdf"),
        actor=cast["quality_manager"],
    )
    url = reverse("qualifications:certificate_file", args=[cert.pk])
    for username in ("metrologist", "checker", "item_keeper"):
        response = login(cast[username]).get(url)
        assert response.status_code == 200, username
        assert b"".join(response.streaming_content) == PDF_BYTES
        assert response["Content-Type"] == "application/pdf"
    assert login(cast["customer_a"]).get(url).status_code == 404
    bare = certificate_add(
        person=cast["checker"],
        data={"kind": "registered", "number": "ZC-2", "issue_date": today},
        actor=cast["quality_manager"],
    )
    no_file = reverse("qualifications:certificate_file", args=[bare.pk])
    assert login(cast["checker"]).get(no_file).status_code == 404


def test_lists_are_paginated(cast, login, library):
    for n in range(55):
        item = AuthorisedItem.objects.create(
            code=f"X-{n:03d}",
            name=f"item {n}",
            service="calibration",
            measurand="压力",
            category=library.gauge,
            cmc="1 %",
        )
        item.methods.set([library.jjg52])
    client = login(cast["metrologist"])
    first = client.get(reverse("qualifications:items")).content.decode()
    assert "Page 1 of 2" in first
    second = client.get(reverse("qualifications:items"), {"page": 2}).content.decode()
    assert "X-054" in second and "X-000" not in second


def test_the_item_list_does_not_grow_with_rows(cast, login, library):
    """1 authorised item and 10 listed, each with its method: the same number of queries."""
    serial = itertools.count()

    def add(k):
        for _ in range(k):
            n = next(serial)
            item = AuthorisedItem.objects.create(
                code=f"X-{n:03d}",
                name=f"item {n}",
                service="calibration",
                measurand="压力",
                category=library.gauge,
                cmc="1 %",
            )
            item.methods.set([library.jjg52])

    client = login(cast["metrologist"])

    def get():
        response = client.get(reverse("qualifications:items"))
        assert response.status_code == 200
        return response

    assert_same_query_count_with_n_and_10n(get, add)
    assert get().content.decode().count("X-0") >= 10


def test_the_people_list_does_not_grow_with_rows(cast, login, grant, certificate):
    """1 more person and 10 more, each authorised and certified: the same number of queries."""
    from metrolab.core.services import user_create

    serial = itertools.count()

    def add(k):
        for _ in range(k):
            n = next(serial)
            person = user_create(
                username=f"person-{n}",
                password=None,
                roles=["metrologist"],
                display_name=f"Person {n}",
                actor=SYSTEM,
            )
            grant(person)
            certificate(person, number=f"JD-{n:04d}")

    client = login(cast["quality_manager"])

    def get():
        response = client.get(reverse("qualifications:people"))
        assert response.status_code == 200
        return response

    assert_same_query_count_with_n_and_10n(get, add)
    assert get().content.decode().count("Person ") >= 10


def test_the_pages_render_in_chinese(cast, client, linked, settings):
    from django.utils import translation

    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    client.force_login(cast["metrologist"])
    with translation.override("zh-hans"):
        for url in [
            reverse("qualifications:items"),
            reverse("qualifications:item_detail", args=[linked.item.pk]),
            reverse("qualifications:people"),
            reverse("qualifications:person", args=[cast["metrologist"].pk]),
        ]:
            response = client.get(url)
            assert response.status_code == 200
            assert 'lang="zh-CN"' in response.content.decode()
