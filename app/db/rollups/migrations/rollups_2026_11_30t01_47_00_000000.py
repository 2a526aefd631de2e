from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from app.db.rollups.tables import RollupDay

ID = "2026-11-30T01:47:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "visit indexes for the incremental recompute (bucket rows, a household's latest)"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="rollups", description=DESCRIPTION)

    async def indexes():
        # A household's latest visit at a unit path: one backward index probe.
        await RollupDay.raw("DROP INDEX IF EXISTS rollup_visit_household")
        await RollupDay.raw(
            "CREATE INDEX IF NOT EXISTS rollup_visit_household_latest"
            " ON visit (household, unit_path, visited_at) WHERE household IS NOT NULL"
        )
        # The visits of one marked bucket (unit path, local day): a range scan, not the grid's
        # whole history.
        await RollupDay.raw(
            "CREATE INDEX IF NOT EXISTS rollup_visit_path_time ON visit (unit_path, visited_at)"
        )

    manager.add_raw(indexes)
    return manager
