"""Task pages: "my tasks" for the people who do the work, and the assignment page with each
person's workload for lab managers (R6.1b, R6.4e)."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from metrolab.core.access import allow
from metrolab.core.pages import back_to
from metrolab.core.roles import LAB_STAFF
from metrolab.core.service import ServiceError
from metrolab.tasks import selectors, services
from metrolab.tasks.filters import TaskFilter
from metrolab.tasks.forms import AssignManyForm, TaskSetupForm
from metrolab.tasks.services import TASK_MANAGERS

PAGE_SIZE = 50


@allow(roles=LAB_STAFF)
@require_GET
def my_tasks(request):
    """The tasks assigned to me, open ones, soonest due first."""
    # Each started task's original record (records' link in the page) in one query.
    tasks = selectors.task_list_mine(user=request.user).prefetch_related("records")
    page = Paginator(tasks, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "tasks/mine.html", {"page": page, "query": ""})


@allow(roles=TASK_MANAGERS)
@require_GET
def assign_page(request):
    """Tasks waiting for a person, and everyone's workload (open tasks)."""
    # The API's filter (GET /api/v1/tasks/to-assign): the same rows for the same query.
    filters = TaskFilter.from_query(request.GET)
    q, show_all = filters.q.strip(), filters.show == "all"
    tasks = selectors.task_list_to_assign(filters)
    page = Paginator(tasks, PAGE_SIZE).get_page(request.GET.get("page"))
    people = list(selectors.workload())
    most = max((p.open_tasks for p in people), default=0)
    query = "&".join(p for p in (f"q={q}" if q else "", "show=all" if show_all else "") if p)
    return render(
        request,
        "tasks/assign.html",
        {
            "page": page,
            "people": people,
            "most": max(most, 1),
            "q": q,
            "show_all": show_all,
            "query": query,
            "many_form": AssignManyForm(),
        },
    )


@allow(roles=TASK_MANAGERS)
@require_POST
def assign_many(request):
    """Assign the ticked tasks to one person with one set-up (R6.4e): each task is checked
    on its own; those that pass are assigned, each refused one is listed with its reasons."""
    form = AssignManyForm(request.POST)
    if not form.is_valid():
        for name, errors in form.errors.items():
            label = form.fields[name].label if name in form.fields else ""
            for error in errors:
                messages.error(request, f"{label}: {error}" if label else error)
        return back_to(request, "tasks:assign")
    data = form.cleaned_data
    try:
        result = services.tasks_assign_many(
            tasks=list(data["tasks"]),
            assignee=data["assignee"],
            actor=request.user,
            scope=data["scope"],
        )
    except ServiceError as exc:
        messages.error(request, exc.message)
        return back_to(request, "tasks:assign")
    if result.assigned:
        messages.success(
            request,
            _("%(n)d task(s) assigned to %(name)s: %(items)s.")
            % {
                "n": len(result.assigned),
                "name": data["assignee"],
                "items": ", ".join(t.item.number for t in result.assigned),
            },
        )
    for task, problems in result.refused:
        messages.error(
            request,
            _("Task %(task)s was not assigned: %(reasons)s")
            % {"task": task, "reasons": " ".join(problems)},
        )
    return back_to(request, "tasks:assign")


def _proposal(task, data: dict) -> dict:
    """The set-up the assignment service would use for this form's data: what is given, the
    authorised item's defaults for what is not, otherwise what the task has now."""
    current = selectors.task_setup(task)
    given = {
        "scope": data.get("scope"),
        "method": data.get("method"),
        "standard": data.get("standard"),
        "equipment": list(data.get("equipment") or []) or None,
        "range_low": data.get("range_low"),
        "range_high": data.get("range_high"),
    }
    if given["scope"] is not None:
        for name, value in services.setup_defaults(given["scope"], task=task).items():
            if given[name] is None:
                given[name] = value
    return {name: current[name] if value is None else value for name, value in given.items()}


def _initial(task, setup: dict, assignee_id=None) -> dict:
    return {
        "scope": setup["scope"],
        "method": setup["method"],
        "standard": setup["standard"],
        "equipment": setup["equipment"],
        "range_low": setup["range_low"],
        "range_high": setup["range_high"],
        "assignee": assignee_id or task.assignee_id,
    }


@allow(roles=TASK_MANAGERS)
@require_http_methods(["GET", "POST"])
def assign(request, pk: int):
    """Assign one task (R6.4e, R6.7d): choose the authorised item, method, standard,
    equipment and the instrument's range, see who may take it (✓ / ✗ with every reason),
    check, then assign. A refusal lists every reason in the page's error area."""
    task = selectors.task_get(pk)
    if task is None:
        raise Http404("no such task")
    refused, refused_person = [], None
    if request.method == "POST":
        form = TaskSetupForm(request.POST, task=task)
        checking = request.POST.get("action") == "check"
        if form.is_valid():
            data = form.cleaned_data
            setup = _proposal(task, data)
            if checking:
                form = TaskSetupForm(
                    initial=_initial(task, setup, getattr(data["assignee"], "pk", None)),
                    task=task,
                )
            elif data["assignee"] is None:
                form.add_error("assignee", _("Choose a person."))
            else:
                try:
                    services.task_assign(
                        task=task,
                        assignee=data["assignee"],
                        actor=request.user,
                        scope=data["scope"],
                        method=data["method"],
                        standard=data["standard"],
                        equipment=list(data["equipment"]) or None,
                        range_low=data["range_low"],
                        range_high=data["range_high"],
                    )
                except ServiceError as exc:
                    refused = getattr(exc, "problems", None) or [exc.message]
                    refused_person = data["assignee"] if exc.code == "not_eligible" else None
                    # Show the set-up that was tried, defaults filled in.
                    form = TaskSetupForm(
                        initial=_initial(task, setup, data["assignee"].pk), task=task
                    )
                else:
                    messages.success(
                        request,
                        _("Task %(task)s assigned to %(name)s.")
                        % {"task": task, "name": data["assignee"]},
                    )
                    assigned = selectors.task_get(task.pk)
                    for gap in selectors.method_warnings(assigned, assigned.method):
                        messages.warning(request, gap.message)
                    return back_to(request, "tasks:assign")
        else:
            setup = selectors.task_setup(task)
    else:
        setup = selectors.task_setup(task)
        form = TaskSetupForm(initial=_initial(task, setup), task=task)
    verdicts = selectors.assignment_verdicts(task, setup)
    form.annotate_people(verdicts)
    return render(
        request,
        "tasks/assign_task.html",
        {
            "task": task,
            "form": form,
            "setup": setup,
            "verdicts": verdicts,
            "method_warnings": selectors.method_warnings(task, setup["method"]),
            "refused": refused,
            "refused_person": refused_person,
            "next": request.POST.get("next") or request.GET.get("next", ""),
        },
    )


@allow(roles=LAB_STAFF)
@require_POST
def start(request, pk: int):
    task = selectors.task_get(pk)
    if task is None or task.assignee_id != request.user.pk:
        raise Http404("no such task of yours")
    try:
        services.task_start(task=task, actor=request.user)
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Task %(task)s started.") % {"task": task})
    return back_to(request, "tasks:mine")
