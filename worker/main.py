"""The arq worker: roll-ups, analytics and reminders. Areas register jobs in ``worker.registry``.

Jobs may be called more than once (arq retries after a crash): every job is idempotent.
"""

from __future__ import annotations

import logging
from typing import Any

from app import db
from app.services import jobs
from app.settings import Settings
from worker import registry

log = logging.getLogger("fengqiao.worker")


async def startup(ctx: dict[str, Any]) -> None:
    settings: Settings = ctx.get("settings") or Settings.from_env()
    ctx["settings"] = settings
    db.configure(settings.database_url, max_size=5)
    await db.open_pool()
    await jobs.open_queue(settings.redis_url, settings.queue_name)


async def shutdown(ctx: dict[str, Any]) -> None:
    await jobs.close_queue()
    await db.close_pool()


def worker_settings(settings: Settings, *, burst: bool = False) -> dict[str, Any]:
    """Keyword arguments for ``arq.worker.Worker`` (used by the CLI and the tests)."""
    return {
        "functions": registry.functions(),
        "cron_jobs": [] if burst else registry.cron_jobs(),
        "redis_settings": jobs.redis_settings(settings.redis_url),
        "on_startup": startup,
        "on_shutdown": shutdown,
        "ctx": {"settings": settings},
        "burst": burst,
        "queue_name": settings.queue_name,
        "job_timeout": 120,
        "max_jobs": 4,
        "keep_result": 0,
        "poll_delay": 0.2,
        "handle_signals": not burst,
    }
