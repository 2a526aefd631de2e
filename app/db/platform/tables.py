"""The smart platform: emotion analyses of free text, the risk register and the key-person ledger.

``risk`` and ``key_person`` keep ``unit_path`` (a copy of their unit's path) so scope is one
prefix match, like every record table.
"""

from piccolo.columns import (
    JSONB,
    Date,
    Float,
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


class TextAnalysis(Table, tablename="text_analysis"):
    """The emotion analysis of one record's free text (unique per table_name + record_id)."""

    id = Serial(primary_key=True)
    table_name = Varchar(length=32)
    record_id = Integer()
    emotion = Varchar(length=16)
    intensity = Float(default=0.0)
    signals = JSONB(default=[])
    analysed_at = Timestamptz()


class Risk(Table, tablename="risk"):
    """A hazard of the risk register (风险隐患排查): entered directly or found on a visit."""

    id = Serial(primary_key=True)
    unit = ForeignKey(Unit, on_delete=OnDelete.restrict)
    unit_path = Varchar(length=255, index=True)
    source_visit_id = Integer(null=True, default=None)
    category = Varchar(length=16)
    level = Varchar(length=16)
    title = Varchar(length=200)
    place = Varchar(length=255, default="")
    description = Text(default="")
    measures = Text(default="")
    owner = Varchar(length=100, default="")
    deadline = Date(null=True, default=None)
    status = Varchar(length=16, default="open", index=True)
    created_by = ForeignKey(User, null=True, default=None, on_delete=OnDelete.set_null)
    created_at = Timestamptz()
    updated_at = Timestamptz()


class RiskEvent(Table, tablename="risk_event"):
    """One change of a risk's status (its history)."""

    id = Serial(primary_key=True)
    risk = ForeignKey(Risk, on_delete=OnDelete.cascade, index=True)
    at = Timestamptz()
    actor = ForeignKey(User, null=True, default=None, on_delete=OnDelete.set_null)
    from_status = Varchar(length=16, default="")
    to_status = Varchar(length=16)
    note = Text(default="")


class KeyPerson(Table, tablename="key_person"):
    """A person of the key-person ledger (重点人员档案台账)."""

    id = Serial(primary_key=True)
    unit = ForeignKey(Unit, on_delete=OnDelete.restrict)
    unit_path = Varchar(length=255, index=True)
    name = Varchar(length=100)
    id_number = Varchar(length=32, default="")
    phone = Varchar(length=32, default="")
    address = Varchar(length=255, default="")
    household_id = Integer(null=True, default=None)
    category = Varchar(length=32)
    risk_level = Varchar(length=16)
    leader = Varchar(length=100, default="")
    leader_user = ForeignKey(User, null=True, default=None, on_delete=OnDelete.set_null)
    grid_worker = ForeignKey(User, null=True, default=None, on_delete=OnDelete.set_null)
    measures = Text(default="")
    note = Text(default="")
    created_by = ForeignKey(User, null=True, default=None, on_delete=OnDelete.set_null)
    created_at = Timestamptz()
    updated_at = Timestamptz()


class EarlyWarning(Table, tablename="warning"):
    """An early warning (预警) raised by a rule; unique per (kind, subject, period) so the rules
    can run again and again without duplicates."""

    id = Serial(primary_key=True)
    kind = Varchar(length=32)
    unit_path = Varchar(length=255, index=True)
    subject_type = Varchar(length=32, default="")
    subject_id = Varchar(length=100, default="")
    period = Varchar(length=32, default="")
    level = Varchar(length=16, default="medium")
    message = Text(default="")
    evidence = JSONB(default={})
    created_at = Timestamptz()
    acknowledged_by = ForeignKey(User, null=True, default=None, on_delete=OnDelete.set_null)
    acknowledged_at = Timestamptz(null=True, default=None)
    handled_by = ForeignKey(User, null=True, default=None, on_delete=OnDelete.set_null)
    handled_at = Timestamptz(null=True, default=None)
    handled_note = Text(default="")
