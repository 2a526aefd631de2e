"""Roll-up jobs: the wake-up after writes (which also analyses new free text), the one-minute
sweep and the nightly rebuild.

All three only recompute from raw rows and upsert, so arq running one twice is harmless.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from arq import cron

from app.services import rollups, text_analysis, warnings
from worker import registry

log = logging.getLogger("fengqiao.worker.rollups")

NIGHTLY_DAYS = 21


@registry.job
async def rollup_wake(ctx: dict) -> int:
    """Woken by ``marks.wake()`` after a write committed: drain the dirty marks, then analyse
    the new records' free text; a new extreme-risk signal runs the warning rules at once."""
    n = await rollups.drain(max_seconds=50)
    analysed, flagged = await text_analysis.analyse_new()
    if flagged:
        result = await warnings.evaluate()
        log.info("%d new records with a signal: %d new warnings", flagged, result["new"])
    elif analysed:
        log.debug("analysed %d new records", analysed)
    return n


@registry.job
async def rollup_sweep(ctx: dict) -> int:
    """Every minute: take any mark a wake-up missed (Redis was down, a worker died)."""
    n = await rollups.sweep()
    if n:
        log.info("rollup sweep recomputed %d marks", n)
    return n


@registry.job
async def rollup_nightly(ctx: dict) -> dict:
    """Reconcile the last weeks from the raw rows (also ages follow-ups into overdue)."""
    today = rollups.today()
    return await rollups.rebuild(today - timedelta(days=NIGHTLY_DAYS), today)


registry.cron(cron(rollup_sweep, second={7}, run_at_startup=True, unique=True, timeout=60))
# 16:05 UTC = 00:05 Asia/Shanghai: also starts the new day's 30-day coverage for every unit.
registry.cron(cron(rollup_nightly, hour={16}, minute={5}, unique=True, timeout=600))
