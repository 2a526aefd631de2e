"""Petition cases: registration, report-up, actions (dispatch, handling, review ...), scope.

The rules live in :mod:`app.domain.case_flow` and :mod:`app.domain.clocks`; this module loads a
case's events, asks the domain, and stores what it answers in one transaction (events, the
state copy on the case row, the bodies, supervision orders, ownership, the audit log and the
roll-up mark). A refusal changes nothing.

Bodies (Art. 24) are functional departments; the domain knows them by id as a string.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from app import db
from app.domain import case_flow as flow
from app.domain import roles
from app.domain.calendar import WorkCalendar, local_date
from app.domain.case_flow import CaseSnapshot, CaseState, Matter, Refusal
from app.domain.clocks import (
    ARTICLE_GROUP_VISIT,
    ARTICLE_HANDLING,
    ARTICLE_MULTI_BODY,
    DEFAULT_SETTINGS,
    Clock,
    ClockState,
    Event,
    Kind,
    compute_clocks,
    due_soon,
)
from app.domain.forms import LOCAL_TZ, N_, Form
from app.i18n import gettext
from app.services import audit

TAGS = {
    "to_beijing": N_("Petition to Beijing (进京访)"),
    "backlog": N_("Backlog case (存量积案)"),
    "first_time": N_("First-time letter or visit (初信初访)"),
    "risk": N_("Risk screening (风险排查)"),
    "publicity": N_("Publicity of the Regulations"),
    "prominent": N_("Prominent problem"),
}
CHANNEL_LABELS = {
    "online": N_("Online"),
    "letter": N_("Letter"),
    "phone": N_("Phone"),
    "fax": N_("Fax"),
    "visit": N_("In person"),
}
STATE_LABELS = {
    "registered": N_("Registered"),
    "dispatched": N_("Dispatched"),
    "objected": N_("Objected (back at the desk)"),
    "accepted": N_("Accepted"),
    "in_progress": N_("Being handled"),
    "extended": N_("Extended"),
    "diverted": N_("Diverted"),
    "told_where_to_go": N_("Told where to go"),
    "replied": N_("Replied"),
    "evaluated": N_("Evaluated"),
    "review_requested": N_("Review (复查) requested"),
    "reviewed": N_("Reviewed (复查)"),
    "rereview_requested": N_("Re-review (复核) requested"),
    "rereviewed": N_("Re-reviewed (复核)"),
    "closed": N_("Closed"),
    "final": N_("Final"),
}
ACTION_LABELS = {
    "register": N_("Register"),
    "transfer": N_("Transfer (转送)"),
    "assign": N_("Assign (交办)"),
    "acknowledge": N_("Acknowledge receipt"),
    "accept": N_("Accept (written notice)"),
    "object": N_("Object (outside our remit)"),
    "divert": N_("Divert"),
    "tell_where_to_go": N_("Tell the petitioner where to go"),
    "note": N_("Investigation note"),
    "hearing_start": N_("Open a hearing"),
    "hearing_end": N_("End the hearing"),
    "mediate": N_("Mediation / settlement"),
    "extend": N_("Extend (once, ≤ 30 days)"),
    "opinion": N_("Handling opinion letter"),
    "evaluate": N_("Record satisfaction"),
    "request_review": N_("Request review (复查)"),
    "decide_review": N_("Decide review (复查)"),
    "request_rereview": N_("Request re-review (复核)"),
    "decide_rereview": N_("Decide re-review (复核)"),
    "close": N_("Close"),
    "supervise": N_("Supervision order (督办)"),
    "report_back": N_("Report back"),
    "claim_ownership": N_("Own this case (包案)"),
}
CLOCK_LABELS = {
    "dispatch": N_("Dispatch by the desk"),
    "redispatch": N_("Re-dispatch after an objection"),
    "acceptance": N_("Written notice of acceptance"),
    "objection": N_("Objection window"),
    "assignment_report": N_("Report back on the assignment"),
    "handling": N_("Handling and written reply"),
    "review_request": N_("Window to request review (复查)"),
    "review_decision": N_("Review (复查) decision"),
    "rereview_request": N_("Window to request re-review (复核)"),
    "rereview_decision": N_("Re-review (复核) decision"),
    "supervision_feedback": N_("Feedback on the supervision order"),
}
CLOCK_STATE_LABELS = {
    "running": N_("running"),
    "paused": N_("paused"),
    "met": N_("met"),
    "met_late": N_("met late"),
    "overdue": N_("overdue"),
    "lapsed": N_("lapsed"),
}
OUTCOME_LABELS = {
    "support": N_("Support (予以支持)"),
    "explain": N_("Explain (解释说明)"),
    "not_support": N_("Not support (不予支持)"),
    "uphold": N_("Uphold"),
    "revise": N_("Revise"),
    "satisfied": N_("Satisfied"),
    "basically": N_("Basically satisfied"),
    "dissatisfied": N_("Dissatisfied"),
    "agreed": N_("Agreement reached"),
    "failed": N_("No agreement"),
    "political_legal": N_("Political-legal organs (涉法涉诉, Art. 28)"),
    "discipline": N_("Discipline inspection (纪检监察)"),
    "litigation": N_("Litigation"),
    "arbitration": N_("Arbitration"),
    "administrative": N_("Administrative procedure"),
    "party_appeal": N_("Party-member appeal"),
}
#: Messages of refusals decided here (not in the domain table).
LOCAL_MESSAGES = {
    "case.refused.not_your_body": N_("Your department is not a body this matter was sent to."),
    "case.refused.not_head": N_(
        "An extension must be approved by the head of the body; ask your department head."
    ),
    "case.refused.not_found": N_("Not found."),
}
#: States in which the matter has a written answer or left the petition procedure.
RESOLVED_STATES = frozenset(
    {
        "diverted",
        "told_where_to_go",
        "replied",
        "evaluated",
        "reviewed",
        "rereviewed",
        "closed",
        "final",
    }
)
OPEN_STATES = frozenset(s.value for s in CaseState) - RESOLVED_STATES
DISTRICT_ROLES = frozenset({roles.ADMIN, roles.FRONT_DESK, roles.DISTRICT_LEADER, roles.SUPERVISOR})
LEVEL_OF_ROLE = {
    roles.FRONT_DESK: "district",
    roles.STREET_LEADER: "street",
    roles.COMMUNITY_STAFF: "community",
    roles.GRID_WORKER: "community",
}
#: Actions whose ``body`` field is the acting department.
BODY_ACTIONS = frozenset({Kind.ACKNOWLEDGE, Kind.ACCEPT, Kind.OBJECT})
#: Receiver actions only the lead body takes.
LEAD_ACTIONS = frozenset(
    {
        Kind.NOTE,
        Kind.HEARING_START,
        Kind.HEARING_END,
        Kind.MEDIATE,
        Kind.EXTEND,
        Kind.OPINION,
        Kind.DIVERT,
        Kind.REPORT_BACK,
        Kind.DECIDE_REVIEW,
        Kind.DECIDE_REREVIEW,
        Kind.REQUEST_REVIEW,
        Kind.REQUEST_REREVIEW,
        Kind.CLOSE,
    }
)
ID_NUMBER_PATTERN = "0123456789Xx"
PAGE_SIZE = 20
ARTICLE_LISTED_SUPERVISION = "第三十九条"


class CaseRefused(Exception):
    """An action or registration was refused; nothing was changed."""

    def __init__(self, refusal: Refusal) -> None:
        super().__init__(refusal.key)
        self.refusal = refusal


def refusal_text(refusal: Refusal, names: dict[str, str] | None = None) -> str:
    """The refusal's message, translated, with body ids replaced by department names."""
    template = flow.MESSAGES.get(refusal.key) or LOCAL_MESSAGES.get(refusal.key, refusal.key)
    params = dict(refusal.params)
    names = names or {}
    for key in ("waiting", "body", "lead"):
        if key in params and params[key]:
            params[key] = "、".join(
                names.get(p.strip(), p.strip()) for p in str(params[key]).split(",")
            )
    if "state" in params:
        params["state"] = gettext(STATE_LABELS.get(params["state"], params["state"]))
    if "action" in params:
        params["action"] = gettext(ACTION_LABELS.get(params["action"], params["action"]))
    if "role" in params:
        from app.templating import ROLE_LABELS

        params["role"] = gettext(ROLE_LABELS.get(params["role"], params["role"]))
    try:
        return gettext(template).format(**params)
    except (KeyError, IndexError):
        return gettext(template)


