"""Background tasks of notifications (django.tasks): thin wrappers over services (R6.1c)."""

from django.tasks import task

from metrolab.notifications import services


@task()
def delivery_attempt_task(delivery_id: int) -> str:
    """Send one delivery; a retryable failure queues the next attempt itself."""
    return services.delivery_attempt(delivery_id)
