"""The arq queue the web process enqueues on. Redis being down never fails a write.

Jobs are wake-ups: the durable record of work to do lives in PostgreSQL (see roll-ups), so a
lost enqueue only delays it until the worker's sweep.
"""

from __future__ import annotations

import logging
from typing import Any

from arq import create_pool
from arq.connections import ArqRedis, RedisSettings

log = logging.getLogger("fengqiao.jobs")

_pool: ArqRedis | None = None
_settings: RedisSettings | None = None
_queue_name: str = "fengqiao:queue"


def redis_settings(url: str) -> RedisSettings:
    """arq settings for a ``redis://`` or ``unix://`` URL, failing fast when Redis is down."""
    settings = RedisSettings.from_dsn(url)
    settings.conn_timeout = 1
    settings.conn_retries = 0
    return settings


async def open_queue(url: str, queue_name: str = "fengqiao:queue") -> None:
    """Connect to Redis; if it is down, stay disconnected and retry on the next enqueue."""
    global _pool, _settings, _queue_name
    _settings = redis_settings(url) if url else None
    _queue_name = queue_name
    await _connect()


async def _connect() -> ArqRedis | None:
    global _pool
    if _pool is None and _settings is not None:
        try:
            _pool = await create_pool(_settings, retry=0, default_queue_name=_queue_name)
        except Exception as exc:  # Redis down: jobs wait for the sweep
            log.warning("redis unavailable: %s", exc)
            _pool = None
    return _pool


async def close_queue() -> None:
    global _pool
    if _pool is not None:
        await _pool.aclose()
        _pool = None


async def enqueue(function: str, *args: Any, **kwargs: Any) -> bool:
    """Enqueue a job; return False (and log) instead of raising when Redis is unreachable.

    True means the job is in the queue: enqueued now, or already there under the same
    ``_job_id`` (arq answers None for such a duplicate, and that job does the same work).
    """
    global _pool
    pool = await _connect()
    if pool is None:
        return False
    try:
        await pool.enqueue_job(function, *args, **kwargs)
        return True
    except Exception as exc:
        log.warning("enqueue %s failed: %s", function, exc)
        try:
            await pool.aclose()
        finally:
            _pool = None
        return False


async def ping() -> bool:
    """Whether Redis answers."""
    global _pool
    pool = await _connect()
    if pool is None:
        return False
    try:
        return bool(await pool.ping())
    except Exception:
        try:
            await pool.aclose()
        finally:
            _pool = None
        return False
