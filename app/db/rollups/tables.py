"""Roll-up tables: dirty marks (the durable triggers) and per-unit per-day metric buckets.

``rollup_own`` holds the metrics of the records made at exactly that unit (usually a grid);
``rollup_day`` the unit's total: its own records plus its children's totals. The core metrics
(``CORE``) are integer columns; metrics other areas register (``app.services.rollups.register``)
go into the JSONB ``metrics`` column, so an area adds metrics without a migration. A bucket
whose numbers are all zero is not stored. ``rollup_household`` keeps, per unit path and
household, the local day of its latest visit there (30-day coverage is read from it).
Composite keys are added by raw steps of the migrations.
"""

from piccolo.columns import JSONB, Date, Integer, Serial, Timestamptz, Varchar
from piccolo.table import Table

#: Core metrics: one integer column each in ``rollup_own`` and ``rollup_day`` (same order).
CORE = (
    "visits",
    "visits_door",
    "visits_reception",
    "visits_away",
    "households_visited",
    "visits_unsettled",
    "visits_resolved_on_site",
    "visits_reported_up",
    "households_last_visited",
    "calls",
    "calls_reached",
    "calls_no_answer",
    "calls_refused",
    "calls_satisfied",
    "calls_basically",
    "calls_dissatisfied",
    "mediations",
    "mediations_in_progress",
    "mediations_agreed",
    "mediations_failed",
    "mediations_escalated",
    "mediations_referred",
    "mediations_agreed_local",
    "followups_due",
    "followups_done_on_time",
    "followups_open",
    "cases_registered",
    "cases_first_time",
    "cases_first_time_once",
    "cases_accepted",
    "cases_accepted_timely",
    "cases_replied",
    "cases_replied_on_time",
    "cases_due",
    "cases_due_open",
    "cases_evaluated",
    "cases_satisfied",
)


class RollupDirty(Table, tablename="rollup_dirty"):
    """A bucket ``(unit_path, day)`` whose roll-up is stale; deleted when it is recomputed."""

    id = Serial(primary_key=True)
    unit_path = Varchar(length=255)
    day = Date()
    marked_at = Timestamptz()


class _Buckets(Table):
    id = Serial(primary_key=True)
    unit_id = Integer()
    day = Date()
    metrics = JSONB(default={})
    as_of = Timestamptz()
    visits = Integer(default=0)
    visits_door = Integer(default=0)
    visits_reception = Integer(default=0)
    visits_away = Integer(default=0)
    households_visited = Integer(default=0)
    visits_unsettled = Integer(default=0)
    visits_resolved_on_site = Integer(default=0)
    visits_reported_up = Integer(default=0)
    households_last_visited = Integer(default=0)
    calls = Integer(default=0)
    calls_reached = Integer(default=0)
    calls_no_answer = Integer(default=0)
    calls_refused = Integer(default=0)
    calls_satisfied = Integer(default=0)
    calls_basically = Integer(default=0)
    calls_dissatisfied = Integer(default=0)
    mediations = Integer(default=0)
    mediations_in_progress = Integer(default=0)
    mediations_agreed = Integer(default=0)
    mediations_failed = Integer(default=0)
    mediations_escalated = Integer(default=0)
    mediations_referred = Integer(default=0)
    mediations_agreed_local = Integer(default=0)
    followups_due = Integer(default=0)
    followups_done_on_time = Integer(default=0)
    followups_open = Integer(default=0)
    cases_registered = Integer(default=0)
    cases_first_time = Integer(default=0)
    cases_first_time_once = Integer(default=0)
    cases_accepted = Integer(default=0)
    cases_accepted_timely = Integer(default=0)
    cases_replied = Integer(default=0)
    cases_replied_on_time = Integer(default=0)
    cases_due = Integer(default=0)
    cases_due_open = Integer(default=0)
    cases_evaluated = Integer(default=0)
    cases_satisfied = Integer(default=0)


class RollupOwn(_Buckets, tablename="rollup_own"):
    """Metrics of the records made at exactly this unit on this local day."""


class RollupDay(_Buckets, tablename="rollup_day"):
    """Metrics of the unit's whole subtree on this local day (what dashboards read)."""


class RollupHousehold(Table, tablename="rollup_household"):
    """The local day of a household's latest visit recorded at this unit path."""

    id = Serial(primary_key=True)
    unit_path = Varchar(length=255)
    household = Integer()
    last_day = Date()
