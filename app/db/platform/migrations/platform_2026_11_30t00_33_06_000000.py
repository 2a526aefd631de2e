from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from app.db.platform.tables import TextAnalysis

ID = "2026-11-30T00:33:06:000000"
VERSION = "1.38.0"
DESCRIPTION = "one analysis per record (the upsert's conflict target); list indexes"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="platform", description=DESCRIPTION)

    async def keys():
        await TextAnalysis.raw(
            "CREATE UNIQUE INDEX text_analysis_record ON text_analysis (table_name, record_id)"
        )
        await TextAnalysis.raw("CREATE INDEX risk_status_unit ON risk (status, unit_path)")
        await TextAnalysis.raw("CREATE INDEX key_person_household ON key_person (household_id)")

    manager.add_raw(keys)
    return manager
