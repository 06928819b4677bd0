"""The lab's roles (R4.4) as Django groups with permissions.

A role is a group whose name is the role code. `sync_roles` (run after every migrate) creates
the groups and gives each exactly the permissions listed here, so the mapping is code-reviewed
and auditable rather than clicked together. Later apps add their permissions to ROLE_PERMISSIONS.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class Role:
    code: str
    label: str
    description: str
    staff: bool = False  # may open the back office (Django admin)


ADMIN = "admin"
DIRECTOR = "director"
QUALITY_MANAGER = "quality_manager"
RECEPTIONIST = "receptionist"
METROLOGIST = "metrologist"
CHECKER = "checker"
APPROVER = "approver"
EQUIPMENT_MANAGER = "equipment_manager"
ITEM_KEEPER = "item_keeper"
DRIVER = "driver"
CUSTOMER = "customer"
REGULATOR = "regulator"
DEVICE = "device"

ROLES: dict[str, Role] = {
    r.code: r
    for r in [
        Role(ADMIN, _("Administrator"), _("Manages users, roles, master data and settings."), True),
        Role(DIRECTOR, _("Technical manager"), _("Directs the lab's technical work.")),
        Role(QUALITY_MANAGER, _("Quality manager"), _("Oversees the quality system and audits.")),
        Role(RECEPTIONIST, _("Receptionist"), _("Accepts commissions and receives items.")),
        Role(METROLOGIST, _("Metrologist"), _("Performs verification and calibration.")),
        Role(CHECKER, _("Checker"), _("Checks original records and results.")),
        Role(APPROVER, _("Approver"), _("Authorised signatory of certificates.")),
        Role(EQUIPMENT_MANAGER, _("Equipment manager"), _("Manages standards and equipment.")),
        Role(ITEM_KEEPER, _("Item keeper"), _("Keeps items in custody.")),
        Role(DRIVER, _("Driver"), _("Drives the lab's vehicles.")),
        Role(CUSTOMER, _("Customer"), _("A customer's portal account.")),
        Role(REGULATOR, _("Regulator"), _("A regulator overseeing the lab.")),
        Role(DEVICE, _("Device"), _("A machine client (instrument, sensor, reader).")),
    ]
}

# Permissions ("app_label.codename") each role holds. Views and API operations declare the
# roles or permissions they require (metrolab.core.access).
ROLE_PERMISSIONS: dict[str, set[str]] = {
    ADMIN: {
        "core.view_auditevent",
        "core.view_auditverification",
        "core.add_auditverification",
        "core.view_organisationprofile",
        "core.change_organisationprofile",
        "core.view_user",
        "core.add_user",
        "core.change_user",
        "core.view_apitoken",
        "core.add_apitoken",
        "core.change_apitoken",
        "auth.view_group",
        "notifications.view_delivery",
        "notifications.view_notification",
        "notifications.view_webhookendpoint",
        "notifications.add_webhookendpoint",
        "notifications.change_webhookendpoint",
        "notifications.delete_webhookendpoint",
        "items.view_storagelocation",
        "items.add_storagelocation",
        "items.change_storagelocation",
        "items.view_itemnumberrule",
        "items.add_itemnumberrule",
        "items.change_itemnumberrule",
        "tasks.view_task",
        "commissions.view_discipline",
        "commissions.add_discipline",
        "commissions.change_discipline",
        "commissions.delete_discipline",
        "commissions.view_pricelistentry",
        "commissions.add_pricelistentry",
        "commissions.change_pricelistentry",
        "commissions.delete_pricelistentry",
        "commissions.view_appointmentslot",
        "commissions.add_appointmentslot",
        "commissions.change_appointmentslot",
        "commissions.delete_appointmentslot",
        "commissions.view_commission",
        "customers.view_customer",
        "customers.add_customer",
        "customers.change_customer",
        "customers.view_contact",
        "customers.add_contact",
        "customers.change_contact",
        "customers.view_instrument",
        "customers.add_instrument",
        "customers.change_instrument",
        "customers.view_portalaccount",
        # The libraries of issue 5 are read-only in the back office (writes go through services).
        "methods.view_method",
        "methods.view_instrumentcategory",
        "methods.view_deviation",
        "equipment.view_equipment",
        "equipment.view_equipmentcalibration",
        "equipment.view_calibrationpoint",
        "equipment.view_intermediatecheckplan",
        "equipment.view_intermediatecheckresult",
        "equipment.view_maintenancerecord",
        "equipment.view_usagerecord",
        "equipment.view_booking",
        "equipment.view_locationevent",
        "equipment.view_measurementstandard",
        "qualifications.view_authoriseditem",
        "qualifications.view_staffprofile",
        "qualifications.view_personnelcertificate",
        "qualifications.view_trainingrecord",
        "qualifications.view_authorisation",
        "risk.view_impactreview",
        "risk.view_riskalertsent",
        # Environment master data (rooms, requirements, sensors, actuators, rules) is edited in the
        # back office; alarms and commands are only read there.
        "environment.view_room",
        "environment.add_room",
        "environment.change_room",
        "environment.view_requirement",
        "environment.add_requirement",
        "environment.change_requirement",
        "environment.view_sensor",
        "environment.add_sensor",
        "environment.change_sensor",
        "environment.view_ingestcounter",
        "environment.view_actuator",
        "environment.add_actuator",
        "environment.change_actuator",
        "environment.view_controlrule",
        "environment.add_controlrule",
        "environment.change_controlrule",
        "environment.view_alarm",
        "environment.view_command",
    },
    DIRECTOR: {"core.view_organisationprofile"},
    QUALITY_MANAGER: {
        "core.view_auditevent",
        "core.view_auditverification",
        "core.add_auditverification",
        "core.view_organisationprofile",
        "notifications.view_delivery",
    },
    RECEPTIONIST: set(),
    METROLOGIST: set(),
    CHECKER: set(),
    APPROVER: set(),
    EQUIPMENT_MANAGER: set(),
    ITEM_KEEPER: set(),
    DRIVER: set(),
    CUSTOMER: set(),
    REGULATOR: set(),
    DEVICE: set(),
}

STAFF_ROLES = frozenset(code for code, role in ROLES.items() if role.staff)
# The lab's own people (not customers, regulators or machine clients).
LAB_STAFF = (
    ADMIN,
    DIRECTOR,
    QUALITY_MANAGER,
    RECEPTIONIST,
    METROLOGIST,
    CHECKER,
    APPROVER,
    EQUIPMENT_MANAGER,
    ITEM_KEEPER,
    DRIVER,
)
