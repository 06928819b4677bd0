"""The one module for checks inside services (core/permissions.py) and the one validation
helper (core/validation.py)."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser

from metrolab.core import audit
from metrolab.core.models import AuditEvent, OrganisationProfile, User
from metrolab.core.permissions import SYSTEM, holds, person, require_person, require_roles
from metrolab.core.service import ServiceError, service
from metrolab.core.validation import validated

pytestmark = pytest.mark.django_db


def test_the_system_passes_role_checks_but_is_no_person():
    assert require_roles(SYSTEM, ("admin",)) is None
    assert person(SYSTEM) is None
    with pytest.raises(ServiceError) as refused:
        require_person(SYSTEM)
    assert refused.value.code == "forbidden"


def test_anonymous_visitors_and_none_are_not_trusted():
    for nobody in (AnonymousUser(), None):
        assert not holds(nobody, ("admin",))
        with pytest.raises(ServiceError):
            require_roles(nobody, ("admin",))


def test_a_person_needs_one_of_the_roles():
    user = User.objects.create_user("perm-reader", password="x")
    with pytest.raises(ServiceError) as refused:
        require_roles(user, ("admin",), message="Only admins.")
    assert refused.value.message == "Only admins."
    admin = User.objects.create_superuser("perm-admin", password="x")
    assert require_roles(admin, ("admin",)) == admin
    assert require_person(admin, ("admin",)) == admin


def test_the_system_actor_is_recorded_as_the_system():
    @service("test.system_call")
    def touch(*, actor):
        audit.record("test.system_call", operation="event")

    touch(actor=SYSTEM)
    event = AuditEvent.objects.filter(action="test.system_call").latest("seq")
    assert (event.actor_type, event.actor_label) == ("system", "system")


def test_validated_reports_every_field_at_fault_at_once():
    profile = OrganisationProfile(pk=1, name="x" * 1000, address="y" * 10000)
    with pytest.raises(ServiceError) as refused:
        validated(profile)
    assert {"name", "address"} <= set(refused.value.errors)
    assert refused.value.field in refused.value.errors


def test_a_refusal_of_several_fields_names_each_by_its_label():
    from django.utils import translation

    profile = OrganisationProfile(pk=1, name="x" * 1000, address="y" * 10000)
    with translation.override("zh-hans"), pytest.raises(ServiceError) as refused:
        validated(profile)
    assert "实验室名称" in refused.value.message
    assert "name:" not in refused.value.message  # the label, never the field's code name
