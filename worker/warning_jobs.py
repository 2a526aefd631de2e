"""Early-warning job: evaluate every rule every ten minutes (idempotent upserts)."""

from __future__ import annotations

import logging

from arq import cron

from app.services import warnings
from worker import registry

log = logging.getLogger("fengqiao.worker.warnings")


@registry.job
async def warnings_evaluate(ctx: dict) -> dict:
    """Run the warning rules; new warnings are counted in the roll-ups."""
    result = await warnings.evaluate()
    if result["new"]:
        log.info("warnings: %d new of %d found", result["new"], result["found"])
    return result


registry.cron(
    cron(
        warnings_evaluate,
        minute=set(range(4, 60, 10)),
        second={41},
        run_at_startup=True,
        unique=True,
        timeout=300,
    )
)
