"""Reads of procedures (R8b): the list with its filter (`ProcedureFilter`, for the page and
the API), a procedure's versions, one version."""

from __future__ import annotations

from django.db.models import Prefetch, Q, QuerySet
from django.utils.translation import gettext as _
from pydantic import field_validator

from metrolab.core.filters import ListFilter
from metrolab.core.text import Code, Name
from metrolab.core.versions import STATES, state_condition
from metrolab.instruments.models import Procedure, ProcedureVersion


class ProcedureFilter(ListFilter):
    """`q` (in code and title), `template` (the record template's code), `state`
    ("approved": has an approved version; "in_progress": a draft or a version in review;
    "none_approved": none approved yet) and `builtin` ("yes" / "no")."""

    q: Name = ""
    template: Code = ""
    state: Code = ""
    builtin: Code = ""

    @field_validator("state")
    @classmethod
    def _known_state(cls, value: str) -> str:
        if value and value not in STATES:
            raise ValueError(_("Unknown state (use %s).") % ", ".join(STATES))
        return value

    @field_validator("builtin")
    @classmethod
    def _yes_no(cls, value: str) -> str:
        if value and value not in ("yes", "no"):
            raise ValueError(_("Use yes or no."))
        return value

    def filter(self, queryset: QuerySet) -> QuerySet:
        if self.template:
            queryset = queryset.filter(template=self.template)
        if self.builtin:
            queryset = queryset.filter(builtin=self.builtin == "yes")
        if self.state:
            queryset = queryset.filter(state_condition(ProcedureVersion, "procedure", self.state))
        search = (self.q or "").strip()
        if search:
            queryset = queryset.filter(Q(code__icontains=search) | Q(title__icontains=search))
        return queryset


def procedure_list(filters: ProcedureFilter | None = None) -> QuerySet[Procedure]:
    """Procedures by code, each with its versions prefetched (newest first), filtered."""
    queryset = Procedure.objects.prefetch_related(
        Prefetch(
            "versions",
            queryset=ProcedureVersion.objects.only(
                "pk", "procedure_id", "number", "status", "author_id", "updated_at"
            ).order_by("-number"),
        )
    )
    if filters is not None:
        queryset = filters.filter(queryset)
    return queryset.order_by("code")


def procedure_get(pk: int) -> Procedure | None:
    return Procedure.objects.filter(pk=pk).first()


def procedure_versions(procedure: Procedure) -> QuerySet[ProcedureVersion]:
    """A procedure's versions, newest first, with who wrote, reviewed and approved them."""
    return (
        ProcedureVersion.objects.filter(procedure=procedure)
        .select_related("author", "reviewed_by", "approved_by", "procedure")
        .order_by("-number")
    )


def version_get(procedure: Procedure, number: int) -> ProcedureVersion | None:
    return procedure_versions(procedure).filter(number=number).first()


def approved_and_open(versions) -> tuple[ProcedureVersion | None, ProcedureVersion | None]:
    """The approved version and the one in progress among `versions` (newest first)."""
    approved = next((v for v in versions if v.status == ProcedureVersion.Status.APPROVED), None)
    open_ = next((v for v in versions if v.in_progress), None)
    return approved, open_
