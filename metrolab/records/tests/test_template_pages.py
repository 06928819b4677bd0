"""Record template pages (R6.2d): the list with its filters, a template with its versions and
the diff of two, a version with the review and approval for the right people, and the
designer: the definition beside the live preview (`?part=preview`) with the test calculation
on sample readings; an invalid definition is refused with its paths and nothing changes.
Chinese by default, English when asked; customers are refused."""

from __future__ import annotations

import copy
import json
import re

import pytest
from django.urls import reverse

from metrolab.core.permissions import SYSTEM
from metrolab.core.testing import nothing_written
from metrolab.records import services
from metrolab.records.models import RecordTemplate, TemplateVersion
from metrolab.records.template_filters import TemplateFilter
from metrolab.records.template_forms import TemplateFilterForm
from metrolab.records.tests.template_fixtures import *  # noqa: F403
from metrolab.records.tests.template_fixtures import JJG52

pytestmark = pytest.mark.django_db
ZH = {"HTTP_ACCEPT_LANGUAGE": "zh-hans"}
Status = TemplateVersion.Status


def text(response) -> str:
    return response.content.decode()


def designer_url(version):
    return reverse("record_templates:designer", args=[version.template_id, version.number])


def version_url(version):
    return reverse("record_templates:version", args=[version.template_id, version.number])


def preview_post(client, version, definition, cells=None, **extra):
    data = {"definition": json.dumps(definition, ensure_ascii=False), "note": "", "context": ""}
    data.update({f"c:{k}": v for k, v in (cells or {}).items()})
    return client.post(designer_url(version) + "?part=preview", data, **extra)


def computed(html: str, point: int, name: str) -> str:
    row = re.search(rf'<tr data-point="{point}">(.*?)</tr>', html, re.S).group(1)
    cell = re.search(rf'data-value="{name}">(.*?)</td>', row, re.S).group(1)
    return re.sub(r"<[^>]+>", "", cell).strip()


def test_the_filter_form_takes_the_filter_names():
    assert set(TemplateFilterForm.base_fields) <= TemplateFilter.query_names()


def test_list_in_chinese_with_the_approved_version_and_the_draft(cast, client, approve, draft):
    approve(draft)
    services.template_version_draft(template=draft.template, actor=cast["metrologist"])
    client.force_login(cast["checker"])
    page = text(client.get(reverse("record_templates:list"), **ZH))
    assert "记录模板" in page
    assert JJG52 in page
    row = re.search(r'<tr data-testid="template-row">(.*?)</tr>', page, re.S).group(1)
    assert ">v1</a>" in row and ">v2</a>" in row and "草稿" in row
    # Filters: a service, a state.
    page = text(client.get(reverse("record_templates:list") + "?service=calibration", **ZH))
    assert JJG52 not in page
    page = text(client.get(reverse("record_templates:list") + "?state=approved", **ZH))
    assert JJG52 in page


def test_the_designer_renders_each_builtin_in_chinese(cast, client, builtins):
    services.templates_load_builtin(actor=SYSTEM)
    client.force_login(cast["metrologist"])
    for code, definition in builtins.items():
        version = TemplateVersion.objects.get(template__code=code)
        response = client.get(designer_url(version), **ZH)
        assert response.status_code == 200
        page = text(response)
        assert "设计器" in page
        assert definition["title"]["zh"] in page
        assert 'data-testid="preview-table"' in page
        assert 'data-testid="definition-valid"' in page
        # Approved: read-only, no save button.
        assert "readonly" in page and "designer-save" not in page
        assert "records/designer.js" in page


def test_preview_computes_the_sample_readings(cast, client, draft, jjg52):
    """JJG 52 defaults: 0-1.6 MPa, class 1.6, points at 0, 20, ... 100 % of the span. At point
    2 (0.32 MPa) the standard reads 0.32 and the gauge 0.325 rising after tapping, 0.322
    before: error = 0.325 − 0.32 = 0.005 MPa; hysteresis |0.325 − 0.32| = 0.005; tapping
    max(|0.325 − 0.322|, |0.32 − 0.32|) = 0.003; MPE = 1.6 % × 1.6 MPa = 0.0256 MPa."""
    client.force_login(cast["metrologist"])
    cells = {
        "standard.2": "0.32",
        "up_before.2": "0.322",
        "up_after.2": "0.325",
        "down_before.2": "0.32",
        "down_after.2": "0.32",
    }
    html = text(preview_post(client, draft, jjg52, cells, **ZH))
    assert computed(html, 2, "mpe") == "0.0256"
    assert computed(html, 2, "error_up") == "0.005"
    assert computed(html, 2, "error_down") == "0.00"
    assert computed(html, 2, "hysteresis") == "0.005"
    assert computed(html, 2, "tapping") == "0.003"
    # Only point 2 typed: incomplete, no decision yet.
    assert 'data-decision=""' in html and "未完成" in html
    # Every reading typed: the decision appears, and follows a reading out of tolerance.
    full = {}
    for n, pct in enumerate([0, 20, 40, 60, 80, 100], start=1):
        value = f"{pct * 0.016:.3f}"
        for name in ("standard", "up_before", "up_after", "down_before", "down_after"):
            full[f"{name}.{n}"] = value
    html = text(preview_post(client, draft, jjg52, full, **ZH))
    assert 'data-decision="pass"' in html and "合格" in html
    full["up_after.4"] = "1.000"  # 0.96 MPa nominal: error 0.04 > 0.0256
    html = text(preview_post(client, draft, jjg52, full, **ZH))
    assert computed(html, 4, "error_up") == "0.040"
    assert 'data-decision="fail"' in html and "不合格" in html


