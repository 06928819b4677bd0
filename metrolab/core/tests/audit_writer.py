"""Run as a separate process by test_audit_concurrency: appends N audit events through the
normal service path, against the database named by DATABASE_URL."""

import os
import sys
import time

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django

django.setup()

from metrolab.core import audit  # noqa: E402
from metrolab.core.permissions import SYSTEM  # noqa: E402
from metrolab.core.service import service  # noqa: E402


@service("test.concurrent_write")
def write_one(*, writer: str, n: int, actor) -> None:
    audit.record(
        "test.concurrent_write",
        object_type="test.writer",
        object_id=writer,
        changes={"n": n},
        actor=f"writer-{writer}",
    )


def main() -> None:
    writer, count, start_at = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
    time.sleep(max(0.0, start_at - time.time()))  # all writers start together
    for n in range(count):
        write_one(writer=writer, n=n, actor=SYSTEM)


if __name__ == "__main__":
    main()
