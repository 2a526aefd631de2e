"""JSON API of field work: ``/api/v1/visits``, ``/calls``, ``/mediations`` (create, list, get).

A repeated ``client_uuid`` answers 200 with the stored record (201 when this call stored it);
bad input answers 422 with a message per field.
"""

from typing import Any

from litestar import Request, Response, get, post

from app.domain import field as rules
from app.domain.forms import N_
from app.routes.api_responses import ID_IN_PATH, PAGE, query, query_parameters, reads, writes
from app.routes.visits import READ, WRITE
from app.services import field
from app.services.field import FieldError
from app.web import json_errors, not_found, require_user

FIELDS = {
    "visit": (
        "id",
        "client_uuid",
        "author",
        "unit",
        "unit_path",
        "kind",
        "visited_at",
        "household",
        "address",
        "persons_met",
        "topics",
        "summary",
        "mood",
        "resolved_on_site",
        "reported_up",
        "follow_up_due",
        "review_state",
        "review_comment",
        "created_at",
        "updated_at",
    ),
    "call": (
        "id",
        "client_uuid",
        "author",
        "unit",
        "unit_path",
        "called_at",
        "subject_type",
        "subject_id",
        "outcome",
        "satisfaction",
        "summary",
        "review_state",
        "review_comment",
        "created_at",
        "updated_at",
    ),
    "mediation": (
        "id",
        "client_uuid",
        "author",
        "venue_unit",
        "unit_path",
        "held_at",
        "dispute_type",
        "parties",
        "mediators",
        "methods",
        "summary",
        "outcome",
        "agreement_terms",
        "facts",
        "responsibilities",
        "performance_method",
        "performance_due",
        "agreement_signed_on",
        "closed_at",
        "escalated_to",
        "escalated_from",
        "archive_no",
        "terminated_note",
        "review_state",
        "review_comment",
        "created_at",
        "updated_at",
    ),
}
RENAMES = {"unit": "grid_id", "household": "household_id", "venue_unit": "venue_unit_id"}
TAGS = ["field work"]


def out(table: str, row: dict) -> dict[str, Any]:
    """A record as the API shows it (the same names as the forms)."""
    return {RENAMES.get(k, k): row[k] for k in FIELDS[table]}


#: JSON fields that hold lists; every other field holds one scalar.
LIST_FIELDS = frozenset({"topics", "methods", "parties", "mediators"})


def _shape_errors(body: dict) -> dict[str, str]:
    """A list or object where one value belongs is refused (not silently turned into text)."""
    return {
        k: N_("Not a valid value.")
        for k, v in body.items()
        if k not in LIST_FIELDS and isinstance(v, (dict, list))
    }


async def _create(request: Request, table: str, data: Any) -> Response:
    user = require_user(request)
    body = data if isinstance(data, dict) else {}
    if shape := _shape_errors(body):
        return json_errors(shape)
    if table == "visit":
        form, found = await field.read_visit(user, body)
        save = lambda: field.save_visit(user, form, found)  # noqa: E731
    elif table == "call":
        form, found = await field.read_call(user, body)
        save = lambda: field.log_call(user, form, found)  # noqa: E731
    else:
        form = await field.read_mediation(user, body)
        save = lambda: field.log_mediation(user, form)  # noqa: E731
    if not form.ok:
        return json_errors(form.errors)
    try:
        saved = await save()
    except FieldError as e:
        return json_errors(e.errors)
    if len(saved) == 3:  # save_visit: (id, the record, created); a new visit is not read back
        _record_id, row, created = saved
    else:
        record_id, created = saved
        row = await field.record(user.scope, table, record_id)
    return Response(out(table, row), status_code=201 if created else 200)


def _list_get(path: str, table: str, kind: str) -> Any:
    """``@get`` of a list of ``table``: its filters (``field.read_filters``) answer 422 for a bad
    value and are declared in the schema; ``kind``: what its ``kind`` filter selects."""
    return get(
        path,
        opt=READ,
        tags=TAGS,
        responses=reads(READ, 422),
        operation_class=_filters_documented(table, kind),
    )


def _filters_documented(table: str, kind: str) -> type:
    """The ``operation_class`` of a list: the filters ``field.read_filters`` reads."""
    params = [
        query("date_from", "Only records of this day (Beijing time) or later.", "date"),
        query("date_to", "Only records of this day (Beijing time) or earlier.", "date"),
        query("kind", kind, choices=field.KIND_CHOICES[table]),
    ]
    if table == "visit":
        params += [
            query("topic", "Only visits on this topic.", choices=rules.TOPICS),
            query("mood", "Only visits with this mood.", choices=rules.MOODS),
        ]
    return query_parameters(
        *params,
        query("grid", "A unit's id: only records of that unit and the units under it.", "integer"),
        query("review", "Only records in this review state.", choices=rules.REVIEW_STATES),
        query("overdue", "`1`: only records with an open follow-up task past its due day.",
              "boolean"),
        PAGE,
    )