def _now() -> datetime:
    return datetime.now(LOCAL_TZ)


# -- calendar ------------------------------------------------------------------------------


async def calendar() -> WorkCalendar:
    """The statutory calendar: the holiday package plus the admins' overrides."""
    rows = await db.fetch("SELECT day, is_workday FROM calendar_override")
    return WorkCalendar({r["day"]: r["is_workday"] for r in rows})


async def overrides() -> list[dict]:
    return await db.fetch("SELECT * FROM calendar_override ORDER BY day")


async def set_override(actor_id: int, day: date, is_workday: bool, note: str) -> None:
    """Add or change one day of the official calendar (a future year's 调休 notice)."""
    async with db.transaction():
        await db.fetch(
            "INSERT INTO calendar_override (day, is_workday, note) VALUES ({}, {}, {})"
            " ON CONFLICT (day) DO UPDATE SET is_workday = EXCLUDED.is_workday,"
            " note = EXCLUDED.note",
            day,
            is_workday,
            note,
        )
        # working-day deadlines may move: the stored ones are recomputed lazily
        await db.fetch("UPDATE petition_case SET next_due_clock = NULL")
        await audit.record(
            "calendar.override",
            actor_id=actor_id,
            object_type="calendar",
            object_id=day.isoformat(),
            detail={"is_workday": is_workday, "note": note},
        )


# -- scope ---------------------------------------------------------------------------------


