"""The one middleware every routed request passes through.

It does, in this order: request id, session and locale, CSRF check, then on the way out the
security headers, the request id header, gzip, the metrics and one JSON access-log line.

It is one plain ASGI class because a form post is the hot path. A chain of Litestar middlewares
costs more per request: each layer wraps ``send``, builds a ``Request`` or ``Headers`` object and
parses the cookies again. Here the headers are read once and the extra response headers are
built once per process.

The CSRF check is Litestar's (same token format, cookie, header and ``_csrf_token`` form field,
same ``exclude_from_csrf`` opt-out, same ``PermissionDeniedException``), done here rather than by
``CSRFMiddleware`` so the request is not wrapped again. ``create_app`` gives Litestar no
``csrf_config`` for that reason. A form it parses is left in the scope state, where the
handler's ``data`` is then read from, so a body is parsed once.

Compression: gzip when the client accepts it and the answer is at least ``GZIP_MIN_SIZE`` bytes
or streamed. A small htmx partial is sent as it is, without building a compressor.
"""

from __future__ import annotations

import hmac
import itertools
import json
import logging
import math
import re
import secrets
import time
import zlib
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from litestar.config.csrf import CSRFConfig
from litestar.datastructures.cookie import Cookie
from litestar.exceptions import InternalServerException, PermissionDeniedException
from litestar.exceptions.http_exceptions import RequestEntityTooLarge
from litestar.middleware.csrf import CSRF_SECRET_LENGTH, generate_csrf_hash, generate_csrf_token
from litestar.utils.scope.state import ScopeState

from app import i18n
from app.observability import METRICS, METRICS_PATH, REQUEST_ID_HEADER, bearer_ok, send_metrics
from app.services import auth
from app.web import LOCALE_COOKIE, PENDING_ERROR, SESSION_COOKIE

if TYPE_CHECKING:
    from litestar.types import ASGIApp, Message, Receive, Scope, Send

    from app.settings import Settings

access_log = logging.getLogger("fengqiao.access")

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; manifest-src 'self'; worker-src 'self'; "
    "frame-ancestors 'none'; base-uri 'self'; form-action 'self'; object-src 'none'"
)
SECURITY_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"content-security-policy", CSP.encode()),
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=(self)"),
)
HSTS = (b"strict-transport-security", b"max-age=31536000; includeSubDomains")


def security_headers(settings: Settings) -> tuple[tuple[bytes, bytes], ...]:
    """The headers every answer carries (HSTS when served over https)."""
    return SECURITY_HEADERS + ((HSTS,) if settings.https else ())

CSRF_COOKIE = "csrftoken"
CSRF_HEADER = b"x-csrftoken"
CSRF_FIELD = "_csrf_token"
CSRF_OPT_OUT = "exclude_from_csrf"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
URLENCODED = "application/x-www-form-urlencoded"
MULTIPART = "multipart/form-data"

#: Answers shorter than this are not worth a gzip stream (its header alone is 18 bytes).
GZIP_MIN_SIZE = 500
GZIP_LEVEL = 6

_SANE_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")
#: Request ids: a random prefix per process and a counter (32 hex digits in all). Unique across
#: processes without reading the OS's random source on every request; they are labels, not
#: secrets.
_ID_PREFIX = secrets.token_hex(8)
_id_counter = itertools.count(1)
_json_str = json.encoder.encode_basestring  # what json.dumps(..., ensure_ascii=False) uses


def new_request_id() -> str:
    """A fresh request id (32 hex digits)."""
    return f"{_ID_PREFIX}{next(_id_counter) & 0xFFFFFFFFFFFFFFFF:016x}"


def csrf_config(settings: Settings) -> CSRFConfig:
    """The CSRF settings (cookie, header, secret) this middleware checks against."""
    return CSRFConfig(
        secret=settings.secret_key,
        cookie_name=CSRF_COOKIE,
        header_name=CSRF_HEADER.decode(),
        cookie_secure=settings.https,
        cookie_samesite="lax",
    )


def _cookies(raw: str) -> dict[str, str]:
    """The request's cookies; the first of a repeated name wins (as the session lookup always
    read them)."""
    jar: dict[str, str] = {}
    for part in raw.split(";"):
        name, _, value = part.strip().partition("=")
        if name not in jar:
            jar[name] = value
    return jar


