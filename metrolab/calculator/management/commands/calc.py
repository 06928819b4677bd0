"""`metrolab calc`: the metrology library on the command line, JSON on stdout.

    metrolab calc round VALUE (--places N | --sig N | --interval STEP)
    metrolab calc report VALUE UNCERTAINTY [--digits 2] [--round-up]
    metrolab calc uncertainty FILE.json     (FILE "-" reads standard input)
    metrolab calc fit FILE.json
    metrolab calc conformity FILE.json

Invalid input prints "error: <field>: <message>" on stderr and exits with code 2.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from metrolab.metrology import calculator


class Command(BaseCommand):
    help = "Metrology calculations: rounding, reporting, uncertainty, line fit, conformity."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="calculation", required=True)
        p = sub.add_parser("round", help="GB/T 8170 rounding")
        p.add_argument("value")
        group = p.add_mutually_exclusive_group(required=True)
        group.add_argument("--places", type=int)
        group.add_argument("--sig", type=int)
        group.add_argument("--interval")
        p = sub.add_parser("report", help="a value with its uncertainty (JJF 1059.1 §5.3.8)")
        p.add_argument("value")
        p.add_argument("uncertainty")
        p.add_argument("--digits", type=int, default=2, choices=[1, 2])
        p.add_argument("--round-up", action="store_true")
        for name, text in [
            ("uncertainty", "GUM or Monte Carlo uncertainty evaluation"),
            ("fit", "least-squares straight line (GUM H.3)"),
            ("conformity", "conformity decision"),
        ]:
            p = sub.add_parser(name, help=text)
            p.add_argument("file", help='a JSON file, or "-" for standard input')

    def handle(self, *args, **options):
        try:
            self.stdout.write(self._run(options))
        except calculator.CalculationError as exc:
            raise CommandError(str(exc), returncode=2) from None

    def _run(self, options) -> str:
        calculation = options["calculation"]
        if calculation == "round":
            return calculator.calc_round(
                options["value"],
                places=options["places"],
                sig=options["sig"],
                interval=options["interval"],
            )
        if calculation == "report":
            result = calculator.calc_report(
                options["value"],
                options["uncertainty"],
                digits=options["digits"],
                round_up=options["round_up"],
            )
            return json.dumps(result, ensure_ascii=False)
        data = self._read(options["file"])
        function = {
            "uncertainty": calculator.calc_uncertainty,
            "fit": calculator.calc_fit,
            "conformity": calculator.calc_conformity,
        }[calculation]
        return json.dumps(function(data), ensure_ascii=False, allow_nan=False)

    @staticmethod
    def _read(path: str):
        try:
            text = sys.stdin.read() if path == "-" else Path(path).read_text(encoding="utf-8")
        except OSError as exc:
            raise calculator.CalculationError(
                f"cannot read {path}: {exc.strerror}", "file"
            ) from None
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise calculator.CalculationError(
                f"not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})", "file"
            ) from None
