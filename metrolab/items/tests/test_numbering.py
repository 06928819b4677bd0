"""Item numbers (R6.6a): format, the ISO/IEC 7064 MOD 11-2 check character, allocation that
never repeats a number, also under concurrent receipts in several processes."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

import pytest
from django.db import connection

from metrolab.core.permissions import SYSTEM
from metrolab.items.models import Item, ItemNumberCounter, ItemNumberRule
from metrolab.items.numbering import (
    NumberFormat,
    format_item_number,
    mod11_2_check,
    mod11_2_valid,
)
from metrolab.items.services import item_number_allocate

ROOT = Path(__file__).resolve().parents[3]


@pytest.mark.parametrize(
    ("digits", "check"),
    [
        # GB 11643-1999 (citizen identification number), whose check character is ISO 7064
        # MOD 11-2: the standard's example 11010519491231002X.
        ("11010519491231002", "X"),
        # ORCID identifiers use ISO 7064 MOD 11-2 over the first 15 digits ("Structure of the
        # ORCID Identifier", ORCID support): 0000-0002-1825-0097 and 0000-0002-1694-233X.
        ("000000021825009", "7"),
        ("000000021694233", "X"),
    ],
)
def test_mod11_2_check_against_published_examples(digits, check):
    assert mod11_2_check(digits) == check
    assert mod11_2_valid(digits + check)


def test_mod11_2_detects_single_errors_and_transpositions():
    number = "2026000017"
    good = number + mod11_2_check(number)
    for i in range(len(number)):
        for d in "0123456789":
            if d != number[i]:
                wrong = number[:i] + d + number[i + 1 :] + good[-1]
                assert not mod11_2_valid(wrong)
    for i in range(len(number) - 1):
        if number[i] != number[i + 1]:
            swapped = number[:i] + number[i + 1] + number[i] + number[i + 2 :] + good[-1]
            assert not mod11_2_valid(swapped)


def test_mod11_2_rejects_non_digits():
    with pytest.raises(ValueError):
        mod11_2_check("12A4")
    assert not mod11_2_valid("YP1")


def test_number_format():
    rule = NumberFormat(prefix="YP", year_digits=4, sequence_digits=5, check_digit=True)
    number = format_item_number(rule, 2026, 17)
    assert number.startswith("YP202600017") and len(number) == 12
    assert number[-1] == mod11_2_check("202600017")
    assert format_item_number(NumberFormat("S", 2, 4, False), 2026, 3) == "S260003"
    # A sequence wider than its digits is written in full, never truncated.
    assert format_item_number(NumberFormat("S", 2, 2, False), 2026, 123) == "S26123"
    with pytest.raises(ValueError):
        format_item_number(NumberFormat("S", 3, 4, False), 2026, 1)


@pytest.mark.django_db
def test_allocation_follows_the_rule_and_the_year():
    assert item_number_allocate(year=2026, actor=SYSTEM) == format_item_number(
        NumberFormat(), 2026, 1
    )
    assert item_number_allocate(year=2026, actor=SYSTEM).startswith("YP202600002")
    # A new year starts its own sequence.
    assert item_number_allocate(year=2027, actor=SYSTEM).startswith("YP202700001")
    ItemNumberRule.objects.create(prefix="JL", year_digits=2, sequence_digits=6, check_digit=False)
    assert item_number_allocate(year=2026, actor=SYSTEM) == "JL26000003"
    assert ItemNumberCounter.objects.get(year=2026).last == 3


@pytest.mark.django_db
def test_a_number_in_use_is_skipped_never_given_twice(make_commission, receive):
    commission = make_commission(lines=[("Gauge", 3, "calibration")])
    first = receive(commission)
    # Someone resets the counter behind the application's back: the number in use is
    # skipped, not given again.
    counter = ItemNumberCounter.objects.get()
    counter.last = 0
    counter.save()
    second = receive(commission)
    assert second.number != first.number
    assert Item.objects.filter(number=first.number).count() == 1


def _database_url() -> str:
    s = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{Path(s['NAME']).resolve()}"
    auth = f"{quote(s['USER'])}:{quote(s['PASSWORD'] or '')}@" if s["USER"] else ""
    return f"postgres://{auth}{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


WRITERS, EACH = 4, 15


@pytest.mark.django_db(transaction=True)
def test_concurrent_allocation_in_several_processes_never_collides():
    env = {
        **os.environ,
        "DATABASE_URL": _database_url(),
        "DJANGO_SETTINGS_MODULE": "config.settings",
    }
    start_at = time.time() + 4  # after every process has started Django
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "metrolab.items.tests.number_writer", str(EACH), str(start_at)],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(WRITERS)
    ]
    numbers = []
    for p in procs:
        out, err = p.communicate(timeout=240)
        assert p.returncode == 0, err[-2000:]
        numbers += out.split()
    assert len(numbers) == WRITERS * EACH
    assert len(set(numbers)) == len(numbers), "a number was given twice"
    expected = {format_item_number(NumberFormat(), 2026, n) for n in range(1, WRITERS * EACH + 1)}
    assert set(numbers) == expected  # no gaps, no repeats
    assert ItemNumberCounter.objects.get(year=2026).last == WRITERS * EACH
