"""Petition cases (HTML): list and department inbox, registration, detail with clocks and
actions, the printable opinion letter, notifications, rates, calendar overrides."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from litestar import Request, Response, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body

from app.domain import case_flow as flow
from app.domain import roles
from app.domain.forms import Form
from app.i18n import N_, gettext
from app.services import case_notifications, case_stats, org, text_analysis
from app.services import cases as svc
from app.web import client_ip, is_htmx, not_found, page, require_user, see_other

FORM = Body(media_type=RequestEncodingType.URL_ENCODED)
READ = {"scope": "unit", "cap": "cases.read"}
ACT = {"scope": "unit", "cap": "cases.act"}
REGISTER = {"scope": "unit", "cap": "cases.register"}
REPORT = {"scope": "unit", "cap": "cases.report_up"}

FIELD_LABELS = {
    "lead": N_("Lead department"),
    "co_handlers": N_("Co-handling departments"),
    "reason": N_("Reason"),
    "report_days": N_("Report back within (days)"),
    "body": N_("Department"),
    "notice_sent_on": N_("Written notice sent on"),
    "target": N_("Divert to"),
    "receiving_body": N_("Receiving body"),
    "where": N_("Where the petitioner should go"),
    "text": N_("Record"),
    "venue": N_("Venue"),
    "outcome": N_("Outcome"),
    "terms": N_("Agreed terms"),
    "days": N_("Extra days (at most 30)"),
    "approved_by": N_("Approved by (head of the body)"),
    "petitioner_told": N_("The petitioner was told the reason"),
    "request_summary": N_("The request"),
    "facts_and_reasons": N_("Facts and reasons"),
    "opinion": N_("Opinion"),
    "legal_basis": N_("Legal basis"),
    "delivered_on": N_("Received by the petitioner on"),
    "satisfaction": N_("Satisfaction"),
    "comment": N_("Comment"),
    "reviewing_body": N_("Reviewing body"),
    "summary": N_("Summary"),
    "feedback_days": N_("Written feedback within (days)"),
    "listed": N_("Listed supervision (挂牌督办, Art. 39)"),
    "leader": N_("Leader"),
}
TEXTAREAS = frozenset(
    {
        "reason",
        "text",
        "terms",
        "request_summary",
        "facts_and_reasons",
        "opinion",
        "legal_basis",
        "comment",
        "summary",
        "where",
    }
)
NUMBERS = frozenset({"report_days", "days", "feedback_days"})
DATES = frozenset({"notice_sent_on", "delivered_on"})


def _label_map(mapping: dict[str, str]) -> list[tuple[str, str]]:
    return [(k, gettext(v)) for k, v in mapping.items()]


def action_fields(
    action: str, state: str, user: Any, depts: list[dict], bodies: list[dict]
) -> list[dict]:
    """How to render the fields of one action's form."""
    spec = flow.ACTIONS[action]
    out = []
    names = list(spec.fields)
    if action == "supervise":
        names.append(("listed", False))
    for name, required in names:
        if name == "leader" or (name == "body" and user.role == roles.DEPARTMENT):
            continue
        f: dict[str, Any] = {
            "name": name,
            "label": gettext(FIELD_LABELS.get(name, name)),
            "required": required,
            "kind": "text",
        }
        if name in TEXTAREAS:
            f["kind"] = "textarea"
        elif name in NUMBERS:
            f["kind"] = "number"
        elif name in DATES:
            f["kind"] = "date"
        elif name in ("petitioner_told", "listed"):
            f["kind"] = "checkbox"
        elif name == "lead":
            f |= {"kind": "select", "options": [(str(d["id"]), d["name"]) for d in depts]}
        elif name == "co_handlers":
            f |= {"kind": "checks", "options": [(str(d["id"]), d["name"]) for d in depts]}
        elif name == "body":
            f |= {
                "kind": "select",
                "options": [(b["body_id"], b["name"]) for b in bodies if b["active"]],
            }
        elif name in ("outcome", "target", "satisfaction"):
            if name == "satisfaction":
                keys = flow.SATISFACTION
            elif name == "target":
                keys = (
                    tuple(flow.DESK_DIVERSIONS)
                    if state in flow.DESK_STATES
                    else flow.PROCEDURE_DIVERSIONS
                )
            elif action == "opinion":
                keys = flow.OUTCOMES
            elif action == "mediate":
                keys = flow.MEDIATION_OUTCOMES
            else:
                keys = flow.REVIEW_OUTCOMES
            f |= {
                "kind": "select",
                "options": [(k, gettext(svc.OUTCOME_LABELS.get(k, k))) for k in keys],
            }
        out.append(f)
    return out


def _filters(request: Request) -> svc.Filters:
    q = request.query_params
    form = Form(q)
    return svc.Filters(
        state=form.text("state", max_length=32),
        channel=form.text("channel", max_length=16),
        category=form.text("category", max_length=100),
        tags=[t for t in q.getall("tags", []) if t in svc.TAGS],
        overdue=form.boolean("overdue"),
        due_soon=form.boolean("due_soon"),
        department=form.integer("department") if form.ok else None,
        mine=form.boolean("mine"),
        inbox=form.boolean("inbox"),
        supervised=form.boolean("supervised"),
        q=form.text("q", max_length=100),
        page=max(1, (form.integer("page", min_value=1, max_value=100000) or 1)) if form.ok else 1,
    )


