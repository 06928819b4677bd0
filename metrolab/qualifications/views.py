"""Qualification pages (R6.8a-c): the authorised items (scope) and each item's page, which
links its methods, measurement standard, the standard's equipment and the people qualified
to perform, check and approve it (R6.8b); the people with their profiles, certificates,
training and authorisations, linking back to the items; and the forms that keep them (quality
manager, administrator). Phone-friendly: the same pages serve the desk and the phone."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from metrolab.core.access import allow, authenticated
from metrolab.core.documents import document_response
from metrolab.core.pages import query_without_page
from metrolab.core.refusals import refusal_on_form as _refusal
from metrolab.core.roles import LAB_STAFF
from metrolab.core.service import ServiceError
from metrolab.qualifications import selectors, services
from metrolab.qualifications.forms import (
    AuthorisationForm,
    AuthorisedItemForm,
    CertificateForm,
    ItemFilterForm,
    PeopleFilterForm,
    ProfileForm,
    RevokeForm,
    TrainingForm,
)
from metrolab.qualifications.models import Authorisation, PersonnelCertificate
from metrolab.qualifications.roles import LIBRARY_EDITORS, LIBRARY_READERS

PAGE_SIZE = 50


def _day(request) -> dt.date:
    """The day the page shows validity on: ?on=YYYY-MM-DD, else today."""
    raw = request.GET.get("on", "")
    try:
        return dt.date.fromisoformat(raw) if raw else timezone.localdate()
    except ValueError:
        return timezone.localdate()


def _form_page(request, form, *, title: str, cancel_url: str, status: int = 200, **extra):
    return render(
        request,
        "qualifications/form.html",
        {"form": form, "title": title, "cancel_url": cancel_url, **extra},
        status=422 if request.method == "POST" and form.errors else status,
    )


def _data(form, *skip: str) -> dict:
    return {k: v for k, v in form.cleaned_data.items() if k not in skip}


# --- authorised items ----


@allow(roles=LIBRARY_READERS)
@require_GET
def item_list(request):
    """The authorised scope, filtered by service, discipline, validity and a search text."""
    form = ItemFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    day = timezone.localdate()
    items = selectors.authorised_item_list(
        service=filters.get("service", ""),
        discipline=filters.get("discipline"),
        validity=filters.get("validity", ""),
        q=filters.get("q", ""),
        day=day,
    )
    page = Paginator(items, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [selectors.Dated(item, selectors.item_validity(item, day)) for item in page]
    return render(
        request,
        "qualifications/item_list.html",
        {
            "form": form,
            "page": page,
            "rows": rows,
            "query": query_without_page(request),
            "can_edit": selectors.may_edit_libraries(request.user),
        },
    )


@allow(roles=LIBRARY_READERS)
@require_GET
def item_detail(request, pk: int):
    """An authorised item and everything it reaches (R6.8b): methods with their status,
    measurement standard, the standard's equipment, and the qualified people."""
    item = selectors.authorised_item_get(pk)
    day = _day(request)
    links = selectors.item_links(item, day)
    capacities = [
        {
            "code": code,
            "label": label,
            "rows": links.people[code],
            "valid": links.valid_counts[code],
        }
        for code, label in Authorisation.Capacity.choices
    ]
    return render(
        request,
        "qualifications/item_detail.html",
        {
            "item": item,
            "day": day,
            "today": day == timezone.localdate(),
            "validity": selectors.item_validity(item, day),
            "links": links,
            "capacities": capacities,
            "can_edit": selectors.may_edit_libraries(request.user),
        },
    )


@allow(roles=LIBRARY_EDITORS)
def item_create(request):
    form = AuthorisedItemForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            item = services.authorised_item_create(data=form.cleaned_data, actor=request.user)
        except ServiceError as exc:
            _refusal(form, exc)
        else:
            messages.success(
                request, _("Authorised item %(code)s was added.") % {"code": item.code}
            )
            return redirect("qualifications:item_detail", pk=item.pk)
    return _form_page(
        request,
        form,
        title=_("New authorised item"),
        cancel_url=reverse("qualifications:items"),
    )


