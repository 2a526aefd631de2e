"""The scope matrix's knowledge of objects: for each route with an id in its path, how to find
an object inside and one outside a user's scope.

A route with a path parameter that is missing here fails ``test_scope_matrix``: a new area joins
the matrix by adding its routes (path template -> finder).

A finder is ``async fn(sql, username) -> (in_scope_id | None, out_of_scope_id | None)``; None
means the user has no such object on that side (the cell is then not checked).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

Finder = Callable[..., Awaitable[tuple[object | None, object | None]]]

#: route path template -> finder
OBJECT_FINDERS: dict[str, Finder] = {}

#: routes whose path parameter is not an object id (a language code, a file kind ...)
NOT_OBJECTS: set[str] = {
    "/lang/{code:str}",
    "/admin/export/{kind:str}",
    "/admin/template/{kind:str}",
    "/admin/import/{kind:str}",
    "/static/{file_path:path}",
}


def finder(*paths: str) -> Callable[[Finder], Finder]:
    """Register a finder for one or more route path templates."""

    def register(fn: Finder) -> Finder:
        for path in paths:
            OBJECT_FINDERS[path] = fn
        return fn

    return register


async def user_scope(sql, username: str) -> tuple[str | None, str | None, int | None]:
    """(role, unit path, department id) of a demo account."""
    row = await sql.fetchrow(
        "SELECT u.role, un.path, u.department FROM app_user u LEFT JOIN unit un ON un.id = u.unit"
        " WHERE u.username = $1",
        username,
    )
    return row["role"], row["path"], row["department"]


async def record_in_and_out(sql, username: str, table: str) -> tuple[object | None, object | None]:
    """An id of ``table`` under the user's unit path and one outside it (by ``unit_path``)."""
    _role, path, _dept = await user_scope(sql, username)
    if path is None:
        inside = None
        outside = await sql.fetchval(f"SELECT id FROM {table} ORDER BY id LIMIT 1")
        return inside, outside
    inside = await sql.fetchval(
        f"SELECT id FROM {table} WHERE unit_path LIKE $1 || '%' ORDER BY id LIMIT 1", path
    )
    outside = await sql.fetchval(
        f"SELECT id FROM {table} WHERE unit_path NOT LIKE $1 || '%' ORDER BY id LIMIT 1", path
    )
    return inside, outside


@finder(
    "/admin/units/{unit_id:int}/rename",
    "/admin/units/{unit_id:int}/move",
    "/admin/departments/{dept_id:int}",
)
async def admin_objects(sql, username: str):
    # Admin routes are refused by role; any existing id exercises that.
    return await sql.fetchval("SELECT min(id) FROM unit WHERE parent IS NOT NULL"), None


@finder(
    "/admin/users/{user_id:int}",
    "/admin/users/{user_id:int}/active",
    "/admin/users/{user_id:int}/password",
)
async def admin_accounts(sql, username: str):
    # Not the admin's own account: posting {} to /active would deactivate it and log the
    # matrix's admin out for every route after it.
    return await sql.fetchval("SELECT max(id) FROM app_user"), None
import tests.scope_registry_cases  # noqa: E402,F401  (petition cases)
import tests.scope_registry_field  # noqa: E402,F401  (field work)
import tests.scope_registry_forecast  # noqa: E402,F401  (forecasts)
import tests.scope_registry_platform  # noqa: E402,F401  (smart platform)
