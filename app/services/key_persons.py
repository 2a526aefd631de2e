"""The key-person ledger (重点人员档案台账).

Every read and write goes through a Scope (prefix match on ``unit_path``; out of scope is
``None``, answered as 404). ID number and phone are stored in full and shown masked everywhere;
:func:`reveal` returns them in full and writes ``key_person.reveal`` to the audit log.

A person's last contact is the latest reached call about them (``call.subject_type =
'key_person'``) or visit to their household; the contact-frequency rule per risk level is in
:mod:`app.domain.key_persons`. The timeline gathers calls, household visits, mediations whose
parties name the person and cases whose petitioner name and phone match, each with its emotion.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from app import db
from app.domain import key_persons as rules
from app.domain.calendar import local_date, today
from app.domain.forms import N_, Form
from app.domain.roles import Scope
from app.services import audit, org

if ("key_person", "unit_path") not in org.PATH_COPIES:
    org.PATH_COPIES.append(("key_person", "unit_path"))

UNIT_TIERS = ("grid", "community")
LEADER_ROLES = ("district_leader", "street_leader", "community_staff", "supervisor")
PAGE_SIZE = 100

#: The last contact of ``kp``: a reached call about the person or a visit to their household.
LAST_CONTACT = (
    "GREATEST("
    "(SELECT max(c.called_at) FROM call c WHERE c.subject_type = 'key_person'"
    " AND c.subject_id = kp.id AND c.outcome = 'reached'),"
    "(SELECT max(v.visited_at) FROM visit v WHERE kp.household_id IS NOT NULL"
    " AND v.household = kp.household_id))"
)

_SELECT = (
    "SELECT kp.*, u.name AS unit_name,"
    " coalesce(nullif(lu.full_name, ''), lu.username) AS leader_name,"
    " coalesce(nullif(gw.full_name, ''), gw.username) AS grid_worker_name,"
    f" {LAST_CONTACT} AS last_contact"
    " FROM key_person kp JOIN unit u ON u.id = kp.unit"
    " LEFT JOIN app_user lu ON lu.id = kp.leader_user"
    " LEFT JOIN app_user gw ON gw.id = kp.grid_worker"
    " WHERE kp.unit_path LIKE {}"
)


def _local_date(value: datetime | None):
    return local_date(value) if value else None


def with_contact(row: dict, on=None) -> dict:
    """Add ``due``, ``overdue`` and ``days_overdue`` (the contact-frequency rule) to a row."""
    on = on or today()
    last = _local_date(row.get("last_contact"))
    registered = _local_date(row["created_at"])
    row["last_contact_day"] = last
    row["due"] = rules.contact_due(row["risk_level"], last, registered)
    row["days_overdue"] = rules.days_overdue(row["risk_level"], last, registered, on)
    row["overdue"] = row["days_overdue"] > 0
    return row


async def leader_options(scope: Scope) -> list[dict]:
    """Leaders who may be a person's 包保 leader: above or inside the user's unit."""
    if not scope.unit_path:
        return []
    return await db.fetch(
        "SELECT a.id, coalesce(nullif(a.full_name, ''), a.username) AS name, un.name AS unit_name"
        " FROM app_user a JOIN unit un ON un.id = a.unit"
        " WHERE a.active AND a.role = ANY({}::text[])"
        " AND ({} LIKE un.path || '%' OR un.path LIKE {}) ORDER BY un.path, a.id",
        list(LEADER_ROLES),
        scope.unit_path,
        scope.unit_path + "%",
    )


async def worker_options(scope: Scope) -> list[dict]:
    """Grid workers inside the user's unit."""
    if not scope.unit_path:
        return []
    return await db.fetch(
        "SELECT a.id, coalesce(nullif(a.full_name, ''), a.username) AS name, un.name AS unit_name"
        " FROM app_user a JOIN unit un ON un.id = a.unit"
        " WHERE a.active AND a.role = 'grid_worker' AND un.path LIKE {} ORDER BY un.path, a.id",
        scope.unit_path + "%",
    )


