"""Definitions kept as versions that a second person reviews and the technical manager approves
before use (R6.2d, R4.4; T/CMA CC045-2020 template review): record templates (records) and
instrument procedures (instruments) live this one life.

    DRAFT (its author edits it; one version in progress per definition at a time)
      → IN_REVIEW (the author submits it)
      → reviewed (a checker or the technical manager, never the author; "return" sends it
        back to DRAFT with a note)
      → APPROVED (the technical manager, neither the author nor the reviewer); the version
        approved before it is RETIRED.

Approved and retired versions never change: `VersionLife` refuses, and each app's migration
installs a database trigger that refuses an UPDATE of their definition or digest, or a move
back to draft or review.

- `VersionStatus`, `ReviewedVersion` (the abstract model of a version), `definition_digest`;
- `VersionLife`: the rules of one kind of version (its model, its refusal codes, who reviews
  and approves it), used by the app's services after their own checks of the definition.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from metrolab.core.components import register_tones
from metrolab.core.context import current_service
from metrolab.core.errors import Refusal
from metrolab.core.models import AuditedModel
from metrolab.core.permissions import holds, is_system, person, require_person
from metrolab.core.service import ServiceError
from metrolab.core.text import NOTE, text_checked

# The note the loaders store on a built-in definition's versions (data: kept as written).
BUILTIN_NOTE = "built-in"
APPROVE, RETURN = "approve", "return"


class VersionStatus(models.TextChoices):
    DRAFT = "draft", gettext_lazy("draft")
    IN_REVIEW = "in_review", gettext_lazy("in review")
    APPROVED = "approved", gettext_lazy("approved")
    RETIRED = "retired", gettext_lazy("retired")


FINAL = (VersionStatus.APPROVED, VersionStatus.RETIRED)
OPEN = (VersionStatus.DRAFT, VersionStatus.IN_REVIEW)

register_tones(
    VersionStatus,
    {
        VersionStatus.DRAFT: "neutral",
        VersionStatus.IN_REVIEW: "yellow",
        VersionStatus.APPROVED: "green",
        VersionStatus.RETIRED: "neutral",
    },
)


def definition_digest(definition: Mapping[str, Any]) -> str:
    """SHA-256 of the canonical JSON of a definition (sorted keys, no spaces, UTF-8): what a
    version's `digest` holds, and what records, runs and caches compare."""
    text = json.dumps(definition, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# The states a list of versioned definitions filters on: with an approved version, with a
# version in progress (a draft or in review), with none approved yet.
STATES = ("approved", "in_progress", "none_approved")


def state_condition(model: type[ReviewedVersion], parent: str, state: str):
    """The condition on the parents (templates, procedures) of `model`'s versions in `state`
    (one of STATES), for `queryset.filter(...)`."""
    approved = models.Exists(
        model.objects.filter(**{parent: models.OuterRef("pk")}, status=VersionStatus.APPROVED)
    )
    open_ = models.Exists(model.objects.filter(**{parent: models.OuterRef("pk")}, status__in=OPEN))
    return {"approved": approved, "in_progress": open_, "none_approved": ~approved}[state]


def definition_refusal(errors: dict[str, list[str]], *, code: Refusal) -> ServiceError:
    """The refusal of a definition that does not compile: every problem with its path
    (`errors`, "" for the whole), the count and the first in the message."""
    count = sum(len(m) for m in errors.values())
    path, messages = next(iter(errors.items()))
    return ServiceError(
        _("The definition is not valid (%(count)d problems; the first: %(first)s).")
        % {"count": count, "first": f"{path}: {messages[0]}" if path else messages[0]},
        code=code,
        field=path or None,
        errors=errors,
    )


class ReviewedVersion(AuditedModel):
    """One version of a definition, with who wrote, reviewed and approved it and when. The
    concrete model adds the foreign key to what it is a version of, its Meta and
    `builtin_note_shown` (how pages show the loader's note)."""

    Status = VersionStatus

    number = models.PositiveIntegerField(gettext_lazy("version"))
    definition = models.JSONField(gettext_lazy("definition"), default=dict)
    digest = models.CharField(gettext_lazy("SHA-256 of the definition"), max_length=64, blank=True)
    status = models.CharField(
        gettext_lazy("status"),
        max_length=10,
        choices=VersionStatus,
        default=VersionStatus.DRAFT,
        db_index=True,
    )
    note = models.TextField(gettext_lazy("what changed"), max_length=NOTE, blank=True)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=gettext_lazy("author"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    submitted_at = models.DateTimeField(
        gettext_lazy("submitted for review at"), null=True, blank=True
    )
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=gettext_lazy("reviewed by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    reviewed_at = models.DateTimeField(gettext_lazy("reviewed at"), null=True, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=gettext_lazy("approved by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    approved_at = models.DateTimeField(gettext_lazy("approved at"), null=True, blank=True)
    # The reviewer's note: why the version was returned to its author, or a remark on review.
    review_note = models.TextField(gettext_lazy("review note"), max_length=NOTE, blank=True)

    builtin_note_shown: Any = ""

    class Meta:
        abstract = True

    @property
    def note_shown(self) -> str:
        """The note as pages show it: the loader's mark of a built-in version is translated."""
        if self.note == BUILTIN_NOTE:
            return str(self.builtin_note_shown)
        return self.note

    @property
    def in_progress(self) -> bool:
        return self.status in OPEN

    @property
    def final(self) -> bool:
        return self.status in FINAL


def version_note(note: str | None, *, required: bool = False, label: str = "") -> str:
    """A note checked against its limit; a return needs one. The call's audit events keep it
    as their reason."""
    note = (note or "").strip()
    text_checked(note, limit=NOTE, field="note", label=label or _("Note"))
    if required and not note:
        raise ServiceError(_("Give the reason (a note) for returning it."), field="note")
    call = current_service()
    if note and call is not None and not call.reason:
        call.reason = note  # the audit events of the call keep it
    return note


@dataclass(frozen=True)
class VersionLife:
    """The rules of one kind of version. `model` is a `ReviewedVersion` whose foreign key
    `parent` names what it is a version of; `refusal` the app's refusal codes (members
    IMMUTABLE, NOT_DRAFT, NOT_IN_REVIEW, DRAFT_OPEN, NOT_REVIEWED, ALREADY_REVIEWED,
    NOT_AUTHOR, SELF_REVIEW, SELF_APPROVAL); `reviewers` / `approvers` the roles, with the
    messages refusing anyone else."""

    model: type[ReviewedVersion]
    parent: str
    refusal: type[Refusal]
    reviewers: tuple[str, ...]
    approvers: tuple[str, ...]
    review_forbidden: Any
    approve_forbidden: Any

    # --- checks ----------------------------------------------------------------------------

    def locked(self, version: ReviewedVersion) -> ReviewedVersion:
        return self.model.objects.select_for_update().select_related(self.parent).get(pk=version.pk)

    def editable(self, version: ReviewedVersion) -> None:
        """Only a draft changes; an approved or retired version never does."""
        if version.status in FINAL:
            raise ServiceError(
                _("Version %(version)s is %(status)s: it never changes; draft a new version.")
                % {"version": version.number, "status": version.get_status_display()},
                code=self.refusal.IMMUTABLE,
            )
        if version.status != VersionStatus.DRAFT:
            raise ServiceError(
                _("Version %(version)s is %(status)s: only a draft can be changed.")
                % {"version": version.number, "status": version.get_status_display()},
                code=self.refusal.NOT_DRAFT,
            )

    def author_only(self, version: ReviewedVersion, actor: Any) -> None:
        """Only the author edits and submits his draft (the system acts for the lab)."""
        if is_system(actor):
            return
        user = person(actor)
        if version.author_id is not None and (user is None or user.pk != version.author_id):
            raise ServiceError(
                _("Only the author of this draft, %(author)s, may change or submit it.")
                % {"author": version.author},
                code=self.refusal.NOT_AUTHOR,
            )

    def none_open(self, parent: Any, code: str) -> None:
        """Refused while a version of `parent` is a draft or in review."""
        open_version = (
            self.model.objects.filter(**{self.parent: parent}, status__in=OPEN)
            .order_by("-number")
            .first()
        )
        if open_version is not None:
            raise ServiceError(
                _("Version %(version)s of %(template)s is still %(status)s: finish it first.")
                % {
                    "version": open_version.number,
                    "template": code,
                    "status": open_version.get_status_display(),
                },
                code=self.refusal.DRAFT_OPEN,
            )

    def next_number(self, parent: Any) -> int:
        found = self.model.objects.filter(**{self.parent: parent}).aggregate(n=Max("number"))
        return (found["n"] or 0) + 1

    def _in_review(self, version: ReviewedVersion) -> None:
        if version.status in FINAL:
            raise ServiceError(
                _("Version %(version)s is %(status)s already.")
                % {"version": version.number, "status": version.get_status_display()},
                code=self.refusal.IMMUTABLE,
            )
        if version.status != VersionStatus.IN_REVIEW:
            raise ServiceError(
                _("Version %(version)s is not submitted for review.") % {"version": version.number},
                code=self.refusal.NOT_IN_REVIEW,
            )

    def next_steps(self, user: Any, version: ReviewedVersion) -> dict[str, bool]:
        """Which step of the life `user` may take on `version` now (what a page offers; the
        services check again): submit (its author, a draft), review (a reviewer or an
        approver other than the author, in review), approve (an approver who neither wrote
        nor reviewed it, reviewed)."""
        is_author = version.author_id is not None and version.author_id == user.pk
        in_review = version.status == VersionStatus.IN_REVIEW
        return {
            "is_author": is_author,
            "submit": version.status == VersionStatus.DRAFT and is_author,
            "review": in_review
            and holds(user, (*self.reviewers, *self.approvers))
            and not is_author,
            "approve": in_review
            and version.reviewed_at is not None
            and holds(user, self.approvers)
            and user.pk not in (version.author_id, version.reviewed_by_id),
        }

    # --- steps -----------------------------------------------------------------------------

    def draft(
        self, parent: Any, definition: Mapping[str, Any], note: str, actor: Any
    ) -> ReviewedVersion:
        """A new DRAFT version of `parent` by `actor` with the (checked) definition."""
        version = self.model(
            **{self.parent: parent},
            number=self.next_number(parent),
            definition=definition,
            digest=definition_digest(definition),
            status=VersionStatus.DRAFT,
            note=version_note(note),
            author=person(actor),
        )
        version.save()
        return version

    def save_draft(
        self,
        version: ReviewedVersion,
        *,
        checked: Callable[[ReviewedVersion], dict[str, Any]],
        note: str | None,
        actor: Any,
    ) -> ReviewedVersion:
        """Save a DRAFT (its author only) with the definition `checked(version)` returns (it
        refuses one that does not compile: nothing changes)."""
        version = self.locked(version)
        self.editable(version)
        self.author_only(version, actor)
        definition = checked(version)
        version.definition = definition
        version.digest = definition_digest(definition)
        if note is not None:
            version.note = version_note(note)
        version.save()
        return version

    def submit(
        self,
        version: ReviewedVersion,
        *,
        check: Callable[[ReviewedVersion], Any],
        note: str | None,
        actor: Any,
    ) -> ReviewedVersion:
        """The author submits his DRAFT for review (→ IN_REVIEW) once `check(version)` passes."""
        require_person(actor)
        version = self.locked(version)
        self.editable(version)
        self.author_only(version, actor)
        check(version)
        if note is not None:
            version.note = version_note(note)
        version.status = VersionStatus.IN_REVIEW
        version.submitted_at = timezone.now()
        version.reviewed_by = None
        version.reviewed_at = None
        version.review_note = ""
        version.save()
        return version

    def review(
        self, version: ReviewedVersion, *, decision: str, note: str, actor: Any
    ) -> ReviewedVersion:
        """A second person reviews a version IN_REVIEW: a reviewer or an approver, never its
        author. "approve" marks it reviewed; "return" sends it back to DRAFT with the note
        (required), also after the review, until it is approved."""
        if decision not in (APPROVE, RETURN):
            raise ServiceError(
                _("The decision is %(approve)s or %(return)s.")
                % {"approve": APPROVE, "return": RETURN},
                field="decision",
            )
        reviewer = require_person(
            actor, (*self.reviewers, *self.approvers), message=str(self.review_forbidden)
        )
        version = self.locked(version)
        self._in_review(version)
        if version.author_id == reviewer.pk:
            raise ServiceError(
                _("You wrote this version: another person must review it."),
                code=self.refusal.SELF_REVIEW,
            )
        note = version_note(note, required=decision == RETURN)
        now = timezone.now()
        if decision == RETURN:
            version.status = VersionStatus.DRAFT
        elif version.reviewed_at is not None:
            raise ServiceError(
                _("Version %(version)s was reviewed by %(reviewer)s already.")
                % {"version": version.number, "reviewer": version.reviewed_by},
                code=self.refusal.ALREADY_REVIEWED,
            )
        version.reviewed_by = reviewer
        version.reviewed_at = now
        version.review_note = note
        version.save()
        return version

    def approver(self, actor: Any):
        return require_person(actor, self.approvers, message=str(self.approve_forbidden))

    def approve(self, version: ReviewedVersion, *, approver: Any, check) -> ReviewedVersion:
        """The (locked) reviewed version is approved by `approver`, neither its author nor its
        reviewer, once `check(version)` passes (the definition checked again)."""
        self._in_review(version)
        if version.reviewed_at is None:
            raise ServiceError(
                _("Version %(version)s has not been reviewed yet.") % {"version": version.number},
                code=self.refusal.NOT_REVIEWED,
            )
        if approver.pk in (version.author_id, version.reviewed_by_id):
            raise ServiceError(
                _("You wrote or reviewed this version: another technical manager must approve it."),
                code=self.refusal.SELF_APPROVAL,
            )
        check(version)
        return self.approved(version, approver)

    def approved(self, version: ReviewedVersion, approver: Any) -> ReviewedVersion:
        """Approve `version` and retire the version of its parent approved before it."""
        parent_id = getattr(version, f"{self.parent}_id")
        for previous in (
            self.model.objects.select_for_update()
            .filter(**{f"{self.parent}_id": parent_id}, status=VersionStatus.APPROVED)
            .exclude(pk=version.pk)
        ):
            previous.status = VersionStatus.RETIRED
            previous.save(update_fields=["status", "updated_at"])
        version.status = VersionStatus.APPROVED
        version.approved_by = approver
        version.approved_at = timezone.now()
        version.save()
        return version

    def load_builtin(
        self, parent: Any, definition: Mapping[str, Any], approver: Any
    ) -> ReviewedVersion:
        """A built-in definition as a new version of `parent`, approved by the system at load
        (note "built-in"); the version approved before it retires."""
        version = self.model(
            **{self.parent: parent},
            number=self.next_number(parent),
            definition=dict(definition),
            digest=definition_digest(definition),
            status=VersionStatus.IN_REVIEW,
            note=BUILTIN_NOTE,
            author=None,
            submitted_at=timezone.now(),
        )
        version.save()
        return self.approved(version, approver)


__all__ = [
    "APPROVE",
    "BUILTIN_NOTE",
    "FINAL",
    "OPEN",
    "RETURN",
    "STATES",
    "ReviewedVersion",
    "VersionLife",
    "VersionStatus",
    "definition_digest",
    "definition_refusal",
    "state_condition",
    "version_note",
]
