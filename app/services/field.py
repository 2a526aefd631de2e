"""Field work use cases: log, correct and review visits, follow-up calls and mediations; the
household register and its coverage; follow-up tasks. Every read and write goes through a Scope.

Exactly once: records carry the client's ``client_uuid``; ``INSERT ... ON CONFLICT DO NOTHING``
then a select answers a repeated (or concurrent) post with the one stored record.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from app import db
from app.domain import field as rules
from app.domain.calendar import local_date, local_date_sql
from app.domain.forms import LOCAL_TZ, N_, Form
from app.domain.roles import Scope
from app.i18n import gettext
from app.services import audit, org
from app.services.auth import CurrentUser
from app.services.marks import mark_dirty, wake

RECORD_TABLES = ("visit", "call", "mediation")
for _table in ("household", *RECORD_TABLES, "follow_up_task"):
    if (_table, "unit_path") not in org.PATH_COPIES:
        org.PATH_COPIES.append((_table, "unit_path"))

PAGE_SIZE = 20
#: A moment this far ahead of the server clock is a typo, not a clock skew.
FUTURE_SLACK = timedelta(minutes=10)
#: Namespace of the linked mediation's client_uuid (derived, so escalation is exactly once too).
ESCALATION_NS = uuid.UUID("5b0e7a52-5f0c-4c59-9a55-8f3a4c1e9d21")


class FieldError(Exception):
    """Refused input: field -> message (msgids)."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__(", ".join(errors))
        self.errors = errors


def now() -> datetime:
    """The current moment (UTC)."""
    return datetime.now(UTC)


def today() -> date:
    """Today in Beijing by :func:`now`, which tests pin (:func:`app.domain.calendar.today`
    reads the clock itself)."""
    return local_date(now())


def _in_scope(scope: Scope) -> str:
    return (scope.unit_path or "/nowhere/") + "%"


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


async def _grid(scope: Scope, grid_id: int | None) -> dict | None:
    row = await org.unit_in_scope(scope, grid_id) if grid_id else None
    return row if row and row["tier"] == "grid" else None


def _not_future(form: Form, name: str, moment: datetime | None) -> None:
    if moment and moment > now() + FUTURE_SLACK:
        form.error(name, N_("Cannot be in the future."))


# -- reading input -------------------------------------------------------------------------


async def read_visit(user: CurrentUser, data: Any) -> tuple[Form, dict]:
    """Parse and check a visit (new or corrected); returns the form and the extra lookups."""
    scope = user.scope
    f = Form(data)
    f.uuid("client_uuid", required=True)
    own_grid = user.unit_id if user.unit_tier == "grid" else None
    grid_id = f.integer("grid_id", required=own_grid is None, default=own_grid)
    f.choice("kind", rules.VISIT_KINDS, default="door")
    visited_at = f.moment("visited_at", default=now())
    household_id = f.integer("household_id")
    address = f.text("address", max_length=255)
    f.text("persons_met", max_length=500)
    f.choices("topics", rules.TOPICS)
    f.text("summary", required=True, max_length=4000)
    f.choice("mood", rules.MOODS, default="calm")
    f.boolean("resolved_on_site")
    f.boolean("reported_up")
    due = f.day("follow_up_due")
    f.integer("task_id")
    _not_future(f, "visited_at", visited_at)
    grid = _session_grid(user) if grid_id and grid_id == own_grid else None
    grid = grid or (await _grid(scope, grid_id) if grid_id else None)
    if grid_id and grid is None:
        f.error("grid_id", N_("Not found."))
    household = None
    if household_id:
        household = await db.fetchrow(
            "SELECT * FROM household WHERE id = {} AND unit_path LIKE {}",
            household_id,
            _in_scope(scope),
        )
        if household is None or (grid and household["unit"] != grid["id"]):
            f.error("household_id", N_("This household is not in the chosen grid."))
    if not address and household is None and "household_id" not in f.errors:
        f.error("address", N_("Enter an address or pick a household."))
    if due and visited_at and due < local_date(visited_at):
        f.error("follow_up_due", N_("Cannot be before the visit."))
    return f, {"grid": grid, "household": household}


async def read_call(user: CurrentUser, data: Any) -> tuple[Form, dict]:
    """Parse and check a follow-up call; the subject (if a field record) must be in scope."""
    scope = user.scope
    f = Form(data)
    f.uuid("client_uuid", required=True)
    called_at = f.moment("called_at", default=now())
    subject_type = f.choice("subject_type", rules.CALL_SUBJECTS)
    subject_id = f.integer("subject_id", min_value=1)
    outcome = f.choice("outcome", rules.CALL_OUTCOMES)
    satisfaction = f.choice("satisfaction", rules.SATISFACTIONS, required=False)
    f.text("summary", max_length=4000)
    f.integer("task_id")
    _not_future(f, "called_at", called_at)
    if satisfaction and outcome and outcome != "reached":
        f.error("satisfaction", N_("Only a call that reached the person has a satisfaction."))
    unit = None
    if subject_type in ("visit", "mediation", "household"):
        if not subject_id:
            f.error("subject_id", N_("This field is required."))
        else:
            column = "venue_unit" if subject_type == "mediation" else "unit"
            subject = await db.fetchrow(
                f"SELECT {column} AS unit, unit_path FROM {subject_type}"
                " WHERE id = {} AND unit_path LIKE {}",
                subject_id,
                _in_scope(scope),
            )
            if subject is None:
                f.error("subject_id", N_("Not found."))
            else:
                unit = {"id": subject["unit"], "path": subject["unit_path"]}
    if unit is None and user.unit_id:
        unit = {"id": user.unit_id, "path": user.unit_path}
    return f, {"unit": unit}