async def parse(
    scope: Scope, data: Any, current: dict | None = None
) -> tuple[dict[str, Any], Form]:
    """Clean a key-person form (HTML or JSON). On edit an empty name, ID number or phone keeps
    the stored one (the form never shows them in full)."""
    form = Form(data)
    values = {
        "name": form.text("name", required=current is None, max_length=100),
        "id_number": form.text("id_number", max_length=32).upper(),
        "phone": form.text("phone", max_length=32),
        "address": form.text("address", max_length=255),
        "category": form.choice("category", rules.CATEGORIES),
        "risk_level": form.choice("risk_level", rules.RISK_LEVELS),
        "unit_id": form.integer("unit_id", required=True),
        "household_id": form.integer("household_id", min_value=1),
        "leader_user": form.integer("leader_user", min_value=1),
        "grid_worker": form.integer("grid_worker", min_value=1),
        "leader": form.text("leader", max_length=100),
        "measures": form.text("measures", max_length=4000),
        "note": form.text("note", max_length=4000),
    }
    if values["id_number"] and not rules.valid_id_number(values["id_number"]):
        form.error("id_number", N_("Enter a valid 18-character ID number."))
    if values["phone"] and not rules.valid_phone(values["phone"]):
        form.error("phone", N_("Enter a mobile number or a landline with its area code."))
    # Never echo what was typed into the masked fields back into the page.
    form.values.pop("id_number", None)
    form.values.pop("phone", None)
    if current is not None:
        form.values.pop("name", None)
        values["name"] = values["name"] or current["name"]
        values["id_number"] = values["id_number"] or current["id_number"]
        values["phone"] = values["phone"] or current["phone"]
    unit = None
    if values["unit_id"] is not None and "unit_id" not in form.errors:
        unit = await org.unit_in_scope(scope, values["unit_id"])
        if unit is None or unit["tier"] not in UNIT_TIERS:
            form.error("unit_id", N_("Choose a grid or community of your area."))
            unit = None
        else:
            values["unit_path"] = unit["path"]
    if values["household_id"] and "household_id" not in form.errors:
        path = await db.fetchval(
            "SELECT unit_path FROM household WHERE id = {}", values["household_id"]
        )
        if not scope.covers(path):
            form.error("household_id", N_("No such household in your area."))
    if values["leader_user"] and "leader_user" not in form.errors:
        ids = {r["id"] for r in await leader_options(scope)}
        if values["leader_user"] not in ids:
            form.error("leader_user", N_("Choose a leader of your area."))
    if values["grid_worker"] and "grid_worker" not in form.errors:
        ids = {r["id"] for r in await worker_options(scope)}
        if values["grid_worker"] not in ids:
            form.error("grid_worker", N_("Choose a grid worker of your area."))
    return values, form


_COLUMNS = (
    "unit",
    "unit_path",
    "name",
    "id_number",
    "phone",
    "address",
    "household_id",
    "category",
    "risk_level",
    "leader",
    "leader_user",
    "grid_worker",
    "measures",
    "note",
)


def _row_values(values: dict[str, Any]) -> list[Any]:
    v = {**values, "unit": values["unit_id"]}
    return [v[c] for c in _COLUMNS]


async def create(scope: Scope, values: dict[str, Any]) -> int:
    async with db.transaction():
        person_id = await db.fetchval(
            f"INSERT INTO key_person ({', '.join(_COLUMNS)}, created_by, created_at, updated_at)"
            f" VALUES ({', '.join('{}' for _ in _COLUMNS)}, {{}}, now(), now()) RETURNING id",
            *_row_values(values),
            scope.user_id,
        )
        await audit.record(
            "key_person.create",
            actor_id=scope.user_id,
            object_type="key_person",
            object_id=person_id,
            unit_path=values["unit_path"],
        )
    return person_id


