"""`metrolab calc ...`: the command-line contract of the metrology library (issue: interfaces).

One test runs the real process, as an external check would; the rest run the same command
in-process (starting Python with numpy and scipy for each case would be slow)."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

ROOT = Path(__file__).resolve().parents[3]


def run_process(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    """The real `metrolab calc` process (slow to start: used for the exit-code contract)."""
    return subprocess.run(
        [sys.executable, "-m", "metrolab.cli", "calc", *args],
        cwd=ROOT,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
    )


def calc(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    """The same command run in this process, reporting as a process would."""
    out = io.StringIO()
    old_stdin, sys.stdin = sys.stdin, io.StringIO(stdin or "")
    try:
        call_command("calc", *args, stdout=out)
        return subprocess.CompletedProcess(args, 0, out.getvalue(), "")
    except CommandError as exc:
        return subprocess.CompletedProcess(args, exc.returncode, out.getvalue(), f"{exc}\n")
    finally:
        sys.stdin = old_stdin


def test_the_real_process_prints_and_exits_as_documented():
    ok = run_process("round", "1268", "--interval", "100")
    assert ok.returncode == 0 and ok.stdout.strip() == "1300", ok.stderr
    spec = json.dumps({"model": {"Y": "X"}, "inputs": {"X": {"value": 1}}})
    bad = run_process("uncertainty", "-", stdin=spec)
    assert bad.returncode == 2
    assert "inputs.X.u" in bad.stderr and "Traceback" not in bad.stderr


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["1268", "--interval", "100"], "1300"),  # GB/T 8170-2008 example: 1268 → 13×10²
        (["2.675", "--places", "2"], "2.68"),  # the float trap: 2.675 is exactly half here
        (["-0.0365", "--sig", "2"], "-0.036"),  # GB/T 8170-2008: −0.0365 → −0.036
        (["60.25", "--interval", "0.5"], "60.0"),  # GB/T 8170-2008 0.5-unit rule
        (["2500", "--interval", "1000"], "2000"),
        (["12.1498", "--places", "0"], "12"),
    ],
)
def test_round(args, expected):
    result = calc("round", *args)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == expected


def test_report():
    # JJF 1059.1-2012 §5.3.8 example: 10.05762 Ω with U = 27 mΩ → 10.058 Ω.
    result = calc("report", "10.05762", "0.02731")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"value": "10.058", "uncertainty": "0.027"}
    up = calc("report", "10.05762", "0.02731", "--round-up")
    assert json.loads(up.stdout) == {"value": "10.058", "uncertainty": "0.028"}


def test_uncertainty_from_stdin_and_file(tmp_path):
    spec = {
        "model": {"Y": "X1 + X2"},
        "inputs": {"X1": {"value": 1.0, "u": 0.3}, "X2": {"value": 2.0, "u": 0.4}},
    }
    result = calc("uncertainty", "-", stdin=json.dumps(spec))
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)["outputs"]["Y"]
    assert out["value"] == pytest.approx(3.0) and out["u"] == pytest.approx(0.5)
    assert out["U"] == pytest.approx(1.0) and out["k"] == 2
    path = tmp_path / "spec.json"
    path.write_text(json.dumps(spec))
    assert json.loads(calc("uncertainty", str(path)).stdout) == json.loads(result.stdout)


def test_fit_and_conformity(tmp_path):
    fit = calc(
        "fit", "-", stdin=json.dumps({"x": [0, 1, 2, 3], "y": [1, 3, 5, 7], "predict_at": [4]})
    )
    assert fit.returncode == 0, fit.stderr
    body = json.loads(fit.stdout)
    assert body["slope"] == pytest.approx(2) and body["intercept"] == pytest.approx(1)
    assert body["predict"][0]["y"] == pytest.approx(9)
    # JJF 1094-2002 example: MPEV 0.02 V, U95 0.009 V, |Δ| 0.008 V → pass.
    conf = calc(
        "conformity",
        "-",
        stdin=json.dumps(
            {"value": 0.008, "lower": -0.02, "upper": 0.02, "U": 0.009, "rule": "jjf1094"}
        ),
    )
    assert conf.returncode == 0, conf.stderr
    assert json.loads(conf.stdout)["decision"] == "pass"


@pytest.mark.parametrize(
    ("args", "stdin", "field"),
    [
        (["uncertainty", "-"], "{not json", "file"),
        (
            ["uncertainty", "-"],
            json.dumps({"model": {"Y": "X1 +"}, "inputs": {"X1": {"u": 1}}}),
            "model.Y",
        ),
        (
            ["uncertainty", "-"],
            json.dumps({"model": {"Y": "X1"}, "inputs": {"X1": {"value": 1}}}),
            "inputs.X1.u",
        ),
        (
            ["uncertainty", "-"],
            json.dumps({"model": {"Y": "X1*X2"}, "inputs": {"X1": {"value": 1, "u": 0.1}}}),
            "X2",
        ),
        (["fit", "-"], json.dumps({"x": [1, 2, 3], "y": [1, 2]}), "y"),
        (["round", "1.5", "--interval", "3"], None, "interval"),
        (["uncertainty", "/nonexistent/spec.json"], None, "file"),
    ],
)
def test_bad_input_exits_2_with_the_field_named(args, stdin, field):
    result = calc(*args, stdin=stdin)
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert field in result.stderr
    assert "Traceback" not in result.stderr
