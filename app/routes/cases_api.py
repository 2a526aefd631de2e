"""JSON API of petition cases (CONTRACT.md): register, list, read, take actions.

Phone and ID numbers are masked here; the full values are shown only on the HTML detail page
when the viewer opens them (audited). Refusals answer 422 with ``detail`` and ``article``;
invalid fields answer 422 with ``errors`` per field.
"""

from __future__ import annotations

import json
from typing import Any

from litestar import Request, Response, get, post

from app.domain.forms import REQUIRED
from app.i18n import gettext
from app.routes.api_responses import ID_IN_PATH, PAGE, query, query_parameters, reads, writes
from app.routes.cases import ACT, READ, REGISTER, REPORT, request_tags
from app.services import cases as svc
from app.templating import mask_id_number, mask_phone
from app.web import client_ip, json_errors, not_found, require_user

TAGS = ["cases"]


def _refused(e: svc.CaseRefused, names: dict[str, str] | None = None) -> Response:
    r = e.refusal
    if r.key == "case.refused.invalid":
        response = json_errors(dict(r.fields))
        if r.article:
            response.content["article"] = r.article
        return response
    return Response(
        {"detail": svc.refusal_text(r, names), "key": r.key, "article": r.article}, status_code=422
    )


def _iso(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else value


def _case_out(r: dict) -> dict:
    out = {
        "id": r["id"],
        "number": r["number"],
        "channel": r["channel"],
        "petitioner_name": r["petitioner_name"],
        "petitioner_phone": mask_phone(r["petitioner_phone"]),
        "petitioner_id_number": mask_id_number(r["petitioner_id_number"]),
        "group_size": r["group_size"],
        "category": r["category"],
        "state": r["state"],
        "tags": list(r["tags"] or []),
        "received_at": _iso(r["received_at"]),
        "unit_name": r.get("unit_name"),
        "lead_department": r.get("lead_name"),
        "repeat_of": r.get("repeat_of"),
        "source_visit_id": r.get("source_visit_id"),
    }
    clock = r.get("clock")
    if clock and clock.get("nearest"):
        c = clock["nearest"]
        out["next_deadline"] = {
            "clock": c.name,
            "article": c.article,
            "due_on": _iso(c.due_on),
            "state": c.state.value,
            "overdue": clock["overdue"],
        }
    return out


def _body(data: Any) -> dict | None:
    return data if isinstance(data, dict) else None


@get(
    "/api/v1/cases",
    opt=READ,
    tags=TAGS,
    responses=reads(READ),
    operation_class=query_parameters(
        query(
            "state",
            "Only cases in this state (`open`: any open one).",
            choices=[*svc.STATE_LABELS, "open"],
        ),
        query("channel", "Only cases received through this channel.", choices=svc.CHANNEL_LABELS),
        query("category", "Only cases of this category."),
        query("tags", "Only cases carrying every tag given.", choices=svc.TAGS, many=True),
        query("overdue", "`1`: only cases with a statutory clock past due.", "boolean"),
        query("due_soon", "`1`: only cases with a clock due within days.", "boolean"),
        query("department", "A department's id: only cases assigned to it.", "integer"),
        query("mine", "`1`: only cases the caller owns as the responsible leader.", "boolean"),
        query("inbox", "`1`: open cases, the soonest due first.", "boolean"),
        query("supervised", "`1`: only cases listed for or awaiting supervision.", "boolean"),
        query("q", "Text searched in the case number, the petitioner's name and the content."),
        PAGE,
    ),
)
async def api_list(request: Request) -> Response:
    """Cases the caller may see (same filters as ``/cases``), masked, newest first."""
    from app.routes.cases import _filters

    user = require_user(request)
    result = await svc.list_cases(user, _filters(request))
    return Response(
        {
            "items": [_case_out(r) for r in result["rows"]],
            "total": result["total"],
            "page": result["page"],
            "has_more": result["has_more"],
        }
    )


@post("/api/v1/cases", opt=REGISTER, tags=TAGS, status_code=201, responses=writes(REGISTER, 422))
async def api_create(request: Request, data: dict[str, Any]) -> Response:
    """Register a matter (Art. 21). 201 with the case; 422 per field or with the article."""
    user = require_user(request)
    values = dict(data)
    values["tags"] = request_tags(values)
    if "unit_id" not in values or values.get("unit_id") in (None, ""):
        values["unit_id"] = user.unit_id
    try:
        done = await svc.register(user, values)
    except svc.CaseRefused as e:
        return _refused(e)
    case = await svc.get_case(user, done.id)
    out = _case_out(case)
    out["linked_to"] = (
        {"id": done.linked_to["id"], "number": done.linked_to["number"]} if done.linked_to else None
    )
    return Response(out, status_code=201)


#: Event fields that hold a petitioner's identity: masked like the case itself.
_MASKED = {
    "petitioner_phone": mask_phone,
    "phone": mask_phone,
    "petitioner_id_number": mask_id_number,
    "id_number": mask_id_number,
}


def _masked(data: dict | None) -> dict:
    return {
        k: _MASKED[k](v) if k in _MASKED and isinstance(v, str) else v
        for k, v in (data or {}).items()
    }


@post(
    "/api/v1/cases/report",
    opt=REPORT,
    tags=TAGS,
    status_code=201,
    responses=writes(REPORT, 404, 422),
)
async def api_report(request: Request, data: dict[str, Any]) -> Response:
    """Report a matter found on a visit up to the front desk (``visit_id`` required; unit and
    content default to the visit's). 201 with the case; 404 for a visit out of scope."""
    user = require_user(request)
    values = dict(data)
    values["tags"] = request_tags(values)
    try:
        visit_id = int(values.get("visit_id"))
    except (TypeError, ValueError):
        return json_errors({"visit_id": REQUIRED})
    try:
        done = await svc.report_up(user, visit_id, values)
    except LookupError:
        raise not_found() from None
    except svc.CaseRefused as e:
        return _refused(e)
    out = _case_out(await svc.get_case(user, done.id))
    out["source_visit_id"] = visit_id
    return Response(out, status_code=201)


@get("/api/v1/cases/{case_id:int}", opt=READ, tags=TAGS, responses=reads(READ, *ID_IN_PATH))
async def api_detail(request: Request, case_id: int) -> Response:
    """One case: masked petitioner, clocks with their articles, events, allowed actions."""
    user = require_user(request)
    info = await svc.detail(user, case_id)
    if info is None:
        raise not_found()
    out = _case_out(info["case"])
    out["content"] = info["case"]["content"]
    out["request"] = info["case"]["request"]
    out["clocks"] = [
        {
            "name": c.name,
            "article": c.article,
            "kind": c.kind.value,
            "started_on": _iso(c.started_on),
            "due_on": _iso(c.due_on),
            "stopped_on": _iso(c.stopped_on),
            "state": c.state.value,
            "body": c.body,
        }
        for c in info["clocks"]
    ]
    out["events"] = [
        {"kind": e["kind"], "at": _iso(e["at"]), "role": e["role"], "data": _masked(e["data"])}
        for e in info["events"]
    ]
    out["bodies"] = [
        {
            "department_id": b["department"],
            "unit_id": b["unit"],
            "body_id": b["body_id"],
            "name": b["name"],
            "role": b["role"],
            "acknowledged_at": _iso(b["acknowledged_at"]),
            "objected_at": _iso(b["objected_at"]),
            "active": b["active"],
        }
        for b in info["bodies"]
    ]
    out["allowed_actions"] = list(info["allowed"])
    return Response(out)


@post(
    "/api/v1/cases/{case_id:int}/actions",
    opt=ACT,
    tags=TAGS,
    status_code=200,
    responses=writes(ACT, *ID_IN_PATH, 422),
)
async def api_action(request: Request, case_id: int) -> Response:
    """Take an action: a JSON object with ``action`` and its fields (CONTRACT.md).

    200 with the new state; 422 with ``errors`` per field, or ``detail`` and ``article`` on
    a refusal; 404 for a case outside the caller's scope (checked before the body is read).
    """
    user = require_user(request)
    if await svc.get_case(user, case_id) is None:
        raise not_found()
    try:
        data = json.loads(await request.body() or b"{}")
    except ValueError:
        data = None
    if not isinstance(data, dict):
        return Response(
            {"detail": gettext("Invalid request."), "status_code": 400}, status_code=400
        )
    fields = dict(data)
    action = fields.pop("action", None)
    if not isinstance(action, str) or not action:
        return json_errors({"action": REQUIRED})
    try:
        done = await svc.apply_action(user, case_id, action, fields, ip=client_ip(request))
    except LookupError:
        raise not_found() from None
    except svc.CaseRefused as e:
        return _refused(e, await svc.department_names())
    return Response(
        {"id": done.case_id, "action": done.action, "state": done.state, "detail": gettext("Done.")}
    )


ROUTES = [api_list, api_create, api_report, api_detail, api_action]
