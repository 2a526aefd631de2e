"""The error answers a JSON operation declares in the OpenAPI schema (``/schema/openapi.json``).

A handler lists them with ``responses=reads(opt, ...)`` (GET) or ``responses=writes(opt, ...)``
(POST): the codes its ``opt`` implies the way ``app.web.access_guard`` reads it, the CSRF and
body checks of an unsafe method, 503 (database down) always, plus what the handler itself
answers (404 for an id, 422 for field errors). The bodies are those of ``app.main``'s exception
handlers (``Problem``) and of ``app.web.json_errors`` or a case refusal (``FieldErrors``).
``tests/integration/test_openapi_contract.py`` checks every operation against these rules.
"""

# No ``from __future__ import annotations``: the schema of a TypedDict reads ``NotRequired``
# from its runtime annotations.
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, NotRequired, TypedDict

from litestar.enums import ParamType
from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.spec import OpenAPIFormat, OpenAPIType, Operation, Parameter, Schema


class Problem(TypedDict):
    """An error answered by the app's exception handlers (``extra``: what failed to parse)."""

    detail: str
    status_code: int
    extra: NotRequired[list[Any] | dict[str, Any] | None]


class FieldErrors(TypedDict):
    """Bad input: a message per field, or a refusal with the article of the regulation."""

    detail: str
    errors: NotRequired[dict[str, str]]
    key: NotRequired[str]
    article: NotRequired[str | None]


DESCRIPTIONS = {
    400: "Invalid request: a body or parameter that does not parse, or input the database "
    "refuses (a NUL character, a number out of range).",
    401: "Not logged in.",
    403: "Not allowed for the user's role, or the CSRF token (`x-csrftoken` header) is missing "
    "or wrong.",
    404: "No such object in the caller's scope (existence is not revealed).",
    422: "A message per field (`errors`), or a refusal (`detail`, `key`, and the `article` it "
    "rests on).",
    503: "The database is unavailable; retry in a minute.",
}

#: Methods the CSRF check applies to, and that carry a body to parse.
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def error_spec(status: int) -> ResponseSpec:
    """The declared answer for one error status (422 has field errors, the rest a ``Problem``)."""
    return ResponseSpec(
        data_container=FieldErrors if status == 422 else Problem,
        generate_examples=False,
        description=DESCRIPTIONS[status],
    )


def guard_statuses(opt: dict[str, Any], method: str) -> set[int]:
    """What any handler with ``opt`` and ``method`` can answer before (or beside) its own code:
    401 unless public, 403 for an admin scope, a capability or an unsafe method (CSRF), 400 for
    a body that does not parse, 503 when the database is down."""
    kind = opt.get("scope")
    statuses = {503}
    if kind != "public":
        statuses.add(401)
    if kind == "admin" or opt.get("cap") or method in UNSAFE_METHODS:
        statuses.add(403)
    if method in UNSAFE_METHODS:
        statuses.add(400)
    return statuses


def _responses(opt: dict[str, Any], method: str, also: tuple[int, ...]) -> dict[int, ResponseSpec]:
    return {s: error_spec(s) for s in sorted(guard_statuses(opt, method) | set(also))}


#: An id in the path: 404 (no such object in scope, or not an id at all) and 400 (Litestar's
#: parameter validation, which it declares on every operation with parameters).
ID_IN_PATH = (400, 404)


def reads(opt: dict[str, Any], *also: int) -> dict[int, ResponseSpec]:
    """``responses=`` of a GET handler with ``opt``; ``also``: the handler's own codes
    (``*ID_IN_PATH``, 404 for an id parameter, 422 for filters it validates)."""
    return _responses(opt, "GET", also)


def writes(opt: dict[str, Any], *also: int) -> dict[int, ResponseSpec]:
    """``responses=`` of a POST handler with ``opt``; ``also``: the handler's own codes."""
    return _responses(opt, "POST", also)


# --------------------------------------------------------------------------- query parameters
#
# List handlers read their filters themselves (``app.domain.forms.Form``), so that a bad value
# is a message for that field (422) in the app's words rather than Litestar's 400. Litestar
# therefore sees no query parameters to document; a handler names them with
# ``operation_class=query_parameters(...)``.


def query(
    name: str,
    description: str,
    kind: str = "string",
    *,
    choices: Iterable[str] = (),
    required: bool = False,
    many: bool = False,
) -> Parameter:
    """One documented query parameter: ``kind`` "string", "integer", "boolean" (``1`` or
    ``true``) or "date" (YYYY-MM-DD); ``choices``: its allowed values; ``many``: repeatable."""
    schema = Schema(
        type=OpenAPIType.INTEGER if kind == "integer" else OpenAPIType.STRING,
        format=OpenAPIFormat.DATE if kind == "date" else None,
        enum=sorted(choices) or None,
    )
    if kind == "boolean":
        schema = Schema(type=OpenAPIType.STRING, enum=["1", "true", "on", "yes", "0", "false"])
    if many:
        schema = Schema(type=OpenAPIType.ARRAY, items=schema)
    return Parameter(
        name=name,
        param_in=ParamType.QUERY,
        description=description,
        required=required,
        schema=schema,
    )


def query_parameters(*parameters: Parameter) -> type[Operation]:
    """An ``operation_class`` whose operations also declare ``parameters`` (after any Litestar
    derived from the handler's signature, such as an id in the path)."""

    @dataclass
    class QueryOperation(Operation):
        def __post_init__(self) -> None:
            self.parameters = [*(self.parameters or ()), *parameters]

    return QueryOperation


#: ``page`` of a paged list (1-based).
PAGE = query("page", "Page number, 1-based.", "integer")
