"""The API's shape of a reviewed version's life (core/versions.py), shared by record templates
and procedures: who wrote, submitted, reviewed and approved it and when, and a definition's
problems by path."""

from __future__ import annotations

import datetime as dt

from ninja import Schema

from metrolab.core.versions import ReviewedVersion


class VersionSummary(Schema):
    number: int
    status: str
    status_label: str
    digest: str
    note: str
    review_note: str
    author: str | None
    submitted_at: dt.datetime | None
    reviewed_by: str | None
    reviewed_at: dt.datetime | None
    approved_by: str | None  # None with approved_at set: approved by the system (built-in)
    approved_at: dt.datetime | None


class PathErrors(Schema):
    path: str
    messages: list[str]


def _name(user) -> str | None:
    return str(user) if user is not None else None


def version_summary(v: ReviewedVersion) -> dict:
    return {
        "number": v.number,
        "status": v.status,
        "status_label": str(v.get_status_display()),
        "digest": v.digest,
        "note": v.note,
        "review_note": v.review_note,
        "author": _name(v.author),
        "submitted_at": v.submitted_at,
        "reviewed_by": _name(v.reviewed_by),
        "reviewed_at": v.reviewed_at,
        "approved_by": _name(v.approved_by),
        "approved_at": v.approved_at,
    }


def path_errors(errors: dict[str, list[str]]) -> list[dict]:
    return [{"path": path, "messages": messages} for path, messages in errors.items()]
