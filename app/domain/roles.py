"""Roles, what each may do, and the scope every read and write is filtered by.

Pure: no I/O. ``app.services.scope`` turns a :class:`Scope` into SQL.
"""

from __future__ import annotations

from dataclasses import dataclass

ADMIN = "admin"
FRONT_DESK = "front_desk"
DISTRICT_LEADER = "district_leader"
SUPERVISOR = "supervisor"
DEPARTMENT = "department"
STREET_LEADER = "street_leader"
COMMUNITY_STAFF = "community_staff"
GRID_WORKER = "grid_worker"

ROLES: tuple[str, ...] = (
    ADMIN,
    FRONT_DESK,
    DISTRICT_LEADER,
    SUPERVISOR,
    DEPARTMENT,
    STREET_LEADER,
    COMMUNITY_STAFF,
    GRID_WORKER,
)

#: The tier of unit each role normally belongs to (department handlers belong to a department).
ROLE_TIERS: dict[str, tuple[str, ...]] = {
    ADMIN: ("district",),
    FRONT_DESK: ("district",),
    DISTRICT_LEADER: ("district",),
    SUPERVISOR: ("district",),
    DEPARTMENT: (),
    STREET_LEADER: ("street",),
    COMMUNITY_STAFF: ("community",),
    GRID_WORKER: ("grid",),
}

TIERS: tuple[str, ...] = ("district", "street", "community", "grid", "compound")
CHILD_TIER: dict[str, tuple[str, ...]] = {
    "district": ("street",),
    "street": ("community",),
    "community": ("grid", "compound"),
    "grid": ("compound",),
    "compound": (),
}

FIELD_WRITERS = frozenset({GRID_WORKER, COMMUNITY_STAFF, STREET_LEADER})
REVIEWERS = frozenset({STREET_LEADER, COMMUNITY_STAFF})
LEADERS = frozenset({DISTRICT_LEADER, SUPERVISOR, STREET_LEADER, COMMUNITY_STAFF, ADMIN})

#: Capability -> roles that have it. Deny by default: a capability missing here is nobody's.
CAPABILITIES: dict[str, frozenset[str]] = {
    "platform.read": frozenset(set(ROLES) - {DEPARTMENT, FRONT_DESK}),  # key persons, risks
    "platform.write": frozenset(FIELD_WRITERS | {DISTRICT_LEADER, ADMIN}),
    "admin.manage": frozenset({ADMIN}),
    "units.read": frozenset(set(ROLES) - {DEPARTMENT}),
    "field.read": frozenset(
        {
            ADMIN,
            FRONT_DESK,
            DISTRICT_LEADER,
            SUPERVISOR,
            STREET_LEADER,
            COMMUNITY_STAFF,
            GRID_WORKER,
        }
    ),
    "field.write": FIELD_WRITERS,
    "field.review": REVIEWERS,
    "dashboard.read": frozenset(
        {ADMIN, DISTRICT_LEADER, SUPERVISOR, STREET_LEADER, COMMUNITY_STAFF, FRONT_DESK}
    ),
    "cases.read": frozenset(ROLES),
    "cases.act": frozenset(set(ROLES) - {ADMIN}),
    "cases.register": frozenset({FRONT_DESK, STREET_LEADER, COMMUNITY_STAFF}),
    "cases.report_up": frozenset({GRID_WORKER}),
    "cases.stats": frozenset(set(ROLES) - {GRID_WORKER}),
    "cases.calendar": frozenset({ADMIN}),
    "cases.baseline": frozenset({DISTRICT_LEADER, SUPERVISOR, ADMIN}),
    "cases.publicity": frozenset(set(ROLES) - {DEPARTMENT}),
}


def can(role: str, capability: str) -> bool:
    """Whether ``role`` has ``capability`` (unknown capabilities: nobody)."""
    return role in CAPABILITIES.get(capability, frozenset())


@dataclass(frozen=True)
class Scope:
    """What the current user may see: the subtree under ``unit_path`` (or one department).

    A scope with neither a unit path nor a department sees nothing.
    """

    user_id: int
    role: str
    unit_id: int | None
    unit_path: str | None
    department_id: int | None = None

    def covers(self, path: str | None) -> bool:
        """Whether a record stored under ``path`` lies in this scope."""
        return bool(self.unit_path and path and path.startswith(self.unit_path))

    def can(self, capability: str) -> bool:
        """Whether this user's role has ``capability``."""
        return can(self.role, capability)


def child_path(parent_path: str, unit_id: int) -> str:
    """The materialised path of a unit with ``unit_id`` under ``parent_path``."""
    return f"{parent_path}{unit_id}/"


def valid_child_tier(parent_tier: str | None, tier: str) -> bool:
    """Whether a unit of ``tier`` may sit under a unit of ``parent_tier`` (None: the root)."""
    if parent_tier is None:
        return tier == "district"
    return tier in CHILD_TIER.get(parent_tier, ())
