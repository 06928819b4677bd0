"""Pages of the methods library and of deviations (R6.7a-c, R6.8a-b): the library with its
computed status, a method's card (versions, categories, authorised items and standards that
use it, its text), the editors' forms, instrument categories, "my methods" with their current
versions (R6.7b), and deviations: request from a commission line, the technical manager's
decision, the customer's answer in the portal or a signed acceptance uploaded by the lab."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from metrolab.commissions.choices import Service
from metrolab.core.access import allow
from metrolab.core.documents import document_response
from metrolab.core.pages import holds, query_without_page
from metrolab.core.refusals import refusal_on_form as _refusal
from metrolab.core.roles import DIRECTOR
from metrolab.core.service import ServiceError
from metrolab.customers.selectors import is_lab_staff, portal_customer
from metrolab.methods import selectors, services
from metrolab.methods.coverage import method_range_text
from metrolab.methods.filters import MethodFilter
from metrolab.methods.forms import (
    AcceptanceUploadForm,
    CategoryForm,
    CommissionLookupForm,
    DecisionForm,
    DeviationFilterForm,
    DeviationRequestForm,
    MethodFilterForm,
    MethodForm,
    ResponseForm,
)
from metrolab.methods.models import Deviation, InstrumentCategory, Method
from metrolab.methods.roles import (
    DEVIATION_ACCEPTANCE_RECORDERS,
    DEVIATION_AUTHORISERS,
    DEVIATION_READERS,
    DEVIATION_REQUESTERS,
    DEVIATION_RESPONDENTS,
    METHOD_EDITORS,
    METHOD_READERS,
)

PAGE_SIZE = 50


def _method_or_404(pk: int) -> Method:
    method = selectors.method_get(pk)
    if method is None:
        raise Http404
    return method


# --- the library ----------------------------------------------------------------------------


@allow(roles=METHOD_READERS)
def method_list(request):
    """The library (技术依据库): every method with its status today (current in green,
    superseded or abolished in red, not yet effective in grey), filtered by kind, status,
    discipline, instrument category and a search in code and title."""
    form = MethodFilterForm(request.GET or None)
    form.is_valid()  # shows the errors; the rows follow the API's filter
    methods = selectors.method_list(MethodFilter.from_query(request.GET))
    page = Paginator(methods, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "methods/method_list.html",
        {
            "form": form,
            "page": page,
            "query": query_without_page(request),
            "can_edit": holds(request.user, METHOD_EDITORS),
        },
    )


@allow(roles=METHOD_READERS)
def method_detail(request, pk: int):
    """A method's card: every field, its text, the chain of versions with the one current
    today, the categories and disciplines it covers, and (R6.8b) the authorised items and
    measurement standards that use it."""
    method = _method_or_404(pk)
    today = timezone.localdate()
    return render(
        request,
        "methods/method_detail.html",
        {
            "method": method,
            "today": today,
            "current_version": selectors.method_current_version(method, today),
            "versions": selectors.method_versions(method),
            "predecessors": method.supersedes.order_by("effective_date", "pk"),
            "services": [Service(s).label for s in method.services.split(",") if s],
            "categories": method.categories.select_related("discipline").order_by("code"),
            "range_covered": method_range_text(method),
            "disciplines": method.disciplines.order_by("code"),
            "items": method.authorised_items.select_related("category").order_by("code"),
            "standards": method.standards.order_by("name"),
            "deviations": selectors.deviation_list(user=request.user, method=method)[:20],
            "can_edit": holds(request.user, METHOD_EDITORS),
        },
    )


def _method_saved(request, form, method: Method | None):
    try:
        data = form.data_for_service()
        upload = form.cleaned_data.get("file")
        if method is None:
            saved = services.method_create(data=data, upload=upload, actor=request.user)
            messages.success(request, _("%(method)s was added.") % {"method": saved})
        else:
            saved = services.method_update(
                method=method, data=data, upload=upload, actor=request.user
            )
            messages.success(request, _("%(method)s was saved.") % {"method": saved})
    except ServiceError as exc:
        _refusal(form, exc)
        return None
    return saved


@allow(roles=METHOD_EDITORS)
def method_create(request):
    """Add a regulation or specification to the library (quality manager, administrator)."""
    form = MethodForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        saved = _method_saved(request, form, None)
        if saved is not None:
            return redirect("methods:detail", pk=saved.pk)
    return render(request, "methods/method_form.html", {"form": form, "method": None})


@allow(roles=METHOD_EDITORS)
def method_edit(request, pk: int):
    """Edit a method: dates, successor, coverage, its text (quality manager, administrator)."""
    method = _method_or_404(pk)
    form = MethodForm(
        request.POST or None,
        request.FILES or None,
        method=method,
        initial=MethodForm.initial_for(method),
    )
    if request.method == "POST" and form.is_valid():
        saved = _method_saved(request, form, method)
        if saved is not None:
            return redirect("methods:detail", pk=saved.pk)
    return render(request, "methods/method_form.html", {"form": form, "method": method})


@allow(roles=METHOD_READERS)
def method_file(request, pk: int):
    """The text of a method, for the lab's staff."""
    method = _method_or_404(pk)
    if not method.has_file:
        raise Http404
    return document_response(method.file_sha256, method.file_name, method.file_type)


