"""A bounded property-based run of the whole API with schemathesis against the live test
server (R7.2a, R7.2d): as an administrator holding every role, and anonymously. No answer may
be a server error, and every answer must conform to the published contract (status code,
content type, body schema).

Bounded: a few generated examples per operation (METROLAB_FUZZ_EXAMPLES, default 4), fixed
seed, no example database, so the run takes a minute or two and repeats itself exactly.
"""

from __future__ import annotations

import os

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from metrolab.core import roles
from metrolab.core.permissions import SYSTEM

EXAMPLES = int(os.environ.get("METROLAB_FUZZ_EXAMPLES", "4"))
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@pytest.fixture
def administrator_token(transactional_db):
    from metrolab.core.services import api_token_create, user_create

    user = user_create(
        username="fuzz-admin",
        password="fuzz-password-1",
        roles=list(roles.ROLES),
        display_name="Fuzz Admin",
        reason="schemathesis run",
        actor=SYSTEM,
    )
    _token, raw = api_token_create(
        user=user, name="fuzz", roles=list(roles.ROLES), actor=user, reason="schemathesis run"
    )
    return raw


def _run(base_url: str, headers: dict[str, str]) -> list[str]:
    schema = schemathesis.openapi.from_url(f"{base_url}/api/v1/openapi.json")
    failures: list[str] = []
    for result in schema.get_all_operations():
        operation = result.ok()

        # Valid input as the schema describes it, and input that breaks it (wrong types,
        # missing fields, out-of-range values): neither may cause a server error.
        strategy = operation.as_strategy(GenerationMode.POSITIVE) | operation.as_strategy(
            GenerationMode.NEGATIVE
        )

        @given(case=strategy)
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            derandomize=True,
            database=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        def check(case):
            case.call_and_validate(base_url=base_url, headers=headers, checks=CHECKS)

        try:
            check()
        except BaseException as exc:  # every failing operation is reported, not the first
            if isinstance(exc, KeyboardInterrupt):
                raise
            failures.append(f"{operation.label}: {str(exc)[:1500]}")
    return failures


def test_the_api_as_an_administrator(live_server, administrator_token):
    failures = _run(live_server.url, {"Authorization": f"Bearer {administrator_token}"})
    assert failures == [], "\n\n".join(failures)


def test_the_api_anonymously(live_server, transactional_db):
    failures = _run(live_server.url, {})
    assert failures == [], "\n\n".join(failures)
