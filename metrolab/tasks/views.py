"""Task pages: "my tasks" for the people who do the work, and the assignment page with each
person's workload for lab managers (R6.1b, R6.4e)."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from metrolab.core.access import allow
from metrolab.core.roles import LAB_STAFF
from metrolab.core.service import ServiceError
from metrolab.tasks import selectors, services
from metrolab.tasks.forms import AssignForm
from metrolab.tasks.services import TASK_MANAGERS

PAGE_SIZE = 50


@allow(roles=LAB_STAFF)
@require_GET
def my_tasks(request):
    """The tasks assigned to me, open ones, soonest due first."""
    tasks = selectors.task_list_mine(user=request.user)
    page = Paginator(tasks, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "tasks/mine.html", {"page": page, "query": ""})


@allow(roles=TASK_MANAGERS)
@require_GET
def assign_page(request):
    """Tasks waiting for a person, and everyone's workload (open tasks)."""
    q = request.GET.get("q", "").strip()
    show_all = request.GET.get("show") == "all"
    tasks = selectors.task_list_to_assign(q=q, only_unassigned=not show_all)
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
        },
    )


def _back(request, default: str):
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, {request.get_host()}):
        return redirect(target)
    return redirect(default)


@allow(roles=TASK_MANAGERS)
@require_POST
def assign(request, pk: int):
    task = selectors.task_get(pk)
    if task is None:
        raise Http404("no such task")
    form = AssignForm(request.POST)
    if not form.is_valid():
        for error in form.errors.get("assignee", []):
            messages.error(request, error)
        return _back(request, "tasks:assign")
    try:
        services.task_assign(task=task, assignee=form.cleaned_data["assignee"], actor=request.user)
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request,
            _("Task %(task)s assigned to %(name)s.")
            % {"task": task, "name": form.cleaned_data["assignee"]},
        )
    return _back(request, "tasks:assign")


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
    return _back(request, "tasks:mine")
