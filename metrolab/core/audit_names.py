"""Names a person reads for the codes the audit log stores (R7.2): an action code
(`customer.create`, `auth.login`) and an object type (a model label, `core.user`).

The log keeps the codes (the hash chain covers them, and the API returns them); the page and
the API add these translated names beside them.
"""

from __future__ import annotations

from django.apps import apps
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

# Every action code the platform records: service names (`@service("...")`) and the events
# recorded outside services (sign-in, roles). A test checks that each service has a name here.
ACTIONS = {
    "calculator.evaluation_save": _lazy("Save uncertainty evaluation"),
    "equipment.control_reconcile": _lazy("Apply the statistical-control rule"),
    "item.receive_batch": _lazy("Receive identical items"),
    "task.assign_many": _lazy("Assign several tasks"),
    "task.submit": _lazy("Submit task for data check"),
    "task.return_to_work": _lazy("Return task to work"),
    "task.finish": _lazy("Finish task"),
    "task.stop": _lazy("Stop work on task"),
    "record.create": _lazy("Create original record"),
    "record.write": _lazy("Write record values"),
    "record.set_roles": _lazy("Set the roles of the record's equipment"),
    "record.submit": _lazy("Submit record for check"),
    "record.check": _lazy("Check record"),
    "record.approve": _lazy("Approve record"),
    "record.return": _lazy("Return record"),
    "record.cancel": _lazy("Cancel record"),
    "record.amend": _lazy("Amend record"),
    "record.delete": _lazy("Delete record"),
    "certificate.queue": _lazy("Queue certificate for issue"),
    "certificate.batch_issue": _lazy("Issue certificates in a batch"),
    "certificate.issue": _lazy("Issue certificate"),
    "certificate.issue_failed": _lazy("Certificate issue failed"),
    "certificate.retry": _lazy("Retry certificate issue"),
    "certificate.revoke": _lazy("Revoke certificate"),
    "certificate.replace": _lazy("Replace certificate"),
    "certificate.download": _lazy("Download certificate"),
    "instrument.connection_set": _lazy("Set instrument connection"),
    "instrument.identify": _lazy("Identify instrument"),
    "instrument.self_test": _lazy("Run instrument self-test"),
    "instrument.run_start": _lazy("Start procedure run"),
    "instrument.run_confirm": _lazy("Confirm procedure prompt"),
    "instrument.run_pause": _lazy("Pause procedure run"),
    "instrument.run_resume": _lazy("Resume procedure run"),
    "instrument.run_abort": _lazy("Abort procedure run"),
    "record_template.create": _lazy("Create record template"),
    "record_template.draft": _lazy("Draft record template version"),
    "record_template.save": _lazy("Save record template draft"),
    "record_template.submit": _lazy("Submit record template version for review"),
    "record_template.review": _lazy("Review record template version"),
    "record_template.approve": _lazy("Approve record template version"),
    "record_template.load_builtin": _lazy("Load built-in record templates"),
    "procedure.create": _lazy("Create procedure"),
    "procedure.draft": _lazy("Draft procedure version"),
    "procedure.save": _lazy("Save procedure draft"),
    "procedure.submit": _lazy("Submit procedure version for review"),
    "procedure.review": _lazy("Review procedure version"),
    "procedure.approve": _lazy("Approve procedure version"),
    "procedure.load_builtin": _lazy("Load built-in procedures"),
    "actuator.command": _lazy("Actuator command"),
    "actuator.command_delivered": _lazy("Actuator command delivered"),
    "alarm.acknowledge": _lazy("Acknowledge alarm"),
    "alarm.clear": _lazy("Clear alarm"),
    "alarm.raise": _lazy("Raise alarm"),
    "api_token.create": _lazy("Issue API token"),
    "api_token.revoke": _lazy("Revoke API token"),
    "audit.anchor": _lazy("Anchor audit chain"),
    "audit.chain_alert": _lazy("Audit chain alert"),
    "audit.verification_finish": _lazy("Finish audit chain verification"),
    "audit.verification_progress": _lazy("Audit chain verification progress"),
    "audit.verification_request": _lazy("Request audit chain verification"),
    "auth.login": _lazy("Sign in"),
    "auth.logout": _lazy("Sign out"),
    "auth.login_failed": _lazy("Failed sign-in"),
    "auth.login_failed_summary": _lazy("Failed sign-ins (summary)"),
    "auth.signin_delayed": _lazy("Sign-in delayed"),
    "auth.signin_release": _lazy("Release sign-in delay"),
    "auth.second_factor": _lazy("Second factor"),
    "authorisation.grant": _lazy("Grant authorisation"),
    "authorisation.revoke": _lazy("Revoke authorisation"),
    "authorised_item.create": _lazy("Add authorised item"),
    "authorised_item.update": _lazy("Edit authorised item"),
    "commission.cancel": _lazy("Cancel commission"),
    "commission.create": _lazy("Create commission"),
    "commission.review": _lazy("Review commission"),
    "commission.status_refresh": _lazy("Refresh commission status"),
    "contact.create": _lazy("Add contact"),
    "contact.delete": _lazy("Delete contact"),
    "contact.update": _lazy("Edit contact"),
    "customer.create": _lazy("Create customer"),
    "customer.delete": _lazy("Delete customer"),
    "customer.update": _lazy("Edit customer"),
    "delivery.attempt_start": _lazy("Start notification delivery"),
    "delivery.failed": _lazy("Notification delivery failed"),
    "delivery.sent": _lazy("Notification delivered"),
    "demo.seed": _lazy("Seed demo data"),
    "demo.seed_commissions": _lazy("Seed demo commissions"),
    "demo.seed_environment": _lazy("Seed demo environment"),
    "demo.seed_equipment": _lazy("Seed demo equipment"),
    "demo.seed_flow": _lazy("Seed demo workflow"),
    "demo.seed_libraries": _lazy("Seed demo libraries"),
    "demo.seed_methods": _lazy("Seed demo methods"),
    "demo.seed_qualifications": _lazy("Seed demo qualifications"),
    "demo.seed_records": _lazy("Seed demo original records"),
    "demo.seed_certificates": _lazy("Seed demo certificates"),
    "demo.seed_instruments": _lazy("Seed demo instruments"),
    "deviation.accept": _lazy("Accept deviation"),
    "deviation.acceptance_upload": _lazy("Upload deviation acceptance"),
    "deviation.authorise": _lazy("Authorise deviation"),
    "deviation.decline": _lazy("Decline deviation"),
    "deviation.refuse": _lazy("Refuse deviation"),
    "deviation.request": _lazy("Request deviation"),
    "equipment.booking_cancel": _lazy("Cancel equipment booking"),
    "equipment.booking_create": _lazy("Book equipment"),
    "equipment.calibration_add": _lazy("Add equipment calibration"),
    "equipment.calibration_confirm": _lazy("Confirm equipment calibration"),
    "equipment.check_plan_create": _lazy("Create intermediate check plan"),
    "equipment.check_plan_update": _lazy("Edit intermediate check plan"),
    "equipment.check_result_add": _lazy("Add intermediate check result"),
    "equipment.create": _lazy("Create equipment"),
    "equipment.locate": _lazy("Locate equipment"),
    "equipment.locate_by_tag": _lazy("Locate equipment by tag"),
    "equipment.maintenance_add": _lazy("Add equipment maintenance"),
    "equipment.set_status": _lazy("Change equipment status"),
    "equipment.update": _lazy("Edit equipment"),
    "equipment.usage_close": _lazy("Close equipment usage"),
    "equipment.usage_close_for_task": _lazy("Close equipment usage for task"),
    "equipment.usage_record": _lazy("Record equipment usage"),
    "impact_review.close": _lazy("Close impact review"),
    "impact_review.open": _lazy("Open impact review"),
    "instrument.register": _lazy("Register instrument"),
    "instrument.remind": _lazy("Remind of instrument due"),
    "instrument.served": _lazy("Instrument served"),
    "instrument.update": _lazy("Edit instrument"),
    "instrument_category.create": _lazy("Create instrument category"),
    "instrument_category.update": _lazy("Edit instrument category"),
    "item.awaiting_return": _lazy("Item awaiting return"),
    "item.dispose": _lazy("Dispose of item"),
    "item.in_testing": _lazy("Item in testing"),
    "item.media_add": _lazy("Add item photo"),
    "item.move": _lazy("Move item"),
    "item.receive": _lazy("Receive item"),
    "item.return": _lazy("Return item"),
    "item.tag_bind": _lazy("Bind item tag"),
    "item.tag_unbind": _lazy("Unbind item tag"),
    "item_number.allocate": _lazy("Allocate item number"),
    "measurement_standard.create": _lazy("Create measurement standard"),
    "measurement_standard.update": _lazy("Edit measurement standard"),
    "method.create": _lazy("Create method"),
    "method.file_attach": _lazy("Attach method file"),
    "method.update": _lazy("Edit method"),
    "notification.create": _lazy("Create notification"),
    "notification.mark_all_read": _lazy("Mark all notifications read"),
    "notification.mark_read": _lazy("Mark notification read"),
    "organisation.update": _lazy("Edit organisation"),
    "personnel_certificate.add": _lazy("Add personnel certificate"),
    "personnel_certificate.update": _lazy("Edit personnel certificate"),
    "portal_account.create": _lazy("Create portal account"),
    "portal_account.link": _lazy("Link portal account"),
    "risk.alerts_send": _lazy("Send risk alerts"),
    "role.create": _lazy("Create role"),
    "role.delete": _lazy("Delete role"),
    "role.rename": _lazy("Rename role"),
    "roles.sync": _lazy("Synchronise roles"),
    "staff_profile.create": _lazy("Create staff profile"),
    "staff_profile.update": _lazy("Edit staff profile"),
    "task.assign": _lazy("Assign task"),
    "task.create_for_item": _lazy("Create task for item"),
    "task.start": _lazy("Start task"),
    "totp.begin": _lazy("Begin two-factor setup"),
    "totp.disable": _lazy("Disable two-factor sign-in"),
    "totp.enable": _lazy("Enable two-factor sign-in"),
    "training_record.add": _lazy("Add training record"),
    "user.create": _lazy("Create user"),
    "user.roles_set": _lazy("Set user roles"),
    "user.roles.add": _lazy("Add user roles"),
    "user.roles.remove": _lazy("Remove user roles"),
}

# Events a model records when saved outside a service: `<app>.<model>.<operation>`.
OPERATIONS = {
    "create": _lazy("create"),
    "update": _lazy("edit"),
    "delete": _lazy("delete"),
}


def model_name(label: str, *, plural: bool = False) -> str | None:
    """A model's translated verbose name from its label (`core.user` → 用户), or None."""
    try:
        model = apps.get_model(label)
    except (LookupError, ValueError):
        return None
    return str(model._meta.verbose_name_plural if plural else model._meta.verbose_name)


def action_name(code: str) -> str:
    """The translated name of an action code; the code itself when none is known."""
    if code in ACTIONS:
        return str(ACTIONS[code])
    label, _sep, operation = code.rpartition(".")
    if operation in OPERATIONS and label.count(".") == 1:
        name = model_name(label)
        if name:
            return _("%(object)s: %(operation)s") % {
                "object": name,
                "operation": OPERATIONS[operation],
            }
    return code


def object_type_name(code: str) -> str:
    """The translated name of an object type (a model label); the code when none is known."""
    return (model_name(code) or code) if code else ""
