from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from app.db.rollups.tables import RollupDay

ID = "2026-11-30T00:30:40:000000"
VERSION = "1.38.0"
DESCRIPTION = "roll-up keys (one mark per unit_path+day, one bucket per unit_id+day), state"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="rollups", description=DESCRIPTION)

    async def keys():
        await RollupDay.raw("CREATE UNIQUE INDEX rollup_dirty_key ON rollup_dirty (unit_path, day)")
        await RollupDay.raw("CREATE INDEX rollup_dirty_marked ON rollup_dirty (marked_at)")
        await RollupDay.raw("CREATE UNIQUE INDEX rollup_own_key ON rollup_own (unit_id, day)")
        await RollupDay.raw("CREATE UNIQUE INDEX rollup_day_key ON rollup_day (unit_id, day)")
        await RollupDay.raw("CREATE INDEX rollup_day_day ON rollup_day (day)")
        # When the worker last drained every mark ("as of" when nothing is pending).
        await RollupDay.raw(
            "CREATE TABLE rollup_state (name varchar(32) PRIMARY KEY, at timestamptz NOT NULL)"
        )

    manager.add_raw(keys)
    return manager