def scope_sql(user: Any, alias: str = "c") -> tuple[str, list[Any]]:
    """A WHERE fragment limiting cases to what ``user`` may see (``{}`` placeholders)."""
    if user.role == roles.DEPARTMENT:
        if not user.department_id:
            return "false", []
        return (
            f'EXISTS (SELECT 1 FROM case_body b WHERE b."case" = {alias}.id'
            " AND b.department = {})",
            [user.department_id],
        )
    if not user.unit_path:
        return "false", []
    if user.role == roles.STREET_LEADER and user.unit_id:
        return (
            f"({alias}.unit_path LIKE {{}} OR EXISTS (SELECT 1 FROM case_body b"
            f' WHERE b."case" = {alias}.id AND b.unit = {{}}))',
            [user.unit_path + "%", user.unit_id],
        )
    return f"{alias}.unit_path LIKE {{}}", [user.unit_path + "%"]


def street_body(unit_id: int) -> str:
    """The domain's id of a street office as a body."""
    return f"u{unit_id}"


def _body_columns(body: str) -> tuple[int | None, int | None]:
    """(department, unit) of a body id."""
    body = str(body)
    return (None, int(body[1:])) if body.startswith("u") else (int(body), None)


async def get_case(user: Any, case_id: int) -> dict | None:
    """One case if ``user`` may see it (None: answer 404)."""
    where, args = scope_sql(user)
    return await db.fetchrow(
        "SELECT c.*, u.name AS unit_name, d.name AS lead_name, o.full_name AS owner_name"
        " FROM petition_case c JOIN unit u ON u.id = c.unit"
        " LEFT JOIN department d ON d.id = c.lead_department"
        " LEFT JOIN app_user o ON o.id = c.owner_leader"
        f" WHERE c.id = {{}} AND {where}",
        case_id,
        *args,
    )


# -- events, snapshot, clocks --------------------------------------------------------------


def _event(row: dict) -> Event:
    data = row["data"]
    if isinstance(data, str):
        data = json.loads(data)
    return Event(kind=row["kind"], at=row["at"], data=data or {})


async def event_rows(case_id: int) -> list[dict]:
    rows = await db.fetch(
        "SELECT e.*, u.full_name AS actor_name FROM case_event e"
        ' LEFT JOIN app_user u ON u.id = e.actor WHERE e."case" = {} ORDER BY e.at, e.id',
        case_id,
    )
    for r in rows:
        if isinstance(r["data"], str):
            r["data"] = json.loads(r["data"])
    if not rows or rows[0]["kind"] != "register":
        # A matter loaded from outside the app (an import, a restore) may lack its
        # registration event: its received time stands in, so it replays instead of failing.
        received = await db.fetchrow(
            "SELECT coalesce(received_at, created_at) AS at FROM petition_case WHERE id = {}",
            case_id,
        )
        if received is not None:
            rows.insert(
                0,
                {
                    "kind": "register",
                    "at": received["at"],
                    "data": {},
                    "actor_name": None,
                    "role": None,
                    "actor": None,
                    "id": 0,
                },
            )
    return rows


async def events_of(case_ids: list[int]) -> dict[int, list[Event]]:
    """Events of several cases at once."""
    if not case_ids:
        return {}
    rows = await db.fetch(
        'SELECT "case" AS case_id, kind, at, data FROM case_event'
        ' WHERE "case" = ANY({}) ORDER BY at, id',
        case_ids,
    )
    out: dict[int, list[Event]] = {i: [] for i in case_ids}
    for r in rows:
        out[r["case_id"]].append(_event(r))
    return out


def clocks_of(events: list[Event], cal: WorkCalendar, today: date) -> tuple[Clock, ...]:
    return compute_clocks(events, cal, today) if events else ()


def clock_summary(clocks: tuple[Clock, ...], today: date) -> dict:
    """The open clock closest to its due date, and flags for filtering."""
    open_clocks = [c for c in clocks if c.is_open and c.kind.value == "duty"]
    overdue = [c for c in open_clocks if c.state is ClockState.OVERDUE]
    soon = [c for c in open_clocks if due_soon(c, today)]
    nearest = min(open_clocks, key=lambda c: c.due_on, default=None)
    return {
        "nearest": nearest,
        "overdue": bool(overdue),
        "due_soon": bool(soon),
        "days_left": nearest.days_left(today) if nearest else None,
    }


def next_due(clocks: tuple[Clock, ...]) -> tuple[date | None, str]:
    """The nearest running (or overdue) duty deadline and its clock name; (None, '') if none.

    Stored on the case row when events are applied so lists filter overdue / due soon in SQL.
    """
    running = [
        c
        for c in clocks
        if c.is_open
        and c.kind.value == "duty"
        and c.state in (ClockState.RUNNING, ClockState.OVERDUE)
    ]
    nearest = min(running, key=lambda c: c.due_on, default=None)
    return (nearest.due_on, nearest.name) if nearest else (None, "")


async def refresh_due(case_ids: list[int]) -> None:
    """Recompute and store ``next_due_on`` / ``next_due_clock`` from the cases' events."""
    if not case_ids:
        return
    cal = await calendar()
    today = _now().date()
    evs = await events_of(case_ids)
    for cid in case_ids:
        events = evs[cid]
        if not events or events[0].kind != "register":
            events = [_event(r) for r in await event_rows(cid)]
        due_on, name = next_due(clocks_of(events, cal, today))
        await db.fetch(
            "UPDATE petition_case SET next_due_on = {}, next_due_clock = {} WHERE id = {}",
            due_on,
            name,
            cid,
        )


