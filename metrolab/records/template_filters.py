"""The filter of the record templates list, for its page and its API operation
(metrolab/core/filters.py)."""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _
from pydantic import field_validator

from metrolab.commissions.choices import Service
from metrolab.core.filters import ListFilter
from metrolab.core.text import Code, Name
from metrolab.core.versions import STATES, state_condition
from metrolab.records.models import TemplateVersion


class TemplateFilter(ListFilter):
    """`q` (in code and title), `service`, `discipline` (its code, or its id as the page
    sends), `state` ("approved": has an approved version; "in_progress": a draft or a version
    in review; "none_approved": none approved yet) and `builtin` ("yes" / "no")."""

    q: Name = ""
    service: Code = ""
    discipline: Code = ""
    state: Code = ""
    builtin: Code = ""

    @field_validator("service")
    @classmethod
    def _known_service(cls, value: str) -> str:
        if value and value not in Service.values:
            raise ValueError(_("Unknown service (use %s).") % ", ".join(Service.values))
        return value

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
        if self.service:
            queryset = queryset.filter(service=self.service)
        if self.discipline:
            q = Q(discipline__code=self.discipline)
            if self.discipline.isdigit():
                q |= Q(discipline__pk=int(self.discipline))
            queryset = queryset.filter(q)
        if self.builtin:
            queryset = queryset.filter(builtin=self.builtin == "yes")
        if self.state:
            queryset = queryset.filter(state_condition(TemplateVersion, "template", self.state))
        search = (self.q or "").strip()
        if search:
            queryset = queryset.filter(Q(code__icontains=search) | Q(title__icontains=search))
        return queryset
