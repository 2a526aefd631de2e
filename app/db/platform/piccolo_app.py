import os

from piccolo.conf.apps import AppConfig

from app.db.platform.tables import EarlyWarning, KeyPerson, Risk, RiskEvent, TextAnalysis

APP_CONFIG = AppConfig(
    app_name="platform",
    migrations_folder_path=os.path.join(os.path.dirname(__file__), "migrations"),
    table_classes=[TextAnalysis, Risk, RiskEvent, KeyPerson, EarlyWarning],
    migration_dependencies=["app.db.org.piccolo_app"],
    commands=[],
)
