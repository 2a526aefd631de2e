"""Petition-case jobs: hourly near/past-deadline notifications (idempotent)."""

from __future__ import annotations

from arq import cron

from worker import registry


@registry.job
async def case_notifications(ctx: dict) -> int:
    """Add the notifications due now (a second run adds nothing)."""
    from app.services import case_notifications as notes

    return await notes.compute()


registry.cron(cron(case_notifications, minute={7}, run_at_startup=False))
