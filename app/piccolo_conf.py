"""Piccolo configuration: one PostgreSQL engine; its URL is set at start-up (app.db.configure)."""

import os

from piccolo.conf.apps import AppRegistry
from piccolo.engine.postgres import PostgresEngine

DB = PostgresEngine(config={"dsn": os.environ.get("DATABASE_URL", "")}, log_queries=False)

APP_REGISTRY = AppRegistry(
    apps=[
        "app.db.org.piccolo_app",
        "app.db.cases.piccolo_app",
        "app.db.field.piccolo_app",
        "app.db.rollups.piccolo_app",
        "app.db.pwa.piccolo_app",
        "app.db.platform.piccolo_app",
        "app.db.forecast.piccolo_app",
    ]
)
