"""Core pages: organisation profile, audit verification through the background worker."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from metrolab.core.models import AuditEvent, AuditVerification, OrganisationProfile

pytestmark = pytest.mark.django_db


def test_admin_edits_the_organisation_profile(cast, client):
    client.force_login(cast["admin"])
    response = client.post(
        "/organisation/",
        {
            "name": "某市计量测试研究院",
            "seal_verification": "某市计量测试研究院检定电子证书专用章",
            "reason": "年度更新",
        },
    )
    assert response.status_code == 302
    profile = OrganisationProfile.objects.get()
    assert profile.seal_verification.endswith("电子证书专用章")
    event = AuditEvent.objects.filter(action="organisation.update").last()
    assert event.reason == "年度更新" and event.actor_label == "admin"


def test_bad_profile_input_changes_nothing(cast, client):
    client.force_login(cast["admin"])
    client.post("/organisation/", {"name": "Lab"})
    count = AuditEvent.objects.count()
    response = client.post("/organisation/", {"name": "", "email": "not-an-email"})
    assert response.status_code == 200
    assert response.context["form"].errors.keys() >= {"name", "email"}
    assert OrganisationProfile.objects.get().name == "Lab"
    assert AuditEvent.objects.count() == count


def test_director_reads_but_cannot_edit_the_profile(cast, client):
    client.force_login(cast["director"])
    assert client.get("/organisation/").context["form"] is None
    assert client.post("/organisation/", {"name": "x"}).status_code == 404


@pytest.mark.django_db(transaction=True)
def test_verification_runs_in_the_background_worker(cast, client):
    client.force_login(cast["quality_manager"])
    response = client.post("/audit/verify/")
    assert response.status_code == 302
    verification = AuditVerification.objects.get()
    assert verification.status == AuditVerification.Status.QUEUED
    html = client.get("/audit/verification/").content.decode()
    assert "data-poll" in html  # the page keeps polling while it is queued or running
    call_command("db_worker", batch=True, no_startup_delay=True, verbosity=0)
    verification.refresh_from_db()
    assert verification.status == AuditVerification.Status.INTACT
    assert verification.event_count > 0 and len(verification.head_hash) == 64
    html = client.get("/audit/verification/").content.decode()
    assert "data-poll" not in html


def test_back_office_writes_are_audited_with_the_admin_as_actor(cast, client):
    from metrolab.core.models import User

    client.force_login(cast["admin"])
    assert client.get("/admin/core/user/add/").status_code == 200
    response = client.post(
        "/admin/core/user/add/",
        {
            "username": "newbie",
            "password1": "Xy7!long-pass",
            "password2": "Xy7!long-pass",
            "usable_password": "true",
        },
    )
    assert response.status_code == 302
    user = User.objects.get(username="newbie")
    event = AuditEvent.objects.filter(object_type="core.user", object_id=str(user.pk)).first()
    assert event.action == "core.user.create" and event.actor_label == "admin"
    assert event.changes["password"] == {"before": "***", "after": "***"}


def test_an_administrator_cannot_make_anyone_superuser(cast, client):
    client.force_login(cast["admin"])
    target = cast["receptionist"]
    page = client.get(f"/admin/core/user/{target.pk}/change/")
    form = page.context["adminform"].form
    assert "is_superuser" not in form.fields and "user_permissions" not in form.fields


def test_roles_are_read_only_in_the_back_office(cast, client):
    from django.contrib.auth.models import Group

    client.force_login(cast["admin"])
    group = Group.objects.get(name="receptionist")
    assert client.get("/admin/auth/group/add/").status_code == 403
    client.post(f"/admin/auth/group/{group.pk}/change/", {"name": "admin"})
    group.refresh_from_db()
    assert group.name == "receptionist"