def test_preview_shows_the_errors_with_their_paths(cast, client, draft, jjg52):
    client.force_login(cast["metrologist"])
    broken = copy.deepcopy(jjg52)
    broken["computed"][5]["expr"] = "up_after -"
    html = text(preview_post(client, draft, broken))
    assert 'data-path="computed.5.expr"' in html
    assert 'data-testid="preview-table"' not in html
    html = text(client.post(designer_url(draft) + "?part=preview", {"definition": "{not json"}))
    assert "不是有效的 JSON" in html


def test_saving_an_invalid_definition_changes_nothing(cast, client, draft, jjg52):
    client.force_login(cast["metrologist"])
    broken = copy.deepcopy(jjg52)
    broken["inputs"][0]["unit"] = 3
    with nothing_written("records"):
        response = client.post(
            designer_url(draft),
            {"definition": json.dumps(broken), "note": "x", "context": ""},
        )
    assert response.status_code == 422
    page = text(response)
    assert 'data-path="inputs.0.unit"' in page
    assert "未保存" in page
    # The text typed stays in the editor.
    assert "&quot;unit&quot;: 3" in page


def test_saving_a_valid_definition(cast, client, draft, jjg52):
    client.force_login(cast["metrologist"])
    changed = copy.deepcopy(jjg52)
    changed["parameters"][6]["default"] = "3"
    response = client.post(
        designer_url(draft), {"definition": json.dumps(changed), "note": "三个月", "context": ""}
    )
    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.definition["parameters"][6]["default"] == "3"
    assert draft.note == "三个月"
    assert draft.digest == services.definition_digest(changed)
    # Another person cannot save it.
    client.force_login(cast["checker"])
    with nothing_written("records"):
        response = client.post(
            designer_url(draft), {"definition": json.dumps(jjg52), "note": "", "context": ""}
        )
    assert response.status_code == 422


def test_review_and_approval_through_the_pages(cast, client, draft):
    client.force_login(cast["metrologist"])
    page = text(client.get(version_url(draft), **ZH))
    assert 'data-testid="submit"' in page and 'data-testid="review"' not in page
    args = [draft.template_id, draft.number]
    client.post(reverse("record_templates:submit", args=args), {"note": ""})
    draft.refresh_from_db()
    assert draft.status == Status.IN_REVIEW

    client.force_login(cast["checker"])
    page = text(client.get(version_url(draft), **ZH))
    assert 'data-testid="review"' in page and 'data-testid="approve"' not in page
    # Returning without a note is refused on the form.
    response = client.post(
        reverse("record_templates:review", args=args), {"decision": "return", "note": ""}
    )
    assert response.status_code == 422
    client.post(
        reverse("record_templates:review", args=args), {"decision": "approve", "note": "已核"}
    )
    draft.refresh_from_db()
    assert draft.reviewed_by == cast["checker"]

    client.force_login(cast["director"])
    page = text(client.get(version_url(draft), **ZH))
    assert 'data-testid="approve"' in page and "等待技术负责人批准" in page
    response = client.post(reverse("record_templates:approve", args=args), {"note": ""})
    assert response.status_code == 302
    page = text(client.get(version_url(draft), **ZH))
    assert "已批准" in page and 'data-testid="approve"' not in page
    draft.refresh_from_db()
    assert draft.status == Status.APPROVED


def test_the_returned_note_is_shown(cast, client, draft):
    services.template_version_submit(version=draft, actor=cast["metrologist"])
    services.template_version_review(
        version=draft, decision="return", note="MPE 表需核对", actor=cast["checker"]
    )
    client.force_login(cast["metrologist"])
    page = text(client.get(version_url(draft), **ZH))
    assert 'data-testid="returned"' in page and "MPE 表需核对" in page


