"""Every form of the project, walked (issue 12, points 1 and 8).

1. A date, time or datetime field is a browser date / time / datetime-local input, and its
   value is rendered in the one format the browser takes (2026-12-07, 09:30,
   2026-12-07T09:30) whatever the language: in Chinese Django writes 2026/12/07, which the
   browser shows as an empty field, and saving the form untouched erased the stored date.
2. A drop-down's empty choice is never Django's "- Select an option -" / "---------" but
   a translated label: "— 请选择 —" (SELECT_PLACEHOLDER) where a choice is asked for.

The forms are found by importing every `metrolab.<app>.forms` module; a form is rendered
with its own class, fields, renderer and bound fields (its own `__init__`, which needs the
page's arguments, is skipped: it never touches a date widget).
"""

from __future__ import annotations

import datetime as dt
import importlib
import pkgutil
import re
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django import forms
from django.utils import translation

import metrolab
from metrolab.core.forms import SELECT_PLACEHOLDER

CJK = re.compile(r"[\u4e00-\u9fff]")
DJANGO_BLANKS = {"---------", "- Select an option -"}
LAB = ZoneInfo("Asia/Shanghai")
INITIAL = {
    forms.DateTimeField: dt.datetime(2026, 12, 7, 9, 30, tzinfo=LAB),
    forms.DateField: dt.date(2026, 12, 7),
    forms.TimeField: dt.time(9, 30),
}
EXPECTED = {
    forms.DateTimeField: ("datetime-local", "2026-12-07T09:30"),
    forms.DateField: ("date", "2026-12-07"),
    forms.TimeField: ("time", "09:30"),
}
MIN_FORMS_WITH_DATES = 20  # a walk that finds fewer has lost its way


def _form_classes() -> list[type[forms.BaseForm]]:
    found = []
    for info in pkgutil.iter_modules(metrolab.__path__):
        try:
            module = importlib.import_module(f"metrolab.{info.name}.forms")
        except ModuleNotFoundError as exc:
            if exc.name != f"metrolab.{info.name}.forms":
                raise
            continue
        found += [
            obj
            for obj in vars(module).values()
            if isinstance(obj, type)
            and issubclass(obj, forms.BaseForm)
            and obj.__module__ == module.__name__
        ]
    return sorted(found, key=lambda c: f"{c.__module__}.{c.__qualname__}")


FORM_CLASSES = _form_classes()


def _kind(field: forms.Field) -> type[forms.Field] | None:
    for kind in INITIAL:  # DateTimeField first: it is no DateField, but be explicit
        if isinstance(field, kind):
            return kind
    return None


def _date_fields() -> list[tuple[type[forms.BaseForm], str, type[forms.Field]]]:
    return [
        (cls, name, _kind(field))
        for cls in FORM_CLASSES
        for name, field in cls.base_fields.items()
        if _kind(field) is not None
    ]


DATE_FIELDS = _date_fields()


def _bare(cls: type[forms.BaseForm], **kwargs) -> forms.BaseForm:
    """The form with its class's fields, renderer and bound fields, without its own
    `__init__` (which wants the page's arguments: a customer, a task, a person ...)."""
    form = cls.__new__(cls)
    forms.BaseForm.__init__(form, **kwargs)
    return form


def _ids(params) -> str:
    cls, name, _kind = params
    return f"{cls.__module__.split('.')[1]}.{cls.__name__}.{name}"


def test_the_walk_finds_the_forms_with_dates():
    with_dates = {cls for cls, _name, _kind in DATE_FIELDS}
    assert len(with_dates) >= MIN_FORMS_WITH_DATES, sorted(c.__name__ for c in with_dates)
    names = {f"{cls.__name__}.{name}" for cls, name, _kind in DATE_FIELDS}
    # The forms of the issue: a method's dates, a calibration, a check result, maintenance,
    # receiving an item, certificates and training, the customer's register, commissions.
    assert {
        "MethodForm.published_date",
        "MethodForm.effective_date",
        "CalibrationForm.date",
        "CheckResultForm.date",
        "MaintenanceForm.date",
        "ReceiveForm.promised_date",
        "CertificateForm.issue_date",
        "TrainingForm.date",
        "InstrumentForm.next_due_date",
        "CommissionForm.promised_date",
        "UsageForm.started_at",
        "ApiTokenForm.expires_at",
    } <= names, sorted(names)


