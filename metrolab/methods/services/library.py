"""Writes of the methods library (R6.7a-b, R6.8a): regulations and specifications with their
dates and supersession, checked so that the computed status stays meaningful
(`method_create` / `method_update` / `method_file_attach`), and the instrument categories they
cover (`category_create` / `category_update`). The model's own rules (required fields,
lengths, choices) are checked through `metrolab.core.validation.validated`, every field at
fault at once; uniqueness is checked here, with clearer messages."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.utils.translation import gettext as _

from metrolab.commissions.choices import Service
from metrolab.core.documents import document_store
from metrolab.core.errors import CoreRefusal
from metrolab.core.service import ServiceError, service
from metrolab.core.validation import validated
from metrolab.methods.coverage import classes_normalised
from metrolab.methods.models import InstrumentCategory, Method
from metrolab.methods.services._common import check_editor, fields_copied

METHOD_FIELDS = (
    "kind",
    "code",
    "year",
    "title",
    "title_en",
    "published_date",
    "effective_date",
    "abolished_date",
    "superseded_by",
    "services",
    "accuracy_classes",
    "range_low",
    "range_high",
    "range_unit",
    "notes",
)
METHOD_RELATIONS = ("disciplines", "categories")
CATEGORY_FIELDS = ("code", "name", "name_en", "discipline")


# --- methods --------------------------------------------------------------------------------


def _services_normalised(value: str) -> str:
    """ "calibration, verification" → "calibration,verification"; unknown codes are refused."""
    codes = [c.strip() for c in (value or "").replace(";", ",").split(",") if c.strip()]
    unknown = [c for c in codes if c not in Service.values]
    if unknown:
        raise ServiceError(
            _("Unknown service: %(codes)s (use %(known)s).")
            % {"codes": ", ".join(unknown), "known": ", ".join(Service.values)},
            field="services",
        )
    return ",".join(dict.fromkeys(codes))


def _supersession_checked(method: Method) -> None:
    """The successor is another method, not one that (through its own successors) leads back
    to this one, and it takes effect after this method does; this method in turn takes effect
    after every method it supersedes. Otherwise the computed status would be meaningless."""
    successor = method.superseded_by
    if successor is not None:
        if method.pk is not None and successor.pk == method.pk:
            raise ServiceError(_("A method cannot be superseded by itself."), field="superseded_by")
        seen = {method.pk}
        step = successor
        while step is not None and method.pk is not None:
            if step.pk in seen:
                raise ServiceError(
                    _(
                        "%(successor)s is already superseded, directly or through its "
                        "successors, by %(method)s: the versions would go round in a circle."
                    )
                    % {"successor": successor, "method": method},
                    field="superseded_by",
                )
            seen.add(step.pk)
            step = step.superseded_by
        if successor.effective_date <= method.effective_date:
            raise ServiceError(
                _(
                    "The successor %(successor)s takes effect on %(successor_date)s; it must "
                    "take effect after this method (%(own_date)s)."
                )
                % {
                    "successor": successor,
                    "successor_date": successor.effective_date.isoformat(),
                    "own_date": method.effective_date.isoformat(),
                },
                field="superseded_by",
            )
    if method.pk is None:
        return
    for predecessor in Method.objects.filter(superseded_by=method).order_by("effective_date"):
        if predecessor.effective_date >= method.effective_date:
            raise ServiceError(
                _(
                    "This method supersedes %(predecessor)s (effective %(date)s); it must take "
                    "effect after it."
                )
                % {"predecessor": predecessor, "date": predecessor.effective_date.isoformat()},
                field="effective_date",
            )


def _coverage_checked(method: Method) -> None:
    """The range a method covers: its ends in order, and a unit when an end is given."""
    low, high = method.range_low, method.range_high
    if low is not None and high is not None and low > high:
        raise ServiceError(
            _("The lower end of the range covered is above its upper end."), field="range_low"
        )
    if (low is not None or high is not None) and not method.range_unit:
        raise ServiceError(_("Give the unit of the range covered."), field="range_unit")


def _method_checked(method: Method) -> None:
    """Every rule of a method's fields, before anything is written."""
    if method.effective_date is None:
        raise ServiceError(_("Give the date the method takes effect."), field="effective_date")
    method.services = _services_normalised(method.services)
    method.accuracy_classes = classes_normalised(method.accuracy_classes)
    method.range_unit = (method.range_unit or "").strip()
    validated(method, unique=False, constraints=False)
    _coverage_checked(method)
    if method.abolished_date is not None and method.abolished_date <= method.effective_date:
        raise ServiceError(
            _("The abolition date must be after the effective date (%(date)s).")
            % {"date": method.effective_date.isoformat()},
            field="abolished_date",
        )
    _supersession_checked(method)
    duplicate = Method.objects.filter(code__iexact=method.code, year=method.year)
    if method.pk is not None:
        duplicate = duplicate.exclude(pk=method.pk)
    if duplicate.exists():
        raise ServiceError(
            _("%(code)s-%(year)s is in the library already.")
            % {"code": method.code, "year": method.year},
            code=CoreRefusal.DUPLICATE,
            field="code",
        )


