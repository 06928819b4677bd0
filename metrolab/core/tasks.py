"""Background tasks of the core (django.tasks): thin wrappers over services."""

from django.tasks import task

from metrolab.core import services


@task()
def audit_verification_run_task(verification_id: int) -> str:
    return services.audit_verification_run(verification_id=verification_id).status
