from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from app.db.rollups.tables import RollupDay

ID = "2026-11-30T00:40:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "households per unit subtree now (coverage denominator)"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="rollups", description=DESCRIPTION)

    async def create():
        await RollupDay.raw(
            "CREATE TABLE rollup_unit (unit_id integer PRIMARY KEY,"
            " households integer NOT NULL DEFAULT 0, as_of timestamptz NOT NULL)"
        )

    manager.add_raw(create)
    return manager
