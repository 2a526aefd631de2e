"""Visits (走访): log one on the phone, list, read, correct within 24 hours, review."""

from typing import Annotated, Any
from uuid import uuid4

from litestar import Request, Response, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body

from app.domain import field as rules
from app.i18n import gettext
from app.services import field, text_analysis
from app.services.field import FieldError
from app.web import is_htmx, not_found, page, require_user, see_other

READ = {"scope": "unit", "cap": "field.read"}
WRITE = {"scope": "unit", "cap": "field.write"}
REVIEW = {"scope": "unit", "cap": "field.review"}
FORM = Body(media_type=RequestEncodingType.URL_ENCODED)


def options(choices: dict[str, str]) -> list[tuple[str, str]]:
    """(value, translated label) pairs for a select or a set of chips."""
    return [(value, gettext(label)) for value, label in choices.items()]


def label(choices: dict[str, str], value: str | None) -> str:
    """The translated label of ``value``."""
    return gettext(choices.get(value or "", value or ""))


def fpage(template: str, request: Request, status_code: int = 200, **context: Any) -> Response:
    """A field-work page: the common context plus the choice tables and their labels."""
    return page(template, request, status_code, rules=rules, opts=options, label=label, **context)


async def form_context(request: Request, table: str) -> dict[str, Any]:
    """What every form of ``table`` needs besides values: choices, grids, venues."""
    user = require_user(request)
    context: dict[str, Any] = {"table": table}
    if table in ("visit", "household"):
        context["grids"] = await field.grids(user.scope)
    if table == "mediation":
        context["venue_options"] = [(u["id"], u["name"]) for u in await field.venues(user.scope)]
        context["party_rows"] = field.PARTY_ROWS
        context["mediator_rows"] = field.MEDIATOR_ROWS
    return context


async def render_form(
    request: Request,
    table: str,
    values: dict,
    errors: dict,
    *,
    status: int = 200,
    action: str | None = None,
    record: dict | None = None,
) -> Response:
    """The form of ``table``: its partial for htmx, the whole page otherwise."""
    context = await form_context(request, table)
    template = f"field/_{table}_form.html" if is_htmx(request) else "field/form_page.html"
    return fpage(
        template,
        request,
        status,
        values=values,
        errors=errors,
        action=action or f"/{table}s",
        record=record,
        **context,
    )


async def render_saved(
    request: Request, table: str, record_id: int, record: dict | None = None
) -> Response:
    """After a successful post: the saved record and a way to log the next one (htmx), or 303.

    ``record``: the saved record as ``field.record`` reads it, when the caller has it already.
    """
    if not is_htmx(request):
        return see_other(f"/{table}s/{record_id}")
    if record is None:
        record = await field.record(require_user(request).scope, table, record_id)
    return fpage("field/_saved.html", request, table=table, r=record)


async def list_page(request: Request, table: str) -> Response:
    """A filtered, paged list; htmx asks for just the rows (next page) or the results block."""
    user = require_user(request)
    filters = field.read_filters(table, request.query_params)
    rows, more = await field.listing(user.scope, table, filters)
    context = {
        "table": table,
        "rows": rows,
        "more": more,
        "filters": filters,
        "kinds": field.KIND_CHOICES[table],
        "grids": await field.grids(user.scope),
        "errors": filters.errors,
        "values": field.typed_values(request.query_params),
    }
    target = request.headers.get("hx-target", "")
    if is_htmx(request) and target.startswith("more-"):
        return fpage("field/_rows.html", request, **context)
    if is_htmx(request) and target == "results":
        return fpage("field/_results.html", request, **context)
    return fpage("field/list.html", request, **context)


async def detail_page(
    request: Request, table: str, record_id: int, status: int = 200, **extra: Any
) -> Response:
    """One record with what its viewer may do (correct, review)."""
    user = require_user(request)
    record = await field.record(user.scope, table, record_id)
    if record is None:
        raise not_found()
    analysis = await text_analysis.analysis_of(table, record_id)
    return fpage(
        f"field/{table}.html",
        request,
        status,
        r=record,
        table=table,
        tasks=await field.record_tasks(table, record_id),
        analysis=analysis,
        mood_disagrees=table == "visit"
        and rules.mood_disagrees(record.get("mood"), analysis, record.get("updated_at")),
        can_edit=rules.can_edit(
            is_author=record["author"] == user.id,
            created_at=record["created_at"],
            now=field.now(),
            review_state=record["review_state"],
        ),
        can_review=user.scope.can("field.review")
        and rules.can_review(
            is_author=record["author"] == user.id, review_state=record["review_state"]
        ),
        **extra,
    )


