"""The uncertainty calculator form: a model, a table of inputs, correlations and options,
turned into the same JSON as `metrolab calc uncertainty`."""

from __future__ import annotations

import json
import re

from django import forms
from django.utils.translation import gettext_lazy as _

from metrolab.core.text import CODE, NAME, NOTE, UNIT

KINDS = [
    ("readings", _("Type A: repeated readings")),
    ("standard", _("Standard uncertainty u")),
    ("normal", _("Normal: expanded U with k")),
    ("rectangular", _("Rectangular: half-width a")),
    ("triangular", _("Triangular: half-width a")),
    ("arcsine", _("U-shaped (arcsine): half-width a")),
    ("trapezoidal", _("Trapezoidal: half-width a, β")),
]


class InputRowForm(forms.Form):
    name = forms.CharField(label=_("Input"), max_length=CODE, required=False)
    kind = forms.ChoiceField(label=_("Evaluation"), choices=KINDS, initial="standard")
    value = forms.FloatField(label=_("Estimate"), required=False)
    unit = forms.CharField(label=_("Unit"), max_length=UNIT, required=False)
    param = forms.FloatField(label=_("u / U / a"), required=False, min_value=0)
    k = forms.FloatField(label=_("k"), required=False, min_value=0.1)
    beta = forms.FloatField(label=_("β"), required=False, min_value=0, max_value=1)
    dof = forms.FloatField(label=_("ν"), required=False, min_value=1)
    readings = forms.CharField(label=_("Readings"), required=False, max_length=NOTE)

    def unit_text(self) -> str:
        return (self.cleaned_data.get("unit") or "").strip()

    def to_spec(self) -> tuple[str, dict] | None:
        data = self.cleaned_data
        name = (data.get("name") or "").strip()
        if not name:
            return None
        kind = data["kind"]
        spec: dict = {}
        if kind == "readings":
            text = (data.get("readings") or "").replace("，", ",").replace(";", ",")
            try:
                spec["readings"] = [float(x) for x in text.replace(",", " ").split()]
            except ValueError:
                raise forms.ValidationError(
                    _("%(name)s: readings must be numbers separated by commas or spaces"),
                    params={"name": name},
                ) from None
        else:
            spec["value"] = data.get("value")
            if kind == "standard":
                spec["u"] = data.get("param")
            elif kind == "normal":
                spec |= {
                    "distribution": "normal",
                    "expanded": data.get("param"),
                    "k": data.get("k") or 2,
                }
            else:
                spec |= {"distribution": kind, "half_width": data.get("param")}
                if kind == "trapezoidal":
                    spec["beta"] = data.get("beta")
        if data.get("dof"):
            spec["dof"] = data["dof"]
        return name, spec


InputRowFormSet = forms.formset_factory(
    InputRowForm, extra=0, min_num=1, max_num=40, absolute_max=40
)


# "R [Ω]" on the left of a model line: the output and its unit.
OUTPUT_UNIT = re.compile(r"(?P<name>[^\[\]]+?)\s*\[(?P<unit>[^\[\]]*)\]")


