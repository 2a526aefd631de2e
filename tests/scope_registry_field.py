"""Scope-matrix finders of field work (visits, calls, mediations, follow-up tasks).

The suite's demo has no history, so each finder makes sure one record exists in the demo grid of
东盛 (DS-C1-G1, author ``grid``) and one in the grid of 东站 (DZ-C1-G1, author ``grid2``).
"""

from __future__ import annotations

import uuid

from tests.scope_registry import finder, user_scope

GRIDS = (("DS-C1-G1", "grid"), ("DZ-C1-G1", "grid2"))
INSERTS = {
    "visit": "INSERT INTO visit (client_uuid, author, unit, unit_path, kind, visited_at, address,"
    " persons_met, topics, summary, mood, resolved_on_site, reported_up, review_state,"
    " review_comment, created_at, updated_at) VALUES ($1, $2, $3, $4, 'door', now(), '矩阵路1号',"
    " '', '{}', '矩阵走访', 'calm', false, false, 'pending', '', now(), now())",
    "call": "INSERT INTO call (client_uuid, author, unit, unit_path, called_at, subject_type,"
    " outcome, summary, review_state, review_comment, created_at, updated_at) VALUES ($1, $2, $3,"
    " $4, now(), 'household', 'reached', '矩阵随访', 'pending', '', now(), now())",
    "mediation": "INSERT INTO mediation (client_uuid, author, venue_unit, unit_path, held_at,"
    " dispute_type, parties, mediators, methods, summary, outcome, agreement_terms, facts,"
    " responsibilities, performance_method, performance_due, agreement_signed_on, terminated_note,"
    " review_state, review_comment, created_at, updated_at) VALUES ($1, $2, $3, $4, now(), 'noise',"
    ' \'[{"name": "甲", "role": "applicant"}, {"name": "乙", "role": "respondent"}]\','
    " '[]', '{}', '矩阵调解', 'agreed_written', '赔偿500元', '噪音', '乙方负责', '当场支付',"
    " current_date, current_date, '', 'pending', '', now(), now())",
}


async def _ensure(sql, table: str) -> None:
    for code, username in GRIDS:
        unit = await sql.fetchrow("SELECT id, path FROM unit WHERE code = $1", code)
        if await sql.fetchval(f"SELECT 1 FROM {table} WHERE unit_path = $1 LIMIT 1", unit["path"]):
            continue
        author = await sql.fetchval("SELECT id FROM app_user WHERE username = $1", username)
        if table == "follow_up_task":
            await sql.execute(
                "INSERT INTO follow_up_task (unit_path, assignee, source_type, source_id, kind,"
                " due, created_at) VALUES ($1, $2, 'visit', 0, 'follow_up', current_date, now())",
                unit["path"],
                author,
            )
        else:
            await sql.execute(INSERTS[table], uuid.uuid4(), author, unit["id"], unit["path"])


async def _in_and_out(sql, username: str, table: str):
    await _ensure(sql, table)
    _role, path, _dept = await user_scope(sql, username)
    if path is None:
        return None, await sql.fetchval(f"SELECT min(id) FROM {table}")
    inside = await sql.fetchval(f"SELECT min(id) FROM {table} WHERE unit_path LIKE $1 || '%'", path)
    outside = await sql.fetchval(
        f"SELECT min(id) FROM {table} WHERE unit_path NOT LIKE $1 || '%'", path
    )
    return inside, outside


@finder(
    "/visits/{visit_id:int}",
    "/visits/{visit_id:int}/edit",
    "/visits/{visit_id:int}/review",
    "/api/v1/visits/{visit_id:int}",
)
async def visit_objects(sql, username: str):
    return await _in_and_out(sql, username, "visit")


@finder(
    "/calls/{call_id:int}",
    "/calls/{call_id:int}/edit",
    "/calls/{call_id:int}/review",
    "/api/v1/calls/{call_id:int}",
)
async def call_objects(sql, username: str):
    return await _in_and_out(sql, username, "call")


@finder(
    "/mediations/{mediation_id:int}",
    "/mediations/{mediation_id:int}/sessions",
    "/mediations/{mediation_id:int}/outcome",
    "/mediations/{mediation_id:int}/edit",
    "/mediations/{mediation_id:int}/agreement",
    "/mediations/{mediation_id:int}/review",
    "/api/v1/mediations/{mediation_id:int}",
)
async def mediation_objects(sql, username: str):
    return await _in_and_out(sql, username, "mediation")


@finder("/tasks/{task_id:int}/done")
async def task_objects(sql, username: str):
    return await _in_and_out(sql, username, "follow_up_task")
