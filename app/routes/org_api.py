"""JSON API of the organisation: the caller's subtree and the departments."""

from dataclasses import dataclass

from litestar import Request, get

from app.routes.api_responses import reads
from app.services import org
from app.web import require_user


@dataclass
class UnitOut:
    id: int
    name: str
    tier: str
    parent_id: int | None
    path: str
    subtype: str | None = None
    code: str | None = None


@dataclass
class DepartmentOut:
    id: int
    name: str
    code: str | None
    active: bool


UNITS = {"scope": "unit", "cap": "units.read"}
DEPARTMENTS = {"scope": "any"}


@get("/api/v1/units", opt=UNITS, tags=["organisation"], responses=reads(UNITS))
async def list_units(request: Request) -> list[UnitOut]:
    """Every unit in the caller's subtree (id, name, tier, parent_id, path)."""
    user = require_user(request)
    return [
        UnitOut(
            id=r["id"],
            name=r["name"],
            tier=r["tier"],
            parent_id=r["parent_id"],
            path=r["path"],
            subtype=r["subtype"],
            code=r["code"],
        )
        for r in await org.subtree(user.scope)
    ]


@get("/api/v1/departments", opt=DEPARTMENTS, tags=["organisation"], responses=reads(DEPARTMENTS))
async def list_departments() -> list[DepartmentOut]:
    """The functional departments (后厂) matters can be dispatched to."""
    return [DepartmentOut(**r) for r in await org.departments()]


ROUTES = [list_units, list_departments]