def test_detail_and_diff(cast, client, draft, approve, jjg52):
    approve(draft)
    second = services.template_version_draft(template=draft.template, actor=cast["metrologist"])
    changed = copy.deepcopy(jjg52)
    changed["parameters"][6]["default"] = "3"
    services.template_version_save(version=second, definition=changed, actor=cast["metrologist"])
    client.force_login(cast["checker"])
    page = text(client.get(reverse("record_templates:detail", args=[draft.template_id]), **ZH))
    assert page.count('data-testid="version-row"') == 2
    assert "已批准" in page and "草稿" in page
    diff = text(client.get(reverse("record_templates:diff", args=[draft.template_id]) + "?a=1&b=2"))
    assert '<span class="removed">-      &quot;default&quot;: &quot;6&quot;,</span>' in diff
    assert '<span class="added">+      &quot;default&quot;: &quot;3&quot;,</span>' in diff


def test_create_a_template_from_the_page(cast, client):
    client.force_login(cast["metrologist"])
    response = client.post(
        reverse("record_templates:create"),
        {"code": "my-gauge", "title": "我的模板", "service": "calibration", "retention_years": 6},
    )
    template = RecordTemplate.objects.get(code="my-gauge")
    version = template.versions.get()
    assert response.status_code == 302 and response["Location"] == designer_url(version)
    page = text(client.get(designer_url(version), **ZH))
    assert "designer-save" in page


def test_customers_are_refused(cast, client, draft):
    client.force_login(cast["customer_a"])
    for url in (
        reverse("record_templates:list"),
        reverse("record_templates:detail", args=[draft.template_id]),
        version_url(draft),
        designer_url(draft),
    ):
        assert client.get(url).status_code == 403


def test_preview_shows_the_engines_worked_example(cast, client, draft, jjg52):
    """The engine's worked example (metrolab/metrology/tests/test_builtin_templates.py,
    `test_gauge_class_1_6_passes_with_the_larger_mpe_above_90_percent`): class 1.6, 0-1.6
    MPa; at 100 % the falling error 0.335... reads 1.635 − 1.6 = 0.035 MPa, within the larger
    MPE 2.5 % × 1.6 = 0.040 MPa that applies from 90 % of the upper limit; largest error
    0.035 MPa → 合格."""
    from metrolab.metrology.tests.test_builtin_templates import _gauge_cells

    client.force_login(cast["metrologist"])
    html = text(preview_post(client, draft, jjg52, _gauge_cells("1.6"), **ZH))
    assert computed(html, 6, "error_down") == "0.035"
    assert computed(html, 6, "mpe") == "0.0400"  # rounded as the template says
    assert computed(html, 2, "hysteresis") == "0.005"
    assert 'data-decision="pass"' in html and "合格" in html
    assert re.search(r'data-value="max_error">0\.035 MPa', html)
    # Class 1.0 with the same readings: 不合格 (the engine's `test_gauge_class_1_0_fails`).
    html = text(preview_post(client, draft, jjg52, _gauge_cells("1.0"), **ZH))
    assert 'data-decision="fail"' in html and "不合格" in html


def test_the_command_loads_the_builtins_once(cast):
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    call_command("records_load_builtin", stdout=out)
    assert f"{JJG52}: created" in out.getvalue()
    out = StringIO()
    call_command("records_load_builtin", stdout=out)
    assert f"{JJG52}: unchanged" in out.getvalue()
    assert RecordTemplate.objects.filter(builtin=True).count() == 4


def test_the_demo_loads_the_builtins_after_the_libraries_and_before_the_tasks():
    from metrolab.core import demo
    from metrolab.records.template_demo import demo_load_builtin_templates

    orders = {seeder: order for order, seeder in demo._demo_seeders}
    assert 30 < orders[demo_load_builtin_templates] < 40


def test_the_list_page_and_api_make_no_query_per_template(cast, client, jjg52):
    from metrolab.core.testing import assert_same_query_count_with_n_and_10n

    made = []

    def add(k):
        for _ in range(k):
            n = len(made)
            definition = {**jjg52, "code": f"t-{n}"}
            made.append(
                services.template_create(
                    code=f"t-{n}",
                    title=f"模板 {n}",
                    service="verification",
                    definition=definition,
                    actor=cast["metrologist"],
                )
            )

    client.force_login(cast["checker"])
    assert_same_query_count_with_n_and_10n(
        lambda: client.get(reverse("record_templates:list")), add
    )
    assert_same_query_count_with_n_and_10n(lambda: client.get("/api/v1/record-templates/"), add)


def test_the_designer_in_english(cast, client, draft, jjg52, settings):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    client.force_login(cast["metrologist"])
    page = text(client.get(designer_url(draft)))
    assert "Designer" in page and "Preview and test calculation" in page
    assert jjg52["title"]["en"] in page
    assert "Rising, after tapping" in page and "Save the draft" in page


def test_an_over_long_definition_is_not_parsed(cast, client, draft):
    from metrolab.records.template_forms import DEFINITION_LIMIT

    client.force_login(cast["metrologist"])
    huge = '{"a": "' + "x" * DEFINITION_LIMIT + '"}'
    html = text(client.post(designer_url(draft) + "?part=preview", {"definition": huge}))
    assert 'data-path=""' in html and 'data-testid="preview-table"' not in html
