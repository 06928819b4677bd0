"""Fixtures of the record template tests: the built-in definitions, a template with a draft
by the metrologist, and a helper that takes a version through review to approval."""

from __future__ import annotations

import copy

import pytest

from metrolab.metrology.record_template import builtin_templates
from metrolab.records import services

JJG52 = "jjg52-2013-pressure-gauge"


@pytest.fixture
def builtins():
    """{code: definition} of the engine's built-in templates (fresh copies)."""
    return copy.deepcopy(builtin_templates())


@pytest.fixture
def jjg52(builtins):
    return builtins[JJG52]


@pytest.fixture
def draft(cast, jjg52):
    """Version 1 (DRAFT) of a template made from the JJG 52 definition, by the metrologist."""
    return services.template_create(
        code=JJG52,
        title="弹性元件式一般压力表检定记录",
        service="verification",
        definition=jjg52,
        note="first draft",
        actor=cast["metrologist"],
    )


@pytest.fixture
def approve(cast):
    """approve(version): submitted by its author, reviewed by the checker, approved by the
    director."""

    def _approve(version, reviewer="checker", approver="director"):
        services.template_version_submit(version=version, actor=version.author)
        services.template_version_review(
            version=version, decision="approve", note="checked", actor=cast[reviewer]
        )
        return services.template_version_approve(version=version, actor=cast[approver])

    return _approve
