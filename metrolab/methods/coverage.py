"""Whether a method covers an instrument (R6.7a, R6.7d): its instrument categories, the
accuracy classes and the range it states (`Method.accuracy_classes`, `range_low`/`range_high`
in `range_unit`). Assignment proposes the method that fits the item best and warns, with the
reason, when the chosen one does not cover it (a warning, not a refusal).

The instrument is described as the commission line writes it: its name (matched to an
instrument category by name), its accuracy class ("0.4级", "1.6", "class 2.5") and its model /
range ("0-1.6 MPa"). What a method does not state, or what the line does not say (or says in a
way that cannot be read), is not judged: only a stated mismatch makes a gap.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.utils.translation import gettext as _

from metrolab.methods.models import InstrumentCategory, Method
from metrolab.methods.ranges import stated_range

_SEPARATORS = re.compile(r"[,，、;；/\s]+")
_CLASS_WORDS = re.compile(r"(准确度等级|准确度|等级|级|accuracy|class|cl\.)", re.IGNORECASE)
_NUMBER = re.compile(r"^\d+(?:\.\d+)?$")


def class_normalised(text: str) -> str:
    """An accuracy class as compared: "0.4级" → "0.4", "1.0" → "1", "class 2.5" → "2.5",
    "Ⅲ" → "Ⅲ"; "" when it is empty or not a class (e.g. "±0.5%")."""
    value = _CLASS_WORDS.sub("", (text or "").strip()).strip()
    if not value or any(c in value for c in "%±"):
        return ""
    if _NUMBER.match(value):
        try:
            return format(Decimal(value).normalize(), "f")
        except InvalidOperation:
            return ""
    return value.upper()


def classes_of(text: str) -> list[str]:
    """The classes a method lists ("1.0, 1.6、2.5 级" → ["1", "1.6", "2.5"]), in order."""
    found = (class_normalised(part) for part in _SEPARATORS.split(text or ""))
    return list(dict.fromkeys(c for c in found if c))


def classes_normalised(text: str) -> str:
    """A method's list of classes as stored: "1.0、1.6级，2.5" → "1.0, 1.6, 2.5" (as written,
    separators unified)."""
    parts = [_CLASS_WORDS.sub("", p).strip() for p in _SEPARATORS.split(text or "")]
    return ", ".join(dict.fromkeys(p for p in parts if p))


def category_named(name: str) -> InstrumentCategory | None:
    """The instrument category an instrument name means: the one named so (Chinese or English
    name), else the one whose name the instrument's name contains (the longest); None when
    none does (e.g. "压力表" alone could be a general or a precision gauge)."""
    name = (name or "").strip()
    if not name:
        return None
    categories = list(InstrumentCategory.objects.all())
    lowered = name.casefold()
    for category in categories:
        if lowered in (category.name.casefold(), (category.name_en or "").casefold()):
            return category
    contained = [c for c in categories if c.name and c.name.casefold() in lowered]
    return max(contained, key=lambda c: len(c.name), default=None)


@dataclass(frozen=True)
class Instrument:
    """An instrument as the commission line describes it, with the category its name means
    (`category_named`, looked up once)."""

    name: str
    accuracy_class: str
    model_range: str
    category: InstrumentCategory | None = None

    @classmethod
    def described(cls, name: str, accuracy_class: str = "", model_range: str = "") -> Instrument:
        return cls(name, accuracy_class, model_range, category_named(name))

    @property
    def class_code(self) -> str:
        return class_normalised(self.accuracy_class)


def instrument_of_item(item) -> Instrument:
    """The instrument of a received item: its commission line's instrument name, accuracy
    class and model / range (the item's own where the line leaves them empty)."""
    line = getattr(item, "line", None)

    def pick(line_field: str, item_field: str) -> str:
        value = getattr(line, line_field, "") if line is not None else ""
        return (value or getattr(item, item_field, "") or "").strip()

    return Instrument.described(
        pick("instrument_name", "name"),
        pick("accuracy_class", "accuracy_class"),
        pick("model_range", "model_range"),
    )


@dataclass(frozen=True)
class Gap:
    """One way a method does not cover the instrument: a code and the reason."""

    code: str
    message: str


def _plain(value: Decimal) -> str:
    return format(value.normalize(), "f")


def coverage_gaps(method: Method, instrument: Instrument) -> list[Gap]:
    """Every stated way `method` does not cover `instrument` (empty: it covers it, as far as
    both say)."""
    gaps = []
    category = instrument.category
    covered = list(method.categories.all())
    if category is not None and covered and category.pk not in {c.pk for c in covered}:
        gaps.append(
            Gap(
                "method_category",
                _("%(method)s covers %(categories)s, not %(category)s.")
                % {
                    "method": method,
                    "categories": "、".join(c.name for c in covered),
                    "category": category.name,
                },
            )
        )
    classes = classes_of(method.accuracy_classes)
    wanted = instrument.class_code
    if classes and wanted and wanted not in classes:
        gaps.append(
            Gap(
                "method_accuracy_class",
                _("%(method)s covers accuracy classes %(classes)s, not class %(class)s.")
                % {
                    "method": method,
                    "classes": classes_normalised(method.accuracy_classes),
                    "class": instrument.accuracy_class,
                },
            )
        )
    if method.range_unit and (method.range_low is not None or method.range_high is not None):
        low, high = stated_range(instrument.model_range, method.range_unit)
        outside = low is not None and (
            (method.range_low is not None and low < method.range_low)
            or (method.range_high is not None and high > method.range_high)
        )
        if outside:
            gaps.append(
                Gap(
                    "method_range",
                    _("%(method)s covers %(covered)s, not %(range)s.")
                    % {
                        "method": method,
                        "covered": method_range_text(method),
                        "range": instrument.model_range,
                    },
                )
            )
    return gaps


def method_range_text(method: Method) -> str:
    """The range a method covers, as shown: "0–60 MPa", "… 60 MPa"; "" when it states none."""
    if method.range_low is None and method.range_high is None:
        return ""
    low = _plain(method.range_low) if method.range_low is not None else "…"
    high = _plain(method.range_high) if method.range_high is not None else "…"
    return f"{low}–{high} {method.range_unit}".strip()


def fit(method: Method, instrument: Instrument) -> int | None:
    """How well `method` fits: None when it does not cover the instrument; otherwise the
    number of things it states that the instrument matches (category, class, range)."""
    if coverage_gaps(method, instrument):
        return None
    score = 0
    category = instrument.category
    if category is not None and method.categories.filter(pk=category.pk).exists():
        score += 1
    if instrument.class_code and instrument.class_code in classes_of(method.accuracy_classes):
        score += 1
    if method.range_unit and stated_range(instrument.model_range, method.range_unit) != (
        None,
        None,
    ):
        score += 1
    return score


def methods_ranked(methods: Iterable[Method], instrument: Instrument) -> list[Method]:
    """`methods` best fitting first: those covering the instrument by how much they state
    that matches it, then those that do not cover it (each group in the given order)."""
    methods = list(methods)
    scores = {m.pk: fit(m, instrument) for m in methods}
    return sorted(
        methods, key=lambda m: (scores[m.pk] is None, -(scores[m.pk] or 0))
    )  # sorted is stable: ties keep the given order


def method_preferred(methods: Iterable[Method], instrument: Instrument) -> Method | None:
    """The method to propose among `methods`: the best fitting one, else the first."""
    ranked = methods_ranked(methods, instrument)
    return ranked[0] if ranked else None
