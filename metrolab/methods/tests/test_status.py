"""A method's status is computed from its dates and its successor's (R6.7a): checked on the
day before and the day of each boundary, in Python (`status_on`) and in the database filter
of the list (`status_q`); the current version follows `superseded_by` (R6.7b)."""

from __future__ import annotations

import datetime as dt

import pytest

from metrolab.methods.models import Method
from metrolab.methods.selectors import method_current_version, method_list, method_versions

pytestmark = pytest.mark.django_db

S = Method.Status
D = dt.date
ONE = dt.timedelta(days=1)


@pytest.fixture
def chain(make_method):
    """JJG 52-1999 → JJG 52-2013 (effective 2014-06-01) → JJG 52-2030 (effective 2031-01-01);
    JJG 130-2004 abolished on 2024-01-01 with no successor."""
    new = make_method("JJG 52", "2030", effective=D(2031, 1, 1))
    current = make_method("JJG 52", "2013", effective=D(2014, 6, 1), superseded_by=new)
    old = make_method("JJG 52", "1999", effective=D(2000, 1, 1), superseded_by=current)
    abolished = make_method(
        "JJG 130", "2004", effective=D(2005, 1, 1), abolished_date=D(2024, 1, 1)
    )
    return {"old": old, "current": current, "new": new, "abolished": abolished}


@pytest.mark.parametrize(
    ("name", "day", "status"),
    [
        # Effective date: not yet effective the day before, current on the day.
        ("current", D(2014, 6, 1) - ONE, S.NOT_YET_EFFECTIVE),
        ("current", D(2014, 6, 1), S.CURRENT),
        # The predecessor is current the day before its successor takes effect, superseded on it.
        ("old", D(2014, 6, 1) - ONE, S.CURRENT),
        ("old", D(2014, 6, 1), S.SUPERSEDED),
        # The successor's effective date.
        ("current", D(2031, 1, 1) - ONE, S.CURRENT),
        ("current", D(2031, 1, 1), S.SUPERSEDED),
        ("new", D(2031, 1, 1) - ONE, S.NOT_YET_EFFECTIVE),
        ("new", D(2031, 1, 1), S.CURRENT),
        # Abolished date: current the day before, abolished on it.
        ("abolished", D(2024, 1, 1) - ONE, S.CURRENT),
        ("abolished", D(2024, 1, 1), S.ABOLISHED),
        ("abolished", D(2024, 1, 1) + ONE, S.ABOLISHED),
    ],
)
def test_status_on_each_boundary(chain, name, day, status):
    method = Method.objects.get(pk=chain[name].pk)
    assert method.status_on(day) == status
    # The list's database filter agrees with the computation.
    assert list(method_list(status=status, day=day).filter(pk=method.pk)) == [method]
    for other in set(S.values) - {status}:
        assert not method_list(status=other, day=day).filter(pk=method.pk).exists()


def test_abolition_wins_over_supersession(make_method):
    successor = make_method("JJF 1587", "2030", effective=D(2030, 1, 1))
    method = make_method(
        "JJF 1587",
        "2016",
        effective=D(2016, 1, 1),
        abolished_date=D(2029, 1, 1),
        superseded_by=successor,
    )
    assert method.status_on(D(2028, 12, 31)) == S.CURRENT
    assert method.status_on(D(2029, 1, 1)) == S.ABOLISHED
    assert method.status_on(D(2030, 1, 1)) == S.ABOLISHED


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (D(2014, 6, 1) - ONE, "old"),
        (D(2014, 6, 1), "current"),
        (D(2031, 1, 1) - ONE, "current"),
        (D(2031, 1, 1), "new"),
    ],
)
def test_current_version_follows_superseded_by(chain, day, expected):
    assert method_current_version(chain["old"], day) == chain[expected]
    if expected != "old":
        assert method_current_version(chain["current"], day) == chain[expected]


def test_no_current_version_when_abolished_or_not_yet_effective(chain):
    assert method_current_version(chain["abolished"], D(2024, 1, 1) - ONE) == chain["abolished"]
    assert method_current_version(chain["abolished"], D(2024, 1, 1)) is None
    assert method_current_version(chain["new"], D(2030, 12, 31)) is None


def test_versions_are_the_whole_chain_oldest_first(chain):
    expected = [chain["old"], chain["current"], chain["new"]]
    for method in expected:
        assert method_versions(method) == expected
    assert method_versions(chain["abolished"]) == [chain["abolished"]]


def test_list_filters(chain, pressure, make_method):
    from metrolab.methods.selectors import method_list

    jjf = make_method("JJF 1587", "2016", effective=D(2016, 1, 1), kind="JJF")
    jjf.categories.add(pressure["category"])
    chain["current"].disciplines.add(pressure["discipline"])
    assert set(method_list(kind="JJF")) == {jjf}
    assert set(method_list(category=pressure["category"])) == {jjf}
    assert set(method_list(discipline=pressure["discipline"])) == {chain["current"]}
    assert set(method_list(search="jjg 52")) == {chain["old"], chain["current"], chain["new"]}
    assert set(method_list(search="JJG52")) == {chain["old"], chain["current"], chain["new"]}
    assert set(method_list(search="2013")) == {chain["current"]}
    assert set(method_list(search="JJG 52-2013")) == {chain["current"]}
    assert set(method_list(search="JJG 130 title")) == {chain["abolished"]}
