"""`metrolab`: the product's command line. Every Django management command is reachable
(`metrolab migrate`, `metrolab createsuperuser`, ...) beside MetroLab's own (`demo`, `serve`,
`worker`, `audit verify`, `pki init`, ...)."""

import os
import sys

# Commands also known by a hyphenated name (Django names commands after their files).
ALIASES = {
    "mqtt-ingest": "mqtt_ingest",
    "modbus-poll": "modbus_poll",
    "environment-watch": "environment_watch",
    "environment-simulate": "environment_simulate",
    "environment-retention": "environment_retention",
    "records-load-builtin": "records_load_builtin",
    "instruments-simulate": "instruments_simulate",
    "procedures-load-builtin": "procedures_load_builtin",
}


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    from django.core.management import execute_from_command_line

    args = list(sys.argv[1:] if argv is None else argv)
    if args and args[0] in ALIASES:
        args[0] = ALIASES[args[0]]
    execute_from_command_line(["metrolab", *args])


if __name__ == "__main__":
    main()