async def _list(request: Request, table: str) -> Response:
    user = require_user(request)
    filters = field.read_filters(table, request.query_params)
    if filters.errors:
        return json_errors(filters.errors)
    rows, more = await field.listing(user.scope, table, filters)
    return Response(
        {"items": [out(table, r) for r in rows], "page": filters.page, "has_more": more}
    )


async def _one(request: Request, table: str, record_id: int) -> Response:
    row = await field.record(require_user(request).scope, table, record_id)
    if row is None:
        raise not_found()
    return Response(out(table, row))


@post("/api/v1/visits", opt=WRITE, tags=TAGS, status_code=201, responses=writes(WRITE, 422))
async def api_visit_create(request: Request, data: dict[str, Any]) -> Response:
    """Log a visit (fields as the form: ``client_uuid``, ``grid_id``, ``kind``, ``visited_at``,
    ``household_id`` or ``address``, ``persons_met``, ``topics``, ``summary``, ``mood``,
    ``resolved_on_site``, ``reported_up``, ``follow_up_due``)."""
    return await _create(request, "visit", data)


@_list_get("/api/v1/visits", "visit", "Only visits of this kind.")
async def api_visit_list(request: Request) -> Response:
    """Visits in scope, newest first; filters ``date_from``, ``date_to``, ``kind``, ``topic``,
    ``mood``, ``grid``, ``review``, ``overdue``, ``page``."""
    return await _list(request, "visit")


@get("/api/v1/visits/{visit_id:int}", opt=READ, tags=TAGS, responses=reads(READ, *ID_IN_PATH))
async def api_visit_get(request: Request, visit_id: int) -> Response:
    """One visit in scope."""
    return await _one(request, "visit", visit_id)


@post("/api/v1/calls", opt=WRITE, tags=TAGS, status_code=201, responses=writes(WRITE, 422))
async def api_call_create(request: Request, data: dict[str, Any]) -> Response:
    """Log a follow-up call (``client_uuid``, ``called_at``, ``subject_type``, ``subject_id``,
    ``outcome``, ``satisfaction``, ``summary``)."""
    return await _create(request, "call", data)


@_list_get("/api/v1/calls", "call", "Only calls about this kind of subject.")
async def api_call_list(request: Request) -> Response:
    """Calls in scope, newest first (``kind`` filters the subject type)."""
    return await _list(request, "call")


@get("/api/v1/calls/{call_id:int}", opt=READ, tags=TAGS, responses=reads(READ, *ID_IN_PATH))
async def api_call_get(request: Request, call_id: int) -> Response:
    """One call in scope."""
    return await _one(request, "call", call_id)


@post("/api/v1/mediations", opt=WRITE, tags=TAGS, status_code=201, responses=writes(WRITE, 422))
async def api_mediation_create(request: Request, data: dict[str, Any]) -> Response:
    """Open (or record) a mediation: ``client_uuid``, ``venue_unit_id``, ``held_at``,
    ``dispute_type``, ``parties`` ([{name, role, phone}]), ``mediators`` ([{name, kind}]),
    ``methods``, ``summary``, ``outcome``, ``agreement_terms``, ``facts``,
    ``responsibilities``, ``performance_method``, ``performance_due``,
    ``agreement_signed_on``, ``terminated_note``, ``party_refused``."""
    return await _create(request, "mediation", data)


@_list_get("/api/v1/mediations", "mediation", "Only mediations of this dispute type.")
async def api_mediation_list(request: Request) -> Response:
    """Mediations in scope, newest first (``kind`` filters the dispute type)."""
    return await _list(request, "mediation")


@get(
    "/api/v1/mediations/{mediation_id:int}", opt=READ, tags=TAGS, responses=reads(READ, *ID_IN_PATH)
)
async def api_mediation_get(request: Request, mediation_id: int) -> Response:
    """One mediation in scope."""
    return await _one(request, "mediation", mediation_id)


ROUTES = [
    api_visit_create,
    api_visit_list,
    api_visit_get,
    api_call_create,
    api_call_list,
    api_call_get,
    api_mediation_create,
    api_mediation_list,
    api_mediation_get,
]
