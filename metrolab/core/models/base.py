"""Base models: timestamps, and automatic auditing of every write (R6.2c, R7.2d).

Every lab-data model in MetroLab derives from `AuditedModel`. Its saves and deletes (including
deletes cascaded by the ORM) append a hash-chained audit event with the changed fields, before
and after, inside the same transaction, so no app can forget to audit a write. Bulk queryset
writes, which would bypass this, are refused. `metrolab/core/tests/test_platform.py`
fails if a model is added that neither derives from `AuditedModel` nor is listed as exempt.
"""

from __future__ import annotations

from typing import Any, ClassVar

from django.db import models, transaction
from django.utils.translation import gettext_lazy as _

MISSING = object()


class AuditBypassError(RuntimeError):
    """A bulk write would change audited rows without leaving audit events."""


class AuditedQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise AuditBypassError(
            f"{self.model.__name__}: bulk update() bypasses the audit log; save instances "
            "through a service instead"
        )

    def bulk_update(self, *args, **kwargs):
        raise AuditBypassError(f"{self.model.__name__}: bulk_update() bypasses the audit log")

    def bulk_create(self, *args, **kwargs):
        raise AuditBypassError(f"{self.model.__name__}: bulk_create() bypasses the audit log")


class TimeStampedModel(models.Model):
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField("updated at", auto_now=True)

    class Meta:
        abstract = True


class AuditedModel(TimeStampedModel):
    """A model whose every write leaves an audit event (who, when, what changed, why)."""

    # Fields left out of audit events (noise), and fields recorded only as "changed" (secrets).
    audit_exclude: ClassVar[frozenset[str]] = frozenset({"created_at", "updated_at"})
    audit_secret: ClassVar[frozenset[str]] = frozenset()

    objects = AuditedQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        from metrolab.core import audit
        from metrolab.core.text import refuse_too_long

        # Text longer than its field allows is refused: never stored, never copied into the
        # audit log (R7.2). TextField limits exist only here, not in the database.
        update_fields = kwargs.get("update_fields")
        refuse_too_long(
            self,
            unchanged=getattr(self, "_audit_snapshot", {}),
            only=None
            if update_fields is None
            else {self._meta.get_field(n).attname for n in update_fields},
        )
        with transaction.atomic(using=kwargs.get("using")):
            audit.lock_chain()
            adding = self._state.adding
            before = {} if adding else getattr(self, "_audit_snapshot", {})
            super().save(*args, **kwargs)
            after = self._audit_values()
            update_fields = kwargs.get("update_fields")
            if update_fields is not None:
                names = {self._meta.get_field(n).attname for n in update_fields}
                after = {k: v for k, v in after.items() if k in names}
            changes = self._audit_diff(before, after)
            if adding or changes:
                audit.record(
                    audit_action(self, "create" if adding else "update"),
                    operation="create" if adding else "update",
                    object_type=self._meta.label_lower,
                    object_id=str(self.pk),
                    changes=changes,
                )
            self._audit_snapshot = {**getattr(self, "_audit_snapshot", {}), **after}

    def delete(self, *args, **kwargs):
        from metrolab.core import audit

        with transaction.atomic(using=kwargs.get("using")):
            audit.lock_chain()
            return super().delete(*args, **kwargs)

    @classmethod
    def from_db(cls, db, field_names, values, *args, **kwargs):
        instance = super().from_db(db, field_names, values, *args, **kwargs)
        instance._audit_snapshot = instance._audit_values()
        return instance

    def _audit_values(self) -> dict[str, Any]:
        deferred = self.get_deferred_fields()
        return {
            f.attname: getattr(self, f.attname)
            for f in self._meta.concrete_fields
            if f.attname not in deferred and f.name not in self.audit_exclude
        }

    def _audit_diff(self, before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
        changes = {}
        for name, new in after.items():
            old = before.get(name, MISSING)
            if old is MISSING and before:
                continue  # deferred when loaded: unknown before-value, and not written
            if old is not MISSING and old == new:
                continue
            if name in self.audit_secret:
                changes[name] = {"before": "***", "after": "***"}
            else:
                changes[name] = {"before": None if old is MISSING else old, "after": new}
        return changes


def audit_action(instance: models.Model, operation: str) -> str:
    """The action name of an event: the running service's, else `<app.model>.<operation>`."""
    from metrolab.core.context import current_service

    service = current_service()
    if service is not None:
        return service.action
    return f"{instance._meta.label_lower}.{operation}"


def record_delete(sender, instance, **kwargs) -> None:
    """post_delete receiver: also catches deletes cascaded by the ORM."""
    from metrolab.core import audit

    if not isinstance(instance, AuditedModel):
        return
    values = getattr(instance, "_audit_snapshot", None) or instance._audit_values()
    changes = {
        k: {"before": "***" if k in instance.audit_secret else v, "after": None}
        for k, v in values.items()
    }
    audit.record(
        audit_action(instance, "delete"),
        operation="delete",
        object_type=instance._meta.label_lower,
        object_id=str(instance.pk),
        changes=changes,
    )
