"""In-app notifications for petition cases near or past a statutory deadline.

:func:`compute` is run by the worker (``worker/case_jobs.py``) hourly; it is idempotent: every
notice has a ``dedup_key`` (case, clock, due date, state, user), so a second run adds nothing.
Who is told: the lead department's handlers for its clocks (its head too once overdue), the
front desk for the desk's clocks; a matter overdue by more than 7 days also goes to the
district leaders and the leaders of the street where it arose.
"""

from __future__ import annotations

from datetime import datetime

from app import db
from app.domain import roles
from app.domain.calendar import local_date
from app.domain.clocks import ClockState, due_soon
from app.domain.forms import LOCAL_TZ, N_
from app.services import cases as svc

DESK_CLOCKS = frozenset({"dispatch", "redispatch"})
ESCALATE_AFTER_DAYS = 7
KIND_SOON = N_("Deadline near")
KIND_OVERDUE = N_("Deadline passed")


async def compute(now: datetime | None = None) -> int:
    """Add the notices due now; answer how many were added."""
    now = now or datetime.now(LOCAL_TZ)
    today = local_date(now)
    cases = await db.fetch(
        "SELECT c.id, c.number, c.unit_path, c.lead_department, c.state,"
        " (SELECT b.unit FROM case_body b WHERE b.\"case\" = c.id AND b.role = 'lead'"
        " AND b.active LIMIT 1) AS lead_unit FROM petition_case c WHERE c.state = ANY({})",
        sorted(svc.OPEN_STATES | {"replied", "reviewed", "review_requested", "rereview_requested"}),
    )
    if not cases:
        return 0
    cal = await svc.calendar()
    evs = await svc.events_of([c["id"] for c in cases])
    users = await db.fetch(
        "SELECT u.id, u.role, u.department, u.unit, u.is_head, un.path FROM app_user u"
        " LEFT JOIN unit un ON un.id = u.unit WHERE u.active"
    )
    desk = [u["id"] for u in users if u["role"] == roles.FRONT_DESK]
    leaders = [u for u in users if u["role"] in (roles.DISTRICT_LEADER, roles.STREET_LEADER)]
    added = 0
    for case in cases:
        for clock in svc.clocks_of(evs[case["id"]], cal, today):
            if clock.kind.value != "duty" or not clock.is_open:
                continue
            overdue = clock.state is ClockState.OVERDUE
            if not overdue and not due_soon(clock, today):
                continue
            if clock.name not in DESK_CLOCKS and case["lead_unit"]:
                # a street office is the lead body: its leaders are told
                targets = [
                    u["id"]
                    for u in users
                    if u["role"] == roles.STREET_LEADER and u["unit"] == case["lead_unit"]
                ]
            elif clock.name in DESK_CLOCKS or not case["lead_department"]:
                targets = list(desk)
            else:
                targets = [
                    u["id"]
                    for u in users
                    if u["department"] == case["lead_department"] and (overdue or not u["is_head"])
                ]
            if overdue and clock.days_left(today) < -ESCALATE_AFTER_DAYS:
                targets += [
                    u["id"]
                    for u in leaders
                    if u["path"] and case["unit_path"].startswith(u["path"])
                ]
            kind = KIND_OVERDUE if overdue else KIND_SOON
            message = f"{case['number']} · {clock.name} · {clock.article or ''} · {clock.due_on}"
            for uid in dict.fromkeys(targets):
                key = f"{case['id']}:{clock.name}:{clock.due_on}:{clock.state.value}:{uid}"
                row = await db.fetchrow(
                    'INSERT INTO notification ("user", "case", kind, message, dedup_key,'
                    " created_at) VALUES ({}, {}, {}, {}, {}, {})"
                    " ON CONFLICT (dedup_key) DO NOTHING RETURNING id",
                    uid,
                    case["id"],
                    kind,
                    message,
                    key,
                    now,
                )
                added += 1 if row else 0
    return added


async def unread(user_id: int) -> int:
    return (
        await db.fetchval(
            'SELECT count(*) FROM notification WHERE "user" = {} AND read_at IS NULL', user_id
        )
        or 0
    )


async def for_user(user_id: int, limit: int = 100) -> list[dict]:
    return await db.fetch(
        'SELECT n.*, c.number FROM notification n LEFT JOIN petition_case c ON c.id = n."case"'
        ' WHERE n."user" = {} ORDER BY n.read_at IS NULL DESC, n.created_at DESC LIMIT {}',
        user_id,
        limit,
    )


async def mark_read(user_id: int) -> None:
    await db.fetch(
        'UPDATE notification SET read_at = now() WHERE "user" = {} AND read_at IS NULL', user_id
    )


async def _warnings_visible(user) -> bool:
    return roles.can(user.role, "platform.read") and bool(user.unit_path)


async def bell_count(user) -> int:
    """The bell's one number: unread case notices plus open early warnings in scope (Issue 7:
    warnings are pushed to the bell of those responsible)."""
    count = await unread(user.id)
    if await _warnings_visible(user):
        from app.services import warnings

        count += await warnings.open_count(user.scope) or 0
    return count


async def open_warnings(user, limit: int = 50) -> list[dict]:
    """Early warnings in the user's scope not yet handled (open or acknowledged)."""
    if not await _warnings_visible(user):
        return []
    from app.services import warnings

    rows = await warnings.search(user.scope, limit=200)
    return [r for r in rows if r["state"] != "handled"][:limit]