_ESCAPES = re.compile(r"(?:%[0-9A-Fa-f]{2})+")


def _unescape(run: re.Match[str]) -> str:
    return bytes.fromhex(run.group().replace("%", "")).decode("utf-8", "replace")


def _unquote_plus(text: str) -> str:
    if "+" in text:
        text = text.replace("+", " ")
    return _ESCAPES.sub(_unescape, text) if "%" in text else text


def parse_urlencoded(body: bytes) -> dict[str, str | list[str]]:
    """A urlencoded form as Litestar's ``parse_url_encoded_form_data`` reads it (a repeated
    name gives a list), decoding each run of ``%XX`` escapes at once.

    ``urllib.parse.unquote`` looks up every escape in Python; a Chinese summary has hundreds.
    Runs are cut at literal ASCII characters, which no UTF-8 sequence contains, so the text
    (and every replacement character of broken input) comes out the same.
    """
    form: dict[str, str | list[str]] = {}
    for pair in body.decode("latin-1").split("&"):
        if not pair:
            continue
        name, _, value = pair.partition("=")
        name, value = _unquote_plus(name), _unquote_plus(value)
        seen = form.get(name)
        if seen is None:
            form[name] = value
        elif isinstance(seen, list):
            seen.append(value)
        else:
            form[name] = [seen, value]
    return form


async def read_body(scope: Scope, receive: Receive, connection_state: ScopeState) -> bytes:
    """The request body as ``Request.body()`` reads it (the route's size limit, 413 beyond it,
    a disconnect is an error), without building a ``Request``; cached in the scope state."""
    limit = scope["route_handler"].resolve_request_max_body_size() or math.inf
    chunks: list[bytes] = []
    total = 0
    while True:
        event = await receive()
        if event["type"] == "http.request":
            chunk = event.get("body", b"")
            if chunk:
                total += len(chunk)
                if total > limit:
                    raise RequestEntityTooLarge
                chunks.append(chunk)
            if not event.get("more_body", False):
                break
        elif event["type"] == "http.disconnect":
            raise InternalServerException("client disconnected prematurely")
    body = chunks[0] if len(chunks) == 1 else b"".join(chunks)
    connection_state.body = body
    return body


def _csrf_secret(token: str | None, secret: str) -> str | None:
    """The random part of a CSRF token whose HMAC checks out (else None)."""
    if not token or len(token) < CSRF_SECRET_LENGTH + 1:
        return None
    head, mac = token[:CSRF_SECRET_LENGTH], token[CSRF_SECRET_LENGTH:]
    return head if secrets.compare_digest(mac, generate_csrf_hash(head, secret)) else None


def csrf_tokens_match(given: str, cookie: str, secret: str) -> bool:
    """Whether the token sent with a request and the one in its cookie are the same valid one.

    A form sends back the very token of its cookie: then one HMAC check does for both (the two
    are compared in constant time, as the secrets are).
    """
    a = _csrf_secret(given, secret)
    if a is None:
        return False
    if hmac.compare_digest(
        given.encode("utf-8", "surrogatepass"), cookie.encode("utf-8", "surrogatepass")
    ):
        return True
    b = _csrf_secret(cookie, secret)
    return b is not None and secrets.compare_digest(a, b)