def _common() -> dict:
    return {
        "state_labels": svc.STATE_LABELS,
        "channel_labels": svc.CHANNEL_LABELS,
        "tag_labels": svc.TAGS,
        "action_labels": svc.ACTION_LABELS,
        "clock_labels": svc.CLOCK_LABELS,
        "clock_state_labels": svc.CLOCK_STATE_LABELS,
        "outcome_labels": svc.OUTCOME_LABELS,
        "field_labels": FIELD_LABELS,
    }


@get("/cases", opt=READ, include_in_schema=False)
async def case_list(request: Request) -> Response:
    user = require_user(request)
    f = _filters(request)
    if (
        user.role == roles.DEPARTMENT
        and "inbox" not in request.query_params
        and not any(k in request.query_params for k in ("state", "page", "q"))
    ):
        f.inbox = True
    result = await svc.list_cases(user, f)
    template = "cases/_rows.html" if is_htmx(request) and f.page > 1 else "cases/list.html"
    query = [(k, v) for k, v in request.query_params.multi_items() if k != "page"]
    return page(
        template,
        request,
        result=result,
        f=f,
        query=query,
        departments=(await svc.form_options())["departments"],
        categories=await svc.categories(),
        **_common(),
    )


async def _new_page(request: Request, status: int = 200, **context: Any) -> Response:
    user = require_user(request)
    units = await org.subtree(
        user.scope, tiers=("district", "street", "community", "grid", "compound")
    )
    return page(
        "cases/new.html",
        request,
        status,
        units=units,
        channels=flow.CHANNELS,
        max_group=flow.MAX_GROUP_REPRESENTATIVES,
        **_common(),
        **context,
    )


@get("/cases/new", opt=REGISTER, include_in_schema=False)
async def case_new(request: Request) -> Response:
    user = require_user(request)
    return await _new_page(
        request, values={"channel": "visit", "group_size": 1, "unit_id": user.unit_id}
    )


@post("/cases", opt=REGISTER, include_in_schema=False)
async def case_create(request: Request, data: Annotated[dict, FORM]) -> Response:
    return await _create(request, data, report=False)


@get("/cases/report", opt=REPORT, include_in_schema=False)
async def case_report_form(request: Request) -> Response:
    user = require_user(request)
    visit_id = Form(request.query_params).integer("visit_id")
    visit = await svc.visit_for_report(user, visit_id) if visit_id else None
    if visit_id and visit is None:
        raise not_found()
    return await _new_page(
        request,
        report=True,
        values={
            "channel": "visit",
            "group_size": 1,
            "unit_id": visit["unit"] if visit else user.unit_id,
            "visit_id": visit_id,
            "content": visit["summary"] if visit else "",
        },
    )


@post("/cases/report", opt=REPORT, include_in_schema=False)
async def case_report(request: Request, data: Annotated[dict, FORM]) -> Response:
    return await _create(request, data, report=True)


async def _create(request: Request, data: dict, *, report: bool) -> Response:
    user = require_user(request)
    values = dict(data)
    values["tags"] = request_tags(data)
    try:
        if report:
            visit_id = Form(data).integer("visit_id", required=True)
            if visit_id is None:
                raise svc.CaseRefused(
                    flow.Refusal(
                        "case.refused.invalid", fields={"visit_id": "This field is required."}
                    )
                )
            try:
                done = await svc.report_up(user, visit_id, values)
            except LookupError:
                raise not_found() from None
        else:
            done = await svc.register(user, values)
    except svc.CaseRefused as e:
        r = e.refusal
        message = None if r.key == "case.refused.invalid" else svc.refusal_text(r)
        return await _new_page(
            request,
            422,
            errors=dict(r.fields),
            values=values,
            refusal=message,
            article=r.article,
            report=report,
        )
    target = f"/cases/{done.id}?registered=1"
    if done.linked_to:
        target += f"&linked={done.linked_to['id']}"
    if report:
        return see_other("/cases?reported=1")
    return see_other(target)


def request_tags(data: Any) -> list[str]:
    value = data.get("tags") if hasattr(data, "get") else None
    if isinstance(value, str):
        return [value]
    return list(value or [])


async def _detail_page(
    request: Request, case_id: int, status: int = 200, **context: Any
) -> Response:
    user = require_user(request)
    info = await svc.detail(user, case_id)
    if info is None:
        raise not_found()
    depts = (await svc.form_options())["bodies"]
    names = {str(d["id"]): d["name"] for d in depts}
    forms = {
        a: action_fields(a, info["snapshot"].state.value, user, depts, info["bodies"])
        for a in info["allowed"]
    }
    defaults = {"request_summary": info["case"]["request"] or info["case"]["content"]}
    values = {**defaults, **context.pop("values", {})}
    return page(
        "cases/detail.html",
        request,
        status,
        info=info,
        c=info["case"],
        forms=forms,
        dept_names=names,
        values=values,
        article_of=lambda a: flow.ACTIONS[a].article,
        analysis=await text_analysis.analysis_of("petition_case", case_id),
        registered=request.query_params.get("registered"),
        **_common(),
        **context,
    )