PARTY_ROWS = 4
MEDIATOR_ROWS = 3


def _people(data: Any, name: str, rows: int, keys: tuple[str, ...]) -> list[dict]:
    """A list of people from a JSON array, or from form fields ``name-N-key``."""
    raw = data.get(name) if hasattr(data, "get") else None
    if isinstance(raw, str) and raw.strip().startswith("["):
        try:
            raw = json.loads(raw)
        except ValueError:
            raw = None
    if isinstance(raw, list) and all(isinstance(p, dict) for p in raw):
        people = raw
    else:
        people = []
        for i in range(rows):
            person = {}
            for key in keys:
                value = data.get(f"{name}-{i}-{key}")
                if isinstance(value, list):
                    value = value[-1] if value else ""
                person[key] = value
            people.append(person)
    cleaned = []
    for p in people:
        person = {k: str(p.get(k) or "").strip() for k in keys}
        if any(person.values()):
            cleaned.append(person)
    return cleaned


def _check_people(
    f: Form, name: str, people: list[dict], key: str, allowed: dict, *, required: bool
) -> None:
    if required and not people:
        f.error(name, N_("Name at least one person."))
    for p in people:
        if not p.get("name"):
            f.error(name, N_("Every row needs a name."))
        elif len(p["name"]) > 100 or len(p.get("phone", "")) > 32:
            f.error(name, "Too long.")
        elif p.get(key) not in allowed:
            f.error(name, "Not one of the allowed choices.")
    f.values[name] = people


async def read_mediation(user: CurrentUser, data: Any, *, current: dict | None = None) -> Form:
    """Parse and check a mediation: a new one, or the outcome of an open one (``current``)."""
    scope = user.scope
    f = Form(data)
    if current is None:
        f.uuid("client_uuid", required=True)
        venue_id = f.integer("venue_unit_id", default=user.unit_id)
        held_at = f.moment("held_at", default=now())
        f.choice("dispute_type", rules.DISPUTE_TYPES)
        f.text("summary", required=True, max_length=4000)
        _not_future(f, "held_at", held_at)
        venue = await org.unit_in_scope(scope, venue_id) if venue_id else None
        if venue_id and (venue is None or venue["tier"] == "compound"):
            f.error("venue_unit_id", N_("Not found."))
        f.values["venue"] = venue
        allowed = tuple(rules.MEDIATION_OUTCOMES)
    else:
        allowed = rules.next_outcomes(current["outcome"])
    parties = _people(data, "parties", PARTY_ROWS, ("name", "role", "phone"))
    _check_people(f, "parties", parties, "role", rules.PARTY_ROLES, required=current is None)
    mediators = _people(data, "mediators", MEDIATOR_ROWS, ("name", "kind"))
    _check_people(f, "mediators", mediators, "kind", rules.MEDIATOR_KINDS, required=False)
    f.choices("methods", rules.METHODS)
    refused = f.boolean("party_refused")
    outcome = f.choice("outcome", allowed, default="in_progress")
    if outcome:
        f.values["outcome"] = rules.outcome_after_refusal(outcome, refused)
    for name in (
        "agreement_terms",
        "facts",
        "responsibilities",
        "performance_method",
        "terminated_note",
    ):
        f.text(name, max_length=4000)
    if refused and not f.values["terminated_note"]:
        f.values["terminated_note"] = gettext("A party refused to continue the mediation.")
    f.day("performance_due")
    f.day("agreement_signed_on")
    if current is not None and not parties:
        f.values["parties"] = _json(current["parties"])
    if current is not None and not mediators:
        f.values["mediators"] = _json(current["mediators"])
    if f.values.get("outcome") == "escalated":
        venue = f.values.get("venue") or (current and await org.unit(current["venue_unit"]))
        if venue and not rules.next_tier_allowed(venue["tier"]):
            f.error("outcome", N_("There is no higher venue to escalate to."))
    for name, message in rules.outcome_errors(f.values).items():
        f.error(name, message)
    return f


# -- exactly-once insert -------------------------------------------------------------------


async def _insert_once(table: str, columns: dict[str, Any], user_id: int) -> tuple[int, bool]:
    """Insert unless ``client_uuid`` is stored already; (id, whether this call created it)."""
    names = ", ".join(columns)
    marks = ", ".join("{}::jsonb" if isinstance(v, JsonValue) else "{}" for v in columns.values())
    args = [v.text if isinstance(v, JsonValue) else v for v in columns.values()]
    row = await db.fetchrow(
        f"INSERT INTO {table} ({names}) VALUES ({marks})"
        " ON CONFLICT (client_uuid) DO NOTHING RETURNING id",
        *args,
    )
    if row is not None:
        return row["id"], True
    existing = await db.fetchrow(
        f"SELECT id, author FROM {table} WHERE client_uuid = {{}}", columns["client_uuid"]
    )
    if existing is None or existing["author"] != user_id:
        raise FieldError({"client_uuid": N_("This record id is already used.")})
    return existing["id"], False


