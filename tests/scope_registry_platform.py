"""Scope-matrix finders of the smart platform (risks, key persons).

The suite's demo has no history, so each finder makes sure one risk / key person exists in the
demo grid of 东盛 (DS-C1-G1) and one in the grid of 东站 (DZ-C1-G1).
"""

from __future__ import annotations

from tests.scope_registry import finder, user_scope


async def _ensure(sql, table: str, insert: str) -> None:
    for code in ("DS-C1-G1", "DZ-C1-G1"):
        unit = await sql.fetchrow("SELECT id, path FROM unit WHERE code = $1", code)
        if not await sql.fetchval(
            f"SELECT 1 FROM {table} WHERE unit_path = $1 LIMIT 1", unit["path"]
        ):
            await sql.execute(insert, unit["id"], unit["path"])


async def _in_and_out(sql, username: str, table: str):
    _role, path, _dept = await user_scope(sql, username)
    if path is None:
        return None, await sql.fetchval(f"SELECT min(id) FROM {table}")
    inside = await sql.fetchval(f"SELECT min(id) FROM {table} WHERE unit_path LIKE $1 || '%'", path)
    outside = await sql.fetchval(
        f"SELECT min(id) FROM {table} WHERE unit_path NOT LIKE $1 || '%'", path
    )
    return inside, outside


@finder("/risks/{risk_id:int}", "/risks/{risk_id:int}/status")
async def risk_objects(sql, username: str):
    await _ensure(
        sql,
        "risk",
        "INSERT INTO risk (unit, unit_path, category, level, title, status, created_at,"
        " updated_at) VALUES ($1, $2, 'fire', 'high', '楼道堆放杂物', 'open', now(), now())",
    )
    return await _in_and_out(sql, username, "risk")


@finder(
    "/key-persons/{person_id:int}",
    "/key-persons/{person_id:int}/edit",
    "/key-persons/{person_id:int}/reveal",
    "/api/v1/key-persons/{person_id:int}",
)
async def key_person_objects(sql, username: str):
    await _ensure(
        sql,
        "key_person",
        "INSERT INTO key_person (unit, unit_path, name, id_number, phone, category, risk_level,"
        " created_at, updated_at) VALUES ($1, $2, '赵某某', '220105196501012345', '13912345678',"
        " 'repeat', 'high', now(), now())",
    )
    return await _in_and_out(sql, username, "key_person")


@finder("/warnings/{warning_id:int}/acknowledge", "/warnings/{warning_id:int}/handle")
async def warning_objects(sql, username: str):
    await _ensure(
        sql,
        "warning",
        "INSERT INTO warning (kind, unit_path, subject_type, subject_id, period, level, message,"
        " evidence, created_at) VALUES ('group_matter', $2, 'scope_matrix', ($1::int)::text, '',"
        " 'medium', 'A group matter was registered.', '[]', now())",
    )
    return await _in_and_out(sql, username, "warning")