class RequestMiddleware:
    """Request id, session, locale, CSRF, security headers, gzip, metrics and access log.

    ``GET /metrics`` with ``Authorization: Bearer $FENGQIAO_METRICS_TOKEN`` is answered here;
    without the token the route's admin guard decides.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._settings: Settings | None = None
        self._extra_headers: tuple[tuple[bytes, bytes], ...] = SECURITY_HEADERS
        self._csrf: CSRFConfig | None = None
        self._csrf_cookie_header = ""

    def _setup(self, settings: Settings) -> None:
        self._settings = settings
        self._extra_headers = security_headers(settings)
        self._csrf = csrf_config(settings)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        settings = scope["litestar_app"].state.settings
        if settings is not self._settings:
            self._setup(settings)
        request_id = cookie_header = auth_header = csrf_header = content_type = None
        gzip_ok = False
        for key, value in scope["headers"]:
            if key == b"cookie":
                text = value.decode("latin-1")
                cookie_header = text if cookie_header is None else f"{cookie_header}; {text}"
            elif key == REQUEST_ID_HEADER:
                if request_id is None:
                    candidate = value.decode("latin-1").strip()
                    request_id = candidate if _SANE_ID.fullmatch(candidate) else ""
            elif key == CSRF_HEADER:
                if csrf_header is None:
                    csrf_header = value.decode("latin-1")
            elif key == b"content-type":
                content_type = value.decode("latin-1")
            elif key == b"accept-encoding":
                gzip_ok = gzip_ok or b"gzip" in value
            elif key == b"authorization":
                auth_header = value
        request_id = request_id or new_request_id()
        state = scope.setdefault("state", {})
        state["request_id"] = request_id
        cookies = _cookies(cookie_header) if cookie_header else {}
        out = _Sender(send, self._extra_headers, request_id.encode(), gzip_ok)
        method = scope["method"]
        path = scope["path"]
        reset = None
        try:
            if path == METRICS_PATH and method == "GET" and bearer_ok(auth_header):
                await send_metrics(out.send)
                return
            user = pending = None
            token = cookies.get(SESSION_COOKIE)
            if token and path != "/healthz" and not path.startswith("/static/"):
                try:
                    user = await auth.current_user(settings, token)
                except Exception as exc:  # the database is down: its 503, from the guard
                    pending = exc
            state["user"] = user
            locale = i18n.negotiate(cookies.get(LOCALE_COOKIE), user.locale if user else None, None)
            state["locale"] = locale
            reset = i18n.current_locale.set(locale)
            if pending is None:
                try:
                    await self._check_csrf(
                        scope, receive, method, cookies, csrf_header, content_type, out
                    )
                except PermissionDeniedException as exc:
                    pending = exc
            if pending is not None:
                handler = scope.get("route_handler")
                if handler is None:
                    raise pending
                # Raised by app.web.access_check (every route's before_request hook, checked
                # at start-up), first thing inside the route, so the answer goes through the
                # app's exception handlers and this middleware's send: the error page, the
                # security headers, the request id and the logged status.
                state[PENDING_ERROR] = pending
            await self.app(scope, receive, out.send)
        finally:
            status = out.status
            if reset is not None:
                i18n.current_locale.reset(reset)
            seconds = time.perf_counter() - started
            route = scope.get("path_template") or "unmatched"
            METRICS.observe(method, route, status, seconds)
            if access_log.isEnabledFor(logging.INFO):
                user = state.get("user")
                client = scope.get("client") or ("", 0)
                access_log.info(
                    '{"ts": "%s", "request_id": "%s", "method": %s, "path": %s, "route": %s,'
                    ' "status": %d, "duration_ms": %r, "user_id": %s, "ip": %s}',
                    datetime.now(UTC).isoformat(timespec="milliseconds"),
                    request_id,
                    _json_str(method),
                    _json_str(path),
                    _json_str(route),
                    status,
                    round(seconds * 1000, 1),
                    "null" if user is None else int(user.id),
                    _json_str(client[0] or ""),
                )

    async def _check_csrf(
        self,
        scope: Scope,
        receive: Receive,
        method: str,
        cookies: dict[str, str],
        header_token: str | None,
        content_type: str | None,
        out: _Sender,
    ) -> None:
        """Litestar's double-submit check; a safe request gets the token (and the cookie if it
        has none), an unsafe one must send the cookie's token back (header or form field)."""
        handler = scope.get("route_handler")
        if handler is not None and handler.opt.get(CSRF_OPT_OUT):
            return
        config = self._csrf
        assert config is not None
        cookie_token = cookies.get(CSRF_COOKIE) or None
        connection_state = ScopeState.from_scope(scope)
        if method in SAFE_METHODS:
            connection_state.csrf_token = cookie_token or generate_csrf_token(config.secret)
            if cookie_token is None:
                out.set_cookie = self._csrf_cookie(connection_state.csrf_token)
            return
        given = header_token
        kind = content_type.split(";", 1)[0].strip() if content_type and not given else None
        if kind == URLENCODED:
            # Read and parsed here for the token, and kept where the handler's ``data`` (and
            # any ``Request.body()``) is read from.
            form = parse_urlencoded(await read_body(scope, receive, connection_state))
            connection_state.form = form
            token = form.get(CSRF_FIELD)
            given = token[0] if isinstance(token, list) else token
        elif kind == MULTIPART:
            request = scope["litestar_app"].request_class(scope=scope, receive=receive)
            given = (await request.form()).get(CSRF_FIELD)
        if given is None or cookie_token is None:
            raise PermissionDeniedException("CSRF token verification failed")
        if not csrf_tokens_match(given, cookie_token, config.secret):
            raise PermissionDeniedException("CSRF token verification failed")
        connection_state.csrf_token = given

    def _csrf_cookie(self, token: str) -> bytes:
        config = self._csrf
        assert config is not None
        return (
            Cookie(
                key=config.cookie_name,
                value=token,
                path=config.cookie_path,
                secure=config.cookie_secure,
                httponly=config.cookie_httponly,
                samesite=config.cookie_samesite,
                domain=config.cookie_domain,
            )
            .to_header(header="")
            .encode("latin-1")
        )