@dataclass
class JsonValue:
    """A value stored in a JSONB column."""

    text: str

    @classmethod
    def of(cls, value: Any) -> JsonValue:
        return cls(json.dumps(value, ensure_ascii=False))


# -- tasks ---------------------------------------------------------------------------------


async def _sync_tasks(
    source_type: str,
    source_id: int,
    specs: list[rules.TaskSpec],
    unit_path: str,
    assignee: int | None,
) -> None:
    """Make the open tasks of a record match what it asks for now (done tasks stay)."""
    existing = await db.fetch(
        "SELECT id, kind, done_at FROM follow_up_task WHERE source_type = {} AND source_id = {}",
        source_type,
        source_id,
    )
    wanted = {s.kind: s.due for s in specs}
    for task in existing:
        if task["done_at"] is not None:
            wanted.pop(task["kind"], None)
        elif task["kind"] in wanted:
            await db.fetch(
                "UPDATE follow_up_task SET due = {}, unit_path = {} WHERE id = {}",
                wanted.pop(task["kind"]),
                unit_path,
                task["id"],
            )
        else:
            await db.fetch("DELETE FROM follow_up_task WHERE id = {}", task["id"])
    for kind, due in wanted.items():
        await db.fetch(
            "INSERT INTO follow_up_task (unit_path, assignee, source_type, source_id, kind, due,"
            " created_at) VALUES ({}, {}, {}, {}, {}, {}, now())",
            unit_path,
            assignee,
            source_type,
            source_id,
            kind,
            due,
        )


async def _close_tasks(where: str, args: list, done_by: tuple[str, int]) -> None:
    await db.fetch(
        "UPDATE follow_up_task SET done_at = now(), done_by_type = {}, done_by_id = {}"
        f" WHERE done_at IS NULL AND {where}",
        *done_by,
        *args,
    )


async def _close_task_by_id(scope: Scope, task_id: int | None, done_by: tuple[str, int]) -> None:
    if task_id:
        await _close_tasks("id = {} AND unit_path LIKE {}", [task_id, _in_scope(scope)], done_by)


async def tasks(user: CurrentUser, *, horizon_days: int = 7) -> list[dict]:
    """Open tasks of ``user`` (or unassigned ones in scope) due within ``horizon_days``,
    overdue first."""
    rows = await db.fetch(
        "SELECT t.*, COALESCE(v.address, h.address, m.summary, '') AS about"
        " FROM follow_up_task t"
        " LEFT JOIN visit v ON t.source_type = 'visit' AND v.id = t.source_id"
        " LEFT JOIN household h ON h.id = v.household"
        " LEFT JOIN mediation m ON t.source_type = 'mediation' AND m.id = t.source_id"
        " WHERE t.done_at IS NULL AND t.unit_path LIKE {}"
        " AND (t.assignee = {} OR t.assignee IS NULL) AND t.due <= {}"
        " ORDER BY t.due, t.id LIMIT 200",
        _in_scope(user.scope),
        user.id,
        today() + timedelta(days=horizon_days),
    )
    for r in rows:
        r["status"] = rules.task_status(r["due"], today(), False)
    return rows


async def task_counts(user: CurrentUser) -> dict[str, int]:
    """How many of the user's open tasks are due today and overdue."""
    rows = await tasks(user, horizon_days=0)
    return {
        "today": sum(r["status"] == "today" for r in rows),
        "overdue": sum(r["status"] == "overdue" for r in rows),
    }


async def mark_task_done(user: CurrentUser, task_id: int) -> bool:
    """Mark one task in scope done by hand (a judicial confirmation applied for, say)."""
    row = await db.fetchrow(
        "SELECT id, unit_path, due FROM follow_up_task WHERE id = {} AND unit_path LIKE {}",
        task_id,
        _in_scope(user.scope),
    )
    if row is None:
        return False
    async with db.transaction():
        await _close_task_by_id(user.scope, task_id, ("user", user.id))
        await audit.record(
            "task.done",
            actor_id=user.id,
            object_type="follow_up_task",
            object_id=task_id,
            unit_path=row["unit_path"],
        )
    return True


# -- visits --------------------------------------------------------------------------------


