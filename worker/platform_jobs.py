"""Smart-platform jobs: analyse one record's text, and the sweep that analyses whatever is missing.

The sweep (every five minutes and at start-up) is the durable trigger: writes do not have to
enqueue anything. Both jobs upsert, so a retry is harmless.
"""

from __future__ import annotations

import logging

from arq import cron

from app.services import text_analysis
from worker import registry

log = logging.getLogger("fengqiao.worker.platform")

SWEEP_LIMIT = 5000


@registry.job
async def analyze_record(ctx: dict, table: str, record_id: int) -> str | None:
    """Analyse one record's free text (visit/call/mediation summary, case content) and store it."""
    result = await text_analysis.analyse_record(table, int(record_id))
    return result["emotion"] if result else None


@registry.job
async def analyze_sweep(ctx: dict) -> int:
    """Analyse every record that has no analysis yet (or was edited since)."""
    n = await text_analysis.backfill(limit=SWEEP_LIMIT)
    if n:
        log.info("emotion sweep analysed %d records", n)
    return n


registry.cron(
    cron(
        analyze_sweep,
        minute=set(range(2, 60, 5)),
        second={23},
        run_at_startup=True,
        unique=True,
        timeout=300,
    )
)