class _Sender:
    """The wrapped ``send`` of one request: adds the headers, gzips, remembers the status."""

    __slots__ = ("_send", "extra", "gzip_ok", "request_id", "set_cookie", "start", "status", "z")

    def __init__(
        self,
        send: Send,
        extra: tuple[tuple[bytes, bytes], ...],
        request_id: bytes,
        gzip_ok: bool,
    ) -> None:
        self._send = send
        self.extra = extra
        self.request_id = request_id
        self.gzip_ok = gzip_ok
        self.set_cookie: bytes | None = None
        self.start: dict[str, Any] | None = None
        self.status = 500
        self.z: Any = None

    async def send(self, message: Message) -> None:
        kind = message["type"]
        if kind == "http.response.start":
            self.status = message["status"]
            message["headers"] = self._headers(message.get("headers") or ())
            if self.gzip_ok:
                # Held back until the first body chunk says whether to compress.
                self.start = message  # type: ignore[assignment]
                return
        elif kind == "http.response.body" and (self.start is not None or self.z is not None):
            await self._send_gzipped(message)
            return
        await self._send(message)

    def _headers(self, headers: Any) -> list[tuple[bytes, bytes]]:
        out = list(headers)
        for name, _ in out:
            if name.lower() in _OWN_NAMES:
                present = {n.lower() for n, _ in out}
                out.extend((k, v) for k, v in self.extra if k not in present)
                break
        else:
            out.extend(self.extra)
        if self.set_cookie is not None:
            out.append((b"set-cookie", self.set_cookie))
        out.append((REQUEST_ID_HEADER, self.request_id))
        return out

    async def _send_gzipped(self, message: Message) -> None:
        body: bytes = message.get("body", b"")  # type: ignore[assignment]
        more = message.get("more_body", False)
        start, self.start = self.start, None
        if start is not None:
            headers = start["headers"]
            already = any(n.lower() == b"content-encoding" for n, _ in headers)
            if already or (not more and len(body) < GZIP_MIN_SIZE):
                await self._send(start)  # type: ignore[arg-type]
                await self._send(message)
                return
            self.z = zlib.compressobj(GZIP_LEVEL, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
            headers = [(n, v) for n, v in headers if n.lower() != b"content-length"]
            headers.append((b"content-encoding", b"gzip"))
            _vary_accept_encoding(headers)
            if not more:
                body = self.z.compress(body) + self.z.flush()
                self.z = None
                headers.append((b"content-length", str(len(body)).encode()))
            start["headers"] = headers
            await self._send(start)  # type: ignore[arg-type]
            if not more:
                await self._send({"type": "http.response.body", "body": body, "more_body": False})
                return
        z = self.z
        chunk = z.compress(body) + z.flush(zlib.Z_FINISH if not more else zlib.Z_SYNC_FLUSH)
        if not more:
            self.z = None
        await self._send({"type": "http.response.body", "body": chunk, "more_body": more})


_OWN_NAMES = frozenset(k for k, _ in (*SECURITY_HEADERS, HSTS))


def _vary_accept_encoding(headers: list[tuple[bytes, bytes]]) -> None:
    for i, (name, value) in enumerate(headers):
        if name.lower() == b"vary":
            if b"accept-encoding" not in value.lower():
                headers[i] = (name, value + b", Accept-Encoding")
            return
    headers.append((b"vary", b"Accept-Encoding"))