@get("/cases/{case_id:int}", opt=READ, include_in_schema=False)
async def case_detail(request: Request, case_id: int) -> Response:
    return await _detail_page(request, case_id)


@post("/cases/{case_id:int}/actions", opt=ACT, include_in_schema=False)
async def case_action(request: Request, case_id: int, data: Annotated[dict, FORM]) -> Response:
    user = require_user(request)
    form = await request.form()
    fields = {k: v for k, v in data.items() if k != "_csrf_token"}
    if "co_handlers" in fields:
        fields["co_handlers"] = form.getall("co_handlers")
    action = str(fields.pop("action", "") or "")
    try:
        await svc.apply_action(user, case_id, action, fields, ip=client_ip(request))
    except LookupError:
        raise not_found() from None
    except svc.CaseRefused as e:
        names = await svc.department_names()
        r = e.refusal
        return await _detail_page(
            request,
            case_id,
            422,
            errors=dict(r.fields),
            values=fields,
            open_action=action,
            refusal=svc.refusal_text(r, names),
            refusal_article=r.article,
        )
    return see_other(f"/cases/{case_id}")


@get("/cases/{case_id:int}/petitioner", opt=READ, include_in_schema=False)
async def case_petitioner(request: Request, case_id: int) -> Response:
    user = require_user(request)
    case = await svc.get_case(user, case_id)
    if case is None:
        raise not_found()
    shown = await svc.reveal_petitioner(user, case, client_ip(request))
    return page("cases/_petitioner.html", request, c=case, shown=shown)


@get("/cases/{case_id:int}/opinion", opt=READ, include_in_schema=False)
async def case_opinion(request: Request, case_id: int) -> Response:
    user = require_user(request)
    info = await svc.detail(user, case_id)
    if info is None or info["opinion"] is None:
        raise not_found()
    return page(
        "cases/opinion.html", request, info=info, c=info["case"], o=info["opinion"], **_common()
    )


@get(["/notifications", "/cases/notifications"], opt={"scope": "any"}, include_in_schema=False)
async def notifications(request: Request) -> Response:
    user = require_user(request)
    from app.domain import warnings as warning_rules

    return page(
        "cases/notifications.html",
        request,
        rows=await case_notifications.for_user(user.id),
        warnings=await case_notifications.open_warnings(user),
        warning_kinds=warning_rules.KINDS,
        warning_levels=warning_rules.LEVELS,
    )


@get(
    ["/notifications/bell", "/cases/notifications/count"],
    opt={"scope": "any"},
    include_in_schema=False,
)
async def notification_count(request: Request) -> Response:
    user = require_user(request)
    return page("cases/_bell_count.html", request, count=await case_notifications.bell_count(user))


@post(
    ["/notifications/read", "/cases/notifications/read"],
    opt={"scope": "any"},
    include_in_schema=False,
)
async def notifications_read(request: Request) -> Response:
    await case_notifications.mark_read(require_user(request).id)
    return see_other("/notifications")


@get("/cases/stats", opt={"scope": "unit", "cap": "cases.stats"}, include_in_schema=False)
async def stats(request: Request) -> Response:
    user = require_user(request)
    return page(
        "cases/stats.html",
        request,
        rows=await case_stats.per_body(user),
        registrations=await case_stats.registrations(user),
    )


async def _calendar_page(request: Request, status: int = 200, **context: Any) -> Response:
    return page("cases/calendar.html", request, status, rows=await svc.overrides(), **context)


@get("/cases/calendar", opt={"scope": "admin", "cap": "cases.calendar"}, include_in_schema=False)
async def calendar_page(request: Request) -> Response:
    return await _calendar_page(request)


@post("/cases/calendar", opt={"scope": "admin", "cap": "cases.calendar"}, include_in_schema=False)
async def calendar_add(request: Request, data: Annotated[dict, FORM]) -> Response:
    form = Form(data)
    day = form.day("day", required=True)
    kind = form.choice("is_workday", ("workday", "holiday"))
    note = form.text("note", max_length=200)
    if form.ok and day is not None:
        if day < date(2000, 1, 1) or day > date(2100, 12, 31):
            form.error("day", "Date out of range.")
        else:
            await svc.set_override(require_user(request).id, day, kind == "workday", note)
            return see_other("/cases/calendar")
    return await _calendar_page(request, 422, errors=form.errors, values=form.values)


ROUTES = [
    case_list,
    case_new,
    case_create,
    case_report_form,
    case_report,
    case_detail,
    case_action,
    case_petitioner,
    case_opinion,
    notifications,
    notification_count,
    notifications_read,
    stats,
    calendar_page,
    calendar_add,
]
