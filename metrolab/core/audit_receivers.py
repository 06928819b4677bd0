"""Signal receivers that put authentication and permission events into the audit log.

Connected in CoreConfig.ready(). They only record; they decide nothing.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_save

from metrolab.core import audit, signin
from metrolab.core.models.base import AuditedModel, record_delete


def on_login(sender, request, user, **kwargs):
    audit.record("auth.login", object_type="core.user", object_id=str(user.pk), actor=user)


def on_logout(sender, request, user, **kwargs):
    if user is not None:
        audit.record("auth.logout", object_type="core.user", object_id=str(user.pk), actor=user)


def on_login_failed(sender, credentials, request=None, **kwargs):
    """A failed password step, into the record of failed sign-ins, which coalesces them per
    client address and window (metrolab.core.signin.log_failure). The name typed is kept only
    when it is a user's: people type passwords into the user-name field, and the audit log is
    never erased."""
    from metrolab.core.auth import REFUSED_ATTR
    from metrolab.core.middleware import client_ip

    attempt = signin.attempt_for(
        credentials.get("username", ""), client_ip(request) if request is not None else None
    )
    signin.log_failure(attempt, refused=bool(getattr(request, REFUSED_ATTR, False)))


def _describe(model, pk_set) -> list[str]:
    if not pk_set:
        return []
    if model is Permission:
        rows = Permission.objects.filter(pk__in=pk_set).select_related("content_type")
        return sorted(f"{p.content_type.app_label}.{p.codename}" for p in rows)
    if model is Group:
        return sorted(Group.objects.filter(pk__in=pk_set).values_list("name", flat=True))
    return sorted(str(getattr(obj, "username", obj)) for obj in model.objects.filter(pk__in=pk_set))


def on_m2m_changed(sender, instance, action, reverse, model, pk_set, **kwargs):
    """Role (group) membership and permission grants, from either side of the relation."""
    if action not in {"post_add", "post_remove", "pre_clear"}:
        return
    if action == "pre_clear":
        related = getattr(instance, _relation_name(sender, instance))
        pk_set = set(related.values_list("pk", flat=True))
        if not pk_set:
            return
    verb = {"post_add": "added", "post_remove": "removed", "pre_clear": "removed"}[action]
    label = instance._meta.label_lower
    relation = _relation_name(sender, instance)
    audit.record(
        f"{label.split('.')[-1]}.{relation}.{'add' if verb == 'added' else 'remove'}",
        operation="update",
        object_type=label,
        object_id=str(instance.pk),
        changes={relation: {verb: _describe(model, pk_set)}},
    )


_THROUGHS: dict = {}


def _relation_name(through, instance) -> str:
    known = _THROUGHS.get((through, type(instance)))
    if known:
        return known
    for field in instance._meta.many_to_many:
        if field.remote_field.through is through:
            return field.name
    return through._meta.model_name


def on_m2m_changed_any(sender, instance, **kwargs):
    """Many-to-many changes of the auth relations listed in connect(), and of every
    AuditedModel's own many-to-many fields (later apps' included)."""
    if (sender, type(instance)) in _THROUGHS or isinstance(instance, AuditedModel):
        on_m2m_changed(sender, instance, **kwargs)


def on_group_pre_save(sender, instance, **kwargs):
    instance._audit_old_name = (
        Group.objects.filter(pk=instance.pk).values_list("name", flat=True).first()
        if instance.pk
        else None
    )


def on_group_saved(sender, instance, created, **kwargs):
    """A role (group) created or renamed: renaming one could hand its powers to others."""
    old = getattr(instance, "_audit_old_name", None)
    if created or old != instance.name:
        audit.record(
            "role.create" if created else "role.rename",
            operation="create" if created else "update",
            object_type="auth.group",
            object_id=str(instance.pk),
            changes={"name": {"before": old, "after": instance.name}},
        )


def on_group_deleted(sender, instance, **kwargs):
    audit.record(
        "role.delete",
        operation="delete",
        object_type="auth.group",
        object_id=str(instance.pk),
        changes={"name": {"before": instance.name, "after": None}},
    )


def connect() -> None:
    from metrolab.core.models import ApiToken

    User = get_user_model()
    pairs = [
        (User.groups.through, User, "roles"),
        (User.groups.through, Group, "members"),
        (User.user_permissions.through, User, "permissions"),
        (User.user_permissions.through, Permission, "users"),
        (Group.permissions.through, Group, "permissions"),
        (Group.permissions.through, Permission, "groups"),
        (ApiToken.roles.through, ApiToken, "roles"),
    ]
    for through, owner, name in pairs:
        _THROUGHS[(through, owner)] = name
    m2m_changed.connect(on_m2m_changed_any, dispatch_uid="audit-m2m")
    pre_save.connect(on_group_pre_save, sender=Group, dispatch_uid="audit-group-pre")
    post_save.connect(on_group_saved, sender=Group, dispatch_uid="audit-group-save")
    post_delete.connect(on_group_deleted, sender=Group, dispatch_uid="audit-group-delete")
    user_logged_in.connect(on_login, dispatch_uid="audit-login")
    user_logged_out.connect(on_logout, dispatch_uid="audit-logout")
    user_login_failed.connect(on_login_failed, dispatch_uid="audit-login-failed")
    post_delete.connect(record_delete, dispatch_uid="audit-delete")