async def review_record(request: Request, table: str, record_id: int, data: dict) -> Response:
    """Mark reviewed or send back; htmx gets the review block, plain posts a 303."""
    user = require_user(request)
    if await field.record(user.scope, table, record_id) is None:
        raise not_found()
    action = str(data.get("action") or "")
    comment = str(data.get("review_comment") or "")
    try:
        await field.review(user, table, record_id, action, comment)
    except FieldError as e:
        record = await field.record(user.scope, table, record_id)
        return fpage(
            "field/_review.html",
            request,
            422,
            r=record,
            table=table,
            errors=e.errors,
            values={"review_comment": comment},
            can_review=True,
        )
    if is_htmx(request):
        record = await field.record(user.scope, table, record_id)
        return fpage("field/_review.html", request, r=record, table=table, can_review=False)
    return see_other(f"/{table}s/{record_id}")


# -- visits --------------------------------------------------------------------------------


@get("/visits", opt=READ, include_in_schema=False)
async def visits_list(request: Request) -> Response:
    return await list_page(request, "visit")


@get("/visits/new", opt=WRITE, include_in_schema=False)
async def visit_new(request: Request) -> Response:
    user = require_user(request)
    q = request.query_params
    values = {
        "client_uuid": str(uuid4()),
        "visited_at": field.local_input(field.now()),
        "kind": "door",
        "mood": "calm",
        "topics": [],
        "grid_id": user.unit_id if user.unit_tier == "grid" else "",
        "household_id": q.get("household_id", ""),
        "task_id": q.get("task_id", ""),
    }
    return await render_form(request, "visit", values, {})


@post("/visits", opt=WRITE, include_in_schema=False)
async def visit_create(request: Request, data: Annotated[dict, FORM]) -> Response:
    user = require_user(request)
    form, found = await field.read_visit(user, data)
    if form.ok:
        try:
            visit_id, record, _created = await field.save_visit(
                user, form, found, reread=is_htmx(request)
            )
            return await render_saved(request, "visit", visit_id, record)
        except FieldError as e:
            form.errors.update(e.errors)
    return await render_form(
        request, "visit", field.typed_values(data, ("topics",)), form.errors, status=422
    )


@get("/visits/{visit_id:int}", opt=READ, include_in_schema=False)
async def visit_detail(request: Request, visit_id: int) -> Response:
    return await detail_page(request, "visit", visit_id)


def _visit_values(r: dict) -> dict:
    return {
        **r,
        "visited_at": field.local_input(r["visited_at"]),
        "grid_id": r["unit"],
        "household_id": r["household"] or "",
        "client_uuid": str(r["client_uuid"]),
        "follow_up_due": r["follow_up_due"].isoformat() if r["follow_up_due"] else "",
    }


@get("/visits/{visit_id:int}/edit", opt=WRITE, include_in_schema=False)
async def visit_edit(request: Request, visit_id: int) -> Response:
    user = require_user(request)
    r = await field.record(user.scope, "visit", visit_id)
    if r is None:
        raise not_found()
    return await render_form(
        request, "visit", _visit_values(r), {}, action=f"/visits/{visit_id}/edit", record=r
    )


@post("/visits/{visit_id:int}/edit", opt=WRITE, include_in_schema=False)
async def visit_correct(request: Request, visit_id: int, data: Annotated[dict, FORM]) -> Response:
    user = require_user(request)
    r = await field.record(user.scope, "visit", visit_id)
    if r is None:
        raise not_found()
    form, found = await field.read_visit(user, {**data, "client_uuid": str(r["client_uuid"])})
    if form.ok:
        try:
            await field.correct_visit(user, r, form, found)
            return see_other(f"/visits/{visit_id}")
        except FieldError as e:
            form.errors.update(e.errors)
    return await render_form(
        request,
        "visit",
        field.typed_values(data, ("topics",)),
        form.errors,
        status=422,
        action=f"/visits/{visit_id}/edit",
        record=r,
    )


@post("/visits/{visit_id:int}/review", opt=REVIEW, include_in_schema=False)
async def visit_review(request: Request, visit_id: int, data: Annotated[dict, FORM]) -> Response:
    return await review_record(request, "visit", visit_id, data)


ROUTES = [
    visits_list,
    visit_new,
    visit_create,
    visit_detail,
    visit_edit,
    visit_correct,
    visit_review,
]
