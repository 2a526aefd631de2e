"""Forecast jobs: recompute every street x category forecast weekly, and at start-up if none."""

from __future__ import annotations

import logging

from arq import cron

from app.services import forecast
from worker import registry

log = logging.getLogger("fengqiao.worker.forecast")


@registry.job
async def forecast_weekly(ctx: dict) -> int:
    """Monday 00:30 Beijing time: the week that just ended is complete; forecast the next 8."""
    return await forecast.compute()


@registry.job
async def forecast_if_missing(ctx: dict) -> int:
    """At start-up: compute the forecasts unless some are stored."""
    if await forecast.exists():
        return 0
    return await forecast.compute()


# 16:30 UTC on Sunday = 00:30 Monday Asia/Shanghai.
registry.cron(cron(forecast_weekly, weekday={6}, hour={16}, minute={30}, unique=True, timeout=900))
# arq has no plain "at start-up" hook here: a cron that runs at start-up and then hourly,
# doing nothing while forecasts exist.
registry.cron(cron(forecast_if_missing, minute={41}, run_at_startup=True, unique=True, timeout=900))