#: One statement (one round trip, atomic without BEGIN/COMMIT): insert the visit unless its
#: ``client_uuid`` is stored, and only if it was inserted: create its follow-up tasks, close the
#: task it answers, and mark its roll-up bucket dirty (``marks.mark_dirty``'s upsert) - so the
#: mark commits with the visit. A conflict returns no row: the caller reads the stored one.
#: ``visit_insert`` leaves out the parts a visit has nothing for (no follow-up date, no task
#: answered): they would insert and update no row, but PostgreSQL still sets up each one.
_VISIT_INS = """WITH ins AS (
    INSERT INTO visit (client_uuid, author, unit, unit_path, kind, visited_at, household,
        address, persons_met, topics, summary, mood, resolved_on_site, reported_up,
        follow_up_due, review_state, review_comment, created_at, updated_at)
    VALUES ({}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, 'pending', '', {}, {})
    ON CONFLICT (client_uuid) DO NOTHING RETURNING *
)"""
_VISIT_TASKS = """, tasks AS (
    INSERT INTO follow_up_task (unit_path, assignee, source_type, source_id, kind, due,
        created_at)
    SELECT ins.unit_path, ins.author, 'visit', ins.id, t.kind, t.due, now()
    FROM ins, unnest({}::varchar[], {}::date[]) AS t(kind, due)
)"""
_VISIT_CLOSE = """, closed AS (
    UPDATE follow_up_task t SET done_at = now(), done_by_type = 'visit', done_by_id = ins.id
    FROM ins WHERE t.done_at IS NULL AND t.id = {}::int AND t.unit_path LIKE {}
)"""
_VISIT_MARK = """, held AS (
    SELECT d.id FROM rollup_dirty d JOIN ins ON d.unit_path = ins.unit_path
    WHERE d.day = {}::date FOR KEY SHARE OF d SKIP LOCKED
), mark AS (
    INSERT INTO rollup_dirty (unit_path, day, marked_at)
    SELECT ins.unit_path, {}::date, clock_timestamp() FROM ins
    WHERE NOT EXISTS (SELECT 1 FROM held)
    ON CONFLICT (unit_path, day) DO UPDATE SET marked_at = EXCLUDED.marked_at
)
SELECT * FROM ins"""


def visit_insert(tasks: bool, close: bool) -> str:
    """The visit's statement with only the parts needed: the follow-up tasks' insert (``tasks``) and
    closing the answered task (``close``); its arguments in the same order, less those parts'."""
    return _VISIT_INSERTS[tasks, close]


_VISIT_INSERTS = {
    (tasks, close): _VISIT_INS
    + (_VISIT_TASKS if tasks else "")
    + (_VISIT_CLOSE if close else "")
    + _VISIT_MARK
    for tasks in (False, True)
    for close in (False, True)
}


async def _store_visit(user: CurrentUser, form: Form, found: dict) -> tuple[dict | None, int, bool]:
    """Store a checked visit exactly once: (the new row as ``record`` reads it or None, id,
    whether this call created it)."""
    v = form.values
    grid, household = found["grid"], found["household"]
    specs = rules.visit_tasks(v["follow_up_due"])
    task_id = v.get("task_id") or None
    args = [
        v["client_uuid"],
        user.id,
        grid["id"],
        grid["path"],
        v["kind"],
        v["visited_at"],
        household["id"] if household else None,
        v["address"] or (household["address"] if household else ""),
        v["persons_met"],
        v["topics"],
        v["summary"],
        v["mood"],
        v["resolved_on_site"],
        v["reported_up"],
        v["follow_up_due"],
        now(),
        now(),
    ]
    if specs:
        args += [[s.kind for s in specs], [s.due for s in specs]]
    if task_id is not None:
        args += [task_id, _in_scope(user.scope)]
    day = local_date(v["visited_at"])
    row = await db.fetchrow(visit_insert(bool(specs), task_id is not None), *args, day, day)
    if row is None:
        existing = await db.fetchrow(
            "SELECT id, author FROM visit WHERE client_uuid = {}", v["client_uuid"]
        )
        if existing is None or existing["author"] != user.id:
            raise FieldError({"client_uuid": N_("This record id is already used.")})
        return None, existing["id"], False
    await wake()
    # What ``record`` adds to the row (VISIT_SELECT), known without reading it back.
    row["author_name"] = user.full_name
    row["grid_name"] = grid["name"]
    row["reviewer_name"] = None
    row["overdue"] = any(s.due < today() for s in specs)
    return row, row["id"], True


async def log_visit(user: CurrentUser, form: Form, found: dict) -> tuple[int, bool]:
    """Store a checked visit exactly once; its follow-up date becomes a task."""
    _row, visit_id, created = await _store_visit(user, form, found)
    return visit_id, created


async def save_visit(
    user: CurrentUser, form: Form, found: dict, *, reread: bool = True
) -> tuple[int, dict | None, bool]:
    """``log_visit`` plus the stored record as ``record`` reads it: a new one without reading
    it back, a repeated post's read from the table (unless ``reread`` is false: then None)."""
    row, visit_id, created = await _store_visit(user, form, found)
    if row is None and reread:
        row = await record(user.scope, "visit", visit_id)
    return visit_id, row, created


def _session_grid(user: CurrentUser) -> dict | None:
    """The user's own grid as the session already knows it (None unless the user sits on one)."""
    if user.unit_tier != "grid" or not user.unit_id:
        return None
    return {"id": user.unit_id, "path": user.unit_path, "name": user.unit_name, "tier": "grid"}


VISIT_EDITABLE = (
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
    "unit",
)


async def correct_visit(user: CurrentUser, visit: dict, form: Form, found: dict) -> None:
    """The author's correction (24 hours, or after it was sent back); every change audited."""
    v = form.values
    grid, household = found["grid"], found["household"]
    new = {
        "kind": v["kind"],
        "visited_at": v["visited_at"],
        "household": household["id"] if household else None,
        "address": v["address"] or (household["address"] if household else ""),
        "persons_met": v["persons_met"],
        "topics": v["topics"],
        "summary": v["summary"],
        "mood": v["mood"],
        "resolved_on_site": v["resolved_on_site"],
        "reported_up": v["reported_up"],
        "follow_up_due": v["follow_up_due"],
        "unit": grid["id"],
    }
    await _correct(user, "visit", visit, new, grid["path"], "visited_at")
    async with db.transaction():
        await _sync_tasks(
            "visit",
            visit["id"],
            rules.visit_tasks(v["follow_up_due"]),
            grid["path"],
            visit["author"],
        )