async def fill_missing_due(where: str = "true", args: list[Any] | None = None) -> None:
    """Lazily backfill rows never computed (older rows, imports): ``next_due_clock IS NULL``."""
    while True:
        rows = await db.fetch(
            f"SELECT c.id FROM petition_case c WHERE {where} AND c.next_due_clock IS NULL"
            " ORDER BY c.id LIMIT 500",
            *(args or []),
        )
        if not rows:
            return
        await refresh_due([r["id"] for r in rows])


async def department_names() -> dict[str, str]:
    """Names of every body id: departments and street offices."""
    rows = await db.fetch("SELECT id, name FROM department")
    streets = await db.fetch("SELECT id, name FROM unit WHERE tier = 'street'")
    return {str(r["id"]): r["name"] for r in rows} | {
        street_body(r["id"]): r["name"] for r in streets
    }


# -- listing -------------------------------------------------------------------------------


@dataclass
class Filters:
    state: str = ""
    channel: str = ""
    category: str = ""
    tags: list[str] = field(default_factory=list)
    overdue: bool = False
    due_soon: bool = False
    department: int | None = None
    mine: bool = False
    inbox: bool = False
    supervised: bool = False
    q: str = ""
    page: int = 1


async def list_cases(user: Any, f: Filters) -> dict:
    """Cases in scope matching ``f``, newest first (inbox: overdue and due soon first)."""
    where, args = scope_sql(user)
    scope_args = list(args)
    clauses = [where]
    if f.state:
        if f.state == "open":
            clauses.append("c.state = ANY({})")
            args.append(sorted(OPEN_STATES))
        else:
            clauses.append("c.state = {}")
            args.append(f.state)
    if f.channel:
        clauses.append("c.channel = {}")
        args.append(f.channel)
    if f.category:
        clauses.append("c.category = {}")
        args.append(f.category)
    if f.tags:
        clauses.append("c.tags @> {}::varchar[]")
        args.append(f.tags)
    if f.department:
        clauses.append(
            'EXISTS (SELECT 1 FROM case_body b2 WHERE b2."case" = c.id AND b2.department = {})'
        )
        args.append(f.department)
    if f.mine:
        clauses.append("c.owner_leader = {}")
        args.append(user.id)
    if f.supervised:
        clauses.append(
            "(c.listed_supervision OR EXISTS (SELECT 1 FROM supervision s"
            ' WHERE s."case" = c.id AND s.feedback_at IS NULL))'
        )
    if f.inbox:
        clauses.append("c.state = ANY({})")
        args.append(sorted(OPEN_STATES))
    if f.q:
        clauses.append("(c.number ILIKE {} OR c.petitioner_name ILIKE {} OR c.content ILIKE {})")
        args.extend([f"%{f.q}%"] * 3)
    need_clocks = f.overdue or f.due_soon or f.inbox
    today = _now().date()
    soon = today + timedelta(days=DEFAULT_SETTINGS.due_soon_days)
    order = "c.received_at DESC, c.id DESC"
    if need_clocks:
        await fill_missing_due(where, scope_args)
        if f.overdue:
            clauses.append("c.next_due_on < {}")
            args.append(today)
        if f.due_soon:
            clauses.append("c.next_due_on BETWEEN {} AND {}")
            args.extend([today, soon])
        if f.inbox:
            order = (
                "(c.next_due_on < {}) IS TRUE DESC, (c.next_due_on <= {}) IS TRUE DESC,"
                " c.next_due_on NULLS LAST, " + order
            )
    where_sql = " AND ".join(clauses)
    total = await db.fetchval(f"SELECT count(*) FROM petition_case c WHERE {where_sql}", *args)
    page_size = PAGE_SIZE
    start = (max(f.page, 1) - 1) * page_size
    order_args = [today, soon] if f.inbox else []
    shown = await db.fetch(
        "SELECT c.id, c.number, c.channel, c.petitioner_name, c.petitioner_phone,"
        " c.petitioner_id_number, c.group_size, c.category, c.state, c.tags, c.received_at,"
        " c.listed_supervision, c.owner_leader, c.repeat_of, c.source_visit_id,"
        " c.next_due_on, c.next_due_clock, u.name AS unit_name, d.name AS lead_name"
        " FROM petition_case c JOIN unit u ON u.id = c.unit"
        " LEFT JOIN department d ON d.id = c.lead_department"
        f" WHERE {where_sql} ORDER BY {order} LIMIT {{}} OFFSET {{}}",
        *args,
        *order_args,
        page_size,
        start,
    )
    # The clocks shown are the domain's, for the page only.
    cal = await calendar()
    evs = await events_of([r["id"] for r in shown])
    for r in shown:
        r["clock"] = clock_summary(clocks_of(evs[r["id"]], cal, today), today)
    return {
        "rows": shown,
        "total": total,
        "page": max(f.page, 1),
        "has_more": start + page_size < total,
    }


async def categories() -> list[str]:
    rows = await db.fetch(
        "SELECT DISTINCT category FROM petition_case WHERE category <> '' ORDER BY category"
    )
    return [r["category"] for r in rows]