class UncertaintyForm(forms.Form):
    model = forms.CharField(
        label=_("Measurement model"),
        max_length=NOTE,
        widget=forms.Textarea(
            attrs={
                "rows": 3,
                "spellcheck": "false",
                "placeholder": "R [Ω] = V/I*cos(phi)\nX [Ω] = V/I*sin(phi)",
            }
        ),
        help_text=_(
            "One output per line, as name = expression, or name [unit] = expression. "
            "Operators + − * / ^, functions sqrt exp ln log10 sin cos tan atan atan2 abs, "
            "constant pi."
        ),
    )
    correlations = forms.CharField(
        label=_("Correlations"),
        required=False,
        max_length=NOTE,
        widget=forms.Textarea(
            attrs={"rows": 2, "spellcheck": "false", "placeholder": "V, I, -0.36"}
        ),
        help_text=_("One pair per line: input, input, r."),
    )
    coverage = forms.ChoiceField(
        label=_("Coverage"),
        choices=[("k2", "k = 2"), ("p95", "p = 95 %"), ("p99", "p = 99 %")],
        initial="k2",
    )
    method = forms.ChoiceField(
        label=_("Method"),
        choices=[("gum", _("GUM (law of propagation)")), ("mc", _("Monte Carlo"))],
        initial="gum",
    )
    trials = forms.IntegerField(
        label=_("Trials"), initial=10**6, min_value=10**4, max_value=5 * 10**6, required=False
    )
    seed = forms.IntegerField(label=_("Seed"), required=False, min_value=0)
    interval = forms.ChoiceField(
        label=_("Interval"),
        choices=[("symmetric", _("probabilistically symmetric")), ("shortest", _("shortest"))],
        initial="symmetric",
    )

    def clean_model(self) -> dict:
        outputs = {}
        self.output_units = {}
        for n, line in enumerate(self.cleaned_data["model"].splitlines(), start=1):
            if not line.strip():
                continue
            name, sep, expression = line.partition("=")
            if not sep or not name.strip() or not expression.strip():
                raise forms.ValidationError(
                    _("Line %(n)s: write name = expression."), params={"n": n}
                )
            name = name.strip()
            unit = OUTPUT_UNIT.fullmatch(name)
            if unit:
                name = unit["name"]
                text = unit["unit"].strip()
                if len(text) > UNIT:
                    raise forms.ValidationError(
                        _("Line %(n)s: a unit has at most %(limit)s characters."),
                        params={"n": n, "limit": UNIT},
                    )
                if text:
                    self.output_units[name] = text
            outputs[name] = expression.strip()
        return outputs

    def clean_correlations(self) -> list:
        pairs = []
        for n, line in enumerate(self.cleaned_data["correlations"].splitlines(), start=1):
            if not line.strip():
                continue
            parts = [p.strip() for p in line.replace("，", ",").split(",")]
            try:
                pairs.append([parts[0], parts[1], float(parts[2])])
            except (IndexError, ValueError):
                raise forms.ValidationError(
                    _("Line %(n)s: write input, input, r."), params={"n": n}
                ) from None
        return pairs

    def to_spec(self, inputs: dict, units: dict | None = None) -> dict:
        data = self.cleaned_data
        coverage = {"k2": {"k": 2}, "p95": {"p": 0.95}, "p99": {"p": 0.99}}[data["coverage"]]
        spec = {
            "model": data["model"],
            "inputs": inputs,
            "correlations": data["correlations"],
            "coverage": coverage,
            "method": data["method"],
        }
        units = {**(units or {}), **getattr(self, "output_units", {})}
        if units:
            spec["units"] = units
        if data["method"] == "mc":
            if "k" in coverage:
                spec["coverage"] = {"p": 0.95}
            spec |= {"trials": data.get("trials") or 10**6, "interval": data["interval"]}
            if data.get("seed") is not None:
                spec["seed"] = data["seed"]
        return spec


def spec_to_initial(spec: dict) -> tuple[dict, list[dict]]:
    """Form and input-row initial data from a JSON spec (for the worked examples)."""
    units = spec.get("units") or {}

    def _left(name: str) -> str:
        return f"{name} [{units[name]}]" if units.get(name) else name

    form = {
        "model": "\n".join(f"{_left(k)} = {v}" for k, v in spec["model"].items()),
        "correlations": "\n".join(f"{a}, {b}, {r}" for a, b, r in spec.get("correlations", [])),
        "coverage": "k2"
        if "k" in spec.get("coverage", {"k": 2})
        else ("p99" if spec["coverage"]["p"] == 0.99 else "p95"),
        "method": spec.get("method", "gum"),
        "trials": spec.get("trials", 10**6),
        "seed": spec.get("seed"),
        "interval": spec.get("interval", "symmetric"),
    }
    rows = []
    for name, s in spec["inputs"].items():
        row = {"name": name, "value": s.get("value"), "dof": s.get("dof")}
        row["unit"] = units.get(name, "")
        if "readings" in s:
            row |= {"kind": "readings", "readings": ", ".join(str(x) for x in s["readings"])}
        elif "distribution" not in s:
            row |= {"kind": "standard", "param": s["u"]}
        elif s["distribution"] == "normal":
            row |= {"kind": "normal", "param": s.get("expanded"), "k": s.get("k")}
        else:
            row |= {"kind": s["distribution"], "param": s["half_width"], "beta": s.get("beta")}
        rows.append(row)
    return form, rows


def pretty_json(spec: dict) -> str:
    return json.dumps(spec, ensure_ascii=False, indent=2)


class SaveEvaluationForm(forms.Form):
    """Name the evaluation and, optionally, the measurement standard it belongs to."""

    save_name = forms.CharField(label=_("Name of the evaluation"), max_length=NAME, required=False)
    measurement_standard = forms.ModelChoiceField(
        label=_("Measurement standard"), queryset=None, required=False
    )

    def __init__(self, *args, **kwargs):
        from metrolab.equipment.models import MeasurementStandard

        super().__init__(*args, **kwargs)
        self.fields["measurement_standard"].queryset = MeasurementStandard.objects.order_by("name")


class EvaluationFilterForm(forms.Form):
    standard = forms.ModelChoiceField(
        label=_("Measurement standard"), queryset=None, required=False
    )

    def __init__(self, *args, **kwargs):
        from metrolab.equipment.models import MeasurementStandard

        super().__init__(*args, **kwargs)
        self.fields["standard"].queryset = MeasurementStandard.objects.order_by("name")