async def _correct(
    user: CurrentUser, table: str, record: dict, new: dict, unit_path: str, time_col: str
) -> None:
    if not rules.can_edit(
        is_author=record["author"] == user.id,
        created_at=record["created_at"],
        now=now(),
        review_state=record["review_state"],
    ):
        raise FieldError({"": N_("This record can no longer be changed.")})
    changes = {k: [record[k], val] for k, val in new.items() if record[k] != val}
    sets = ", ".join(f"{k} = {{}}" for k in new)
    async with db.transaction():
        await db.fetch(
            f"UPDATE {table} SET {sets}, unit_path = {{}}, updated_at = now(),"
            " review_state = CASE WHEN review_state = 'returned' THEN 'pending'"
            " ELSE review_state END WHERE id = {}",
            *new.values(),
            unit_path,
            record["id"],
        )
        await audit.record(
            f"{table}.correct",
            actor_id=user.id,
            object_type=table,
            object_id=record["id"],
            unit_path=unit_path,
            detail=changes,
        )
        await mark_dirty(record["unit_path"], local_date(record[time_col]))
        await mark_dirty(unit_path, local_date(new.get(time_col) or record[time_col]))
    await wake()


VISIT_SELECT = (
    "SELECT v.*, a.full_name AS author_name, g.name AS grid_name, r.full_name AS reviewer_name,"
    " EXISTS (SELECT 1 FROM follow_up_task k WHERE k.source_type = 'visit'"
    " AND k.source_id = v.id AND k.done_at IS NULL AND k.due < {}) AS overdue"
    " FROM visit v JOIN app_user a ON a.id = v.author JOIN unit g ON g.id = v.unit"
    " LEFT JOIN app_user r ON r.id = v.reviewed_by"
)
CALL_SELECT = (
    "SELECT c.*, a.full_name AS author_name, g.name AS grid_name, r.full_name AS reviewer_name"
    " FROM call c JOIN app_user a ON a.id = c.author JOIN unit g ON g.id = c.unit"
    " LEFT JOIN app_user r ON r.id = c.reviewed_by"
)
MEDIATION_SELECT = (
    "SELECT m.*, a.full_name AS author_name, g.name AS grid_name, g.tier AS venue_tier,"
    " r.full_name AS reviewer_name"
    " FROM mediation m JOIN app_user a ON a.id = m.author JOIN unit g ON g.id = m.venue_unit"
    " LEFT JOIN app_user r ON r.id = m.reviewed_by"
)
SELECTS = {
    "visit": (VISIT_SELECT, "v"),
    "call": (CALL_SELECT, "c"),
    "mediation": (MEDIATION_SELECT, "m"),
}
TIME_COLUMNS = {"visit": "visited_at", "call": "called_at", "mediation": "held_at"}


async def record(scope: Scope, table: str, record_id: int) -> dict | None:
    """One visit, call or mediation in ``scope`` (None: missing or out of scope -> 404)."""
    select, alias = SELECTS[table]
    args = [today()] if table == "visit" else []
    row = await db.fetchrow(
        f"{select} WHERE {alias}.id = {{}} AND {alias}.unit_path LIKE {{}}",
        *args,
        record_id,
        _in_scope(scope),
    )
    if row and table == "mediation":
        row["parties"] = _json(row["parties"])
        row["mediators"] = _json(row["mediators"])
    return row


async def by_client_uuid(scope: Scope, table: str, client_uuid: uuid.UUID) -> dict | None:
    """The record stored under ``client_uuid`` (a repeated post's answer)."""
    row_id = await db.fetchval(f"SELECT id FROM {table} WHERE client_uuid = {{}}", client_uuid)
    return await record(scope, table, row_id) if row_id else None


# -- lists ---------------------------------------------------------------------------------


@dataclass
class Filters:
    """What a list is narrowed to; the same for pages and the API."""

    date_from: date | None = None
    date_to: date | None = None
    kind: str = ""
    topic: str = ""
    mood: str = ""
    grid: int | None = None
    review: str = ""
    overdue: bool = False
    page: int = 1
    errors: dict[str, str] = field(default_factory=dict)

    def query(self, page: int | None = None) -> str:
        """The filters as a query string (for the next page's link)."""
        from urllib.parse import urlencode

        items = {
            "date_from": self.date_from or "",
            "date_to": self.date_to or "",
            "kind": self.kind,
            "topic": self.topic,
            "mood": self.mood,
            "grid": self.grid or "",
            "review": self.review,
            "overdue": "1" if self.overdue else "",
            "page": page or self.page,
        }
        return urlencode({k: v for k, v in items.items() if v not in ("", None)})


KIND_COLUMNS = {"visit": "kind", "call": "subject_type", "mediation": "dispute_type"}
KIND_CHOICES = {
    "visit": rules.VISIT_KINDS,
    "call": rules.CALL_SUBJECTS,
    "mediation": rules.DISPUTE_TYPES,
}


