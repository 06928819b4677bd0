from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _
from django_tasks_db.apps import TasksAppConfig

#: The empty first choice of a drop-down that asks for a choice: "— 请选择 —" in Chinese,
#: instead of Django's "- Select an option -" (or "---------").
SELECT_PLACEHOLDER = _("— Select —")


class CoreConfig(AppConfig):
    """Platform core: users and roles, access policy, audit log, organisation profile, API."""

    default = True  # TasksDatabaseConfig below is for INSTALLED_APPS' django_tasks_db
    name = "metrolab.core"
    label = "core"
    verbose_name = _("Platform")

    def ready(self):
        from django.db.models import fields

        # Django's hook for the empty choice of every drop-down, model and form fields alike;
        # first, before any form is built.
        fields.BLANK_CHOICE_LABEL = SELECT_PLACEHOLDER

        from metrolab.core import access, audit_receivers, services

        audit_receivers.connect()
        access.connect_token_cache_invalidation()
        post_migrate.connect(_after_migrate, dispatch_uid="metrolab-core-after-migrate")
        del services


def _after_migrate(sender, app_config=None, using="default", **kwargs):
    # Sent once per app (by `migrate`, and by `flush` between transactional tests); the
    # permissions of every app exist by the last one, so the roles are synchronised then, once.
    from django.apps import apps

    from metrolab.core.permissions import SYSTEM
    from metrolab.core.services import roles_sync

    with_models = [config for config in apps.get_app_configs() if config.models_module]
    if app_config is not None and with_models and app_config is not with_models[-1]:
        return
    roles_sync(actor=SYSTEM)


class TasksDatabaseConfig(TasksAppConfig):
    """The background-task results store (django-tasks-db), named in the user's language in
    the back office."""

    verbose_name = _("Background tasks")
