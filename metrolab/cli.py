"""`metrolab`: the product's command line. Every Django management command is reachable
(`metrolab migrate`, `metrolab createsuperuser`, ...) beside MetroLab's own (`demo`, `serve`,
`worker`, `audit verify`, ...)."""

import os
import sys


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(["metrolab", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":
    main()