@pytest.mark.parametrize("language", ["zh-hans", "en"])
@pytest.mark.parametrize("params", DATE_FIELDS, ids=[_ids(p) for p in DATE_FIELDS])
def test_date_and_time_inputs_render_iso_values(db, params, language):
    cls, name, kind = params
    input_type, value = EXPECTED[kind]
    with translation.override(language):
        html = str(_bare(cls, initial={name: INITIAL[kind]})[name])
    assert f'type="{input_type}"' in html, f"{cls.__name__}.{name} is not a {input_type} input"
    assert f'value="{value}"' in html, html


def test_a_submitted_value_is_rendered_back_as_sent(db):
    """A form shown again with its errors keeps what the browser sent."""
    from metrolab.methods.forms import MethodForm

    with translation.override("zh-hans"):
        form = MethodForm(data={"published_date": "2012-03-21", "effective_date": ""})
        assert not form.is_valid()
        assert 'value="2012-03-21"' in str(form["published_date"])


def _blank_label(field: forms.Field):
    """The label of the field's empty choice, or None when it offers none."""
    if isinstance(field, forms.ModelMultipleChoiceField | forms.MultipleChoiceField):
        return None
    if isinstance(field, forms.ModelChoiceField):
        return field.empty_label
    if isinstance(field, forms.ChoiceField):
        return next((label for value, label in field.choices if value == ""), None)
    return None


def _choice_fields():
    return [
        (cls, name, field)
        for cls in FORM_CLASSES
        for name, field in cls.base_fields.items()
        if _blank_label(field) is not None
    ]


CHOICE_FIELDS = _choice_fields()


def test_every_empty_choice_is_translated_never_djangos_dashes(db):
    assert len(CHOICE_FIELDS) >= 30, len(CHOICE_FIELDS)
    wrong = []
    with translation.override("zh-hans"):
        for cls, name, field in CHOICE_FIELDS:
            label = str(_blank_label(field))
            where = f"{cls.__module__}.{cls.__name__}.{name}: {label!r}"
            if label in DJANGO_BLANKS or not CJK.search(label):
                wrong.append(where)
            elif field.required and label != "— 请选择 —":
                wrong.append(f"{where} (a required choice asks to choose)")
    assert not wrong, wrong


def test_model_fields_get_the_chinese_placeholder(db):
    """Drop-downs Django makes from a model's foreign keys and choices use the placeholder,
    rendered: EquipmentForm's discipline and custodian, CertificateForm's kind."""
    from metrolab.equipment.forms import EquipmentForm
    from metrolab.qualifications.forms import CertificateForm

    with translation.override("zh-hans"):
        equipment = _bare(EquipmentForm)
        for name in ("discipline", "custodian"):
            assert '<option value="" selected>— 请选择 —</option>' in str(equipment[name])
        assert str(SELECT_PLACEHOLDER) == "— 请选择 —"
        html = str(_bare(CertificateForm))
        assert "- Select an option -" not in html and "---------" not in html
    with translation.override("en"):
        assert '<option value="" selected>— Select —</option>' in str(
            _bare(EquipmentForm)["discipline"]
        )


def test_no_template_writes_a_bare_empty_option():
    root = Path(metrolab.__file__).parent
    bare = re.compile(r'<option value="">\s*(—|-+)?\s*</option>')
    found = [
        str(path.relative_to(root))
        for path in root.rglob("*.html")
        if bare.search(path.read_text(encoding="utf-8"))
    ]
    assert not found, found
