"""The JSON API at /api/v1/: one NinjaAPI, a router per app (mounted here)."""

from metrolab import __version__
from metrolab.calculator.api import router as calculator_router
from metrolab.certificates.api import router as certificates_router
from metrolab.certificates.public_api import router as certificates_public_router
from metrolab.commissions.api import public_router
from metrolab.commissions.api import router as commissions_router
from metrolab.core import api_errors
from metrolab.core.access import UndeclaredAccess, public
from metrolab.core.api import router as core_router
from metrolab.core.api_contract import MetrolabAPI, ObjectBodyParser, StrictJSONRenderer
from metrolab.customers.api import router as customers_router
from metrolab.environment.api import router as environment_router
from metrolab.equipment.api import router as equipment_router
from metrolab.instruments.api import router as instruments_router
from metrolab.items.api import router as items_router
from metrolab.methods.api import router as methods_router
from metrolab.notifications.api import router as notifications_router
from metrolab.qualifications.api import router as qualifications_router
from metrolab.records.api import router as records_router
from metrolab.records.template_api import router as record_templates_router
from metrolab.risk.api import router as risk_router
from metrolab.tasks.api import router as tasks_router

api = MetrolabAPI(
    title="MetroLab API",
    version=f"1 ({__version__})",
    description="The intelligent metrology laboratory platform. Authenticate with the browser "
    "session or `Authorization: Bearer <API token>`.",
    urls_namespace="api-1",
    auth=UndeclaredAccess(),
    docs_url="/docs",
    docs_decorator=public,
    openapi_url="/openapi.json",
    parser=ObjectBodyParser(),
    renderer=StrictJSONRenderer(),
)
api_errors.install(api)
api.add_router("/", core_router)
api.add_router("/calc/", calculator_router)
api.add_router("/customers/", customers_router)
api.add_router("/commissions/", commissions_router)
api.add_router("/public/", public_router)
api.add_router("/public/certificates/", certificates_public_router)
api.add_router("/items/", items_router)
api.add_router("/tasks/", tasks_router)
api.add_router("/notifications/", notifications_router)
api.add_router("/methods/", methods_router)
api.add_router("/equipment/", equipment_router)
api.add_router("/qualifications/", qualifications_router)
api.add_router("/risk/", risk_router)
api.add_router("/environment/", environment_router)
api.add_router("/records/", records_router)
api.add_router("/record-templates/", record_templates_router)
api.add_router("/certificates/", certificates_router)
api.add_router("/instruments/", instruments_router)
