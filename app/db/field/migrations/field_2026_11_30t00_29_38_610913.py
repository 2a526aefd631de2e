from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from app.db.field.tables import Mediation

ID = "2026-11-30T00:29:38:610913"
VERSION = "1.38.0"
DESCRIPTION = "archive numbers unique per venue (and year, which they embed); task lookup index"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="field", description=DESCRIPTION)

    async def indexes():
        await Mediation.raw(
            "CREATE UNIQUE INDEX mediation_venue_archive_no ON mediation (venue_unit, archive_no)"
            " WHERE archive_no IS NOT NULL"
        )
        await Mediation.raw(
            "CREATE INDEX follow_up_task_source ON follow_up_task (source_type, source_id)"
        )

    manager.add_raw(indexes)
    return manager
