"""The household register of each grid, its spreadsheet import, and visit coverage."""

from __future__ import annotations

import re
from typing import Any

from app import db
from app.domain import field as rules
from app.domain.forms import N_, Form
from app.domain.roles import Scope
from app.services import audit, org
from app.services.spreadsheets import RowError, read_rows, workbook_bytes

COLUMNS = ("address", "head_name", "head_phone", "size", "tags")
PHONE = re.compile(r"^[0-9+\- ]{5,20}$")
#: Tags a household may carry (free text is allowed too, up to 32 characters each).
MAX_TAGS = 8


def check(data: Any) -> Form:
    """Parse one household (from the form or a spreadsheet row)."""
    f = Form(data)
    f.text("address", required=True, max_length=255)
    f.text("head_name", max_length=100)
    phone = f.text("head_phone", max_length=32)
    f.integer("size", min_value=1, max_value=30, default=1)
    tags = [t.strip() for t in re.split(r"[,，、;；]", str(data.get("tags") or "")) if t.strip()]
    if len(tags) > MAX_TAGS or any(len(t) > 32 for t in tags):
        f.error("tags", "Too long.")
    f.values["tags"] = tags
    if phone and not PHONE.match(phone):
        f.error("head_phone", N_("Enter a phone number."))
    return f


async def add(actor_id: int, grid: dict, values: dict) -> int:
    """Register one household in ``grid``."""
    async with db.transaction():
        row = await db.fetchrow(
            "INSERT INTO household (unit, unit_path, address, head_name, head_phone, size, tags,"
            " created_at) VALUES ({}, {}, {}, {}, {}, {}, {}, now()) RETURNING id",
            grid["id"],
            grid["path"],
            values["address"],
            values["head_name"],
            values["head_phone"],
            values["size"],
            values["tags"],
        )
        await audit.record(
            "household.add",
            actor_id=actor_id,
            object_type="household",
            object_id=row["id"],
            unit_path=grid["path"],
        )
    return row["id"]


async def import_sheet(actor_id: int, grid: dict, content: bytes) -> tuple[int, list[RowError]]:
    """Import the households of an ``.xlsx`` into ``grid``: every row checked first; any bad
    row is reported and nothing is imported."""
    rows, errors = read_rows(content, COLUMNS)
    if errors:
        return 0, errors
    if not rows:
        return 0, [RowError(2, "", N_("The sheet has no rows."))]
    checked = []
    for number, r in rows:
        f = check(r)
        for column, message in f.errors.items():
            errors.append(RowError(number, column, message))
        checked.append(f.values)
    if errors:
        return 0, errors
    async with db.transaction():
        for v in checked:
            await db.fetch(
                "INSERT INTO household (unit, unit_path, address, head_name, head_phone, size,"
                " tags, created_at) VALUES ({}, {}, {}, {}, {}, {}, {}, now())",
                grid["id"],
                grid["path"],
                v["address"],
                v["head_name"],
                v["head_phone"],
                v["size"],
                v["tags"],
            )
        await audit.record(
            "household.import",
            actor_id=actor_id,
            unit_path=grid["path"],
            detail={"rows": len(checked)},
        )
    return len(checked), []


def template() -> bytes:
    """An empty import sheet with an example row."""
    return workbook_bytes(
        COLUMNS, [["东盛路18号2单元301", "张桂芳", "13804310000", 3, "独居老人"]], "households"
    )


async def in_grid(scope: Scope, grid_id: int, limit: int = 500) -> list[dict]:
    """The households of one grid in scope, by address, with their last visit."""
    return await db.fetch(
        "SELECT h.*, (SELECT max(visited_at) FROM visit v WHERE v.household = h.id) AS last_visit"
        " FROM household h WHERE h.unit = {} AND h.unit_path LIKE {} ORDER BY h.address LIMIT {}",
        grid_id,
        (scope.unit_path or "/nowhere/") + "%",
        limit,
    )


async def search(scope: Scope, query: str, grid_id: int | None = None, limit: int = 12):
    """Households in scope whose address (or head's name) contains ``query``."""
    query = query.strip()
    if not query:
        return []
    like = "%" + query.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    return await db.fetch(
        "SELECT id, address, head_name, unit FROM household WHERE unit_path LIKE {}"
        " AND (address ILIKE {} OR head_name ILIKE {})"
        " AND ({}::int IS NULL OR unit = {}) ORDER BY address LIMIT {}",
        (scope.unit_path or "/nowhere/") + "%",
        like,
        like,
        grid_id,
        grid_id,
        limit,
    )


async def coverage(scope: Scope) -> list[dict]:
    """Per grid in scope: households, households visited in the last 30 days, the share."""
    rows = await db.fetch(
        "SELECT g.id, g.name, g.path,"
        " (SELECT count(*) FROM household h WHERE h.unit = g.id) AS households,"
        " (SELECT count(DISTINCT v.household) FROM visit v WHERE v.unit = g.id"
        "  AND v.household IS NOT NULL AND v.visited_at >= now() - make_interval(days => {}))"
        "  AS visited"
        " FROM unit g WHERE g.tier = 'grid' AND g.path LIKE {} ORDER BY g.path",
        rules.COVERAGE_DAYS,
        (scope.unit_path or "/nowhere/") + "%",
    )
    names = {u["id"]: u["name"] for u in await org.subtree(scope)}
    for r in rows:
        r["coverage"] = rules.coverage(r["visited"], r["households"])
        parent_ids = [int(p) for p in r["path"].strip("/").split("/")[:-1]]
        r["community"] = names.get(parent_ids[-1], "") if parent_ids else ""
    return rows