# -- registration --------------------------------------------------------------------------


async def _next_number(received: datetime) -> str:
    year = local_date(received).year
    await db.fetch("SELECT pg_advisory_xact_lock(5171006)")
    count = await db.fetchval(
        "SELECT count(*) FROM petition_case WHERE number LIKE {}", f"ED-{year}-%"
    )
    return f"ED-{year}-{count + 1:06d}"


def _digits(value: str) -> str:
    return "".join(ch for ch in value if ch.isdigit())


async def _existing_matters(petitioner: dict) -> list[tuple[Matter, dict]]:
    """Cases of (probably) the same petitioner, as the repeat check sees them."""
    id_number = petitioner.get("petitioner_id_number") or ""
    phone = _digits(petitioner.get("petitioner_phone") or "")
    name = (petitioner.get("petitioner_name") or "").strip()
    if not id_number and not (phone and name):
        return []
    rows = await db.fetch(
        "SELECT c.id, c.number, c.state, c.content, c.petitioner_name, c.petitioner_phone,"
        " c.petitioner_id_number, u.role AS registrar_role FROM petition_case c"
        " LEFT JOIN app_user u ON u.id = c.created_by"
        " WHERE (c.petitioner_id_number <> '' AND upper(c.petitioner_id_number) = upper({}))"
        " OR (c.petitioner_name = {} AND regexp_replace(c.petitioner_phone, '\\D', '', 'g') = {}"
        " AND {} <> '')",
        id_number,
        name,
        phone,
        phone,
    )
    cal = await calendar()
    today = _now().date()
    evs = await events_of([r["id"] for r in rows])
    out = []
    for r in rows:
        handling = [c for c in clocks_of(evs[r["id"]], cal, today) if c.name == "handling"]
        matter = Matter(
            facts_key=flow.facts_key(r["content"]),
            state=r["state"],
            level=LEVEL_OF_ROLE.get(r["registrar_role"] or "", "district"),
            id_number=r["petitioner_id_number"] or "",
            phone=r["petitioner_phone"] or "",
            name=r["petitioner_name"] or "",
            case_id=r["number"],
            handling_due_on=handling[-1].due_on if handling else None,
        )
        out.append((matter, r))
    return out


@dataclass
class Registered:
    id: int
    number: str
    linked_to: dict | None = None


async def register(
    user: Any,
    data: dict,
    *,
    now: datetime | None = None,
    source_visit_id: int | None = None,
    as_role: str | None = None,
) -> Registered:
    """Register a matter (Art. 21). Raises :class:`CaseRefused` (invalid fields, repeat).

    A matter of the same petitioner that is still open is linked (``repeat_of``) and named in
    the answer; a repeat after 复核 or one raised higher while handled below is refused
    (Arts. 36, 19).
    """
    now = now or _now()
    role = as_role or user.role
    outcome = flow.register(role, data, now)
    form = Form(data)
    id_number = form.text("petitioner_id_number", max_length=32)
    if id_number and (
        len(id_number) not in (15, 18) or any(ch not in ID_NUMBER_PATTERN for ch in id_number)
    ):
        form.error("petitioner_id_number", N_("Enter a 15- or 18-character ID number."))
    unit_id = form.integer("unit_id", required=True)
    form.text("request", max_length=10000)
    tags = form.choices("tags", TAGS)
    unit_row = None
    if unit_id is not None:
        unit_row = await db.fetchrow("SELECT id, path, tier FROM unit WHERE id = {}", unit_id)
        if unit_row is None or not (user.unit_path and unit_row["path"].startswith(user.unit_path)):
            form.error("unit_id", N_("Choose a unit in your area."))
    if not outcome.ok or not form.ok:
        refusal = outcome.refusal
        errors = dict(refusal.fields) if refusal else {}
        for k, v in form.errors.items():
            errors.setdefault(k, v)
        if refusal is not None and refusal.key != "case.refused.invalid":
            raise CaseRefused(refusal)
        raise CaseRefused(
            Refusal("case.refused.invalid", fields=errors, article=flow.ARTICLE_REGISTER)
        )
    event = outcome.events[0]
    values = dict(event.data)
    petitioner = {**values, "petitioner_id_number": id_number}
    new_matter = Matter(
        facts_key=flow.facts_key(values["content"]),
        state="registered",
        level=LEVEL_OF_ROLE.get(role, "district"),
        id_number=id_number,
        phone=values.get("petitioner_phone") or "",
        name=values.get("petitioner_name") or "",
    )
    existing = await _existing_matters(petitioner)
    refusal = flow.check_repeat(new_matter, [m for m, _ in existing], now.date())
    if refusal is not None:
        raise CaseRefused(refusal)
    linked = next((r for m, r in existing if r["state"] in OPEN_STATES), None)
    group = int(values.get("group_size") or 1)
    if as_role:
        values["reported_up"] = True
        values["role"] = user.role
    if source_visit_id:
        values["source_visit_id"] = source_visit_id
    if group > flow.MAX_GROUP_REPRESENTATIVES:
        values["group_flag"] = ARTICLE_GROUP_VISIT
    async with db.transaction():
        number = await _next_number(event.at)
        row = await db.fetchrow(
            "INSERT INTO petition_case (number, channel, petitioner_name, petitioner_phone,"
            " petitioner_id_number, group_size, unit, unit_path, category, content, request,"
            " received_at, state, tags, listed_supervision, source_visit_id, repeat_of,"
            " created_by, created_at, updated_at) VALUES ({}, {}, {}, {}, {}, {}, {}, {}, {},"
            " {}, {}, {}, {}, {}::varchar[], false, {}, {}, {}, {}, {}) RETURNING id",
            number,
            values["channel"],
            values["petitioner_name"],
            values.get("petitioner_phone") or "",
            id_number.upper(),
            group,
            unit_row["id"],
            unit_row["path"],
            values.get("category") or "",
            values["content"],
            form.values.get("request") or "",
            event.at,
            CaseState.REGISTERED.value,
            tags,
            source_visit_id,
            linked["id"] if linked else None,
            user.id,
            now,
            now,
        )
        await _insert_event(row["id"], event.kind, event.at, user, values)
        await refresh_due([row["id"]])
        await audit.record(
            "case.register",
            actor_id=user.id,
            object_type="case",
            object_id=row["id"],
            unit_path=unit_row["path"],
            detail={
                "number": number,
                "reported_up": bool(as_role),
                "repeat_of": linked["number"] if linked else None,
            },
        )
        await _mark(unit_row["path"], local_date(event.at))
    await _wake()
    return Registered(row["id"], number, linked)


