"""Several processes append to the audit chain at once; the chain never forks (R7.2b).

Also runs `metrolab audit verify` as a real process, as an operator would, before and after a
row is edited behind the application's back.
"""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings
from django.db import connection

from metrolab.core import audit
from metrolab.core.models import AuditEvent
from metrolab.core.permissions import SYSTEM

ROOT = Path(__file__).resolve().parents[3]
WRITERS, EACH = 4, 40


def _database_url() -> str:
    s = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{Path(s['NAME']).resolve()}"
    auth = f"{quote(s['USER'])}:{quote(s['PASSWORD'] or '')}@" if s["USER"] else ""
    return f"postgres://{auth}{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


def _env() -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": _database_url(),
        "DJANGO_SETTINGS_MODULE": "config.settings",
        # This test's anchor file (root conftest), not the lab's var/backup one.
        "METROLAB_AUDIT_ANCHOR_FILE": str(settings.METROLAB_AUDIT_ANCHOR_FILE),
    }


@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_never_fork_the_chain():
    before = AuditEvent.objects.count()
    start_at = time.time() + 4  # after every process has started Django
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "metrolab.core.tests.audit_writer",
                str(w),
                str(EACH),
                str(start_at),
            ],
            cwd=ROOT,
            env=_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for w in range(WRITERS)
    ]
    for p in procs:
        _out, err = p.communicate(timeout=240)
        assert p.returncode == 0, err[-2000:]
    report = audit.verify_chain()
    assert report.ok, report
    assert report.count == before + WRITERS * EACH
    written = AuditEvent.objects.filter(action="test.concurrent_write")
    assert written.count() == WRITERS * EACH
    if connection.vendor == "postgresql":
        # The writers really overlapped: their events interleave in the chain. (SQLite's busy
        # handler lets one writer run a whole burst while the others wait, so no interleaving
        # is promised there; they still contend for the lock and the chain must stay whole.)
        owners = list(written.order_by("seq").values_list("object_id", flat=True))
        switches = sum(a != b for a, b in itertools.pairwise(owners))
        assert switches > WRITERS, f"writers did not overlap ({switches} switches)"
    # Each writer's own events are all there, in its order.
    for w in range(WRITERS):
        ns = [e.changes["n"] for e in written.filter(object_id=str(w)).order_by("seq")]
        assert ns == list(range(EACH))


@pytest.mark.django_db(transaction=True)
def test_cli_verify_exit_codes():
    from metrolab.core.services import organisation_update

    for i in range(5):
        organisation_update(data={"name": f"Lab {i}"}, actor=SYSTEM)
    cmd = [sys.executable, "-m", "metrolab.cli", "audit", "verify"]
    ok = subprocess.run(cmd, cwd=ROOT, env=_env(), capture_output=True, text=True, timeout=120)
    assert ok.returncode == 0, ok.stderr
    assert "intact" in ok.stdout
    # Someone drops the trigger and edits a row directly in the database.
    audit.remove_guards()
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {AuditEvent._meta.db_table} SET actor_label = 'mallory' WHERE seq = 3"
        )
    audit.install_guards()
    bad = subprocess.run(cmd, cwd=ROOT, env=_env(), capture_output=True, text=True, timeout=120)
    assert bad.returncode == 1
    assert "event 3" in bad.stderr


@pytest.mark.django_db(transaction=True)
def test_cli_verify_names_the_anchor_a_rewritten_chain_lost():
    """A chain rewritten whole with recomputed hashes by someone who lifted the triggers (and
    removed the anchors kept in the database): the operator's `metrolab audit verify` exits
    3 and names the anchor of the file in the backup location that no longer matches."""
    from metrolab.core.services import audit_anchor, organisation_update
    from metrolab.core.tests.audit_tamper import rewrite_chain

    for i in range(4):
        organisation_update(data={"name": f"Lab {i}"}, actor=SYSTEM)
    anchor = audit_anchor()
    cmd = [sys.executable, "-m", "metrolab.cli", "audit", "verify"]
    ok = subprocess.run(cmd, cwd=ROOT, env=_env(), capture_output=True, text=True, timeout=120)
    assert ok.returncode == 0, ok.stderr
    assert f"1 in the database, 1 in {settings.METROLAB_AUDIT_ANCHOR_FILE}" in ok.stdout
    rewrite_chain(from_seq=1, drop_database_anchors=True)
    bad = subprocess.run(cmd, cwd=ROOT, env=_env(), capture_output=True, text=True, timeout=120)
    assert bad.returncode == 3
    path = settings.METROLAB_AUDIT_ANCHOR_FILE
    assert f"differs from anchor #{anchor.head_seq} of " in bad.stderr
    assert f"({path}, line 1)" in bad.stderr
