"""Equipment roles in the record-template format (issue 14): declared in "roles" with what
fits them (kind, words of the name or model), checked against the roles the header and the
rules use; a template without "roles" still names the roles it uses (backward compatible)."""

from __future__ import annotations

import pytest

from metrolab.metrology.record_template import Role, TemplateError, compile_template
from metrolab.metrology.tests.test_record_template import label, minimal


def _with_roles(roles=None) -> dict:
    d = minimal()
    d["header"] = [{"name": "std", "label": label("std"), "source": "equipment.calibrator.name"}]
    d["computed"].append(
        {"name": "c", "label": label("corr"), "expr": 'correction("standard", nominal)'}
    )
    if roles is not None:
        d["roles"] = roles
    return d


def test_a_template_without_roles_names_those_it_uses():
    roles = compile_template(_with_roles()).roles
    assert roles == (Role("calibrator"), Role("standard"))
    assert all(not r.declared and r.fits(kind="auxiliary", texts=("anything",)) for r in roles)


def test_declared_roles_come_first_with_what_fits_them():
    roles = compile_template(
        _with_roles(
            [
                {"name": "standard", "kind": "standard", "match": ["PRT", "铂电阻"]},
                {"name": "calibrator", "label": label("Calibrator")},
                {"name": "bath", "match": ["槽"]},
            ]
        )
    ).roles
    assert [r.name for r in roles] == ["standard", "calibrator", "bath"]
    standard, calibrator, bath = roles
    assert standard.declared and calibrator.label == label("Calibrator")
    assert standard.fits(kind="standard", texts=("二等标准铂电阻温度计", "WZPB-2"))
    assert standard.fits(kind="standard", texts=("Thermometer", "sprt 5681"))  # case ignored
    assert not standard.fits(kind="auxiliary", texts=("铂电阻", ""))  # the kind must be it
    assert not standard.fits(kind="standard", texts=("数字测温电桥", "1594A"))
    assert bath.fits(kind="auxiliary", texts=("低温恒温槽", None))
    assert calibrator.fits(kind="software", texts=())


def test_a_used_role_must_be_declared_once_roles_are_given():
    with pytest.raises(TemplateError) as caught:
        compile_template(_with_roles([{"name": "standard"}, {"name": "standard"}]))
    assert caught.value.errors == {
        "roles.1.name": ["the role 'standard' is already declared"],
        "header.0.source": ["the role 'calibrator' is not declared in roles"],
    }


@pytest.mark.parametrize(
    ("role", "path"),
    [
        ({"name": "x", "kind": "gauge"}, "roles.0.kind"),
        ({"name": "x", "match": []}, "roles.0.match"),
        ({"name": "x", "match": [""]}, "roles.0.match.0"),
        ({"name": "1x"}, "roles.0.name"),
        ({"name": "x", "fits": "any"}, "roles.0.fits"),
        ({"label": label("x")}, "roles.0.name"),
    ],
)
def test_a_role_declaration_is_checked_against_the_schema(role, path):
    with pytest.raises(TemplateError) as caught:
        compile_template({**minimal(), "roles": [role]})
    assert path in caught.value.errors
