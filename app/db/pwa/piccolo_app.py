import os

from piccolo.conf.apps import AppConfig

from app.db.pwa.tables import OutboxHeartbeat

APP_CONFIG = AppConfig(
    app_name="pwa",
    migrations_folder_path=os.path.join(os.path.dirname(__file__), "migrations"),
    table_classes=[OutboxHeartbeat],
    migration_dependencies=["app.db.org.piccolo_app"],
    commands=[],
)
