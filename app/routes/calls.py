"""Follow-up calls (电话随访): log, list, read, correct within 24 hours, review."""

from typing import Annotated
from uuid import uuid4

from litestar import Request, Response, get, post

from app.routes.visits import (
    FORM,
    READ,
    REVIEW,
    WRITE,
    detail_page,
    list_page,
    render_form,
    render_saved,
    review_record,
)
from app.services import field
from app.services.field import FieldError
from app.web import not_found, require_user, see_other


@get("/calls", opt=READ, include_in_schema=False)
async def calls_list(request: Request) -> Response:
    return await list_page(request, "call")


@get("/calls/new", opt=WRITE, include_in_schema=False)
async def call_new(request: Request) -> Response:
    q = request.query_params
    values = {
        "client_uuid": str(uuid4()),
        "called_at": field.local_input(field.now()),
        "subject_type": q.get("subject_type", ""),
        "subject_id": q.get("subject_id", ""),
        "task_id": q.get("task_id", ""),
        "outcome": "reached",
    }
    return await render_form(request, "call", values, {})


@post("/calls", opt=WRITE, include_in_schema=False)
async def call_create(request: Request, data: Annotated[dict, FORM]) -> Response:
    user = require_user(request)
    form, found = await field.read_call(user, data)
    if form.ok:
        try:
            call_id, _created = await field.log_call(user, form, found)
            return await render_saved(request, "call", call_id)
        except FieldError as e:
            form.errors.update(e.errors)
    return await render_form(request, "call", field.typed_values(data), form.errors, status=422)


@get("/calls/{call_id:int}", opt=READ, include_in_schema=False)
async def call_detail(request: Request, call_id: int) -> Response:
    return await detail_page(request, "call", call_id)


@get("/calls/{call_id:int}/edit", opt=WRITE, include_in_schema=False)
async def call_edit(request: Request, call_id: int) -> Response:
    r = await field.record(require_user(request).scope, "call", call_id)
    if r is None:
        raise not_found()
    values = {
        **r,
        "called_at": field.local_input(r["called_at"]),
        "client_uuid": str(r["client_uuid"]),
        "satisfaction": r["satisfaction"] or "",
    }
    return await render_form(request, "call", values, {}, action=f"/calls/{call_id}/edit", record=r)


@post("/calls/{call_id:int}/edit", opt=WRITE, include_in_schema=False)
async def call_correct(request: Request, call_id: int, data: Annotated[dict, FORM]) -> Response:
    user = require_user(request)
    r = await field.record(user.scope, "call", call_id)
    if r is None:
        raise not_found()
    form, _found = await field.read_call(
        user,
        {
            **data,
            "client_uuid": str(r["client_uuid"]),
            "subject_type": r["subject_type"],
            "subject_id": r["subject_id"] or "",
        },
    )
    if form.ok:
        try:
            await field.correct_call(user, r, form)
            return see_other(f"/calls/{call_id}")
        except FieldError as e:
            form.errors.update(e.errors)
    return await render_form(
        request,
        "call",
        field.typed_values(data),
        form.errors,
        status=422,
        action=f"/calls/{call_id}/edit",
        record=r,
    )


@post("/calls/{call_id:int}/review", opt=REVIEW, include_in_schema=False)
async def call_review(request: Request, call_id: int, data: Annotated[dict, FORM]) -> Response:
    return await review_record(request, "call", call_id, data)


ROUTES = [calls_list, call_new, call_create, call_detail, call_edit, call_correct, call_review]
