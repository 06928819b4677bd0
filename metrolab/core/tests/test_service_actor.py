"""Every service names who acts (R7.2d): `actor` is a required keyword argument, and a call
without one, or with `actor=None`, is refused before anything runs (core/service.py). An
anonymous visitor is not trusted by role checks; the system (`SYSTEM`) is."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import pytest
from django.contrib.auth.models import AnonymousUser
from django.utils.translation import gettext as _

import metrolab
from metrolab.core.models import AuditEvent, OrganisationProfile
from metrolab.core.permissions import SYSTEM
from metrolab.core.services import organisation_update


def _modules():
    """Every module of the platform that can hold a service (not the tests, nor migrations)."""
    for info in pkgutil.walk_packages(metrolab.__path__, prefix="metrolab."):
        parts = info.name.split(".")
        if {"tests", "migrations"} & set(parts):
            continue
        yield importlib.import_module(info.name)


def _services() -> dict[str, object]:
    found = {}
    for module in _modules():
        for value in vars(module).values():
            if callable(value) and hasattr(value, "audit_action"):
                found[f"{value.__module__}.{value.__qualname__}"] = value
    return found


def test_every_service_requires_its_actor_by_keyword():
    services = _services()
    assert len(services) > 80, sorted(services)  # the walk does find the services
    faulty = []
    for name, func in sorted(services.items()):
        actor = inspect.signature(func).parameters.get("actor")
        if (
            actor is None
            or actor.kind is not inspect.Parameter.KEYWORD_ONLY
            or actor.default is not inspect.Parameter.empty
        ):
            faulty.append(name)
    assert faulty == []


@pytest.mark.django_db
def test_a_forgotten_actor_is_a_type_error_and_writes_nothing():
    events = AuditEvent.objects.count()
    with pytest.raises(TypeError, match="actor"):
        organisation_update(data={"name": "Lab"})
    with pytest.raises(TypeError) as refused:
        organisation_update(data={"name": "Lab"}, actor=None)
    message = str(refused.value)
    assert "organisation.update" in message
    assert "metrolab.core.services.organisation_update" in message
    assert "metrolab.core.permissions.SYSTEM" in message
    assert AuditEvent.objects.count() == events
    assert not OrganisationProfile.objects.exists()


@pytest.mark.django_db
def test_the_system_actor_is_recorded_on_the_service_event():
    organisation_update(data={"name": "Lab"}, actor=SYSTEM, reason="set-up")
    event = AuditEvent.objects.filter(action="organisation.update").latest("seq")
    assert (event.actor_type, event.actor_label) == ("system", "system")
    assert OrganisationProfile.objects.get().name == "Lab"


@pytest.mark.django_db
def test_an_inner_service_acts_for_the_actor_it_is_given(cast):
    """A service calling another passes its actor on; the inner call's events name it."""
    from metrolab.core.services import user_create

    admin = cast["admin"]
    new = user_create(username="new-person", password=None, roles=["metrologist"], actor=admin)
    events = AuditEvent.objects.filter(object_type="core.user", object_id=str(new.pk))
    assert "user.roles.add" in {e.action for e in events}  # written by user.roles_set
    assert {(e.actor_type, e.actor_label) for e in events} == {("user", "admin")}


@pytest.mark.django_db
def test_an_anonymous_visitor_is_refused_by_the_methods_library(cast):
    """Before, a call without a signed-in user was trusted by the library's editor check."""
    from metrolab.core.service import ServiceError
    from metrolab.methods.models import Method
    from metrolab.methods.services import category_create

    events = AuditEvent.objects.count()
    with pytest.raises(ServiceError) as refused:
        category_create(data={"code": "T-99", "name": "温度计"}, actor=AnonymousUser())
    assert refused.value.code == "forbidden"
    assert refused.value.message == _(
        "Only the quality manager or an administrator may edit the methods library."
    )
    assert AuditEvent.objects.count() == events
    assert not Method.objects.exists()
    category = category_create(data={"code": "T-99", "name": "温度计"}, actor=SYSTEM)
    assert category.code == "T-99"
