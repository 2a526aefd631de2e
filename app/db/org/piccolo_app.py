import os

from piccolo.conf.apps import AppConfig

from app.db.org.tables import AuditEvent, Department, LoginAttempt, Session, Unit, User

APP_CONFIG = AppConfig(
    app_name="org",
    migrations_folder_path=os.path.join(os.path.dirname(__file__), "migrations"),
    table_classes=[Unit, Department, User, Session, LoginAttempt, AuditEvent],
    migration_dependencies=[],
    commands=[],
)