async def update(scope: Scope, person_id: int, values: dict[str, Any]) -> bool:
    """Save an edit; False when the person is out of scope."""
    async with db.transaction():
        row = await db.fetchrow(
            "SELECT id FROM key_person WHERE id = {} AND unit_path LIKE {} FOR UPDATE",
            person_id,
            (scope.unit_path or "-") + "%",
        )
        if row is None:
            return False
        sets = ", ".join(f"{c} = {{}}" for c in _COLUMNS)
        await db.fetch(
            f"UPDATE key_person SET {sets}, updated_at = now() WHERE id = {{}}",
            *_row_values(values),
            person_id,
        )
        await audit.record(
            "key_person.update",
            actor_id=scope.user_id,
            object_type="key_person",
            object_id=person_id,
            unit_path=values["unit_path"],
        )
    return True


async def get(scope: Scope, person_id: int) -> dict | None:
    if not scope.unit_path:
        return None
    row = await db.fetchrow(_SELECT + " AND kp.id = {}", scope.unit_path + "%", person_id)
    return with_contact(row) if row else None


async def reveal(scope: Scope, person_id: int, ip: str = "") -> dict | None:
    """Full name, ID number and phone, audited as ``key_person.reveal``; None out of scope."""
    if not scope.unit_path:
        return None
    row = await db.fetchrow(
        "SELECT id, unit_path, name, id_number, phone FROM key_person"
        " WHERE id = {} AND unit_path LIKE {}",
        person_id,
        scope.unit_path + "%",
    )
    if row is None:
        return None
    await audit.record(
        "key_person.reveal",
        actor_id=scope.user_id,
        object_type="key_person",
        object_id=person_id,
        unit_path=row["unit_path"],
        ip=ip,
        detail={"fields": ["name", "id_number", "phone"]},
    )
    return row


async def search(
    scope: Scope,
    *,
    category: str = "",
    risk_level: str = "",
    unit_id: int | None = None,
    overdue: bool = False,
    limit: int = PAGE_SIZE,
) -> list[dict]:
    """People in scope, filtered; the most serious and the longest overdue first."""
    if not scope.unit_path:
        return []
    sql = _SELECT
    args: list[Any] = [scope.unit_path + "%"]
    if category in rules.CATEGORIES:
        sql += " AND kp.category = {}"
        args.append(category)
    if risk_level in rules.RISK_LEVELS:
        sql += " AND kp.risk_level = {}"
        args.append(risk_level)
    if unit_id:
        unit = await org.unit_in_scope(scope, unit_id)
        if unit is None:
            return []
        sql += " AND kp.unit_path LIKE {}"
        args.append(unit["path"] + "%")
    sql += " ORDER BY array_position(ARRAY['high','medium','low']::text[], kp.risk_level::text),"
    sql += " kp.id"
    rows = [with_contact(r) for r in await db.fetch(sql, *args)]
    if overdue:
        rows = [r for r in rows if r["overdue"]]
    rows.sort(key=lambda r: -r["days_overdue"] if r["overdue"] else 0)
    return rows[:limit]


async def overdue_for(scope: Scope, worker_id: int | None = None) -> list[dict]:
    """People in scope whose contact is overdue (of one grid worker, when given)."""
    rows = await search(scope, overdue=True, limit=10_000)
    if worker_id is not None:
        rows = [r for r in rows if r["grid_worker"] == worker_id]
    return rows