def _pdf_stored(upload):
    document = document_store(upload, field="file")
    if document.content_type != "application/pdf":
        raise ServiceError(_("The text of a method must be a PDF file."), field="file")
    return document


def _relations_set(method: Method, relations: dict[str, Iterable | None]) -> None:
    for name, values in relations.items():
        if values is not None:
            getattr(method, name).set(list(values))


def _split(data: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Iterable | None]]:
    data = dict(data)
    relations = {name: data.pop(name) for name in METHOD_RELATIONS if name in data}
    return data, relations


@service("method.create")
def method_create(*, data: dict[str, Any], upload=None, actor: Any, reason: str = "") -> Method:
    """Add a regulation or specification to the library (R6.7a, R6.8a): kind, code, year,
    title, dates, successor, services, disciplines and instrument categories (`data`), and its
    text as a PDF (`upload`, optional). The effective date is required; an abolition date must
    come after it; the successor must be another method taking effect later, with no circle;
    code and year together are unique."""
    check_editor(actor)
    return _method_written(Method(), data, upload)


@service("method.update")
def method_update(
    *, method: Method, data: dict[str, Any], upload=None, actor: Any, reason: str = ""
) -> Method:
    """Edit a method of the library (R6.8a: kept current); fields not named keep their value.
    The same rules as `method_create` apply, and a method it supersedes must still take
    effect before it. A new PDF replaces the link to the old one (the old file is kept)."""
    check_editor(actor)
    return _method_written(Method.objects.select_for_update().get(pk=method.pk), data, upload)


def _method_written(method: Method, data: dict[str, Any], upload) -> Method:
    """`data` copied onto the method, checked by the library's rules, its PDF attached, saved
    with its relations (method_create and method_update)."""
    fields, relations = _split(data)
    fields_copied(method, fields, METHOD_FIELDS)
    _method_checked(method)
    if upload is not None:
        method.attach(_pdf_stored(upload))
    method.save()
    _relations_set(method, relations)
    return method


@service("method.file_attach")
def method_file_attach(*, method: Method, upload, actor: Any, reason: str = "") -> Method:
    """Attach the text of a method (a PDF), kept by its SHA-256 and never overwritten."""
    check_editor(actor)
    method = Method.objects.select_for_update().get(pk=method.pk)
    method.attach(_pdf_stored(upload))
    method.save(update_fields=["file_sha256", "file_name", "file_type", "updated_at"])
    return method


# --- instrument categories ------------------------------------------------------------------


def _category_checked(category: InstrumentCategory) -> None:
    validated(category, unique=False, constraints=False)
    duplicate = InstrumentCategory.objects.filter(code__iexact=category.code)
    if category.pk is not None:
        duplicate = duplicate.exclude(pk=category.pk)
    if duplicate.exists():
        raise ServiceError(
            _("The category code %(code)s is taken already.") % {"code": category.code},
            code=CoreRefusal.DUPLICATE,
            field="code",
        )


@service("instrument_category.create")
def category_create(*, data: dict[str, Any], actor: Any, reason: str = "") -> InstrumentCategory:
    """Add an instrument category (器具类别) that methods and authorised items cover."""
    check_editor(actor)
    category = InstrumentCategory()
    fields_copied(category, data, CATEGORY_FIELDS)
    _category_checked(category)
    category.save()
    return category


@service("instrument_category.update")
def category_update(
    *, category: InstrumentCategory, data: dict[str, Any], actor: Any, reason: str = ""
) -> InstrumentCategory:
    """Edit an instrument category; fields not named keep their value."""
    check_editor(actor)
    category = InstrumentCategory.objects.select_for_update().get(pk=category.pk)
    fields_copied(category, data, CATEGORY_FIELDS)
    _category_checked(category)
    category.save()
    return category
