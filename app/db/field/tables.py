"""Field work: households, visits, follow-up calls, mediations, their sessions and follow-up tasks.

Every record table keeps ``unit_path``, a copy of its unit's path, so scope is one prefix match.
"""

from piccolo.columns import (
    JSONB,
    UUID,
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

from app.db.org.tables import Unit, User


class Household(Table, tablename="household"):
    """A household registered in a grid (人、事、物 in the grid)."""

    id = Serial(primary_key=True)
    unit = ForeignKey(Unit, on_delete=OnDelete.restrict)
    unit_path = Varchar(length=255, index=True)
    address = Varchar(length=255)
    head_name = Varchar(length=100, default="")
    head_phone = Varchar(length=32, default="")
    size = Integer(default=1)
    tags = Array(Varchar(length=32), default=list)
    created_at = Timestamptz()


class Visit(Table, tablename="visit"):
    """A visit: 入户走访 (door), 开门接访 (reception) or 离街跟访 (away)."""

    id = Serial(primary_key=True)
    client_uuid = UUID(unique=True)
    author = ForeignKey(User, on_delete=OnDelete.restrict)
    unit = ForeignKey(Unit, on_delete=OnDelete.restrict)
    unit_path = Varchar(length=255, index=True)
    kind = Varchar(length=16)
    visited_at = Timestamptz(index=True)
    household = ForeignKey(Household, null=True, default=None, on_delete=OnDelete.restrict)
    address = Varchar(length=255, default="")
    persons_met = Text(default="")
    topics = Array(Varchar(length=32), default=list)
    summary = Text(default="")
    mood = Varchar(length=16, default="calm")
    resolved_on_site = Boolean(default=False)
    reported_up = Boolean(default=False)
    follow_up_due = Date(null=True, default=None)
    review_state = Varchar(length=16, default="pending", index=True)
    reviewed_by = ForeignKey(User, null=True, default=None, on_delete=OnDelete.restrict)
    reviewed_at = Timestamptz(null=True, default=None)
    review_comment = Text(default="")
    created_at = Timestamptz()
    updated_at = Timestamptz()


class Call(Table, tablename="call"):
    """A follow-up call (电话随访) about a visit, mediation, case, key person or household."""

    id = Serial(primary_key=True)
    client_uuid = UUID(unique=True)
    author = ForeignKey(User, on_delete=OnDelete.restrict)
    unit = ForeignKey(Unit, on_delete=OnDelete.restrict)
    unit_path = Varchar(length=255, index=True)
    called_at = Timestamptz(index=True)
    subject_type = Varchar(length=16)
    subject_id = Integer(null=True, default=None)
    outcome = Varchar(length=16)
    satisfaction = Varchar(length=16, null=True, default=None)
    summary = Text(default="")
    review_state = Varchar(length=16, default="pending", index=True)
    reviewed_by = ForeignKey(User, null=True, default=None, on_delete=OnDelete.restrict)
    reviewed_at = Timestamptz(null=True, default=None)
    review_comment = Text(default="")
    created_at = Timestamptz()
    updated_at = Timestamptz()


class Mediation(Table, tablename="mediation"):
    """A people's mediation (矛盾纠纷调解) at a venue, under the People's Mediation Law."""

    id = Serial(primary_key=True)
    client_uuid = UUID(unique=True)
    author = ForeignKey(User, on_delete=OnDelete.restrict)
    venue_unit = ForeignKey(Unit, on_delete=OnDelete.restrict)
    unit_path = Varchar(length=255, index=True)
    held_at = Timestamptz(index=True)
    dispute_type = Varchar(length=32)
    parties = JSONB(default=[])
    mediators = JSONB(default=[])
    methods = Array(Varchar(length=16), default=list)
    summary = Text(default="")
    outcome = Varchar(length=16, default="in_progress")
    agreement_terms = Text(default="")
    facts = Text(default="")
    responsibilities = Text(default="")
    performance_method = Text(default="")
    performance_due = Date(null=True, default=None)
    agreement_signed_on = Date(null=True, default=None)
    closed_at = Timestamptz(null=True, default=None)
    escalated_to = Integer(null=True, default=None)
    escalated_from = Integer(null=True, default=None)
    archive_no = Varchar(length=64, null=True, default=None)
    terminated_note = Text(default="")
    review_state = Varchar(length=16, default="pending", index=True)
    reviewed_by = ForeignKey(User, null=True, default=None, on_delete=OnDelete.restrict)
    reviewed_at = Timestamptz(null=True, default=None)
    review_comment = Text(default="")
    created_at = Timestamptz()
    updated_at = Timestamptz()


class MediationSession(Table, tablename="mediation_session"):
    """One sitting of a mediation (the mediator's record, Art. 27)."""

    id = Serial(primary_key=True)
    mediation = ForeignKey(Mediation, on_delete=OnDelete.restrict)
    held_at = Timestamptz()
    notes = Text(default="")
    attendees = Text(default="")


class FollowUpTask(Table, tablename="follow_up_task"):
    """Something to follow up by a date: a visit's follow-up, judicial confirmation, 回访."""

    id = Serial(primary_key=True)
    unit_path = Varchar(length=255, index=True)
    assignee = ForeignKey(User, null=True, default=None, on_delete=OnDelete.restrict)
    source_type = Varchar(length=16)
    source_id = Integer()
    kind = Varchar(length=32)
    due = Date(index=True)
    done_at = Timestamptz(null=True, default=None)
    done_by_type = Varchar(length=16, null=True, default=None)
    done_by_id = Integer(null=True, default=None)
    created_at = Timestamptz()
