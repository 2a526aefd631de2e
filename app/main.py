"""The Litestar application factory."""

from __future__ import annotations

import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import asyncpg
from jinja2 import FileSystemLoader
from litestar import Litestar, Request, Response, Router
from litestar.contrib.jinja import JinjaTemplateEngine
from litestar.datastructures import State
from litestar.exceptions import (
    HTTPException,
    NotAuthorizedException,
    NotFoundException,
    PermissionDeniedException,
    ValidationException,
)
from litestar.logging.config import LoggingConfig
from litestar.openapi import OpenAPIConfig
from litestar.plugins.htmx import HTMXConfig, HTMXPlugin
from litestar.response import Redirect, Template
from litestar.static_files import create_static_files_router
from litestar.template.config import TemplateConfig

from app import db, i18n
from app.middleware import RequestMiddleware, csrf_config, security_headers
from app.routes import ROUTE_HANDLERS
from app.services import jobs
from app.settings import ROOT, Settings
from app.web import access_check, is_htmx

log = logging.getLogger("fengqiao")

TEMPLATE_DIR = Path(__file__).parent / "templates"
STATIC_DIR = ROOT / "static"


def _wants_html(request: Request) -> bool:
    return not request.url.path.startswith("/api/")


def unauthorized_handler(request: Request, exc: NotAuthorizedException) -> Response:
    if _wants_html(request):
        target = "/login?next=" + request.url.path
        if is_htmx(request):
            return Response("", status_code=401, headers={"HX-Redirect": target})
        return Redirect(path=target, status_code=303)
    return Response({"detail": i18n.gettext("Please log in."), "status_code": 401}, status_code=401)


def _security_headers(request: Request) -> dict[str, str]:
    """The security headers, for error pages Litestar answers before any route (and so before
    the request middleware): an unknown path's 404, a known path's 405. Inside the middleware
    they are already present, and it adds none twice."""
    pairs = security_headers(request.app.state.settings)
    return {k.decode(): v.decode() for k, v in pairs}


def _error_page(
    request: Request, status: int, message: str, headers: dict[str, str] | None = None
) -> Response:
    headers = {**(headers or {}), **_security_headers(request)}
    if _wants_html(request):
        return Template(
            template_name="error.html",
            context={"status": status, "message": message, "user": request.state.get("user")},
            status_code=status,
            headers=headers,
        )
    return Response({"detail": message, "status_code": status}, status_code=status, headers=headers)


def http_exception_handler(request: Request, exc: HTTPException) -> Response:
    status = exc.status_code
    if isinstance(exc, NotFoundException):
        message = i18n.gettext("Not found.")
    elif isinstance(exc, PermissionDeniedException):
        message = (
            i18n.gettext("The form has expired; reload the page and try again.")
            if "CSRF" in str(exc.detail)
            else i18n.gettext("You are not allowed to do this.")
        )
    elif isinstance(exc, ValidationException):
        return Response(
            {"detail": i18n.gettext("Invalid request."), "extra": exc.extra, "status_code": 400},
            status_code=400,
        )
    else:
        message = str(exc.detail)
    # the router's 405 names the allowed methods (Allow)
    return _error_page(request, status, message, exc.headers)


def database_down_handler(request: Request, exc: Exception) -> Response:
    log.error("database unavailable: %s", exc)
    return _error_page(
        request, 503, i18n.gettext("The service is briefly unavailable; please retry in a minute.")
    )


def bad_input_handler(request: Request, exc: Exception) -> Response:
    """Input PostgreSQL refuses (a NUL character, a number out of range): 400, never 500."""
    log.info("input refused by the database on %s: %s", request.url.path, exc)
    return _error_page(request, 400, i18n.gettext("Invalid request."))


def internal_error_handler(request: Request, exc: Exception) -> Response:
    if isinstance(
        exc,
        (
            OSError,
            asyncpg.CannotConnectNowError,
            asyncpg.ConnectionDoesNotExistError,
            asyncpg.InterfaceError,
        ),
    ):
        return database_down_handler(request, exc)
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return _error_page(request, 500, i18n.gettext("Something went wrong on our side."))


def logging_config() -> LoggingConfig:
    """Litestar's default logging, except that records are written by the thread that logs them.

    Litestar queues every record to a listener thread. With one access line per request, the
    queue's lock, the wake-up and the GIL hand-over cost more than the write itself. uvicorn's
    own access log also writes from the event loop.
    """
    return LoggingConfig(
        root={"handlers": ["console"], "level": "INFO"},
        loggers={"litestar": {"level": "INFO", "handlers": ["console"], "propagate": False}},
    )