@allow(roles=METHOD_READERS)
def mine(request):
    """The methods I work with (R6.7b): from the authorised items I hold valid authorisations
    for and from my open tasks, each with the version current today; a warning for each one
    that is superseded or abolished."""
    today = timezone.localdate()
    rows = []
    for method in selectors.methods_for_user(request.user, today):
        status = method.status_on(today)
        current = selectors.method_current_version(method, today)
        rows.append(
            {
                "method": method,
                "status": status,
                "current": current,
                "outdated": status in (Method.Status.SUPERSEDED, Method.Status.ABOLISHED),
            }
        )
    rows.sort(key=lambda r: (not r["outdated"], r["method"].kind, r["method"].code))
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "methods/mine.html",
        {
            "page": page,
            "query": query_without_page(request),
            "today": today,
            "outdated": sum(1 for r in rows if r["outdated"]),
        },
    )


# --- instrument categories ------------------------------------------------------------------


@allow(roles=METHOD_READERS)
def category_list(request):
    """Instrument categories (器具类别) with the number of methods covering each; editors add
    new ones here."""
    can_edit = holds(request.user, METHOD_EDITORS)
    form = CategoryForm(request.POST or None) if can_edit else None
    if request.method == "POST":
        if not can_edit:
            raise PermissionDenied
        if form.is_valid():
            try:
                category = services.category_create(data=form.cleaned_data, actor=request.user)
            except ServiceError as exc:
                _refusal(form, exc)
            else:
                messages.success(request, _("%(name)s was added.") % {"name": category.name})
                return redirect("methods:categories")
    search = request.GET.get("q", "").strip()[:100]
    page = Paginator(selectors.category_list(search=search), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "methods/category_list.html",
        {
            "page": page,
            "query": query_without_page(request),
            "search": search,
            "form": form,
            "can_edit": can_edit,
        },
    )


@allow(roles=METHOD_EDITORS)
def category_edit(request, pk: int):
    category = InstrumentCategory.objects.filter(pk=pk).first()
    if category is None:
        raise Http404
    initial = {
        "code": category.code,
        "name": category.name,
        "name_en": category.name_en,
        "discipline": category.discipline_id,
    }
    form = CategoryForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.category_update(category=category, data=form.cleaned_data, actor=request.user)
        except ServiceError as exc:
            _refusal(form, exc)
        else:
            messages.success(request, _("%(name)s was saved.") % {"name": category.name})
            return redirect("methods:categories")
    return render(request, "methods/category_form.html", {"form": form, "category": category})


# --- deviations -----------------------------------------------------------------------------


def _deviation_or_404(request, pk: int) -> Deviation:
    deviation = selectors.deviation_get(user=request.user, pk=pk)
    if deviation is None:
        raise Http404
    return deviation


@allow(roles=DEVIATION_READERS)
def deviation_list(request):
    """Deviations (偏离), newest first: the lab sees all of them, a customer only their own
    organisation's."""
    user = request.user
    form = DeviationFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    deviations = selectors.deviation_list(
        user=user, state=filters.get("state", ""), search=filters.get("q", "")
    )
    page = Paginator(deviations, PAGE_SIZE).get_page(request.GET.get("page"))
    can_request = holds(user, DEVIATION_REQUESTERS)
    return render(
        request,
        "methods/deviation_list.html",
        {
            "form": form,
            "page": page,
            "query": query_without_page(request),
            "is_staff": is_lab_staff(user),
            "can_request": can_request,
            "lookup_form": CommissionLookupForm() if can_request else None,
        },
    )


@allow(roles=DEVIATION_REQUESTERS)
def deviation_request_pick(request):
    """Find a commission by its number and choose the line a deviation is requested for."""
    form = CommissionLookupForm(request.GET or None)
    lines = None
    if form.is_valid():
        lines = selectors.lines_of_commission(form.cleaned_data["commission"])
        if not lines:
            form.add_error("commission", _("No commission has this number."))
    return render(
        request,
        "methods/deviation_pick.html",
        {"form": form, "lines": lines, "verification": Service.VERIFICATION},
    )


