"""Database access: the Piccolo engine, its pool, and a few helpers for raw SQL."""

from __future__ import annotations

from string import Formatter
from typing import Any

from app.piccolo_conf import DB

_pool_size = 10


def configure(database_url: str, *, max_size: int = 10) -> None:
    """Point the engine at ``database_url`` (before the pool is opened)."""
    global _pool_size
    DB.config["dsn"] = database_url
    _pool_size = max_size


async def _keep_session(connection: Any) -> None:
    """The pool's ``reset``: nothing beyond what asyncpg always does on release.

    asyncpg rolls back an open transaction and drops listeners before calling this; the default
    reset would also run ``SELECT pg_advisory_unlock_all(); CLOSE ALL; UNLISTEN *; RESET ALL``,
    one more round trip on every release. The app keeps no session state on pooled connections:
    its advisory locks are transaction-scoped (``pg_advisory_xact_lock``), its settings ``SET
    LOCAL``, and it neither listens nor holds cursors past a transaction (the migration lock is
    taken on a connection of its own). Code that sets session state on a pooled connection must
    undo it itself.
    """


async def open_pool() -> None:
    """Open the connection pool (called from the app lifespan and worker start-up)."""
    await DB.start_connection_pool(min_size=1, max_size=_pool_size, reset=_keep_session)


async def close_pool() -> None:
    """Close the connection pool."""
    await DB.close_connection_pool()


#: ``{}`` templates compiled to asyncpg's ``$n`` form, by (template, number of arguments).
_compiled: dict[tuple[str, int], str] = {}
#: Templates are code, not data, so the cache stays small; the bound only guards a caller that
#: builds SQL text from values by mistake (it would then recompile, not grow without end).
_COMPILED_MAX = 2048


def compile_sql(sql: str, nargs: int) -> str:
    """``sql`` with its ``{}`` placeholders numbered ``$1 ...`` as Piccolo's ``QueryString``
    compiles them (placeholders beyond ``nargs`` vanish); ``{{``/``}}`` are literal braces."""
    key = (sql, nargs)
    compiled = _compiled.get(key)
    if compiled is None:
        parts, n = [], 0
        for literal, field, _spec, _conversion in Formatter().parse(sql):
            parts.append(literal)
            if field is not None and n < nargs:
                n += 1
                parts.append(f"${n}")
        compiled = "".join(parts)
        if len(_compiled) >= _COMPILED_MAX:
            _compiled.clear()
        _compiled[key] = compiled
    return compiled


async def fetch(sql: str, *args: Any) -> list[dict[str, Any]]:
    """Run ``sql`` (with ``{}`` placeholders) and return rows as dicts.

    Inside ``DB.transaction()`` the query joins the current transaction. The text is compiled
    once per template (not through a ``QueryString`` on every call) and asyncpg keeps the
    prepared statement per connection, so a repeated query costs one bind and execute.
    """
    query = compile_sql(sql, len(args))
    transaction = DB.current_transaction.get()
    if transaction is not None:
        rows = await transaction.connection.fetch(query, *args)
    else:
        pool = DB.pool
        if pool is None:
            raise ValueError("A pool isn't currently running.")
        async with pool.acquire() as connection:
            rows = await connection.fetch(query, *args)
    return [dict(r) for r in rows]


async def fetchrow(sql: str, *args: Any) -> dict[str, Any] | None:
    """Like ``fetch`` but only the first row (or None)."""
    rows = await fetch(sql, *args)
    return rows[0] if rows else None


async def fetchval(sql: str, *args: Any) -> Any:
    """The first column of the first row (or None)."""
    row = await fetchrow(sql, *args)
    return next(iter(row.values())) if row else None


def transaction():
    """A transaction that every helper above joins while it is open."""
    return DB.transaction()