async def report_up(user: Any, visit_id: int, data: dict, *, now: datetime | None = None):
    """A grid worker reports a matter found on a visit up to the front desk's queue.

    Raises ``LookupError`` when the visit does not exist or is outside the user's scope (the
    routes answer 404); the matter's unit and content default to the visit's grid and summary.
    """
    if not await db.fetchval("SELECT to_regclass('visit') IS NOT NULL"):
        raise LookupError(visit_id)
    visit = await db.fetchrow(
        "SELECT id, unit, unit_path, summary FROM visit WHERE id = {}", visit_id
    )
    if visit is None or not (user.unit_path and visit["unit_path"].startswith(user.unit_path)):
        raise LookupError(visit_id)
    data = dict(data)
    if data.get("unit_id") in (None, ""):
        data["unit_id"] = visit["unit"]
    if not (data.get("content") or "").strip():
        data["content"] = visit["summary"] or ""
    async with db.transaction():
        result = await register(
            user, data, now=now, source_visit_id=visit_id, as_role=roles.FRONT_DESK
        )
        await db.fetch("UPDATE visit SET reported_up = true WHERE id = {}", visit_id)
    return result


async def _insert_event(case_id: int, kind: str, at: datetime, user: Any, data: dict) -> None:
    await db.fetch(
        'INSERT INTO case_event ("case", kind, at, actor, role, data)'
        " VALUES ({}, {}, {}, {}, {}, {}::jsonb)",
        case_id,
        kind,
        at,
        user.id,
        data.get("role") or user.role,
        json.dumps(data, ensure_ascii=False, default=str),
    )


_marks_ok: bool | None = None


async def _mark(unit_path: str, day: date) -> None:
    """Mark the roll-up bucket dirty when the roll-up area is installed."""
    global _marks_ok
    if _marks_ok is None:
        try:
            from app.services import marks  # noqa: F401

            _marks_ok = bool(await db.fetchval("SELECT to_regclass('rollup_dirty') IS NOT NULL"))
        except ImportError:
            _marks_ok = False
    if _marks_ok:
        from app.services.marks import mark_dirty

        await mark_dirty(unit_path, day)


async def _wake() -> None:
    if _marks_ok:
        try:
            from app.services.marks import wake

            await wake()
        except Exception:  # noqa: BLE001 - the sweep picks marks up anyway
            pass


# -- actions -------------------------------------------------------------------------------


@dataclass
class Done:
    case_id: int
    action: str
    state: str


def _own_body(user: Any, snapshot: CaseSnapshot) -> str | None:
    """The body the user acts for: their department, or their street office when the matter
    was dispatched to it (otherwise street leaders act as before, without a body)."""
    if user.role == roles.DEPARTMENT:
        return str(user.department_id)
    if user.role == roles.STREET_LEADER and user.unit_id:
        mine = street_body(user.unit_id)
        if mine in snapshot.bodies:
            return mine
    return None


def _prepare_fields(user: Any, action: str, fields: dict, snapshot: CaseSnapshot) -> dict:
    """Fill in what the acting user implies (their own body, themselves as owner)."""
    fields = dict(fields)
    own = _own_body(user, snapshot)
    if action in BODY_ACTIONS and own is not None:
        fields["body"] = own
    if action == Kind.CLAIM_OWNERSHIP:
        fields["leader"] = str(user.id)
    if action in (Kind.TRANSFER, Kind.ASSIGN):
        co = fields.get("co_handlers")
        if isinstance(co, str):
            fields["co_handlers"] = [c for c in co.split(",") if c.strip()]
    return fields


