"""Shared test fixtures: a cast of users, one per role, plus customer A and customer B, and
the demo laboratory.

Tests run on SQLite by default and on PostgreSQL when DATABASE_URL says so (CI does both).

Made once, shared by many tests: the cast and the demo lab are built once and kept in an
outer transaction (never committed) while the tests that use them run one after another;
each test runs in its own transaction nested inside it (a savepoint rolled back after the
test), so what one test writes is gone before the next. A test that needs another state, and
every transactional or live-server test, rolls the shared state back first: such a test makes
its own cast (`cast` then builds it in the test, as it always did). The tests are ordered so
that those using the same shared state run together; see `_Shared` and the hooks below.
"""

from __future__ import annotations

import hashlib
import sys
from types import SimpleNamespace

import pytest

from metrolab.core import roles

# One user per role (username = role code), plus two customers to prove they see only their own.
CAST: dict[str, list[str]] = {code: [code] for code in roles.ROLES}
CAST["customer_a"] = [roles.CUSTOMER]
CAST["customer_b"] = [roles.CUSTOMER]
CAST_PASSWORD = "cast-password-1"


FAST_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def pytest_configure(config):
    # Argon2 is the production hasher (test_auth switches back to it and checks it); every
    # test user, including those made once for many tests, gets a fast one.
    from django.conf import settings
    from django.contrib.auth import hashers

    settings.PASSWORD_HASHERS = FAST_HASHERS
    hashers.get_hashers.cache_clear()
    hashers.get_hashers_by_algorithm.cache_clear()
    _test_signing_keys(settings)


def _test_signing_keys(settings) -> None:
    # Certificates are signed in tests with a lab CA made for this test process (never the
    # lab's var/pki): `metrolab pki init`'s code, in a temporary folder.
    import tempfile
    from pathlib import Path

    from metrolab.certificates import pki

    directory = Path(tempfile.mkdtemp(prefix="metrolab-test-pki-"))
    settings.METROLAB_SIGNING_P12_PASSWORD = "test-signing-password"
    made = pki.pki_init(directory, lab_name="MetroLab Test Laboratory")
    settings.METROLAB_PKI_DIR = directory
    settings.METROLAB_SIGNING_P12 = made.signing_p12
    settings.METROLAB_SIGNING_CA_CERT = made.ca_cert


@pytest.fixture(scope="session")
def _anchor_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("audit-anchors")


@pytest.fixture(autouse=True)
def _audit_anchor_file(settings, _anchor_dir, request):
    # Each test's audit anchors go to a file of its own (never the lab's var/backup): anchors
    # of one test's chain would not match the next test's.
    name = hashlib.sha256(request.node.nodeid.encode()).hexdigest()[:24]
    settings.METROLAB_AUDIT_ANCHOR_FILE = _anchor_dir / f"{name}.jsonl"


def _make_cast() -> dict:
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
def cast(_shared, db):
    """{username: User} for every role and customers A and B: made once and shared (fresh
    instances for each test), or made for this test when it is transactional."""
    if _shared.name == "cast":
        from metrolab.core.models import User

        users = User.objects.in_bulk(_shared.value.values())
        return {username: users[pk] for username, pk in _shared.value.items()}
    return _make_cast()


@pytest.fixture
def login(client):
    """login(user) signs the test client in as that user and returns the client."""

    def _login(user):
        client.force_login(user, backend="metrolab.core.auth.ThrottledModelBackend")
        return client

    return _login


# --- made once, shared by many tests ----------------------------------------------------------


class _Shared:
    """The shared state now held in the outer transaction: `name` ("cast", "demo" or None) and
    what its builder returned. `enter()` builds a state (leaving the one held before),
    `leave()` rolls it back."""

    def __init__(self):
        self.name: str | None = None
        self.value = None
        self.wanted: str | None = None  # the state the test being set up needs
        self.blocker = None  # pytest-django's database blocker, once the test database exists
        self.media_root = None
        self._atomic = None

    def enter(self, name: str) -> None:
        if self.name == name:
            return
        self.leave()
        from django.db import transaction

        with self.blocker.unblock():
            atomic = transaction.atomic()
            atomic.__enter__()
            try:
                value = _BUILDERS[name](self)
            except BaseException:
                atomic.__exit__(*sys.exc_info())
                raise
        self.name, self.value, self._atomic = name, value, atomic

    def leave(self) -> None:
        if self._atomic is None:
            return
        from django.db import connection, transaction

        atomic, self._atomic, self.name, self.value = self._atomic, None, None, None
        with self.blocker.unblock():
            # A connection "closed" inside the transaction is only forgotten by Django: close
            # it for real, so that it lets go of its locks now.
            raw = connection.connection if connection.closed_in_transaction else None
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)
            if raw is not None:
                raw.close()

    def broken(self) -> bool:
        """A test closed the connection (or broke the transaction) under the shared state."""
        from django.db import connection

        return self._atomic is not None and (
            connection.closed_in_transaction or connection.needs_rollback
        )


