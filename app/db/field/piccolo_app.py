import os

from piccolo.conf.apps import AppConfig

from app.db.field.tables import Call, FollowUpTask, Household, Mediation, MediationSession, Visit

APP_CONFIG = AppConfig(
    app_name="field",
    migrations_folder_path=os.path.join(os.path.dirname(__file__), "migrations"),
    table_classes=[Household, Visit, Call, Mediation, MediationSession, FollowUpTask],
    migration_dependencies=["app.db.org.piccolo_app"],
    commands=[],
)
