"""Login, logout and the language switch."""

from typing import Annotated
from urllib.parse import urlparse

from litestar import Request, Response, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.response import Redirect

from app.i18n import LOCALES, gettext
from app.services import auth
from app.web import LOCALE_COOKIE, SESSION_COOKIE, client_ip, page, session_cookie, user_of

FORM = Body(media_type=RequestEncodingType.URL_ENCODED)


def _safe_next(target: str | None) -> str:
    if not target or not target.startswith("/") or target.startswith("//"):
        return "/"
    return target


def _cross_site(request: Request) -> bool:
    """A login posted from another site (login CSRF): refused even without a token check."""
    origin = request.headers.get("origin") or request.headers.get("referer")
    if not origin:
        return False
    host = request.headers.get("host", "")
    return urlparse(origin).netloc != host


@get("/login", opt={"scope": "public"}, include_in_schema=False)
async def login_form(request: Request, next: str = "/") -> Response:
    if user_of(request):
        return Redirect(path=_safe_next(next), status_code=303)
    return page("auth/login.html", request, next=_safe_next(next))


@post(
    "/login",
    opt={"scope": "public", "exclude_from_csrf": True},
    include_in_schema=False,
    status_code=303,
)
async def login_submit(request: Request, data: Annotated[dict[str, str], FORM]) -> Response:
    """Form fields ``username``, ``password`` (and ``next``). A fresh session id every login."""
    username = (data.get("username") or "").strip()
    password = data.get("password") or ""
    target = _safe_next(data.get("next"))
    values = {"username": username, "next": target}
    errors: dict[str, str] = {}
    if _cross_site(request):
        return page(
            "auth/login.html",
            request,
            403,
            values=values,
            form_error=gettext("The form has expired; reload the page and try again."),
        )
    if not username:
        errors["username"] = "This field is required."
    if not password:
        errors["password"] = "This field is required."
    if errors:
        return page("auth/login.html", request, 400, errors=errors, values=values, next=target)
    settings = request.app.state.settings
    old = request.cookies.get(SESSION_COOKIE)
    if old:
        await auth.logout(old, client_ip(request))
    try:
        token = await auth.login(
            settings, username, password, client_ip(request), request.headers.get("user-agent", "")
        )
    except auth.LoginRefused as refused:
        if refused.reason == "throttled":
            message = gettext("Too many failed attempts. Please wait 15 minutes and try again.")
            status = 429
        else:
            message = gettext("Wrong username or password.")
            status = 401
        return page(
            "auth/login.html", request, status, values=values, next=target, form_error=message
        )
    response = Redirect(path=target, status_code=303)
    response.set_cookie(session_cookie(token, settings))
    return response


@post("/logout", opt={"scope": "public"}, include_in_schema=False, status_code=303)
async def logout(request: Request) -> Response:
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        await auth.logout(token, client_ip(request))
    response = Redirect(path="/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@get("/lang/{code:str}", opt={"scope": "public"}, include_in_schema=False)
async def switch_language(request: Request, code: str, next: str = "/") -> Response:
    """Remember the chosen language in a cookie (zh_CN or en)."""
    response = Redirect(path=_safe_next(next), status_code=303)
    if code in LOCALES:
        response.set_cookie(
            key=LOCALE_COOKIE, value=code, max_age=365 * 86400, samesite="lax", path="/"
        )
    return response


ROUTES = [login_form, login_submit, logout, switch_language]
