import os

from piccolo.conf.apps import AppConfig

from app.db.rollups.tables import RollupDay, RollupDirty, RollupHousehold, RollupOwn

APP_CONFIG = AppConfig(
    app_name="rollups",
    migrations_folder_path=os.path.join(os.path.dirname(__file__), "migrations"),
    table_classes=[RollupDirty, RollupOwn, RollupDay, RollupHousehold],
    migration_dependencies=["app.db.org.piccolo_app"],
    commands=[],
)