def _body_check(user: Any, action: str, snapshot: CaseSnapshot) -> Refusal | None:
    mine = _own_body(user, snapshot)
    if mine is None:
        return None
    if action in BODY_ACTIONS and mine not in snapshot.bodies:
        return Refusal("case.refused.not_your_body", article=ARTICLE_MULTI_BODY)
    if action in LEAD_ACTIONS and snapshot.lead is not None and snapshot.lead != mine:
        return Refusal("case.refused.not_lead", {"lead": snapshot.lead}, article=ARTICLE_MULTI_BODY)
    if action == Kind.EXTEND and user.role == roles.DEPARTMENT and not user.is_head:
        return Refusal("case.refused.not_head", article=ARTICLE_HANDLING)
    return None


async def _validate_dispatch(fields: dict) -> dict[str, str]:
    errors: dict[str, str] = {}
    active = {str(r["id"]) for r in await db.fetch("SELECT id FROM department WHERE active")}
    active |= {
        street_body(r["id"]) for r in await db.fetch("SELECT id FROM unit WHERE tier = 'street'")
    }
    lead = str(fields.get("lead") or "").strip()
    if lead and lead not in active:
        errors["lead"] = N_("Not one of the allowed choices.")
    for c in fields.get("co_handlers") or []:
        if str(c) not in active:
            errors["co_handlers"] = N_("Not one of the allowed choices.")
    return errors


async def snapshot_of(case_id: int) -> tuple[CaseSnapshot, list[Event]]:
    events = [_event(r) for r in await event_rows(case_id)]
    return flow.replay(events), events


async def allowed(user: Any, case_id: int) -> tuple[str, ...]:
    """Actions the user may take now (state, role, own body)."""
    snap, _ = await snapshot_of(case_id)
    return tuple(
        a for a in flow.allowed_actions(snap, user.role) if _body_check(user, a, snap) is None
    )


async def apply_action(
    user: Any,
    case_id: int,
    action: str,
    fields: dict,
    *,
    now: datetime | None = None,
    ip: str = "",
) -> Done:
    """Take ``action`` on a case the user can see. Raises :class:`CaseRefused` (nothing stored)
    or ``LookupError`` (out of scope / missing)."""
    now = now or _now()
    if await get_case(user, case_id) is None:
        raise LookupError(case_id)
    async with db.transaction():
        case = await db.fetchrow("SELECT * FROM petition_case WHERE id = {} FOR UPDATE", case_id)
        snap, _events = await snapshot_of(case_id)
        fields = _prepare_fields(user, action, fields, snap)
        refusal = _body_check(user, action, snap) if action in flow.ACTIONS else None
        if refusal is None and action in (Kind.TRANSFER, Kind.ASSIGN):
            errors = await _validate_dispatch(fields)
            if errors:
                probe = flow.apply(snap, action, user.role, fields, now, await calendar())
                if probe.refusal is not None and probe.refusal.key != "case.refused.invalid":
                    refusal = probe.refusal
                else:
                    merged = dict(probe.refusal.fields) if probe.refusal else {}
                    merged.update(errors)
                    refusal = Refusal(
                        "case.refused.invalid", fields=merged, article=flow.ARTICLE_DISPATCH
                    )
        if refusal is not None:
            raise CaseRefused(refusal)
        outcome = flow.apply(snap, action, user.role, fields, now, await calendar())
        if not outcome.ok:
            raise CaseRefused(outcome.refusal)
        new = outcome.snapshot
        for event in outcome.events:
            await _insert_event(case_id, event.kind, event.at, user, dict(event.data))
        data = dict(outcome.events[0].data)
        if action == Kind.SUPERVISE:
            data["listed"] = Form(fields).boolean("listed")
        await _side_effects(user, case, action, data, snap, new, now)
        await db.fetch(
            "UPDATE petition_case SET state = {}, updated_at = {} WHERE id = {}",
            new.state.value,
            now,
            case_id,
        )
        await refresh_due([case_id])
        await audit.record(
            f"case.{action}",
            actor_id=user.id,
            object_type="case",
            object_id=case_id,
            unit_path=case["unit_path"],
            ip=ip,
            detail={"from": snap.state.value, "to": new.state.value},
        )
        await _mark(case["unit_path"], local_date(now))
    await _wake()
    return Done(case_id, action, new.state.value)


