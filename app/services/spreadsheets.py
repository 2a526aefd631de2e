"""Import and export of units and users as ``.xlsx``.

An import is checked whole first: any bad row is reported (row number, column, message) and
nothing is changed; otherwise every row is applied in one transaction.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from openpyxl import Workbook, load_workbook

from app import db
from app.domain import roles
from app.services import audit
from app.services.auth import MIN_PASSWORD_LENGTH, hash_password

UNIT_COLUMNS = ("code", "name", "tier", "parent_code", "subtype")
USER_COLUMNS = ("username", "full_name", "role", "unit_code", "department", "phone", "password")


@dataclass
class RowError:
    """One problem of one row (``row`` is the spreadsheet's row number)."""

    row: int
    column: str
    message: str


def workbook_bytes(headers: tuple[str, ...], rows: list[list], title: str) -> bytes:
    """An ``.xlsx`` with one sheet: a bold header row, then ``rows``."""
    from openpyxl.styles import Font

    wb = Workbook()
    ws = wb.active
    ws.title = title
    ws.append(list(headers))
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for row in rows:
        ws.append(row)
    for cells in ws.iter_rows(min_row=2):
        for cell in cells:
            if isinstance(cell.value, str) and cell.value.startswith("="):
                # Text that looks like a formula (formula injection) stays a plain string cell:
                # openpyxl would otherwise store it as a formula that Excel evaluates.
                cell.data_type = "s"
                cell.quotePrefix = True
    for column in ws.columns:
        ws.column_dimensions[column[0].column_letter].width = 18
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def read_rows(
    content: bytes, headers: tuple[str, ...]
) -> tuple[list[tuple[int, dict]], list[RowError]]:
    """Rows of the first sheet as dicts keyed by ``headers`` (the first row must name them)."""
    try:
        wb = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception:
        return [], [RowError(0, "", "This is not an .xlsx file.")]
    ws = wb.worksheets[0]
    rows = ws.iter_rows(values_only=True)
    header = next(rows, None)
    names = [str(h).strip() if h is not None else "" for h in (header or ())]
    missing = [h for h in headers if h not in names]
    if missing:
        return [], [RowError(1, ",".join(missing), "Missing columns.")]
    out = []
    for number, values in enumerate(rows, start=2):
        record = {
            name: ("" if v is None else str(v).strip())
            for name, v in zip(names, values, strict=False)
        }
        if any(record.get(h) for h in headers):
            out.append((number, record))
    return out, []


async def export_units() -> bytes:
    """Every unit as a sheet (parents before children)."""
    rows = await db.fetch(
        "SELECT u.id, u.code, u.name, u.tier, u.subtype, p.code AS parent_code, p.id AS parent_id"
        " FROM unit u LEFT JOIN unit p ON p.id = u.parent ORDER BY u.path"
    )
    return workbook_bytes(
        UNIT_COLUMNS,
        [
            [
                r["code"] or f"#{r['id']}",
                r["name"],
                r["tier"],
                (r["parent_code"] or (f"#{r['parent_id']}" if r["parent_id"] else "")),
                r["subtype"] or "",
            ]
            for r in rows
        ],
        "units",
    )


async def export_users() -> bytes:
    """Every account as a sheet (without passwords)."""
    rows = await db.fetch(
        "SELECT u.username, u.full_name, u.role, coalesce(un.code, '#' || un.id) AS unit_code,"
        " d.name AS department, u.phone FROM app_user u LEFT JOIN unit un ON un.id = u.unit"
        " LEFT JOIN department d ON d.id = u.department ORDER BY u.username"
    )
    return workbook_bytes(
        USER_COLUMNS,
        [
            [
                r["username"],
                r["full_name"],
                r["role"],
                r["unit_code"] or "",
                r["department"] or "",
                r["phone"],
                "",
            ]
            for r in rows
        ],
        "users",
    )


def template(kind: str) -> bytes:
    """An empty import sheet with its columns and one example row."""
    if kind == "units":
        return workbook_bytes(UNIT_COLUMNS, [["DS-C9", "示例社区", "community", "DS", ""]], "units")
    return workbook_bytes(
        USER_COLUMNS,
        [["wangwu", "王五", "grid_worker", "DS-C1-G1", "", "13800000000", "change-me-123"]],
        "users",
    )


async def _unit_codes() -> dict[str, dict]:
    rows = await db.fetch("SELECT id, code, tier, path FROM unit")
    codes = {f"#{r['id']}": r for r in rows}
    codes.update({r["code"]: r for r in rows if r["code"]})
    return codes


async def import_units(actor_id: int | None, content: bytes) -> tuple[int, list[RowError]]:
    """Add the units of a sheet (parents may be earlier rows). All or nothing."""
    rows, errors = read_rows(content, UNIT_COLUMNS)
    if errors:
        return 0, errors
    known = await _unit_codes()
    planned: dict[str, str] = {}  # code -> tier, for rows of this sheet
    for number, r in rows:
        code, name, tier, parent = r.get("code"), r.get("name"), r.get("tier"), r.get("parent_code")
        if not code:
            errors.append(RowError(number, "code", "This field is required."))
        elif code in known or code in planned:
            errors.append(RowError(number, "code", "This code is already taken."))
        if not name:
            errors.append(RowError(number, "name", "This field is required."))
        if tier not in roles.TIERS:
            errors.append(RowError(number, "tier", "Not one of the allowed choices."))
        parent_tier = known[parent]["tier"] if parent in known else planned.get(parent or "")
        if not parent:
            errors.append(RowError(number, "parent_code", "This field is required."))
        elif parent_tier is None:
            errors.append(RowError(number, "parent_code", "Unknown parent code."))
        elif tier in roles.TIERS and not roles.valid_child_tier(parent_tier, tier):
            errors.append(RowError(number, "tier", "This tier cannot sit under that parent."))
        if code and tier in roles.TIERS:
            planned[code] = tier
    if errors:
        return 0, errors
    async with db.transaction():
        for _number, r in rows:
            parent = known[r["parent_code"]]
            row = await db.fetchrow(
                "INSERT INTO unit (name, tier, subtype, parent, path, code, sort, created_at)"
                " VALUES ({}, {}, {}, {}, '', {}, 0, now()) RETURNING id",
                r["name"],
                r["tier"],
                r.get("subtype") or None,
                parent["id"],
                r["code"],
            )
            path = parent["path"] + f"{row['id']}/"
            await db.fetch("UPDATE unit SET path = {} WHERE id = {}", path, row["id"])
            known[r["code"]] = {"id": row["id"], "tier": r["tier"], "path": path, "code": r["code"]}
        await audit.record("unit.import", actor_id=actor_id, detail={"rows": len(rows)})
    return len(rows), []


async def import_users(actor_id: int | None, content: bytes) -> tuple[int, list[RowError]]:
    """Create the accounts of a sheet. All or nothing."""
    import re

    rows, errors = read_rows(content, USER_COLUMNS)
    if errors:
        return 0, errors
    units = await _unit_codes()
    depts = {r["name"]: r["id"] for r in await db.fetch("SELECT id, name FROM department")}
    taken = {r["username"] for r in await db.fetch("SELECT username FROM app_user")}
    seen: set[str] = set()
    for number, r in rows:
        username, role = r.get("username", ""), r.get("role", "")
        if not re.fullmatch(r"[A-Za-z0-9_.-]{2,64}", username):
            errors.append(
                RowError(number, "username", "Use 2-64 letters, digits, dot, dash or underscore.")
            )
        elif username in taken or username in seen:
            errors.append(RowError(number, "username", "This name is already taken."))
        seen.add(username)
        if role not in roles.ROLES:
            errors.append(RowError(number, "role", "Not one of the allowed choices."))
        elif role == roles.DEPARTMENT:
            if r.get("department") not in depts:
                errors.append(RowError(number, "department", "Unknown department."))
        else:
            u = units.get(r.get("unit_code", ""))
            if u is None:
                errors.append(RowError(number, "unit_code", "Unknown unit code."))
            elif u["tier"] not in roles.ROLE_TIERS[role]:
                errors.append(
                    RowError(number, "unit_code", "This role belongs to a unit of another tier.")
                )
        if len(r.get("password", "")) < MIN_PASSWORD_LENGTH:
            errors.append(RowError(number, "password", "At least 8 characters."))
    if errors:
        return 0, errors
    async with db.transaction():
        for _number, r in rows:
            is_dept = r["role"] == roles.DEPARTMENT
            await db.fetch(
                "INSERT INTO app_user (username, full_name, phone, password_hash, role, unit,"
                " department, is_head, active, created_at)"
                " VALUES ({}, {}, {}, {}, {}, {}, {}, false, true, now())",
                r["username"],
                r.get("full_name", ""),
                r.get("phone", ""),
                hash_password(r["password"]),
                r["role"],
                None if is_dept else units[r["unit_code"]]["id"],
                depts[r["department"]] if is_dept else None,
            )
        await audit.record("user.import", actor_id=actor_id, detail={"rows": len(rows)})
    return len(rows), []
