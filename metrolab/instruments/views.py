"""Run pages (issue 16; R8b, R8c, R6.9d, R6.2a): start a procedure run on a draft record,
follow it live (the page's live part polled with `?part=live` until the run is final: the
current step, the settle state, readings and step reports, the operator prompt, the
instruments in use and where each is), drive it (confirm the prompt, pause, resume, abort
with a reason — from wherever the person is: each action is logged with who did it and from
which client address), read its transcript, and list the runs. Every write is a service of
`services.py`; a refusal is shown on its form or above the page."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from metrolab.core.access import allow
from metrolab.core.pages import query_without_page
from metrolab.core.permissions import holds
from metrolab.core.refusals import refusal_on_form
from metrolab.core.roles import LAB_STAFF, METROLOGIST
from metrolab.core.service import ServiceError
from metrolab.instruments import selectors, services
from metrolab.instruments.forms import (
    AbortForm,
    EventFilterForm,
    PauseForm,
    ProcedureChoiceForm,
    RunFilterForm,
    RunStartForm,
)
from metrolab.instruments.models import Run
from metrolab.records.models import Record

READERS = tuple(LAB_STAFF)
OPERATORS = (METROLOGIST,)
PAGE_SIZE = 50
EVENTS_PAGE_SIZE = 100
#: How often the run page asks for its live part (milliseconds).
POLL_MS = 1000


def _run(pk: int) -> Run:
    run = Run.objects.filter(pk=pk).first()
    if run is None:
        raise Http404("no such run")
    return run


# --- the list ----------------------------------------------------------------------------


@allow(roles=READERS)
@require_GET
def run_list(request):
    """The procedure runs, newest first, filtered by status."""
    form = RunFilterForm(request.GET or None)
    status = request.GET.get("status", "")
    page = Paginator(selectors.run_list(status), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "instruments/runs/list.html",
        {"form": form, "page": page, "query": query_without_page(request)},
    )


# --- starting ----------------------------------------------------------------------------


def _record(request) -> Record:
    pk = request.GET.get("record", "")
    record = (
        Record.objects.select_related("template_version__template", "room", "task__item")
        .filter(pk=int(pk) if pk.isdigit() else 0)
        .first()
    )
    if record is None:
        raise Http404("no such record")
    return record


@allow(roles=OPERATORS)
@require_http_methods(["GET", "POST"])
def run_start(request):
    """Start a run on a draft record (`?record=<id>`): the procedure (chosen above when
    several fit), the lab's equipment with an instrument connection per role (the record's
    equipment that fits preselected), and for the item under test its connection. A refusal
    of `run_start` (not the measurer, not eligible, equipment in another room, no
    connection, a connection that cannot be used) is shown on the form; nothing is written."""
    record = _record(request)
    procedures = selectors.procedures_for(record)
    chosen = request.POST.get("procedure") or request.GET.get("procedure") or ""
    if chosen not in procedures:
        chosen = next(iter(procedures), "")
    definition = procedures.get(chosen)
    choice = ProcedureChoiceForm(initial={"procedure": chosen}, procedures=procedures)
    form = None
    status = 200
    if definition is not None:
        initial = selectors.preselected(record, {r["name"]: r for r in definition["roles"]})
        data = request.POST if request.method == "POST" else None
        form = RunStartForm(
            data,
            definition=definition,
            initial_roles=initial,
            initial_connections=selectors.last_connections(record, chosen),
        )
        if request.method == "POST":
            if form.is_valid():
                try:
                    run = services.run_start(
                        record=record,
                        procedure=chosen,
                        equipment_roles=form.cleaned_data["equipment_roles"],
                        connections=form.cleaned_data["connections"],
                        reason=form.cleaned_data["reason"],
                        actor=request.user,
                    )
                except ServiceError as exc:
                    refusal_on_form(form, exc)
                else:
                    messages.success(request, _("Run started."))
                    return redirect("instruments:run_detail", run.pk)
            status = 422
    return render(
        request,
        "instruments/runs/start.html",
        {
            "record": record,
            "procedures": procedures,
            "definition": definition,
            "title": selectors.label(definition["title"]) if definition else "",
            "choice": choice,
            "form": form,
            "rows": form.bound_rows() if form else [],
            "may_measure": record.status == Record.Status.DRAFT
            and record.measured_by_id == request.user.pk,
        },
        status=status,
    )


# --- one run -----------------------------------------------------------------------------


def _controls(run: Run, user) -> dict[str, bool]:
    """Which actions this user may take on the run now (the services decide again)."""
    mine = holds(user, OPERATORS) and user.pk in (run.started_by_id, run.record.measured_by_id)
    final = run.status in Run.FINAL
    return {
        "can_confirm": mine and run.status == Run.Status.WAITING_PROMPT,
        "can_pause": mine
        and run.status in (Run.Status.QUEUED, Run.Status.RUNNING, Run.Status.WAITING_PROMPT)
        and not run.requested,
        "can_resume": mine and run.status == Run.Status.PAUSED,
        "can_abort": mine and not final and run.requested != "abort",
    }


def _context(request, run: Run, *, abort_form=None) -> dict:
    context = selectors.run_live(run)
    live = context["run"]
    context.update(
        _controls(live, request.user),
        poll_ms=POLL_MS,
        abort_form=abort_form or AbortForm(),
        requested_pause=live.requested == "pause",
        requested_abort=live.requested == "abort",
    )
    return context


@allow(roles=READERS)
@require_GET
def run_detail(request, pk: int):
    """One run; its live part (`?part=live`) is polled while it is not final."""
    run = _run(pk)
    context = _context(request, run)
    if request.GET.get("part") == "live":
        return render(request, "instruments/runs/_live.html", context)
    return render(request, "instruments/runs/detail.html", context)


def _act(request, pk: int, action):
    run = _run(pk)
    try:
        action(run)
    except ServiceError as exc:
        messages.error(request, exc.message)
    return redirect("instruments:run_detail", run.pk)


@allow(roles=OPERATORS)
@require_POST
def run_confirm(request, pk: int):
    """The operator did what the prompt asks: the run goes on."""
    return _act(request, pk, lambda run: services.run_confirm_prompt(run=run, actor=request.user))


@allow(roles=OPERATORS)
@require_POST
def run_pause(request, pk: int):
    """Pause the run (at once, or before the worker's next command)."""
    form = PauseForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""
    return _act(
        request, pk, lambda run: services.run_pause(run=run, actor=request.user, reason=reason)
    )


@allow(roles=OPERATORS)
@require_POST
def run_resume(request, pk: int):
    """Resume a paused run from the step it stopped at."""
    return _act(request, pk, lambda run: services.run_resume(run=run, actor=request.user))


@allow(roles=OPERATORS)
@require_POST
def run_abort(request, pk: int):
    """Abort the run for good; the reason is required (shown on the page when missing)."""
    run = _run(pk)
    form = AbortForm(request.POST)
    if form.is_valid():
        try:
            services.run_abort(run=run, actor=request.user, reason=form.cleaned_data["reason"])
        except ServiceError as exc:
            refusal_on_form(form, exc)
        else:
            messages.success(request, _("Run aborted."))
            return redirect("instruments:run_detail", run.pk)
    context = _context(request, run, abort_form=form)
    return render(request, "instruments/runs/detail.html", context, status=422)


@allow(roles=READERS)
@require_GET
def run_events(request, pk: int):
    """A run's events in order (the transcript of every command and answer, readings, steps,
    faults, prompts and who paused, resumed, confirmed or aborted it from where), paginated,
    filtered by kind."""
    run = _run(pk)
    run = Run.objects.select_related("record").get(pk=run.pk)
    form = EventFilterForm(request.GET or None)
    rows = selectors.run_events(run, request.GET.get("kind", ""))
    page = Paginator(rows, EVENTS_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "instruments/runs/events.html",
        {"run": run, "form": form, "page": page, "query": query_without_page(request)},
    )
