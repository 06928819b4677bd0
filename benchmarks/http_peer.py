"""The bare peer of `bench_http.py` (issue 17): Django + django-ninja with one operation,
`GET /health`, no middleware, no database, under the same uvicorn as the product:

    uvicorn http_peer:app --app-dir benchmarks --workers 2 --port 8001
"""

from __future__ import annotations

import django
from django.conf import settings

if not settings.configured:
    settings.configure(
        DEBUG=False,
        SECRET_KEY="bench-peer-not-a-secret",  # noqa: S106 - a local benchmark's peer
        ALLOWED_HOSTS=["*"],
        ROOT_URLCONF=__name__,
        MIDDLEWARE=[],
        INSTALLED_APPS=[],
        DATABASES={},
        USE_TZ=True,
    )
    django.setup()

from django.core.asgi import get_asgi_application
from django.urls import path
from ninja import NinjaAPI

api = NinjaAPI(docs_url=None, openapi_url=None)


@api.get("/health")
def health(request):
    return {"status": "ok"}


urlpatterns = [path("", api.urls)]
app = get_asgi_application()
