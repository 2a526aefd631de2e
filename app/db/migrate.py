"""Apply the checked-in Piccolo migrations of every app, under an advisory lock."""

from __future__ import annotations

import contextlib
import io

from app import db

_LOCK_KEY = 5_171_001


async def migrate(verbose: bool = False) -> None:
    """Run all pending migrations (safe to call from several processes at once)."""
    import asyncpg
    from piccolo.apps.migrations.commands.forwards import run_forwards

    conn = await asyncpg.connect(db.DB.config["dsn"])
    try:
        await conn.execute("SELECT pg_advisory_lock($1)", _LOCK_KEY)
        out = io.StringIO()
        quiet = contextlib.nullcontext() if verbose else contextlib.redirect_stdout(out)
        with quiet:
            result = await run_forwards("all")
        if not result.success:
            raise RuntimeError(f"migrations failed: {result.message}\n{out.getvalue()}")
    finally:
        await conn.execute("SELECT pg_advisory_unlock($1)", _LOCK_KEY)
        await conn.close()
