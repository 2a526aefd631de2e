"""Scope-matrix finders of the forecasts: a street inside the user's unit and one outside.

Forecasts are per street: a district account has every street inside; a street leader their
street inside and another outside; accounts below a street (community, grid) have no street
inside, only outside.
"""

from __future__ import annotations

from tests.scope_registry import finder, user_scope


@finder("/forecasts/{street_id:int}")
async def forecast_streets(sql, username: str):
    _role, path, _dept = await user_scope(sql, username)
    if path is None:
        return None, await sql.fetchval("SELECT min(id) FROM unit WHERE tier = 'street'")
    inside = await sql.fetchval(
        "SELECT min(id) FROM unit WHERE tier = 'street' AND path LIKE $1 || '%'", path
    )
    outside = await sql.fetchval(
        "SELECT min(id) FROM unit WHERE tier = 'street' AND path NOT LIKE $1 || '%'", path
    )
    return inside, outside
