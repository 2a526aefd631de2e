"""Roll-up tables: dirty marks (the durable triggers) and per-unit per-day metric buckets.

``rollup_own`` holds the metrics of the records made at exactly that unit (usually a grid);
``rollup_day`` the unit's total: its own records plus its children's totals. Metrics are a JSONB
object keyed by the names in ``app.services.rollups`` (areas add metrics without a migration).
Composite keys are added by the raw step of the second migration.
"""

from piccolo.columns import JSONB, Date, Integer, Serial, Timestamptz, Varchar
from piccolo.table import Table


class RollupDirty(Table, tablename="rollup_dirty"):
    """A bucket ``(unit_path, day)`` whose roll-up is stale; deleted when it is recomputed."""

    id = Serial(primary_key=True)
    unit_path = Varchar(length=255)
    day = Date()
    marked_at = Timestamptz()


class RollupOwn(Table, tablename="rollup_own"):
    """Metrics of the records made at exactly this unit on this local day."""

    id = Serial(primary_key=True)
    unit_id = Integer()
    day = Date()
    metrics = JSONB(default={})
    as_of = Timestamptz()


class RollupDay(Table, tablename="rollup_day"):
    """Metrics of the unit's whole subtree on this local day (what dashboards read)."""

    id = Serial(primary_key=True)
    unit_id = Integer()
    day = Date()
    metrics = JSONB(default={})
    as_of = Timestamptz()
