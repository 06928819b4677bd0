"""Background tasks of certificates (django.tasks): thin wrappers over services."""

from __future__ import annotations

from django.tasks import task

from metrolab.certificates import services


@task()
def certificate_issue_task(certificate_id: int) -> str:
    """Render, sign and store one queued certificate (R6.3); returns its status."""
    return services.certificate_issue_run(certificate_id=certificate_id).status
