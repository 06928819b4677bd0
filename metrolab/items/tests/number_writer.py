"""Run as a separate process by test_numbering: allocates N item numbers through the service,
against the database named by DATABASE_URL, and prints them."""

import os
import sys
import time

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django

django.setup()

from metrolab.core.permissions import SYSTEM  # noqa: E402
from metrolab.items.services import item_number_allocate  # noqa: E402


def main() -> None:
    count, start_at = int(sys.argv[1]), float(sys.argv[2])
    time.sleep(max(0.0, start_at - time.time()))  # all writers start together
    for _ in range(count):
        print(item_number_allocate(year=2026, actor=SYSTEM), flush=True)


if __name__ == "__main__":
    main()