async def timeline(scope: Scope, person: dict) -> list[dict]:
    """Every record linked to ``person`` in scope, newest first, with its emotion."""
    path = (scope.unit_path or "-") + "%"
    rows = await db.fetch(
        "SELECT r.*, ta.emotion, ta.intensity, ta.signals FROM ("
        " SELECT 'call' AS kind, c.id, c.called_at AS at, c.summary AS text, c.outcome AS detail"
        " FROM call c WHERE c.subject_type = 'key_person' AND c.subject_id = {}"
        " AND c.unit_path LIKE {}"
        " UNION ALL"
        " SELECT 'visit', v.id, v.visited_at, v.summary, v.kind FROM visit v"
        " WHERE {}::int IS NOT NULL AND v.household = {}::int AND v.unit_path LIKE {}"
        " UNION ALL"
        " SELECT 'mediation', m.id, m.held_at, m.summary, m.outcome FROM mediation m"
        " WHERE m.parties @> jsonb_build_array(jsonb_build_object('name', {}::text))"
        " AND m.unit_path LIKE {}"
        " UNION ALL"
        " SELECT 'petition_case', pc.id, pc.received_at, pc.content, pc.state"
        " FROM petition_case pc WHERE pc.petitioner_name = {} AND {} <> ''"
        " AND pc.petitioner_phone = {} AND pc.unit_path LIKE {}"
        ") r LEFT JOIN text_analysis ta ON ta.table_name = r.kind AND ta.record_id = r.id"
        " ORDER BY r.at DESC, r.kind, r.id DESC LIMIT 200",
        person["id"],
        path,
        person["household_id"],
        person["household_id"],
        path,
        person["name"],
        path,
        person["name"],
        person["phone"],
        person["phone"],
        path,
    )
    out = []
    for r in rows:
        analysis = None
        if r.get("emotion"):
            signals = r["signals"]
            analysis = {
                "emotion": r["emotion"],
                "intensity": r["intensity"] or 0.0,
                "signals": json.loads(signals) if isinstance(signals, str) else signals or [],
            }
        out.append(
            {
                "kind": r["kind"],
                "id": r["id"],
                "at": r["at"],
                "text": r["text"] or "",
                "detail": r["detail"],
                "analysis": analysis,
            }
        )
    return out


def public(row: dict) -> dict:
    """The API's view of a person: masked name, ID number and phone."""
    from app.templating import mask_id_number, mask_phone

    return {
        "id": row["id"],
        "name": mask_name(row["name"]),
        "id_number": mask_id_number(row["id_number"]),
        "phone": mask_phone(row["phone"]),
        "category": row["category"],
        "risk_level": row["risk_level"],
        "unit_id": row["unit"],
        "unit_name": row["unit_name"],
        "leader": row.get("leader_name") or row["leader"],
        "grid_worker": row.get("grid_worker_name"),
        "last_contact": row["last_contact"].isoformat() if row.get("last_contact") else None,
        "contact_due": row["due"].isoformat(),
        "contact_overdue": row["overdue"],
    }


def mask_name(name: str | None) -> str:
    """张** : only the surname shown."""
    if not name:
        return ""
    return name[0] + "*" * max(len(name) - 1, 1)


async def export(scope: Scope, rows: list[dict], ip: str = "") -> bytes:
    """The rows (already scoped and filtered) as a masked ``.xlsx``; audited."""
    from app.i18n import gettext as _
    from app.services.spreadsheets import workbook_bytes
    from app.templating import mask_id_number, mask_phone

    headers = (
        _("Full name"),
        _("ID number"),
        _("Phone"),
        _("Category"),
        _("Risk level"),
        _("Grid or community"),
        _("Responsible leader"),
        _("Grid worker"),
        _("Last contact"),
        _("Contact due"),
        _("Contact overdue"),
        _("Stabilisation measures"),
    )
    data = [
        [
            mask_name(r["name"]),
            mask_id_number(r["id_number"]),
            mask_phone(r["phone"]),
            _(rules.CATEGORIES.get(r["category"], r["category"])),
            _(rules.RISK_LEVELS.get(r["risk_level"], r["risk_level"])),
            r["unit_name"],
            r.get("leader_name") or r["leader"],
            r.get("grid_worker_name") or "",
            r["last_contact_day"].isoformat() if r["last_contact_day"] else "",
            r["due"].isoformat(),
            _("Yes") if r["overdue"] else "",
            r["measures"],
        ]
        for r in rows
    ]
    await audit.record(
        "key_person.export",
        actor_id=scope.user_id,
        object_type="key_person",
        unit_path=scope.unit_path or "",
        ip=ip,
        detail={"rows": len(rows)},
    )
    return workbook_bytes(headers, data, "key_persons")
