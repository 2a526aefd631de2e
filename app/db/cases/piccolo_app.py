import os

from piccolo.conf.apps import AppConfig

from app.db.cases.tables import (
    CalendarOverride,
    CaseBody,
    CaseEvent,
    ListBaseline,
    Notification,
    PetitionCase,
    PublicityEvent,
    Supervision,
)

APP_CONFIG = AppConfig(
    app_name="cases",
    migrations_folder_path=os.path.join(os.path.dirname(__file__), "migrations"),
    table_classes=[
        PetitionCase,
        CaseEvent,
        CaseBody,
        Supervision,
        CalendarOverride,
        Notification,
        PublicityEvent,
        ListBaseline,
    ],
    migration_dependencies=["app.db.org.piccolo_app"],
    commands=[],
)