@allow(roles=LIBRARY_EDITORS)
def item_edit(request, pk: int):
    item = selectors.authorised_item_get(pk)
    form = AuthorisedItemForm(request.POST or None, instance=item)
    if request.method == "POST" and form.is_valid():
        try:
            services.authorised_item_update(item=item, data=form.cleaned_data, actor=request.user)
        except ServiceError as exc:
            _refusal(form, exc)
        else:
            messages.success(
                request, _("Authorised item %(code)s was saved.") % {"code": item.code}
            )
            return redirect("qualifications:item_detail", pk=item.pk)
    item.refresh_from_db()
    return _form_page(
        request,
        form,
        title=_("Edit authorised item %(code)s") % {"code": item.code},
        cancel_url=reverse("qualifications:item_detail", args=[item.pk]),
    )


# --- people ----


@allow(roles=LIBRARY_READERS)
@require_GET
def people_list(request):
    """The lab's staff with their roles, certificates and authorisations in force, and
    markers for what expires soon (R6.8c)."""
    form = PeopleFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    people = selectors.people_list(q=filters.get("q", ""), role=filters.get("role", ""))
    page = Paginator(people, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [
        {
            "person": p,
            "roles": selectors.role_labels(p),
            "expiring": p.expiring_certificates + p.expiring_authorisations,
        }
        for p in page
    ]
    return render(
        request,
        "qualifications/people_list.html",
        {
            "form": form,
            "page": page,
            "rows": rows,
            "query": query_without_page(request),
            "soon_days": selectors.EXPIRING_SOON_DAYS,
            "can_edit": selectors.may_edit_libraries(request.user),
        },
    )


@allow(roles=LAB_STAFF)
@require_GET
def my_qualifications(request):
    """The signed-in person's own page."""
    return redirect("qualifications:person", pk=request.user.pk)


@authenticated
@require_GET
def person_detail(request, pk: int):
    """A person (pk = user pk): profile, roles, certificates with their validity and file,
    training, and authorisations by capacity linking to the items (R6.8b, R6.8c). Library
    readers see every lab staff member; anyone sees their own page; others get 404."""
    person = selectors.person_get(viewer=request.user, pk=pk)
    day = _day(request)
    authorisations = selectors.person_authorisations(person, day)
    capacities = [
        {"code": code, "label": label, "rows": authorisations[code]}
        for code, label in Authorisation.Capacity.choices
    ]
    return render(
        request,
        "qualifications/person_detail.html",
        {
            "person": person,
            "profile": selectors.profile_of(person),
            "roles": selectors.role_labels(person),
            "certificates": selectors.person_certificates(person, day),
            "trainings": selectors.person_trainings(person),
            "capacities": capacities,
            "expiring": selectors.person_expiring(person, day=day),
            "capabilities": selectors.person_capabilities(person, day),
            "day": day,
            "today": day == timezone.localdate(),
            "soon_days": selectors.EXPIRING_SOON_DAYS,
            "can_edit": selectors.may_edit_libraries(request.user),
            "can_read": selectors.may_read_libraries(request.user),
        },
    )


def _staff_person(pk: int):
    person = selectors.lab_staff_choices().filter(pk=pk).first()
    if person is None:
        raise Http404("no such lab staff member")
    return person


@allow(roles=LIBRARY_EDITORS)
def profile_edit(request, pk: int):
    person = selectors.person_get(viewer=request.user, pk=pk)
    profile = selectors.profile_of(person)
    form = ProfileForm(request.POST or None, instance=profile)
    if request.method == "POST" and form.is_valid():
        try:
            services.staff_profile_save(user=person, data=form.cleaned_data, actor=request.user)
        except ServiceError as exc:
            _refusal(form, exc)
        else:
            messages.success(request, _("The profile of %(name)s was saved.") % {"name": person})
            return redirect("qualifications:person", pk=person.pk)
    return _form_page(
        request,
        form,
        title=_("Profile of %(name)s") % {"name": person},
        cancel_url=reverse("qualifications:person", args=[person.pk]),
    )


@allow(roles=LIBRARY_EDITORS)
def certificate_create(request, pk: int):
    person = selectors.person_get(viewer=request.user, pk=pk)
    form = CertificateForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.certificate_add(
                person=person,
                data=_data(form, "items", "file"),
                items=form.cleaned_data["items"],
                upload=form.cleaned_data["file"],
                actor=request.user,
            )
        except ServiceError as exc:
            _refusal(form, exc)
        else:
            messages.success(request, _("The certificate was recorded."))
            return redirect("qualifications:person", pk=person.pk)
    return _form_page(
        request,
        form,
        title=_("New certificate of %(name)s") % {"name": person},
        cancel_url=reverse("qualifications:person", args=[person.pk]),
        multipart=True,
    )


@allow(roles=LIBRARY_EDITORS)
def certificate_edit(request, pk: int):
    certificate = selectors.certificate_get(viewer=request.user, pk=pk)
    form = CertificateForm(request.POST or None, request.FILES or None, instance=certificate)
    if request.method == "POST" and form.is_valid():
        try:
            services.certificate_update(
                certificate=certificate,
                data=_data(form, "items", "file"),
                items=form.cleaned_data["items"],
                upload=form.cleaned_data["file"],
                actor=request.user,
            )
        except ServiceError as exc:
            _refusal(form, exc)
        else:
            messages.success(request, _("The certificate was saved."))
            return redirect("qualifications:person", pk=certificate.person_id)
    certificate.refresh_from_db()
    return _form_page(
        request,
        form,
        title=_("Certificate %(number)s of %(name)s")
        % {"number": certificate.number, "name": certificate.person},
        cancel_url=reverse("qualifications:person", args=[certificate.person_id]),
        multipart=True,
        current_file=certificate,
    )


@authenticated
@require_GET
def certificate_file(request, pk: int):
    """The scanned certificate, for library readers and for its holder (others: 404)."""
    certificate: PersonnelCertificate = selectors.certificate_get(viewer=request.user, pk=pk)
    if not certificate.has_file:
        raise Http404("no file attached")
    return document_response(certificate.file_sha256, certificate.file_name, certificate.file_type)


@allow(roles=LIBRARY_EDITORS)
def training_create(request, pk: int):
    person = selectors.person_get(viewer=request.user, pk=pk)
    form = TrainingForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.training_record_add(
                person=person,
                data=_data(form, "items"),
                items=form.cleaned_data["items"],
                actor=request.user,
            )
        except ServiceError as exc:
            _refusal(form, exc)
        else:
            messages.success(request, _("The training was recorded."))
            return redirect("qualifications:person", pk=person.pk)
    return _form_page(
        request,
        form,
        title=_("New training record of %(name)s") % {"name": person},
        cancel_url=reverse("qualifications:person", args=[person.pk]),
    )


# --- authorisations ----


def _int_param(request, name: str) -> int | None:
    raw = request.GET.get(name, "")
    return int(raw) if raw.isdigit() else None


@allow(roles=LIBRARY_EDITORS)
def authorisation_create(request):
    """Authorise a person for an item (R6.8c); ?person= and ?item= preselect them (from the
    person's page or the item's page)."""
    person_pk = _int_param(request, "person")
    person = _staff_person(person_pk) if person_pk else None
    initial = {"person": person_pk, "item": _int_param(request, "item")}
    if request.GET.get("capacity") in Authorisation.Capacity.values:
        initial["capacity"] = request.GET["capacity"]
    form = AuthorisationForm(request.POST or None, initial=initial, person=person)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            authorisation = services.authorisation_grant(
                person=data["person"],
                item=data["item"],
                capacity=data["capacity"],
                certificate=data["certificate"],
                valid_from=data["valid_from"],
                valid_until=data["valid_until"],
                actor=request.user,
            )
        except ServiceError as exc:
            _refusal(form, exc)
        else:
            messages.success(
                request,
                _("%(name)s is authorised to %(capacity)s %(code)s.")
                % {
                    "name": authorisation.person,
                    "capacity": authorisation.get_capacity_display(),
                    "code": authorisation.item.code,
                },
            )
            return redirect("qualifications:person", pk=authorisation.person_id)
    if person is not None:
        cancel = reverse("qualifications:person", args=[person.pk])
    elif initial["item"]:
        cancel = reverse("qualifications:item_detail", args=[initial["item"]])
    else:
        cancel = reverse("qualifications:people")
    return _form_page(request, form, title=_("New authorisation"), cancel_url=cancel)


@allow(roles=LIBRARY_EDITORS)
def authorisation_revoke(request, pk: int):
    """Withdraw an authorisation, saying why."""
    authorisation = selectors.authorisation_get(pk)
    form = RevokeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.authorisation_revoke(
                authorisation=authorisation,
                reason=form.cleaned_data["reason"],
                actor=request.user,
            )
        except ServiceError as exc:
            _refusal(form, exc)
        else:
            messages.success(request, _("The authorisation was revoked."))
            return redirect("qualifications:person", pk=authorisation.person_id)
    return _form_page(
        request,
        form,
        title=_("Revoke an authorisation"),
        cancel_url=reverse("qualifications:person", args=[authorisation.person_id]),
        revoking=authorisation,
        submit_label=_("Revoke"),
        danger=True,
    )
