"""The organisation (units, departments), accounts, sessions and the audit log."""

from piccolo.columns import (
    JSONB,
    Boolean,
    ForeignKey,
    Integer,
    Serial,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.columns.base import OnDelete
from piccolo.columns.indexes import IndexMethod
from piccolo.table import Table


class Unit(Table, tablename="unit"):
    """A node of the 1+9+N+X tree: district, street/town, community/village, grid, compound.

    ``path`` is the materialised path of ids (``/1/4/17/``) so a subtree is one prefix match.
    """

    id = Serial(primary_key=True)
    name = Varchar(length=100)
    tier = Varchar(length=16)
    subtype = Varchar(length=16, null=True, default=None)
    parent = ForeignKey("self", null=True, default=None, on_delete=OnDelete.restrict)
    path = Varchar(length=255, index=True, index_method=IndexMethod.btree)
    code = Varchar(length=32, null=True, default=None, unique=True)
    sort = Integer(default=0)
    created_at = Timestamptz()


class Department(Table, tablename="department"):
    """A functional department (职能部门), the back factory (后厂) cases are dispatched to."""

    id = Serial(primary_key=True)
    name = Varchar(length=100, unique=True)
    code = Varchar(length=32, null=True, default=None, unique=True)
    unit = ForeignKey(Unit, on_delete=OnDelete.restrict)
    active = Boolean(default=True)


class User(Table, tablename="app_user"):
    """An account; belongs to one unit (or, for department handlers, one department)."""

    id = Serial(primary_key=True)
    username = Varchar(length=64, unique=True)
    full_name = Varchar(length=100, default="")
    phone = Varchar(length=32, default="")
    password_hash = Text()
    role = Varchar(length=32)
    unit = ForeignKey(Unit, null=True, default=None, on_delete=OnDelete.restrict)
    department = ForeignKey(Department, null=True, default=None, on_delete=OnDelete.restrict)
    is_head = Boolean(default=False)
    active = Boolean(default=True)
    locale = Varchar(length=8, null=True, default=None)
    created_at = Timestamptz()


class Session(Table, tablename="app_session"):
    """A server-side login session; the cookie holds the token, the table its SHA-256."""

    id = Serial(primary_key=True)
    token_hash = Varchar(length=64, unique=True)
    user = ForeignKey(User)
    created_at = Timestamptz()
    last_seen_at = Timestamptz()
    ip = Varchar(length=64, default="")
    user_agent = Varchar(length=255, default="")


class LoginAttempt(Table, tablename="login_attempt"):
    """Every login attempt, for throttling per account and per address."""

    id = Serial(primary_key=True)
    username = Varchar(length=64, index=True)
    ip = Varchar(length=64, index=True)
    ok = Boolean()
    at = Timestamptz(index=True)


class AuditEvent(Table, tablename="audit_event"):
    """Who did what to which object, and when."""

    id = Serial(primary_key=True)
    at = Timestamptz(index=True)
    actor = ForeignKey(User, null=True, default=None, on_delete=OnDelete.set_null)
    action = Varchar(length=64, index=True)
    object_type = Varchar(length=32, default="")
    object_id = Varchar(length=64, default="")
    unit_path = Varchar(length=255, default="")
    ip = Varchar(length=64, default="")
    detail = JSONB(default={})