def read_filters(table: str, params: Any) -> Filters:
    """Filters from query parameters; a bad value is reported and ignored."""
    f = Form(params)
    out = Filters(
        date_from=f.day("date_from"),
        date_to=f.day("date_to"),
        kind=f.choice("kind", KIND_CHOICES[table], required=False) or "",
        topic=f.choice("topic", rules.TOPICS, required=False) or "",
        mood=f.choice("mood", rules.MOODS, required=False) or "",
        grid=f.integer("grid", min_value=1),
        review=f.choice("review", rules.REVIEW_STATES, required=False) or "",
        overdue=f.boolean("overdue"),
        page=f.integer("page", min_value=1, max_value=10_000, default=1) or 1,
    )
    out.errors = f.errors
    if out.grid is not None and "grid" in f.errors:
        out.grid = None
    return out


async def listing(scope: Scope, table: str, filters: Filters) -> tuple[list[dict], bool]:
    """One page of records in scope matching ``filters``, newest first; (rows, more?)."""
    select, a = SELECTS[table]
    time_col = TIME_COLUMNS[table]
    where = [f"{a}.unit_path LIKE {{}}"]
    args: list[Any] = [today()] if table == "visit" else []
    args.append(_in_scope(scope))
    local = local_date_sql(f"{a}.{time_col}")
    if filters.date_from:
        where.append(f"{local} >= {{}}")
        args.append(filters.date_from)
    if filters.date_to:
        where.append(f"{local} <= {{}}")
        args.append(filters.date_to)
    if filters.kind:
        where.append(f"{a}.{KIND_COLUMNS[table]} = {{}}")
        args.append(filters.kind)
    if filters.topic and table == "visit":
        where.append("{} = ANY(v.topics)")
        args.append(filters.topic)
    if filters.mood and table == "visit":
        where.append("v.mood = {}")
        args.append(filters.mood)
    if filters.grid:
        where.append(f"{a}.unit_path LIKE (SELECT path FROM unit WHERE id = {{}}) || '%'")
        args.append(filters.grid)
    if filters.review:
        where.append(f"{a}.review_state = {{}}")
        args.append(filters.review)
    if filters.overdue:
        source = "visit" if table == "visit" else table
        where.append(
            "EXISTS (SELECT 1 FROM follow_up_task k WHERE k.source_type = {}"
            f" AND k.source_id = {a}.id AND k.done_at IS NULL AND k.due < {{}})"
        )
        args.extend([source, today()])
    rows = await db.fetch(
        f"{select} WHERE {' AND '.join(where)} ORDER BY {a}.{time_col} DESC, {a}.id DESC"
        " LIMIT {} OFFSET {}",
        *args,
        PAGE_SIZE + 1,
        (filters.page - 1) * PAGE_SIZE,
    )
    for r in rows:
        if table == "mediation":
            r["parties"] = _json(r["parties"])
            r["mediators"] = _json(r["mediators"])
    return rows[:PAGE_SIZE], len(rows) > PAGE_SIZE


async def grids(scope: Scope) -> list[dict]:
    """The grids in scope (for pickers and filters)."""
    return await org.subtree(scope, tiers=("grid",))


# -- review --------------------------------------------------------------------------------


async def review(user: CurrentUser, table: str, record_id: int, action: str, comment: str) -> None:
    """Mark a record reviewed (with a comment) or send it back for rework (a reason needed)."""
    row = await record(user.scope, table, record_id)
    if row is None:
        raise FieldError({"": N_("Not found.")})
    if not rules.can_review(is_author=row["author"] == user.id, review_state=row["review_state"]):
        raise FieldError({"action": N_("This record cannot be reviewed by you now.")})
    if action not in ("reviewed", "returned"):
        raise FieldError({"action": "Not one of the allowed choices."})
    if action == "returned" and not comment.strip():
        raise FieldError({"review_comment": N_("Say what needs rework.")})
    if len(comment) > 2000:
        raise FieldError({"review_comment": "Too long."})
    async with db.transaction():
        await db.fetch(
            f"UPDATE {table} SET review_state = {{}}, reviewed_by = {{}}, reviewed_at = now(),"
            " review_comment = {} WHERE id = {}",
            action,
            user.id,
            comment.strip(),
            record_id,
        )
        await audit.record(
            f"{table}.review",
            actor_id=user.id,
            object_type=table,
            object_id=record_id,
            unit_path=row["unit_path"],
            detail={"action": action, "comment": comment.strip()},
        )
        await mark_dirty(row["unit_path"], local_date(row[TIME_COLUMNS[table]]))
    await wake()


async def review_counts(scope: Scope) -> dict[str, dict[str, int]]:
    """Records awaiting review / sent back, per type, in scope."""
    out = {}
    for table in RECORD_TABLES:
        rows = await db.fetch(
            f"SELECT review_state, count(*) AS n FROM {table} WHERE unit_path LIKE {{}}"
            " GROUP BY review_state",
            _in_scope(scope),
        )
        counts = {r["review_state"]: r["n"] for r in rows}
        out[table] = {s: counts.get(s, 0) for s in rules.REVIEW_STATES}
    return out


async def returned_to(user: CurrentUser) -> list[dict]:
    """The author's records sent back for rework, with the reviewer's reason."""
    rows = []
    for table in RECORD_TABLES:
        time_col = TIME_COLUMNS[table]
        rows += await db.fetch(
            f"SELECT {{}} AS type, id, {time_col} AS at, review_comment, summary FROM {table}"
            " WHERE author = {} AND review_state = 'returned' ORDER BY id DESC LIMIT 50",
            table,
            user.id,
        )
    return rows