@allow(roles=DEVIATION_REQUESTERS)
def deviation_request(request, pk: int):
    """Request a deviation for one commission line (R6.7c): the method departed from, what
    departs and its technical justification. A verification line admits none."""
    line = selectors.line_get(pk)
    if line is None:
        raise Http404
    verification = line.service == Service.VERIFICATION
    form = DeviationRequestForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            deviation = services.deviation_request(
                line=line,
                method=form.cleaned_data["method"],
                description=form.cleaned_data["description"],
                justification=form.cleaned_data["justification"],
                actor=request.user,
            )
        except ServiceError as exc:
            _refusal(form, exc)
        else:
            messages.success(
                request, _("The deviation was requested; the technical manager decides on it.")
            )
            return redirect("methods:deviation_detail", pk=deviation.pk)
    return render(
        request,
        "methods/deviation_request.html",
        {
            "line": line,
            "commission": line.commission,
            "form": form,
            "verification": verification,
            "existing": selectors.deviation_list(user=request.user, line=line),
        },
    )


def _can_respond(user, deviation: Deviation) -> bool:
    if deviation.state != Deviation.State.AUTHORISED or not user.has_role(*DEVIATION_RESPONDENTS):
        return False
    own = portal_customer(user)
    return own is not None and own.pk == deviation.line.commission.customer_id


@allow(roles=DEVIATION_READERS)
def deviation_detail(request, pk: int):
    """A deviation: its line, method, description and justification, the technical manager's
    decision, the customer's acceptance, and the actions the user may take now."""
    deviation = _deviation_or_404(request, pk)
    user = request.user
    staff = is_lab_staff(user)
    authorised = deviation.state == Deviation.State.AUTHORISED
    can_decide = deviation.state == Deviation.State.REQUESTED and user.has_role(DIRECTOR)
    can_upload = authorised and staff and holds(user, DEVIATION_ACCEPTANCE_RECORDERS)
    can_respond = _can_respond(user, deviation)
    return render(
        request,
        "methods/deviation_detail.html",
        {
            "deviation": deviation,
            "line": deviation.line,
            "commission": deviation.line.commission,
            "is_staff": staff,
            "decision_form": DecisionForm() if can_decide else None,
            # R4.4: the requester cannot authorise (another technical manager does).
            "own_request": can_decide and deviation.requested_by_id == user.pk,
            "response_form": ResponseForm() if can_respond else None,
            "upload_form": AcceptanceUploadForm() if can_upload else None,
        },
    )


@require_POST
@allow(roles=DEVIATION_AUTHORISERS)
def deviation_decide(request, pk: int):
    """The technical manager authorises or refuses a requested deviation."""
    deviation = _deviation_or_404(request, pk)
    form = DecisionForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose to authorise or to refuse."))
        return redirect("methods:deviation_detail", pk=deviation.pk)
    note = form.cleaned_data["note"]
    try:
        if form.cleaned_data["decision"] == "authorise":
            services.deviation_authorise(
                deviation=deviation, note=note, actor=request.user, reason=note
            )
            messages.success(request, _("The deviation was authorised; the customer is asked."))
        else:
            services.deviation_refuse(
                deviation=deviation, note=note, actor=request.user, reason=note
            )
            messages.success(request, _("The deviation was refused."))
    except ServiceError as exc:
        messages.error(request, exc.message)
    return redirect("methods:deviation_detail", pk=deviation.pk)


@require_POST
@allow(roles=DEVIATION_RESPONDENTS)
def deviation_respond(request, pk: int):
    """The customer accepts or declines an authorised deviation in the portal."""
    deviation = _deviation_or_404(request, pk)
    form = ResponseForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose to accept or to decline."))
        return redirect("methods:deviation_detail", pk=deviation.pk)
    note = form.cleaned_data["note"]
    try:
        if form.cleaned_data["answer"] == "accept":
            services.deviation_accept(deviation=deviation, note=note, actor=request.user)
            messages.success(request, _("You accepted the deviation."))
        else:
            services.deviation_decline(deviation=deviation, note=note, actor=request.user)
            messages.success(request, _("You declined the deviation."))
    except ServiceError as exc:
        messages.error(request, exc.message)
    return redirect("methods:deviation_detail", pk=deviation.pk)


@require_POST
@allow(roles=DEVIATION_ACCEPTANCE_RECORDERS)
def deviation_acceptance(request, pk: int):
    """The lab records the customer's signed acceptance (scan or photo)."""
    deviation = _deviation_or_404(request, pk)
    form = AcceptanceUploadForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, _("Attach the signed acceptance."))
        return redirect("methods:deviation_detail", pk=deviation.pk)
    try:
        services.deviation_acceptance_upload(
            deviation=deviation,
            upload=form.cleaned_data["file"],
            note=form.cleaned_data["note"],
            actor=request.user,
        )
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("The signed acceptance was recorded."))
    return redirect("methods:deviation_detail", pk=deviation.pk)


@allow(roles=DEVIATION_READERS)
def deviation_file(request, pk: int):
    """The signed acceptance of a deviation, for the lab and the deviation's customer."""
    deviation = _deviation_or_404(request, pk)
    if not deviation.has_file:
        raise Http404
    return document_response(deviation.file_sha256, deviation.file_name, deviation.file_type)
