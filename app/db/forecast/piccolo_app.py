import os

from piccolo.conf.apps import AppConfig

from app.db.forecast.tables import Forecast, ForecastHistory

APP_CONFIG = AppConfig(
    app_name="forecast",
    migrations_folder_path=os.path.join(os.path.dirname(__file__), "migrations"),
    table_classes=[Forecast, ForecastHistory],
    migration_dependencies=["app.db.org.piccolo_app"],
    commands=[],
)
