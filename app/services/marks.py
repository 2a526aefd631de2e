"""Durable roll-up triggers: a write marks ``(unit_path, day)`` dirty in its own transaction.

Callers (field records, cases ...) call ``mark_dirty`` inside the write's transaction, with the
path of the unit where the record happened and the local (Asia/Shanghai) date the record counts
on (``visited_at`` / ``called_at`` / ``held_at`` / a follow-up's ``due``). An edit that moves a
record to another day or unit marks both the old and the new bucket. After the transaction
commits, call ``await wake()`` so the worker recomputes within about a second; if Redis is down
(or the wake-up is lost) the worker's one-minute sweep picks the marks up anyway.

Outside a transaction ``mark_dirty`` commits at once and wakes the worker itself.
"""

from __future__ import annotations

import time
from datetime import date

from app import db
from app.services import jobs

WAKE_JOB = "rollup_wake"


def _in_transaction() -> bool:
    try:
        return db.DB.current_transaction.get() is not None
    except Exception:
        return False


async def mark_dirty(unit_path: str, day: date) -> None:
    """Mark the roll-up bucket of ``unit_path`` on ``day`` dirty (joins the open transaction)."""
    await db.fetch(
        "INSERT INTO rollup_dirty (unit_path, day, marked_at) VALUES ({}, {}, clock_timestamp()) "
        "ON CONFLICT (unit_path, day) DO UPDATE SET marked_at = EXCLUDED.marked_at",
        unit_path,
        day,
    )
    if not _in_transaction():
        await wake()


_defer: float | None = None


def configure(defer_seconds: float | None) -> None:
    """Use the app's ``Settings.rollup_defer_seconds`` for wake-ups (set when the app is built;
    see ``app.routes.dashboard``). Unconfigured (worker, CLI): read from the environment."""
    global _defer
    _defer = defer_seconds


async def wake(defer: float | None = None) -> bool:
    """Enqueue the (deduplicated, slightly deferred) wake-up job; never raises.

    The job id changes every ``rollup_defer_seconds`` so a burst of writes coalesces into one
    job per window, while a write arriving during a running job still gets a job of its own.

    In process, a window already enqueued is not enqueued again (arq would refuse its job id
    anyway): one Redis enqueue per process per window, not one per write. A failed enqueue is
    not remembered, so the next write retries; the durable mark and the sweep stay the net.
    """
    global _woken
    defer = defer if defer is not None else _defer_seconds()
    window = int(time.time() // max(defer, 0.2))
    # What the job id is made of (it is only formatted when enqueuing).
    key = (window, jobs._queue_name, defer)
    if _woken is not None and _woken[0] == key and _woken[1] is jobs._pool:
        return True
    try:
        ok = await jobs.enqueue(WAKE_JOB, _job_id=job_id(window, key[1]), _defer_by=defer)
    except Exception:  # pragma: no cover - enqueue already swallows Redis errors
        return False
    if ok:
        _woken = (key, jobs._pool)  # the connection it went out on
    return ok


def job_id(window: int, queue: str | None = None) -> str:
    """The wake-up's job id for a defer window, scoped to the queue (default: this process's).

    arq keys a job by its id in the whole Redis database, not per queue, and refuses an id that
    is already there (``enqueue_job`` answers None, silently). Without the queue in the id,
    another deployment or test session on the same Redis enqueuing its wake-up in the same
    window swallowed ours: no job came, and the marks waited for the one-minute sweep.
    """
    return f"rollup-wake:{queue or jobs._queue_name}:{window}"


#: ((window, queue, defer), queue connection) of this process's last enqueued wake-up (see
#: ``wake``); a new connection (queue reopened, or dropped after an error) enqueues again.
_woken: tuple | None = None


def _defer_seconds() -> float:
    if _defer is not None:
        return _defer
    try:
        from app.settings import Settings

        return Settings.from_env().rollup_defer_seconds
    except Exception:
        return 1.0
