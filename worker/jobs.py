"""Every area's job module, imported so that its jobs register."""

from worker import registry


@registry.job
async def ping(ctx: dict) -> str:
    """A no-op job for health checks and tests."""
    return "pong"
import worker.case_jobs  # noqa: E402,F401  (petition-case notifications)
import worker.forecast_jobs  # noqa: E402,F401  (forecasts)
import worker.platform_jobs  # noqa: E402,F401  (emotion analysis)
import worker.rollup_jobs  # noqa: E402,F401  (roll-ups)
import worker.warning_jobs  # noqa: E402,F401  (early warnings)
