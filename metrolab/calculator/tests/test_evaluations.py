"""Results written for people (plain notation, the coverage interval rounded with U, units)
and saved evaluations: named, with author and date, audited, reopened, printed as a PDF
budget table, kept per measurement standard. Worked example: JCGM 100:2008 Annex H.2."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.utils import timezone

from metrolab.calculator.examples import EXAMPLES
from metrolab.calculator.forms import spec_to_initial
from metrolab.calculator.models import Evaluation
from metrolab.core.models import AuditEvent

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english(client):
    from django.conf import settings
    from django.utils import translation

    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    with translation.override("en"):
        yield


def _form_data(spec: dict, **extra) -> dict:
    """What the browser posts for `spec` when it is loaded into the form."""
    form, rows = spec_to_initial(spec)
    data = {
        k: ("" if v is None else v)
        for k, v in form.items()
        if k in {"model", "correlations", "coverage", "method", "trials", "seed", "interval"}
    }
    data |= {
        "inputs-TOTAL_FORMS": len(rows),
        "inputs-INITIAL_FORMS": 0,
        "inputs-MIN_NUM_FORMS": 1,
        "inputs-MAX_NUM_FORMS": 40,
    }
    for n, row in enumerate(rows):
        for key, value in row.items():
            data[f"inputs-{n}-{key}"] = "" if value is None else value
    return data | extra


@pytest.fixture
def standard(cast):
    from metrolab.equipment.models import MeasurementStandard

    return MeasurementStandard.objects.create(
        name="交流阻抗标准装置",
        certificate_no="[2024]国量标证字第001号",
        certificate_expiry=timezone.localdate() + dt.timedelta(days=365),
        measurands="impedance",
        range_text="1 Ω – 1 kΩ",
    )


def test_gum_h2_is_written_for_people_with_units(cast, login):
    client = login(cast["metrologist"])
    response = client.post("/calculator/uncertainty/", _form_data(EXAMPLES["h2"]["spec"]))
    assert response.status_code == 200
    assert response.context["error"] is None
    html = response.content.decode()
    # GUM H.2, Table H.4: R = 127.732 Ω, u(R) = 0.071 Ω; X = 219.847 Ω, u(X) = 0.295 Ω
    reported = re.search(r'data-testid="reported-R">([^<]+)<', html).group(1)
    assert reported == "127.73 ± 0.14 Ω"
    assert re.search(r'data-testid="U-R">([^<]+)<', html).group(1) == "0.14 Ω"
    # both ends of the interval to U's last digit (JJF 1059.1-2012 §5.3.8)
    assert re.search(r'data-testid="interval-R">([^<]+)<', html).group(1) == "[127.59, 127.87] Ω"
    assert re.search(r'data-testid="reported-X">([^<]+)<', html).group(1) == "219.85 ± 0.59 Ω"
    assert re.search(r'data-testid="interval-X">([^<]+)<', html).group(1) == "[219.26, 220.44] Ω"
    assert "0.07108 Ω" in html  # u(R) to 4 significant digits
    # the current I ≈ 19.66 mA and its u ≈ 9.5 µA, never in e-notation
    assert "0.01966" in html
    assert not re.search(r"\d[eE][+-]\d", html.split("<details")[0])
    assert '<td data-label="Unit">A</td>' in html and '<td data-label="Unit">rad</td>' in html


def test_the_unit_of_an_output_is_read_from_the_model_line(cast, login):
    client = login(cast["metrologist"])
    spec = {
        "model": {"P": "V*V/R"},
        "inputs": {"V": {"value": 10.0, "u": 0.01}, "R": {"value": 100.0, "u": 0.05}},
        "coverage": {"k": 2},
        "method": "gum",
    }
    data = _form_data(spec, model="P [W] = V*V/R")
    data |= {"inputs-0-unit": "V", "inputs-1-unit": "Ω"}
    response = client.post("/calculator/uncertainty/", data)
    html = response.content.decode()
    # u(P)/P = √((2 · 0.001)² + 0.0005²) = 0.00206; U = 0.0041 W (k = 2)
    assert re.search(r'data-testid="reported-P">([^<]+)<', html).group(1) == "1.0000 ± 0.0041 W"


def test_save_reopen_and_print_an_evaluation(cast, login, standard):
    client = login(cast["metrologist"])
    data = _form_data(
        EXAMPLES["h2"]["spec"],
        save="1",
        save_name="阻抗 H.2 评定",
        measurement_standard=standard.pk,
    )
    response = client.post("/calculator/uncertainty/", data)
    evaluation = Evaluation.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/calculator/evaluations/{evaluation.pk}/"
    assert evaluation.name == "阻抗 H.2 评定"
    assert evaluation.author == cast["metrologist"]
    assert evaluation.measurement_standard == standard
    assert evaluation.spec["units"]["R"] == "Ω"
    assert evaluation.result["outputs"]["R"]["u"] == pytest.approx(0.0711, abs=1e-4)
    event = AuditEvent.objects.filter(object_type="calculator.evaluation").get()
    assert event.action == "calculator.evaluation_save"
    assert event.operation == "create" and event.actor_label == "metrologist"
    assert event.changes["name"] == {"before": None, "after": "阻抗 H.2 评定"}
    assert event.changes["spec"]["after"]["units"]["R"] == "Ω"
    assert "result" not in event.changes

    detail = client.get(response["Location"]).content.decode()
    assert "阻抗 H.2 评定" in detail and "Metrologist" in detail
    assert re.search(r'data-testid="reported-R">([^<]+)<', detail).group(1) == "127.73 ± 0.14 Ω"
    assert "交流阻抗标准装置" in detail

    reopened = client.get(f"/calculator/uncertainty/?evaluation={evaluation.pk}")
    form = reopened.context["form"]
    assert form.initial["model"].splitlines()[0] == "R [Ω] = V/I*cos(phi)"
    # outputs and inputs come back in the order entered (PostgreSQL's jsonb reorders keys)
    assert [line.split(" ")[0] for line in form.initial["model"].splitlines()] == ["R", "X", "Z"]
    rows = reopened.context["rows"].initial
    assert [(r["name"], r["unit"]) for r in rows] == [("V", "V"), ("I", "A"), ("phi", "rad")]
    budget = [row["input"] for row in reopened_budget(client, evaluation)]
    assert budget == ["V", "I", "phi"]
    assert reopened.context["save_form"].initial["save_name"] == "阻抗 H.2 评定"

    pdf = client.get(f"/calculator/evaluations/{evaluation.pk}/pdf/")
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")

    listing = client.get("/calculator/evaluations/", {"standard": standard.pk}).content.decode()
    assert "阻抗 H.2 评定" in listing
    second = type(standard).objects.create(
        name="直流电阻标准装置",
        certificate_no="[2024]国量标证字第002号",
        certificate_expiry=standard.certificate_expiry,
        measurands="resistance",
        range_text="1 Ω – 1 MΩ",
    )
    other = client.get("/calculator/evaluations/", {"standard": second.pk}).content.decode()
    assert "阻抗 H.2 评定" not in other and "No saved evaluations." in other


def reopened_budget(client, evaluation) -> list[dict]:
    detail = client.get(f"/calculator/evaluations/{evaluation.pk}/")
    return detail.context["outputs"][0]["budget"]


def test_the_pdf_budget_table_prints_the_rounded_values(cast, login):
    import io

    import pypdf

    from metrolab.calculator.services import evaluation_save

    evaluation = evaluation_save(
        name="GUM H.2", spec=EXAMPLES["h2"]["spec"], actor=cast["metrologist"]
    )
    pdf = login(cast["checker"]).get(f"/calculator/evaluations/{evaluation.pk}/pdf/")
    text = pypdf.PdfReader(io.BytesIO(pdf.content)).pages[0].extract_text()
    flat = " ".join(text.split())
    assert "GUM H.2" in flat
    assert "127.73 ± 0.14 Ω" in flat
    assert "[127.59, 127.87] Ω" in flat
    # the estimate of I and its u in the budget table, not 1.9661e-02 / 9.47e-06
    assert "I 0.019661 A 0.00000947" in flat
    assert "e-0" not in flat


def test_saving_needs_a_name_and_staff(cast, login):
    client = login(cast["metrologist"])
    response = client.post(
        "/calculator/uncertainty/", _form_data(EXAMPLES["h2"]["spec"], save="1", save_name="")
    )
    assert response.status_code == 200
    assert response.context["save_form"].errors["save_name"] == [
        "Give the evaluation a name to save it."
    ]
    assert response.context["result"] is not None
    assert not Evaluation.objects.exists()
    client = login(cast["customer_a"])
    assert client.get("/calculator/evaluations/").status_code == 403


def test_a_monte_carlo_evaluation_is_saved_with_its_seed(cast):
    from metrolab.calculator.services import evaluation_save

    spec = {
        "model": {"Y": "X1 + X2"},
        "inputs": {"X1": {"value": 1, "u": 0.1}, "X2": {"value": 2, "u": 0.1}},
        "coverage": {"p": 0.95},
        "method": "mc",
        "trials": 10000,
    }
    evaluation = evaluation_save(name="MC", spec=spec, actor=cast["metrologist"])
    assert isinstance(evaluation.spec["seed"], int)
    assert "seed" not in spec
