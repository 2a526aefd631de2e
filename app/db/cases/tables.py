"""Petition cases (信访事项): the case row, its event log, bodies, supervision, notifications.

``case_event`` is the log :func:`app.domain.case_flow.replay` folds into a snapshot; the case
row's ``state`` is a copy kept for listing. ``unit_path`` copies the path of the unit where
the matter arose, so scope is one prefix match.
"""

from piccolo.columns import (
    JSONB,
    Array,
    Boolean,
    Date,
    ForeignKey,
    Integer,
    Serial,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.columns.base import OnDelete
from piccolo.table import Table

from app.db.org.tables import Department, Unit, User


class PetitionCase(Table, tablename="petition_case"):
    """One petition matter."""

    id = Serial(primary_key=True)
    number = Varchar(length=32, unique=True)
    channel = Varchar(length=16)
    petitioner_name = Varchar(length=100)
    petitioner_phone = Varchar(length=40, default="")
    petitioner_id_number = Varchar(length=32, default="")
    group_size = Integer(default=1)
    unit = ForeignKey(Unit, on_delete=OnDelete.restrict)
    unit_path = Varchar(length=255, index=True)
    category = Varchar(length=100, default="")
    content = Text(default="")
    request = Text(default="")
    received_at = Timestamptz(index=True)
    state = Varchar(length=32, index=True)
    lead_department = ForeignKey(Department, null=True, default=None, on_delete=OnDelete.restrict)
    tags = Array(Varchar(length=32), default=list)
    owner_leader = ForeignKey(User, null=True, default=None, on_delete=OnDelete.set_null)
    listed_supervision = Boolean(default=False)
    source_visit_id = Integer(null=True, default=None)
    repeat_of = Integer(null=True, default=None)
    emotion_label = Varchar(length=32, null=True, default=None)
    emotion_score = Integer(null=True, default=None)
    created_by = ForeignKey(User, null=True, default=None, on_delete=OnDelete.set_null)
    created_at = Timestamptz()
    updated_at = Timestamptz()
    #: The nearest running duty deadline (as the domain computes it when events are applied)
    #: and its clock; '' = no running deadline, NULL = not computed yet (filled lazily).
    next_due_on = Date(null=True, default=None, index=True)
    next_due_clock = Varchar(length=32, null=True, default=None)


class CaseEvent(Table, tablename="case_event"):
    """One event of a case (the domain's :class:`~app.domain.clocks.Event`)."""

    id = Serial(primary_key=True)
    case = ForeignKey(PetitionCase, on_delete=OnDelete.cascade, index=True)
    kind = Varchar(length=32)
    at = Timestamptz(index=True)
    actor = ForeignKey(User, null=True, default=None, on_delete=OnDelete.set_null)
    role = Varchar(length=32, default="")
    data = JSONB(default={})


class CaseBody(Table, tablename="case_body"):
    """A body the case was dispatched to: the lead or a co-handler (Art. 24) — a functional
    department, or a street office (街道, ``unit``) whose leaders receive it (exactly one is set;
    the domain knows them as ``"17"`` and ``"u5"``)."""

    id = Serial(primary_key=True)
    case = ForeignKey(PetitionCase, on_delete=OnDelete.cascade, index=True)
    department = ForeignKey(
        Department, null=True, default=None, on_delete=OnDelete.restrict, index=True
    )
    unit = ForeignKey(Unit, null=True, default=None, on_delete=OnDelete.restrict, index=True)
    role = Varchar(length=8)
    dispatched_at = Timestamptz()
    acknowledged_at = Timestamptz(null=True, default=None)
    objected_at = Timestamptz(null=True, default=None)
    active = Boolean(default=True)


class Supervision(Table, tablename="supervision"):
    """A supervision order: 督办 (Art. 40) or 挂牌督办 (Art. 39)."""

    id = Serial(primary_key=True)
    case = ForeignKey(PetitionCase, on_delete=OnDelete.cascade, index=True)
    issued_by = ForeignKey(User, null=True, default=None, on_delete=OnDelete.set_null)
    kind = Varchar(length=16)
    reason = Text()
    due = Date(null=True, default=None)
    feedback = Text(default="")
    feedback_at = Timestamptz(null=True, default=None)
    created_at = Timestamptz()


class CalendarOverride(Table, tablename="calendar_override"):
    """An official working-day decision the holiday package does not know yet."""

    id = Serial(primary_key=True)
    day = Date(unique=True)
    is_workday = Boolean()
    note = Varchar(length=200, default="")


class Notification(Table, tablename="notification"):
    """An in-app notice about a case (near or past a deadline, supervision ...)."""

    id = Serial(primary_key=True)
    user = ForeignKey(User, on_delete=OnDelete.cascade, index=True)
    case = ForeignKey(PetitionCase, null=True, default=None, on_delete=OnDelete.cascade)
    kind = Varchar(length=64)
    message = Text(default="")
    dedup_key = Varchar(length=200, unique=True)
    created_at = Timestamptz()
    read_at = Timestamptz(null=True, default=None)


class PublicityEvent(Table, tablename="publicity_event"):
    """Publicity of the Regulations (one of the six keys): where, when, how many people."""

    id = Serial(primary_key=True)
    held_on = Date()
    place = Varchar(length=200)
    audience_count = Integer(default=0)
    unit = ForeignKey(Unit, on_delete=OnDelete.restrict)
    unit_path = Varchar(length=255, index=True)
    note = Text(default="")


class ListBaseline(Table, tablename="list_baseline"):
    """The 存量 baseline: the backlog count on a baseline date."""

    id = Serial(primary_key=True)
    baseline_on = Date(unique=True)
    count = Integer()
    note = Varchar(length=200, default="")
