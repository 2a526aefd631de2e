"""Every route module's handlers. An area adds its module here."""

from app.routes import (  # noqa: I001  # noqa: I001
    admin,
    auth,
    calls,
    cases,
    cases_api,
    field_api,
    health,
    home,
    households,
    lists,
    mediations,
    org_api,
    pwa,
    tasks,
    visits,
)

ROUTE_HANDLERS = [
    *health.ROUTES,
    *auth.ROUTES,
    *home.ROUTES,
    *org_api.ROUTES,
    *cases.ROUTES, *cases_api.ROUTES, *lists.ROUTES,
    *admin.ROUTES,
    *pwa.ROUTES,
    *visits.ROUTES, *calls.ROUTES, *mediations.ROUTES, *households.ROUTES, *tasks.ROUTES,
    *field_api.ROUTES,
]

from app.routes import key_persons, risks, text_api, warnings  # noqa: E402  (smart platform)

ROUTE_HANDLERS += [*text_api.ROUTES, *risks.ROUTES, *key_persons.ROUTES, *warnings.ROUTES]

from app.routes import dashboard, rollups_api  # noqa: E402  (roll-ups)

ROUTE_HANDLERS += [*dashboard.ROUTES, *rollups_api.ROUTES]

from app.routes import forecasts, overview  # noqa: E402  (forecasts, situation overview)

ROUTE_HANDLERS += [*forecasts.ROUTES, *overview.ROUTES]

from app.routes import ops  # noqa: E402  (operations: /metrics)

ROUTE_HANDLERS += ops.ROUTES
