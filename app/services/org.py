"""The organisation: the unit tree, departments and accounts. Admin use cases live here."""

from __future__ import annotations

from dataclasses import dataclass

from app import db
from app.domain import roles
from app.domain.roles import Scope, valid_child_tier
from app.services import audit
from app.services.auth import MIN_PASSWORD_LENGTH, hash_password, revoke_user_sessions


class OrgError(Exception):
    """A refused organisation change; ``field`` says which input caused it."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


# -- units ---------------------------------------------------------------------------------


async def unit(unit_id: int) -> dict | None:
    """One unit by id (no scope check: callers check ``Scope.covers``)."""
    return await db.fetchrow("SELECT * FROM unit WHERE id = {}", unit_id)


async def unit_in_scope(scope: Scope, unit_id: int) -> dict | None:
    """One unit by id if it lies in ``scope`` (else None, to be answered as 404)."""
    row = await unit(unit_id)
    return row if row and scope.covers(row["path"]) else None


async def subtree(scope: Scope, *, tiers: tuple[str, ...] | None = None) -> list[dict]:
    """Every unit in ``scope`` (the caller's subtree), ordered as the tree reads."""
    if not scope.unit_path:
        return []
    rows = await db.fetch(
        "SELECT id, name, tier, subtype, parent AS parent_id, path, code, sort FROM unit"
        " WHERE path LIKE {} ORDER BY path",
        scope.unit_path + "%",
    )
    if tiers:
        rows = [r for r in rows if r["tier"] in tiers]
    return _tree_order(rows)


def _tree_order(rows: list[dict]) -> list[dict]:
    children: dict[int | None, list[dict]] = {}
    ids = {r["id"] for r in rows}
    for r in rows:
        parent = r["parent_id"] if r["parent_id"] in ids else None
        children.setdefault(parent, []).append(r)
    ordered: list[dict] = []

    def walk(parent: int | None, depth: int) -> None:
        for r in sorted(children.get(parent, []), key=lambda r: (r["sort"], r["name"], r["id"])):
            r["depth"] = depth
            ordered.append(r)
            walk(r["id"], depth + 1)

    walk(None, 0)
    return ordered


async def children(unit_id: int) -> list[dict]:
    """The direct children of a unit."""
    return await db.fetch("SELECT * FROM unit WHERE parent = {} ORDER BY sort, name, id", unit_id)


async def root_unit() -> dict | None:
    """The district (the root of the tree)."""
    return await db.fetchrow("SELECT * FROM unit WHERE parent IS NULL ORDER BY id LIMIT 1")


async def add_unit(
    actor_id: int | None,
    *,
    name: str,
    tier: str,
    parent_id: int | None,
    subtype: str | None = None,
    code: str | None = None,
) -> dict:
    """Add a unit under ``parent_id`` (None: the district itself); its path follows its parent."""
    name = name.strip()
    if not name:
        raise OrgError("name", "This field is required.")
    parent = await unit(parent_id) if parent_id is not None else None
    if parent_id is not None and parent is None:
        raise OrgError("parent_id", "Not found.")
    if not valid_child_tier(parent["tier"] if parent else None, tier):
        raise OrgError("tier", "This tier cannot sit under that parent.")
    async with db.transaction():
        row = await db.fetchrow(
            "INSERT INTO unit (name, tier, subtype, parent, path, code, sort, created_at)"
            " VALUES ({}, {}, {}, {}, '', {}, 0, now()) RETURNING id",
            name,
            tier,
            subtype or None,
            parent_id,
            code or None,
        )
        path = (parent["path"] if parent else "/") + f"{row['id']}/"
        await db.fetch("UPDATE unit SET path = {} WHERE id = {}", path, row["id"])
        await audit.record(
            "unit.add",
            actor_id=actor_id,
            object_type="unit",
            object_id=row["id"],
            unit_path=path,
            detail={"name": name, "tier": tier},
        )
    return await unit(row["id"])


async def rename_unit(actor_id: int | None, unit_id: int, name: str) -> None:
    """Rename a unit."""
    name = name.strip()
    if not name:
        raise OrgError("name", "This field is required.")
    row = await unit(unit_id)
    if row is None:
        raise OrgError("unit_id", "Not found.")
    async with db.transaction():
        await db.fetch("UPDATE unit SET name = {} WHERE id = {}", name, unit_id)
        await audit.record(
            "unit.rename",
            actor_id=actor_id,
            object_type="unit",
            object_id=unit_id,
            unit_path=row["path"],
            detail={"from": row["name"], "to": name},
        )


#: Tables holding a ``unit_path`` copied from their unit; a move rewrites them too.
#: Areas register their tables here (name, path column).
PATH_COPIES: list[tuple[str, str]] = []


async def move_unit(actor_id: int | None, unit_id: int, new_parent_id: int) -> None:
    """Move a unit (and its whole subtree) under another parent, in one transaction.

    The paths of every unit below it and of every record stored under them follow, so history
    moves with the unit (see README: roll-ups are recomputed for what the move affects).
    """
    row = await unit(unit_id)
    new_parent = await unit(new_parent_id)
    if row is None:
        raise OrgError("unit_id", "Not found.")
    if new_parent is None:
        raise OrgError("parent_id", "Not found.")
    if new_parent["path"].startswith(row["path"]):
        raise OrgError("parent_id", "A unit cannot move under itself.")
    if not valid_child_tier(new_parent["tier"], row["tier"]):
        raise OrgError("parent_id", "This tier cannot sit under that parent.")
    old_prefix = row["path"]
    new_prefix = new_parent["path"] + f"{unit_id}/"
    async with db.transaction():
        await db.fetch("SELECT id FROM unit WHERE path LIKE {} FOR UPDATE", old_prefix + "%")
        await db.fetch("UPDATE unit SET parent = {} WHERE id = {}", new_parent_id, unit_id)
        await db.fetch(
            "UPDATE unit SET path = {} || substr(path, {}) WHERE path LIKE {}",
            new_prefix,
            len(old_prefix) + 1,
            old_prefix + "%",
        )
        for table, column in PATH_COPIES:
            await db.fetch(
                f"UPDATE {table} SET {column} = {{}} || substr({column}, {{}})"
                f" WHERE {column} LIKE {{}}",
                new_prefix,
                len(old_prefix) + 1,
                old_prefix + "%",
            )
        await audit.record(
            "unit.move",
            actor_id=actor_id,
            object_type="unit",
            object_id=unit_id,
            unit_path=new_prefix,
            detail={"from": old_prefix, "to": new_prefix},
        )
    from app.services import hooks

    await hooks.unit_moved(old_prefix, new_prefix)


# -- departments ---------------------------------------------------------------------------


async def departments(active_only: bool = False) -> list[dict]:
    """All departments, by name."""
    return await db.fetch(
        "SELECT id, name, code, active FROM department"
        + (" WHERE active" if active_only else "")
        + " ORDER BY name"
    )


async def add_department(actor_id: int | None, name: str, code: str | None = None) -> int:
    """Add a department beside the district tree."""
    name = name.strip()
    if not name:
        raise OrgError("name", "This field is required.")
    if await db.fetchval("SELECT 1 FROM department WHERE name = {}", name):
        raise OrgError("name", "This name is already taken.")
    root = await root_unit()
    async with db.transaction():
        row = await db.fetchrow(
            "INSERT INTO department (name, code, unit, active) VALUES ({}, {}, {}, true)"
            " RETURNING id",
            name,
            code or None,
            root["id"],
        )
        await audit.record(
            "department.add",
            actor_id=actor_id,
            object_type="department",
            object_id=row["id"],
            detail={"name": name},
        )
    return row["id"]


async def set_department(actor_id: int | None, dept_id: int, *, name: str, active: bool) -> None:
    """Rename or (de)activate a department."""
    name = name.strip()
    if not name:
        raise OrgError("name", "This field is required.")
    if await db.fetchval("SELECT 1 FROM department WHERE name = {} AND id <> {}", name, dept_id):
        raise OrgError("name", "This name is already taken.")
    async with db.transaction():
        await db.fetch(
            "UPDATE department SET name = {}, active = {} WHERE id = {}", name, active, dept_id
        )
        await audit.record(
            "department.change",
            actor_id=actor_id,
            object_type="department",
            object_id=dept_id,
            detail={"name": name, "active": active},
        )


# -- users ---------------------------------------------------------------------------------


@dataclass
class UserInput:
    """What an admin fills in for an account."""

    username: str
    full_name: str
    role: str
    unit_id: int | None
    department_id: int | None
    phone: str = ""
    is_head: bool = False
    password: str | None = None
    #: an already hashed password (bulk creation), used instead of ``password``
    password_hash: str | None = None


async def _check_user(data: UserInput, user_id: int | None) -> None:
    import re

    if not re.fullmatch(r"[A-Za-z0-9_.-]{2,64}", data.username or ""):
        raise OrgError("username", "Use 2-64 letters, digits, dot, dash or underscore.")
    if await db.fetchval(
        "SELECT 1 FROM app_user WHERE username = {} AND id <> {}", data.username, user_id or 0
    ):
        raise OrgError("username", "This name is already taken.")
    if data.role not in roles.ROLES:
        raise OrgError("role", "Not one of the allowed choices.")
    if data.role == roles.DEPARTMENT:
        if not data.department_id or not await db.fetchval(
            "SELECT 1 FROM department WHERE id = {}", data.department_id
        ):
            raise OrgError("department_id", "A department handler needs a department.")
    else:
        row = await unit(data.unit_id) if data.unit_id else None
        if row is None:
            raise OrgError("unit_id", "This role needs a unit.")
        if row["tier"] not in roles.ROLE_TIERS[data.role]:
            raise OrgError("unit_id", "This role belongs to a unit of another tier.")
    if data.password is not None and len(data.password) < MIN_PASSWORD_LENGTH:
        raise OrgError("password", "At least 8 characters.")


async def create_user(actor_id: int | None, data: UserInput) -> int:
    """Create an account (the password is required here)."""
    if not data.password and not data.password_hash:
        raise OrgError("password", "This field is required.")
    await _check_user(data, None)
    is_dept = data.role == roles.DEPARTMENT
    async with db.transaction():
        row = await db.fetchrow(
            "INSERT INTO app_user (username, full_name, phone, password_hash, role, unit,"
            " department, is_head, active, created_at)"
            " VALUES ({}, {}, {}, {}, {}, {}, {}, {}, true, now()) RETURNING id",
            data.username,
            data.full_name,
            data.phone,
            data.password_hash or hash_password(data.password),
            data.role,
            None if is_dept else data.unit_id,
            data.department_id if is_dept else None,
            data.is_head,
        )
        await audit.record(
            "user.create",
            actor_id=actor_id,
            object_type="user",
            object_id=row["id"],
            detail={"username": data.username, "role": data.role},
        )
    return row["id"]


async def update_user(actor_id: int | None, user_id: int, data: UserInput) -> None:
    """Change an account's name, role, unit or department (sessions end if the role changes)."""
    await _check_user(data, user_id)
    before = await db.fetchrow("SELECT role, unit, department FROM app_user WHERE id = {}", user_id)
    if before is None:
        raise OrgError("user_id", "Not found.")
    is_dept = data.role == roles.DEPARTMENT
    async with db.transaction():
        await db.fetch(
            "UPDATE app_user SET username = {}, full_name = {}, phone = {}, role = {}, unit = {},"
            " department = {}, is_head = {} WHERE id = {}",
            data.username,
            data.full_name,
            data.phone,
            data.role,
            None if is_dept else data.unit_id,
            data.department_id if is_dept else None,
            data.is_head,
            user_id,
        )
        await audit.record(
            "user.update",
            actor_id=actor_id,
            object_type="user",
            object_id=user_id,
            detail={"role": data.role, "unit": data.unit_id, "department": data.department_id},
        )
        if (before["role"], before["unit"], before["department"]) != (
            data.role,
            None if is_dept else data.unit_id,
            data.department_id if is_dept else None,
        ):
            await revoke_user_sessions(user_id)


async def set_active(actor_id: int | None, user_id: int, active: bool) -> None:
    """Deactivate (ending every session) or reactivate an account."""
    async with db.transaction():
        await db.fetch("UPDATE app_user SET active = {} WHERE id = {}", active, user_id)
        if not active:
            await revoke_user_sessions(user_id)
        await audit.record(
            "user.activate" if active else "user.deactivate",
            actor_id=actor_id,
            object_type="user",
            object_id=user_id,
        )


async def reset_password(actor_id: int | None, user_id: int, password: str) -> None:
    """Set a new password and end the account's sessions."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise OrgError("password", "At least 8 characters.")
    async with db.transaction():
        await db.fetch(
            "UPDATE app_user SET password_hash = {} WHERE id = {}", hash_password(password), user_id
        )
        await revoke_user_sessions(user_id)
        await audit.record(
            "user.reset_password", actor_id=actor_id, object_type="user", object_id=user_id
        )


async def users(query: str = "", limit: int = 200) -> list[dict]:
    """Accounts matching ``query`` (username or name), with their unit or department."""
    return await db.fetch(
        "SELECT u.id, u.username, u.full_name, u.phone, u.role, u.active, u.is_head,"
        " u.unit AS unit_id, u.department AS department_id, un.name AS unit_name,"
        " d.name AS department_name"
        " FROM app_user u LEFT JOIN unit un ON un.id = u.unit"
        " LEFT JOIN department d ON d.id = u.department"
        " WHERE u.username ILIKE {} OR u.full_name ILIKE {} ORDER BY u.username LIMIT {}",
        f"%{query}%",
        f"%{query}%",
        limit,
    )


async def user(user_id: int) -> dict | None:
    """One account by id."""
    return await db.fetchrow(
        "SELECT id, username, full_name, phone, role, active, is_head, unit AS unit_id,"
        " department AS department_id FROM app_user WHERE id = {}",
        user_id,
    )
