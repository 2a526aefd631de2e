"""Scope-matrix finders for petition cases (imported by ``tests/scope_registry.py``)."""

from __future__ import annotations

from tests.scope_registry import finder, user_scope


async def _cases_in_and_out(sql, username: str, extra: str = "true"):
    role, path, dept = await user_scope(sql, username)
    if role == "department":
        mine = 'EXISTS (SELECT 1 FROM case_body b WHERE b."case" = c.id AND b.department = $1)'
        arg: object = dept
    elif role == "street_leader":
        # a street leader also sees matters dispatched to their street office
        mine = (
            "(c.unit_path LIKE $1 || '%' OR EXISTS (SELECT 1 FROM case_body b"
            ' WHERE b."case" = c.id AND b.unit = (SELECT id FROM unit WHERE path = $1)))'
        )
        arg = path
    else:
        mine, arg = "c.unit_path LIKE $1 || '%'", path or "/none/"
    inside = await sql.fetchval(
        f"SELECT c.id FROM petition_case c WHERE {mine} AND {extra} ORDER BY c.id LIMIT 1", arg
    )
    outside = await sql.fetchval(
        f"SELECT c.id FROM petition_case c WHERE NOT ({mine}) AND {extra} ORDER BY c.id LIMIT 1",
        arg,
    )
    return inside, outside


@finder(
    "/cases/{case_id:int}",
    "/cases/{case_id:int}/actions",
    "/cases/{case_id:int}/petitioner",
    "/api/v1/cases/{case_id:int}",
    "/api/v1/cases/{case_id:int}/actions",
)
async def case_objects(sql, username: str):
    return await _cases_in_and_out(sql, username)


@finder("/cases/{case_id:int}/opinion")
async def case_opinions(sql, username: str):
    return await _cases_in_and_out(
        sql, username, "EXISTS (SELECT 1 FROM case_event e WHERE e.\"case\" = c.id"
        " AND e.kind = 'opinion')"
    )
