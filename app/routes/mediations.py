"""Mediations (矛盾纠纷调解): apply/open, sittings, outcome, correct within 24 hours, the
printable agreement, review."""

from typing import Annotated
from uuid import uuid4

from litestar import Request, Response, get, post

from app.domain import field as rules
from app.routes.visits import (
    FORM,
    READ,
    REVIEW,
    WRITE,
    detail_page,
    fpage,
    list_page,
    render_form,
    render_saved,
    review_record,
)
from app.services import field, mediations
from app.services.field import FieldError
from app.web import not_found, require_user, see_other

MULTI = ("methods",)


@get("/mediations", opt=READ, include_in_schema=False)
async def mediations_list(request: Request) -> Response:
    return await list_page(request, "mediation")


@get("/mediations/new", opt=WRITE, include_in_schema=False)
async def mediation_new(request: Request) -> Response:
    user = require_user(request)
    values = {
        "client_uuid": str(uuid4()),
        "held_at": field.local_input(field.now()),
        "venue_unit_id": user.unit_id,
        "outcome": "in_progress",
        "methods": [],
        "parties-0-role": "applicant",
        "parties-1-role": "respondent",
        "mediators-0-kind": "people_mediator",
        "mediators-0-name": user.full_name,
    }
    return await render_form(request, "mediation", values, {})


@post("/mediations", opt=WRITE, include_in_schema=False)
async def mediation_create(request: Request, data: Annotated[dict, FORM]) -> Response:
    user = require_user(request)
    form = await field.read_mediation(user, data)
    if form.ok:
        try:
            mediation_id, _created = await field.log_mediation(user, form)
            return await render_saved(request, "mediation", mediation_id)
        except FieldError as e:
            form.errors.update(e.errors)
    return await render_form(
        request, "mediation", field.typed_values(data, MULTI), form.errors, status=422
    )


async def _mediation(request: Request, mediation_id: int) -> dict:
    r = await field.record(require_user(request).scope, "mediation", mediation_id)
    if r is None:
        raise not_found()
    return r


def _outcome_values(r: dict) -> dict:
    values = {"outcome": r["outcome"], "methods": r["methods"] or []}
    for i, p in enumerate(r["parties"]):
        values.update({f"parties-{i}-{k}": v for k, v in p.items()})
    for i, m in enumerate(r["mediators"]):
        values.update({f"mediators-{i}-{k}": v for k, v in m.items()})
    return values


@get("/mediations/{mediation_id:int}", opt=READ, include_in_schema=False)
async def mediation_detail(request: Request, mediation_id: int) -> Response:
    return await _detail(request, await _mediation(request, mediation_id))


async def _detail(request: Request, r: dict, status: int = 200, **extra) -> Response:
    """The mediation page: its record, sittings, the outcome form while it is open."""
    extra.setdefault("outcome_values", _outcome_values(r))
    extra.setdefault("outcome_errors", {})
    return await detail_page(
        request,
        "mediation",
        r["id"],
        status,
        sessions=await field.sessions(r["id"]),
        party_rows=field.PARTY_ROWS,
        mediator_rows=field.MEDIATOR_ROWS,
        can_write=require_user(request).scope.can("field.write"),
        **extra,
    )


@post("/mediations/{mediation_id:int}/sessions", opt=WRITE, include_in_schema=False)
async def mediation_session(
    request: Request, mediation_id: int, data: Annotated[dict, FORM]
) -> Response:
    r = await _mediation(request, mediation_id)
    form = await field.add_session(require_user(request), r, data)
    if form.ok:
        return see_other(f"/mediations/{mediation_id}")
    return await _detail(
        request, r, 422, session_errors=form.errors, session_values=field.typed_values(data)
    )


@post("/mediations/{mediation_id:int}/outcome", opt=WRITE, include_in_schema=False)
async def mediation_outcome(
    request: Request, mediation_id: int, data: Annotated[dict, FORM]
) -> Response:
    user = require_user(request)
    r = await _mediation(request, mediation_id)
    form = await field.read_mediation(user, data, current=r)
    if form.ok:
        try:
            await field.record_outcome(user, r, form)
            return see_other(f"/mediations/{mediation_id}")
        except FieldError as e:
            form.errors.update(e.errors)
    return await _detail(
        request, r, 422, outcome_values=field.typed_values(data, MULTI), outcome_errors=form.errors
    )


@get("/mediations/{mediation_id:int}/edit", opt=WRITE, include_in_schema=False)
async def mediation_edit(request: Request, mediation_id: int) -> Response:
    """The correction form (the author, 24 hours or after a send-back); 422 once read-only."""
    r = await _mediation(request, mediation_id)
    why = mediations.refusal(require_user(request), r)
    return await render_form(
        request,
        "mediation",
        mediations.edit_values(r),
        {"": why} if why else {},
        status=422 if why else 200,
        action=f"/mediations/{mediation_id}/edit",
        record=r,
    )


@post("/mediations/{mediation_id:int}/edit", opt=WRITE, include_in_schema=False)
async def mediation_correct(
    request: Request, mediation_id: int, data: Annotated[dict, FORM]
) -> Response:
    user = require_user(request)
    r = await _mediation(request, mediation_id)
    why = mediations.refusal(user, r)
    form = await mediations.read_correction(user, data, r)
    if why:
        form.errors = {"": why}
    if form.ok:
        try:
            await mediations.correct(user, r, form)
            return see_other(f"/mediations/{mediation_id}")
        except FieldError as e:
            form.errors.update(e.errors)
    return await render_form(
        request,
        "mediation",
        {**field.typed_values(data, MULTI), "outcome": r["outcome"]},
        form.errors,
        status=422,
        action=f"/mediations/{mediation_id}/edit",
        record=r,
    )


@get("/mediations/{mediation_id:int}/agreement", opt=READ, include_in_schema=False)
async def mediation_agreement(request: Request, mediation_id: int) -> Response:
    """The 调解协议书, laid out for A4 by print CSS."""
    r = await _mediation(request, mediation_id)
    if r["outcome"] != "agreed_written":
        return see_other(f"/mediations/{mediation_id}")
    return fpage(
        "field/agreement.html",
        request,
        r=r,
        confirmation_due=rules.judicial_confirmation_due(r["agreement_signed_on"]),
    )


@post("/mediations/{mediation_id:int}/review", opt=REVIEW, include_in_schema=False)
async def mediation_review(
    request: Request, mediation_id: int, data: Annotated[dict, FORM]
) -> Response:
    return await review_record(request, "mediation", mediation_id, data)


ROUTES = [
    mediations_list,
    mediation_new,
    mediation_create,
    mediation_detail,
    mediation_session,
    mediation_outcome,
    mediation_edit,
    mediation_correct,
    mediation_agreement,
    mediation_review,
]