def _build_cast(shared: _Shared) -> dict[str, int]:
    return {username: user.pk for username, user in _make_cast().items()}


def _build_demo(shared: _Shared) -> SimpleNamespace:
    """The demo lab as `metrolab demo` seeds it, the rooms' day of history ending now."""
    from django.conf import settings
    from django.test import override_settings
    from django.utils import timezone, translation

    from metrolab.certificates.demo import demo_seed_certificates
    from metrolab.commissions.demo import demo_seed_commissions
    from metrolab.core.demo import demo_seed
    from metrolab.core.permissions import SYSTEM
    from metrolab.environment.demo import demo_seed_environment
    from metrolab.instruments.procedure_registry import demo_load_builtin_procedures
    from metrolab.qualifications.demo import demo_seed_libraries
    from metrolab.records.demo import demo_seed_records
    from metrolab.records.template_demo import demo_load_builtin_templates
    from metrolab.tasks.demo import demo_seed_flow

    now = timezone.now()
    with (
        override_settings(MEDIA_ROOT=shared.media_root, METROLAB_SITE_URL=""),
        translation.override(settings.LANGUAGE_CODE),
    ):
        seeded = [
            demo_seed(actor=SYSTEM),
            demo_seed_commissions(actor=SYSTEM),
            demo_seed_libraries(actor=SYSTEM),
            demo_load_builtin_templates(actor=SYSTEM),
            demo_load_builtin_procedures(actor=SYSTEM),
            demo_seed_flow(actor=SYSTEM),
            demo_seed_environment(now=now, actor=SYSTEM),
            demo_seed_records(actor=SYSTEM),
            demo_seed_certificates(actor=SYSTEM),
        ]
    assert all(seeded), seeded
    return SimpleNamespace(now=now)


_BUILDERS = {"cast": _build_cast, "demo": _build_demo}
SHARED = _Shared()
_KEEP = object()  # a test that cannot reach the database keeps whatever state is held


def _shared_state_of(item):
    """The shared state `item` runs in: "demo", "cast", None (none: the test's own data), or
    _KEEP for a test without database access."""
    names = getattr(item, "fixturenames", ())
    marker = item.get_closest_marker("django_db")
    if getattr(item, "cls", None) is not None and hasattr(item.cls, "_databases_names"):
        return None  # a Django TestCase class manages its own transactions
    transactional = bool(
        marker
        and (
            marker.kwargs.get("transaction")
            or marker.kwargs.get("reset_sequences")
            or marker.kwargs.get("serialized_rollback")
        )
    ) or any(
        name in names
        for name in (
            "transactional_db",
            "live_server",
            "django_db_reset_sequences",
            "django_db_serialized_rollback",
        )
    )
    if "demo_lab" in names and not transactional:
        return "demo"
    if "cast" in names and not transactional:
        return "cast"
    if marker or transactional or "db" in names:
        return None
    return _KEEP


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items):
    """Tests sharing a state run together: those using the cast, then those using the demo lab,
    after the other database tests (pytest-django then puts the transactional tests and the
    tests without a database after all of them, keeping this order within each group)."""
    rank = {None: 0, _KEEP: 0, "cast": 1, "demo": 2}
    items.sort(key=lambda item: rank[_shared_state_of(item)])


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    wanted = _shared_state_of(item)
    if wanted is _KEEP:
        return
    SHARED.wanted = wanted
    if SHARED.blocker is not None and SHARED.name != wanted:
        SHARED.leave()
        if wanted is not None:
            SHARED.enter(wanted)


@pytest.hookimpl(trylast=True)
def pytest_runtest_teardown(item, nextitem):
    if SHARED.broken():
        SHARED.leave()


@pytest.fixture(scope="session")
def _shared(django_db_setup, django_db_blocker, tmp_path_factory):
    """The shared state (set up before any test's own transaction begins)."""
    SHARED.blocker = django_db_blocker
    SHARED.media_root = tmp_path_factory.mktemp("demo-files")
    if SHARED.wanted is not None:
        SHARED.enter(SHARED.wanted)
    yield SHARED
    SHARED.leave()
    SHARED.blocker = None


@pytest.fixture
def demo_lab(_shared, db, settings):
    """The demo lab (as `metrolab demo` seeds it), seeded once and shared: `.now` is the end of
    the rooms' day of history. What a test writes is rolled back after it; the files it
    stored (photos, certificates) are where the test reads them."""
    assert _shared.name == "demo", "the demo lab is shared by non-transactional tests only"
    settings.MEDIA_ROOT = _shared.media_root
    return _shared.value


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """pytest-django's test database, and before it is dropped, no session left on it: a
    thread of a test (a live server, an ingester) may still hold a PostgreSQL connection, and
    the database could not be dropped (a warning, and a stale database for the next run)."""
    yield
    from django.db import connection

    if connection.vendor != "postgresql":
        return
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
