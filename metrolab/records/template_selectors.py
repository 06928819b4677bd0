"""Reads of record templates (R6.2d): the list with its filter, a template's versions, the
approved version records are made from, and the templates that fit a task (the records core
chooses a record's template among them)."""

from __future__ import annotations

from django.db.models import F, Prefetch, Q, QuerySet

from metrolab.records.models import RecordTemplate, TemplateVersion
from metrolab.records.template_filters import TemplateFilter

Status = TemplateVersion.Status


def template_list(filters: TemplateFilter | None = None) -> QuerySet[RecordTemplate]:
    """Templates by code, each with its versions prefetched (newest first), filtered."""
    queryset = RecordTemplate.objects.select_related("discipline").prefetch_related(
        Prefetch(
            "versions",
            queryset=TemplateVersion.objects.only(
                "pk", "template_id", "number", "status", "author_id", "updated_at"
            ).order_by("-number"),
        )
    )
    if filters is not None:
        queryset = filters.filter(queryset)
    return queryset.order_by("code")


def template_get(pk: int) -> RecordTemplate | None:
    return RecordTemplate.objects.select_related("discipline").filter(pk=pk).first()


def template_versions(template: RecordTemplate) -> QuerySet[TemplateVersion]:
    """A template's versions, newest first, with who wrote, reviewed and approved them."""
    return (
        TemplateVersion.objects.filter(template=template)
        .select_related("author", "reviewed_by", "approved_by", "template")
        .order_by("-number")
    )


def version_get(template: RecordTemplate, number: int) -> TemplateVersion | None:
    return template_versions(template).filter(number=number).first()


def approved_version(template: RecordTemplate) -> TemplateVersion | None:
    """The version records are made from now (None before the first approval)."""
    return template_versions(template).filter(status=Status.APPROVED).first()


def open_version(template: RecordTemplate) -> TemplateVersion | None:
    """The version in progress (a draft or in review), if any."""
    return template_versions(template).filter(status__in=(Status.DRAFT, Status.IN_REVIEW)).first()


def task_discipline(task):
    """The discipline of a task's work: its authorised item's instrument category's."""
    scope = getattr(task, "scope", None)
    category = getattr(scope, "category", None) if scope is not None else None
    return getattr(category, "discipline", None) if category is not None else None


def fitting_templates(task) -> QuerySet[TemplateVersion]:
    """The approved versions a record of `task` may be made from: the template's service is
    the task's; a template with a discipline fits only a task of that discipline (a task whose
    discipline is not known fits any). Those of the task's discipline come first."""
    versions = TemplateVersion.objects.filter(
        status=Status.APPROVED, template__service=task.service
    ).select_related("template", "template__discipline")
    discipline = task_discipline(task)
    if discipline is not None:
        versions = versions.filter(
            Q(template__discipline__isnull=True) | Q(template__discipline=discipline)
        )
    return versions.order_by(F("template__discipline").asc(nulls_last=True), "template__code")