# -- calls ---------------------------------------------------------------------------------


async def log_call(user: CurrentUser, form: Form, found: dict) -> tuple[int, bool]:
    """Store a follow-up call exactly once; a reached call closes the tasks it answers."""
    v = form.values
    unit = found["unit"]
    async with db.transaction():
        call_id, created = await _insert_once(
            "call",
            {
                "client_uuid": v["client_uuid"],
                "author": user.id,
                "unit": unit["id"],
                "unit_path": unit["path"],
                "called_at": v["called_at"],
                "subject_type": v["subject_type"],
                "subject_id": v["subject_id"],
                "outcome": v["outcome"],
                "satisfaction": v["satisfaction"],
                "summary": v["summary"],
                "review_state": "pending",
                "review_comment": "",
                "created_at": now(),
                "updated_at": now(),
            },
            user.id,
        )
        if created and v["outcome"] == "reached":
            if v["subject_id"] and v["subject_type"] in ("visit", "mediation"):
                await _close_tasks(
                    "source_type = {} AND source_id = {} AND kind = ANY({})",
                    [v["subject_type"], v["subject_id"], sorted(rules.ANSWERED_BY_CALL)],
                    ("call", call_id),
                )
            await _close_task_by_id(user.scope, v.get("task_id"), ("call", call_id))
        if created:
            await mark_dirty(unit["path"], local_date(v["called_at"]))
    if created:
        await wake()
    return call_id, created


async def correct_call(user: CurrentUser, call: dict, form: Form) -> None:
    """The author's correction of a call (same window as visits)."""
    v = form.values
    new = {
        "called_at": v["called_at"],
        "outcome": v["outcome"],
        "satisfaction": v["satisfaction"],
        "summary": v["summary"],
    }
    await _correct(user, "call", call, new, call["unit_path"], "called_at")


# -- mediations ----------------------------------------------------------------------------


async def _archive_no(venue: dict, closed_at: datetime) -> str:
    """The next archive number of ``venue`` in the year of ``closed_at`` (under a lock)."""
    year = closed_at.astimezone(LOCAL_TZ).year
    code = venue.get("code") or str(venue["id"])
    await db.fetch("SELECT pg_advisory_xact_lock(5171300, {})", venue["id"])
    numbers = await db.fetch(
        "SELECT archive_no FROM mediation WHERE venue_unit = {} AND archive_no LIKE {}",
        venue["id"],
        f"{code}调〔{year}〕%",
    )
    seqs = [p[2] for r in numbers if (p := rules.parse_archive_number(r["archive_no"]))]
    return rules.archive_number(code, year, max(seqs, default=0) + 1)


async def _close_fields(venue: dict, outcome: str) -> dict:
    if outcome == rules.OPEN:
        return {"closed_at": None, "archive_no": None}
    closed = now()
    return {"closed_at": closed, "archive_no": await _archive_no(venue, closed)}


async def log_mediation(user: CurrentUser, form: Form) -> tuple[int, bool]:
    """Store a mediation exactly once; a closed outcome archives it, an escalation opens the
    linked mediation at the next tier's venue, an agreement's dates become tasks."""
    v = form.values
    venue = v["venue"]
    async with db.transaction():
        closing = await _close_fields(venue, v["outcome"])
        columns = {
            "client_uuid": v["client_uuid"],
            "author": user.id,
            "venue_unit": venue["id"],
            "unit_path": venue["path"],
            "held_at": v["held_at"],
            "dispute_type": v["dispute_type"],
            "parties": JsonValue.of(v["parties"]),
            "mediators": JsonValue.of(v["mediators"]),
            "methods": v["methods"],
            "summary": v["summary"],
            "outcome": v["outcome"],
            **_outcome_columns(v),
            **closing,
            "review_state": "pending",
            "review_comment": "",
            "created_at": now(),
            "updated_at": now(),
        }
        mediation_id, created = await _insert_once("mediation", columns, user.id)
        if created:
            await _after_outcome(
                user,
                mediation_id,
                {**columns, "parties": v["parties"], "mediators": v["mediators"]},
                venue,
            )
            await mark_dirty(venue["path"], local_date(v["held_at"]))
    if created:
        await wake()
    return mediation_id, created


def _outcome_columns(v: dict) -> dict:
    return {
        k: v[k]
        for k in (
            "agreement_terms",
            "facts",
            "responsibilities",
            "performance_method",
            "performance_due",
            "agreement_signed_on",
            "terminated_note",
        )
    }


async def _after_outcome(user: CurrentUser, mediation_id: int, m: dict, venue: dict) -> None:
    await _sync_tasks(
        "mediation",
        mediation_id,
        rules.mediation_tasks(m["outcome"], m["agreement_signed_on"], m["performance_due"]),
        venue["path"],
        user.id,
    )
    if m["outcome"] == "escalated":
        await _escalate(user, mediation_id, m, venue)


