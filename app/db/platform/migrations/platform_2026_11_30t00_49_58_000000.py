from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from app.db.platform.tables import EarlyWarning

ID = "2026-11-30T00:49:58:000000"
VERSION = "1.38.0"
DESCRIPTION = "warning: one row per kind + subject + period (the rules' upsert target)"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="platform", description=DESCRIPTION)

    async def keys():
        await EarlyWarning.raw(
            "CREATE UNIQUE INDEX warning_key ON warning (kind, subject_type, subject_id, period)"
        )
        await EarlyWarning.raw("CREATE INDEX warning_open ON warning (handled_at, unit_path)")

    manager.add_raw(keys)
    return manager
