"""Shared test fixtures: a cast of users, one per role, plus customer A and customer B.

Tests run on SQLite by default and on PostgreSQL when DATABASE_URL says so (CI does both).
"""

from __future__ import annotations

import hashlib

import pytest

from metrolab.core import roles

# One user per role (username = role code), plus two customers to prove they see only their own.
CAST: dict[str, list[str]] = {code: [code] for code in roles.ROLES}
CAST["customer_a"] = [roles.CUSTOMER]
CAST["customer_b"] = [roles.CUSTOMER]
CAST_PASSWORD = "cast-password-1"


@pytest.fixture(autouse=True)
def _fast_hashing(settings):
    # Argon2 is the production hasher (test_auth checks it); tests that create many users use
    # a fast one so the suite stays quick.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(scope="session")
def _anchor_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("audit-anchors")


@pytest.fixture(autouse=True)
def _audit_anchor_file(settings, _anchor_dir, request):
    # Each test's audit anchors go to a file of its own (never the lab's var/backup): anchors
    # of one test's chain would not match the next test's.
    name = hashlib.sha256(request.node.nodeid.encode()).hexdigest()[:24]
    settings.METROLAB_AUDIT_ANCHOR_FILE = _anchor_dir / f"{name}.jsonl"


@pytest.fixture
def cast(db):
    """{username: User} for every role and customers A and B."""
    from metrolab.core.permissions import SYSTEM
    from metrolab.core.services import user_create

    return {
        username: user_create(
            username=username,
            password=CAST_PASSWORD,
            roles=role_codes,
            display_name=username.replace("_", " ").title(),
            reason="test cast",
            actor=SYSTEM,
        )
        for username, role_codes in CAST.items()
    }


@pytest.fixture
def login(client):
    """login(user) signs the test client in as that user and returns the client."""

    def _login(user):
        client.force_login(user, backend="metrolab.core.auth.ThrottledModelBackend")
        return client

    return _login
