"""What every route module shares: the current user, page rendering, form errors, scope guards."""

from __future__ import annotations

import html
from typing import Any

from litestar import Request, Response
from litestar.connection import ASGIConnection
from litestar.datastructures import Cookie
from litestar.exceptions import NotAuthorizedException, NotFoundException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler
from litestar.response import Redirect, Template
from litestar.types import Empty
from litestar.utils.scope.state import ScopeState

from app.domain.roles import can
from app.i18n import gettext
from app.services.auth import CurrentUser
from app.settings import Settings

SESSION_COOKIE = "fq_session"
#: The largest id a serial column holds.
MAX_ID = 2_147_483_647
LOCALE_COOKIE = "fq_lang"

#: Values of a handler's ``opt["scope"]``: how the handler limits what it touches.
#: ``public``: no login; ``any``: any logged-in user, only their own data; ``unit``: objects are
#: filtered by the user's unit subtree (out-of-scope ids answer 404); ``department``: cases
#: dispatched to the user's department; ``admin``: admins only.
SCOPE_KINDS = frozenset({"public", "any", "unit", "department", "admin"})


def user_of(connection: ASGIConnection) -> CurrentUser | None:
    """The logged-in user of this request, if any."""
    return connection.scope.get("state", {}).get("user")


def require_user(request: Request) -> CurrentUser:
    """The logged-in user; the global guard guarantees one on every non-public route."""
    user = user_of(request)
    if user is None:
        raise NotAuthorizedException()
    return user


#: Where the request middleware leaves an error for the guard to raise inside the route.
PENDING_ERROR = "fengqiao_pending_error"


async def access_guard(connection: ASGIConnection, handler: BaseRouteHandler) -> None:
    """The app-wide access decision: login unless public, then the handler's capability (deny by
    default). Run for every route by ``access_check``; a guard's signature.

    Every handler declares ``opt["scope"]``; a handler without one is refused to everybody.
    """
    pending = connection.scope.get("state", {}).pop(PENDING_ERROR, None)
    if pending is not None:  # a CSRF refusal or a failed session lookup (app.middleware)
        raise pending
    kind = handler.opt.get("scope")
    if kind not in SCOPE_KINDS:
        raise PermissionDeniedException("route has no scope decision")
    if kind == "public":
        return
    user = user_of(connection)
    if user is None:
        raise NotAuthorizedException()
    if kind == "admin" and user.role != "admin":
        raise PermissionDeniedException()
    capability = handler.opt.get("cap")
    if capability and not can(user.role, capability):
        raise PermissionDeniedException()
    # An id no row can have (beyond PostgreSQL's integer) is simply not found.
    for value in connection.path_params.values():
        if isinstance(value, int) and not 0 < value <= MAX_ID:
            raise NotFoundException(gettext("Not found."))


async def access_check(request: Request) -> None:
    """The app's ``before_request`` hook: ``access_guard`` for the route's handler.

    Litestar hands a guard a copy of its handler on every call (``authorize_connection``); this
    hook runs at the same point for every route (inside the route, before the handler's
    parameters are read or its dependencies resolved) without the copy. A nearer layer's own
    ``before_request`` or a response cache would come before it, so ``app.main`` refuses to
    start with either (``check_access_hook``).
    """
    await access_guard(request, request.scope["route_handler"])


def client_ip(request: Request) -> str:
    """The peer address (the reverse proxy must be trusted to set it; see README)."""
    return request.client.host if request.client else ""


def is_htmx(request: Request) -> bool:
    """Whether htmx sent the request (its first ``HX-Request`` header is ``true``); read from the
    raw headers, without building Litestar's ``Headers`` for the request."""
    for name, value in request.scope["headers"]:
        if name.lower() == b"hx-request":
            return value == b"true"
    return False


def page(template: str, request: Request, status_code: int = 200, **context: Any) -> Response:
    """Render ``template`` with the user and the common context.

    An ``.html`` template is rendered here, into a plain ``Response``: the same context, body
    and headers as Litestar's ``Template`` response gives (``render_html``), without building
    one. Other templates still go through ``Template``, which guesses their media type.
    """
    context.setdefault("user", user_of(request))
    context.setdefault("errors", {})
    context.setdefault("values", {})
    context["htmx"] = is_htmx(request)
    if template.endswith(".html"):
        return render_html(template, request, context, status_code)
    return Template(template_name=template, context=context, status_code=status_code)


def render_html(
    template: str, request: Request, context: dict[str, Any], status_code: int = 200
) -> Response:
    """``template`` rendered as ``Template(...).to_asgi_response`` renders it: the context plus
    ``request`` and ``csrf_input`` (the request's CSRF token as a hidden field), UTF-8."""
    csrf_token = ScopeState.from_scope(request.scope).csrf_token
    if csrf_token is Empty:
        csrf_token = ""
    context = {
        **context,
        "request": request,
        "csrf_input": _CSRF_INPUT.format(html.escape(csrf_token)),
    }
    body = request.app.template_engine.get_template(template).render(context).encode("utf-8")
    return Response(body, status_code=status_code, media_type="text/html")


_CSRF_INPUT = '<input type="hidden" name="_csrf_token" value="{}" />'


def not_found() -> NotFoundException:
    """The one answer for a missing or out-of-scope object (never reveal existence)."""
    return NotFoundException(gettext("Not found."))


def see_other(path: str) -> Redirect:
    """303 after a successful form post (or an HX-Redirect for htmx)."""
    return Redirect(path=path, status_code=303)


def json_errors(errors: dict[str, str], status_code: int = 422) -> Response:
    """The API's validation failure: a message per field, translated."""
    return Response(
        {
            "detail": gettext("Please correct the marked fields."),
            "errors": {k: gettext(v) for k, v in errors.items()},
        },
        status_code=status_code,
    )


def session_cookie(token: str, settings: Settings, *, max_age: int | None = None) -> Cookie:
    """The session cookie: HttpOnly, SameSite=Lax, Secure when serving TLS."""
    return Cookie(
        key=SESSION_COOKIE,
        value=token,
        httponly=True,
        samesite="lax",
        secure=settings.https,
        path="/",
        max_age=max_age,
    )
