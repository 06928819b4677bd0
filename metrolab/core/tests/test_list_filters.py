"""One filter per list for its page and its API operation (metrolab/core/filters.py): the
page's form fields are the filter's names, the API operation takes the same names, and a
page builds the filter from its query string leaving out the values that are not valid."""

from __future__ import annotations

import datetime as dt

import pytest
from django.http import QueryDict

from config.api import api
from metrolab.certificates.filters import CertificateFilter
from metrolab.certificates.forms import CertificateFilterForm
from metrolab.commissions.filters import CommissionFilter
from metrolab.commissions.forms import CommissionFilterForm
from metrolab.core.filters import AuditEventFilter
from metrolab.core.forms import AuditFilterForm
from metrolab.customers.filters import CustomerFilter, InstrumentFilter
from metrolab.customers.forms import SearchForm
from metrolab.environment.filters import AlarmFilter
from metrolab.environment.forms import AlarmFilterForm
from metrolab.equipment.filters import EquipmentFilter
from metrolab.equipment.forms import EquipmentFilterForm
from metrolab.items.filters import ItemFilter
from metrolab.items.forms import ItemFilterForm
from metrolab.methods.filters import MethodFilter
from metrolab.methods.forms import MethodFilterForm
from metrolab.tasks.filters import TaskFilter

# (the page's form, the filter, the API operation's path)
LISTS = [
    (CommissionFilterForm, CommissionFilter, "/api/v1/commissions/"),
    (ItemFilterForm, ItemFilter, "/api/v1/items/"),
    (None, TaskFilter, "/api/v1/tasks/to-assign"),  # the page's inputs: q, show
    (SearchForm, CustomerFilter, "/api/v1/customers/"),
    (SearchForm, InstrumentFilter, "/api/v1/customers/instruments"),
    (MethodFilterForm, MethodFilter, "/api/v1/methods/"),
    (EquipmentFilterForm, EquipmentFilter, "/api/v1/equipment/"),
    (AuditFilterForm, AuditEventFilter, "/api/v1/audit/events"),
    (AlarmFilterForm, AlarmFilter, "/api/v1/environment/alarms"),
    (CertificateFilterForm, CertificateFilter, "/api/v1/certificates/"),
]


@pytest.mark.parametrize(("form", "list_filter", "path"), LISTS)
def test_the_page_and_the_api_take_the_filters_names(form, list_filter, path):
    names = list_filter.query_names()
    if form is not None:
        assert set(form.base_fields) <= names
    operation = api.get_openapi_schema()["paths"][path]["get"]
    query = {p["name"] for p in operation["parameters"] if p["in"] == "query"}
    assert names | {"limit", "offset"} == query


def test_a_page_leaves_out_the_values_that_are_not_valid():
    query = QueryDict("room=3&status=burning&since=2026-11-05&until=2026-11-02&kind=low")
    found = AlarmFilter.from_query(query)
    # A wrong status and a period ending before it starts are left out; the rest filters.
    assert (found.room, found.status, found.kind) == (3, None, "low")
    assert (found.since, found.until) == (None, None)
    assert AlarmFilter.from_query(QueryDict("until=2026-11-02")).until == dt.date(2026, 11, 2)
    assert TaskFilter.from_query(QueryDict("q=%20WT&show=all")).show == "all"
    assert TaskFilter.from_query(QueryDict("show=everything")).show == ""