async def _side_effects(
    user: Any,
    case: dict,
    action: str,
    data: dict,
    old: CaseSnapshot,
    new: CaseSnapshot,
    now: datetime,
) -> None:
    cid = case["id"]
    if action in (Kind.TRANSFER, Kind.ASSIGN):
        await db.fetch('UPDATE case_body SET active = false WHERE "case" = {}', cid)
        bodies = [(data["lead"], "lead")] + [(c, "co") for c in data.get("co_handlers") or []]
        for body, role in bodies:
            dept, unit = _body_columns(body)
            await db.fetch(
                'INSERT INTO case_body ("case", department, unit, role, dispatched_at, active)'
                " VALUES ({}, {}, {}, {}, {}, true)",
                cid,
                dept,
                unit,
                role,
                now,
            )
        await db.fetch(
            "UPDATE petition_case SET lead_department = {} WHERE id = {}",
            _body_columns(data["lead"])[0],
            cid,
        )
    elif action in (Kind.ACKNOWLEDGE, Kind.ACCEPT):
        dept, unit = _body_columns(data["body"])
        await db.fetch(
            'UPDATE case_body SET acknowledged_at = {} WHERE "case" = {}'
            " AND (department = {} OR unit = {}) AND active AND acknowledged_at IS NULL",
            now,
            cid,
            dept,
            unit,
        )
    elif action == Kind.OBJECT:
        if data.get("lead", True):
            dept, unit = _body_columns(data["body"])
            await db.fetch(
                "UPDATE case_body SET objected_at = CASE WHEN department = {} OR unit = {}"
                ' THEN {}::timestamptz ELSE objected_at END, active = false WHERE "case" = {}'
                " AND active",
                dept,
                unit,
                now,
                cid,
            )
            await db.fetch("UPDATE petition_case SET lead_department = NULL WHERE id = {}", cid)
        else:
            dept, unit = _body_columns(data["body"])
            await db.fetch(
                'UPDATE case_body SET objected_at = {}, active = false WHERE "case" = {}'
                " AND (department = {} OR unit = {}) AND active",
                now,
                cid,
                dept,
                unit,
            )
    elif action == Kind.CLAIM_OWNERSHIP:
        await db.fetch("UPDATE petition_case SET owner_leader = {} WHERE id = {}", user.id, cid)
    elif action == Kind.SUPERVISE:
        listed = bool(data.get("listed"))
        days = int(data.get("feedback_days") or 15)
        await db.fetch(
            'INSERT INTO supervision ("case", issued_by, kind, reason, due, feedback,'
            " created_at) VALUES ({}, {}, {}, {}, {}, '', {})",
            cid,
            user.id,
            "listed" if listed else "supervise",
            data.get("reason") or "",
            local_date(now) + timedelta(days=days),
            now,
        )
        if listed:
            await db.fetch("UPDATE petition_case SET listed_supervision = true WHERE id = {}", cid)
    elif action == Kind.REPORT_BACK:
        await db.fetch(
            'UPDATE supervision SET feedback = {}, feedback_at = {} WHERE "case" = {}'
            " AND feedback_at IS NULL",
            data.get("summary") or "",
            now,
            cid,
        )


# -- petitioner details (masked unless opened; opening is audited) -------------------------


async def reveal_petitioner(user: Any, case: dict, ip: str = "") -> dict:
    await audit.record(
        "case.petitioner.view",
        actor_id=user.id,
        object_type="case",
        object_id=case["id"],
        unit_path=case["unit_path"],
        ip=ip,
    )
    return {"phone": case["petitioner_phone"], "id_number": case["petitioner_id_number"]}


# -- detail --------------------------------------------------------------------------------


async def detail(user: Any, case_id: int) -> dict | None:
    case = await get_case(user, case_id)
    if case is None:
        return None
    rows = await event_rows(case_id)
    events = [_event(r) for r in rows]
    snap = flow.replay(events)
    cal = await calendar()
    today = _now().date()
    bodies = await db.fetch(
        "SELECT b.*, coalesce(d.name, un.name) AS name,"
        " coalesce(b.department::text, 'u' || b.unit::text) AS body_id FROM case_body b"
        " LEFT JOIN department d ON d.id = b.department LEFT JOIN unit un ON un.id = b.unit"
        ' WHERE b."case" = {} ORDER BY b.active DESC, b.role DESC, b.id',
        case_id,
    )
    supervisions = await db.fetch(
        "SELECT s.*, u.full_name AS issuer FROM supervision s"
        ' LEFT JOIN app_user u ON u.id = s.issued_by WHERE s."case" = {} ORDER BY s.id',
        case_id,
    )
    linked = None
    if case["repeat_of"]:
        linked = await get_case(user, case["repeat_of"])
    opinion = next((r for r in reversed(rows) if r["kind"] == Kind.OPINION), None)
    return {
        "case": case,
        "events": rows,
        "snapshot": snap,
        "clocks": clocks_of(events, cal, today),
        "today": today,
        "bodies": bodies,
        "supervisions": supervisions,
        "allowed": tuple(
            a for a in flow.allowed_actions(snap, user.role) if _body_check(user, a, snap) is None
        ),
        "linked": linked,
        "opinion": opinion,
    }


async def form_options() -> dict:
    """Dispatch choices: departments, then street offices (ids ``"u<unit>"``)."""
    depts = await db.fetch("SELECT id, name FROM department WHERE active ORDER BY name")
    streets = await db.fetch("SELECT id, name FROM unit WHERE tier = 'street' ORDER BY name")
    return {
        "departments": depts,
        "bodies": [{"id": str(d["id"]), "name": d["name"]} for d in depts]
        + [{"id": street_body(u["id"]), "name": u["name"]} for u in streets],
    }


async def visit_for_report(user: Any, visit_id: int) -> dict | None:
    """The visit a matter is reported up from, if the user may see it."""
    if not user.unit_path or not await db.fetchval("SELECT to_regclass('visit') IS NOT NULL"):
        return None
    return await db.fetchrow(
        "SELECT id, unit, unit_path, summary, author FROM visit WHERE id = {}"
        " AND unit_path LIKE {}",
        visit_id,
        user.unit_path + "%",
    )