async def _escalate(user: CurrentUser, mediation_id: int, m: dict, venue: dict) -> None:
    """Open the linked mediation at the parent venue (the dispute goes up, not away)."""
    parent = await org.unit(venue["parent"])
    linked_uuid = uuid.uuid5(ESCALATION_NS, str(m["client_uuid"]))
    linked_id, _ = await _insert_once(
        "mediation",
        {
            "client_uuid": linked_uuid,
            "author": user.id,
            "venue_unit": parent["id"],
            "unit_path": parent["path"],
            "held_at": now(),
            "dispute_type": m["dispute_type"],
            "parties": JsonValue.of(m["parties"]),
            "mediators": JsonValue.of([]),
            "methods": [],
            "summary": m["summary"],
            "outcome": "in_progress",
            "escalated_from": mediation_id,
            "review_state": "pending",
            "review_comment": "",
            "created_at": now(),
            "updated_at": now(),
        },
        user.id,
    )
    await db.fetch("UPDATE mediation SET escalated_to = {} WHERE id = {}", linked_id, mediation_id)
    await mark_dirty(parent["path"], today())


async def record_outcome(user: CurrentUser, mediation: dict, form: Form) -> None:
    """Record how an open mediation went on (or ended); a closed mediation is final."""
    v = form.values
    if mediation["outcome"] != rules.OPEN:
        raise FieldError({"outcome": N_("This mediation is closed.")})
    venue = await org.unit(mediation["venue_unit"])
    async with db.transaction():
        locked = await db.fetchval(
            "SELECT outcome FROM mediation WHERE id = {} FOR UPDATE", mediation["id"]
        )
        if locked != rules.OPEN:
            raise FieldError({"outcome": N_("This mediation is closed.")})
        closing = await _close_fields(venue, v["outcome"])
        columns = {
            "parties": JsonValue.of(v["parties"]),
            "mediators": JsonValue.of(v["mediators"]),
            "methods": v["methods"],
            "outcome": v["outcome"],
            **_outcome_columns(v),
            **closing,
        }
        sets = ", ".join(
            f"{k} = {{}}::jsonb" if isinstance(val, JsonValue) else f"{k} = {{}}"
            for k, val in columns.items()
        )
        await db.fetch(
            f"UPDATE mediation SET {sets}, updated_at = now() WHERE id = {{}}",
            *[val.text if isinstance(val, JsonValue) else val for val in columns.values()],
            mediation["id"],
        )
        await audit.record(
            "mediation.outcome",
            actor_id=user.id,
            object_type="mediation",
            object_id=mediation["id"],
            unit_path=mediation["unit_path"],
            detail={"outcome": v["outcome"], "archive_no": closing["archive_no"]},
        )
        await _after_outcome(
            user,
            mediation["id"],
            {
                **mediation,
                **columns,
                "parties": v["parties"],
                "mediators": v["mediators"],
            },
            venue,
        )
        await mark_dirty(mediation["unit_path"], local_date(mediation["held_at"]))
    await wake()


async def add_session(user: CurrentUser, mediation: dict, data: Any) -> Form:
    """Record one sitting of an open mediation (Art. 27: the mediator keeps a record)."""
    f = Form(data)
    held_at = f.moment("held_at", default=now())
    f.text("notes", required=True, max_length=4000)
    f.text("attendees", max_length=500)
    _not_future(f, "held_at", held_at)
    if mediation["outcome"] != rules.OPEN:
        f.error("notes", N_("This mediation is closed."))
    if not f.ok:
        return f
    async with db.transaction():
        await db.fetch(
            "INSERT INTO mediation_session (mediation, held_at, notes, attendees)"
            " VALUES ({}, {}, {}, {})",
            mediation["id"],
            held_at,
            f.values["notes"],
            f.values["attendees"],
        )
        await audit.record(
            "mediation.session",
            actor_id=user.id,
            object_type="mediation",
            object_id=mediation["id"],
            unit_path=mediation["unit_path"],
        )
    return f


async def sessions(mediation_id: int) -> list[dict]:
    """The sittings of a mediation, in order."""
    return await db.fetch(
        "SELECT * FROM mediation_session WHERE mediation = {} ORDER BY held_at, id", mediation_id
    )


async def record_tasks(source_type: str, source_id: int) -> list[dict]:
    """The tasks a record asked for, with their status."""
    rows = await db.fetch(
        "SELECT * FROM follow_up_task WHERE source_type = {} AND source_id = {} ORDER BY due",
        source_type,
        source_id,
    )
    for r in rows:
        r["status"] = rules.task_status(r["due"], today(), r["done_at"] is not None)
    return rows


async def venues(scope: Scope) -> list[dict]:
    """Units in scope that can host a mediation (not compounds)."""
    return [u for u in await org.subtree(scope) if u["tier"] != "compound"]


def typed_values(data: Any, multi: tuple[str, ...] = ()) -> dict[str, Any]:
    """What the user typed, to put back into a refused form (lists for multi-valued fields)."""
    from app.domain.forms import multi as all_values

    out: dict[str, Any] = {}
    for key in data:
        value = data.get(key)
        if isinstance(value, list):
            value = value[-1] if value else ""
        out[key] = value if isinstance(value, (str, int, bool)) or value is None else str(value)
    for key in multi:
        out[key] = all_values(data, key)
    return out


def local_input(moment: datetime | None) -> str:
    """A moment as a ``datetime-local`` input value (Beijing time)."""
    return moment.astimezone(LOCAL_TZ).strftime("%Y-%m-%dT%H:%M") if moment else ""