def make_template_engine(auto_reload: bool = True) -> JinjaTemplateEngine:
    from app import templating

    env = templating.AppEnvironment(
        loader=FileSystemLoader(TEMPLATE_DIR),
        # Every template is escaped (``select_autoescape(["html", "xml", "j2"], default=True)``
        # said the same per template name). A constant lets Jinja compile the escaping in,
        # instead of calling a function on every render and include to decide.
        autoescape=True,
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
        # Compiled templates are cached either way; off, it also skips a stat() of every
        # template file on every render (edits then need a restart, as code edits do;
        # ``FENGQIAO_DEBUG=1`` keeps reloading them).
        auto_reload=auto_reload,
    )
    env.install_gettext_callables(i18n.gettext, i18n.ngettext, newstyle=True)
    templating.install(env)
    return JinjaTemplateEngine.from_environment(env)


def create_app(settings: Settings | None = None) -> Litestar:
    """Build the app for ``settings`` (default: from the environment)."""
    settings = settings or Settings.from_env()
    if not settings.secret_key:
        raise RuntimeError("FENGQIAO_SECRET_KEY is required")
    db.configure(settings.database_url)

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        await db.open_pool()
        await jobs.open_queue(settings.redis_url, settings.queue_name)
        # What start-up built (routes, schemas, templates, modules) lives as long as the
        # process: kept out of the collector's generations, a full collection no longer walks
        # it again and again while requests allocate.
        gc.collect()
        gc.freeze()
        try:
            yield
        finally:
            await jobs.close_queue()
            await db.close_pool()

    app = Litestar(
        route_handlers=[
            *ROUTE_HANDLERS,
            create_static_files_router(
                path="/static",
                directories=[STATIC_DIR],
                opt={"scope": "public"},
                include_in_schema=False,
                cache_control=None,
            ),
        ],
        lifespan=[lifespan],
        # Request id, session, locale, CSRF, security headers, gzip, metrics and access log in
        # one pass (see app.middleware: why not Litestar's csrf_config and compression_config).
        middleware=[RequestMiddleware],
        template_config=TemplateConfig(engine=make_template_engine(auto_reload=settings.debug)),
        # The request class stays Litestar's: HTMXRequest and its HTMXDetails refer to each other,
        # so every request (with its scope and state) waited for the cyclic collector to be
        # freed. Nothing here reads ``request.htmx`` (``app.web.is_htmx`` reads the header).
        plugins=[HTMXPlugin(HTMXConfig(set_request_class_globally=False))],
        openapi_config=OpenAPIConfig(
            title="Fengqiao API",
            version="1",
            create_examples=False,
            # The documentation pages are not API operations (Litestar's default router
            # leaves them out of the schema too).
            openapi_router=Router(
                path="/schema", route_handlers=[], opt={"scope": "public"}, include_in_schema=False
            ),
        ),
        before_request=access_check,
        exception_handlers={
            NotAuthorizedException: unauthorized_handler,
            HTTPException: http_exception_handler,
            asyncpg.exceptions.PostgresConnectionError: database_down_handler,
            asyncpg.exceptions.DataError: bad_input_handler,
            asyncpg.exceptions.CharacterNotInRepertoireError: bad_input_handler,
            ConnectionError: database_down_handler,
            500: internal_error_handler,
        },
        state=State({"settings": settings}),
        debug=settings.debug,
        logging_config=logging_config(),
    )
    # Read by the OpenAPI UI (its request interceptor sends the token); set after the routes are
    # built so that Litestar adds no CSRFMiddleware of its own: RequestMiddleware checks.
    app.csrf_config = csrf_config(settings)
    check_access_hook(app)
    return app


def check_access_hook(app: Litestar) -> None:
    """Every route runs ``access_check`` before anything of its own; refuse to start otherwise.

    Litestar runs the nearest layer's ``before_request`` only, a cached response is answered
    before it, and it is for HTTP routes only: each would skip the access decision.
    """
    for route in app.routes:
        for handler in getattr(route, "route_handlers", None) or [route.route_handler]:  # type: ignore[attr-defined]
            hook = getattr(handler, "resolve_before_request", lambda: None)()
            if getattr(hook, "func", hook) is not access_check or getattr(handler, "cache", True):
                raise RuntimeError(
                    f"{route.path}: {handler} would not run app.web.access_check first"
                )
