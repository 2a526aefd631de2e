from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from app.db.rollups.tables import CORE, RollupDay

ID = "2026-11-30T01:09:30:000000"
VERSION = "1.38.0"
DESCRIPTION = "core metrics move from JSONB to columns; keys and indexes for the new reads"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="rollups", description=DESCRIPTION)

    async def move():
        # Counts already rolled up move from the JSONB into their columns; the old per-day
        # 30-day coverage numerator is dropped (coverage now reads rollup_household).
        sets = ", ".join(f"{n} = COALESCE((metrics->>'{n}')::int, 0)" for n in CORE)
        strip = ", ".join(f"'{n}'" for n in (*CORE, "households_visited_30d"))
        for table in ("rollup_own", "rollup_day"):
            await RollupDay.raw(f"UPDATE {table} SET {sets}")
            await RollupDay.raw(f"UPDATE {table} SET metrics = metrics - ARRAY[{strip}]")
        await RollupDay.raw(
            "CREATE UNIQUE INDEX rollup_household_key ON rollup_household (unit_path, household)"
        )
        await RollupDay.raw(
            "CREATE INDEX rollup_household_day ON rollup_household (unit_path, last_day)"
        )
        # Pending marks under a unit: a prefix range scan (LIKE 'path%') on this index.
        await RollupDay.raw(
            "CREATE INDEX rollup_dirty_prefix ON rollup_dirty (unit_path text_pattern_ops)"
        )
        # The households whose latest visit a mark may change (see rollups._touch_households).
        await RollupDay.raw(
            "CREATE INDEX IF NOT EXISTS rollup_visit_household ON visit (household)"
            " WHERE household IS NOT NULL"
        )
        # Re-derive the households' latest visits and the new coverage buckets: mark every
        # unit path with visits in the last 60 days for today (the sweep recomputes them).
        await RollupDay.raw(
            "INSERT INTO rollup_household (unit_path, household, last_day)"
            " SELECT unit_path, household, max((visited_at AT TIME ZONE 'Asia/Shanghai')::date)"
            " FROM visit WHERE household IS NOT NULL GROUP BY 1, 2"
        )
        await RollupDay.raw(
            "INSERT INTO rollup_dirty (unit_path, day, marked_at)"
            " SELECT DISTINCT h.unit_path, h.last_day, now() FROM rollup_household h"
            " ON CONFLICT (unit_path, day) DO NOTHING"
        )

    manager.add_raw(move)
    return manager
