"""Every route module's handlers. An area adds its module here."""

from app.routes import admin, auth, health, home, org_api
from app.routes import pwa

ROUTE_HANDLERS = [
    *health.ROUTES,
    *auth.ROUTES,
    *home.ROUTES,
    *org_api.ROUTES,
    *admin.ROUTES,
    *pwa.ROUTES,
]
