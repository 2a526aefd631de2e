"""The baseline of the form benchmark: a bare Litestar app with one endpoint, one asyncpg INSERT.

``POST /visits`` takes the same urlencoded body as the real visit form and inserts an equivalent
row into ``bare_visit`` (created by ``bench.load_bench`` as ``LIKE visit INCLUDING ALL``: the same
columns, defaults and indexes, ``client_uuid`` unique). No session, no CSRF, no validation, no
roll-up mark, no template: the cost floor of "one HTTP request that stores one row".

Served by uvicorn with the settings ``fengqiao serve`` uses (``python -m bench.bare_app --port P
--workers N``); ``BARE_DATABASE_URL`` names the database.
"""

from __future__ import annotations

import argparse
import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Annotated

import asyncpg
from litestar import Litestar, Response, get, post
from litestar.datastructures import State
from litestar.enums import RequestEncodingType
from litestar.params import Body

INSERT = (
    "INSERT INTO bare_visit (client_uuid, author, unit, unit_path, kind, visited_at, household,"
    " address, persons_met, topics, summary, mood, resolved_on_site, reported_up,"
    " follow_up_due, review_state, review_comment, created_at, updated_at)"
    " VALUES ($1, $2, $3, $4, $5, $6, NULL, $7, $8, $9::varchar[], $10, $11, $12, $13, NULL,"
    " 'pending', '', $14, $14) RETURNING id"
)


@post("/visits", status_code=201)
async def create_visit(
    state: State, data: Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)]
) -> Response:
    now = datetime.now(UTC)
    async with state.pool.acquire() as conn:
        row_id = await conn.fetchval(
            INSERT,
            uuid.UUID(data["client_uuid"]),
            state.author,
            state.grid_id,
            state.grid_path,
            data.get("kind") or "door",
            now,
            data.get("address") or "",
            data.get("persons_met") or "",
            [data["topics"]] if data.get("topics") else [],
            data.get("summary") or "",
            data.get("mood") or "calm",
            bool(data.get("resolved_on_site")),
            bool(data.get("reported_up")),
            now,
        )
    return Response(f"saved {row_id}", media_type="text/plain", status_code=201)


@get("/healthz", sync_to_thread=False)
def healthz() -> str:
    return "ok"


def create_app() -> Litestar:
    """The app for ``uvicorn --factory``; the author and grid are the first grid worker's."""
    url = os.environ["BARE_DATABASE_URL"]

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        # Same pool bounds as the real app (app.db: min 1, max 10 per process).
        app.state.pool = await asyncpg.create_pool(url, min_size=1, max_size=10)
        row = await app.state.pool.fetchrow(
            "SELECT u.id, un.id AS grid, un.path FROM app_user u JOIN unit un ON un.id = u.unit"
            " WHERE u.role = 'grid_worker' ORDER BY u.id LIMIT 1"
        )
        app.state.author, app.state.grid_id, app.state.grid_path = (
            row["id"],
            row["grid"],
            row["path"],
        )
        try:
            yield
        finally:
            await app.state.pool.close()

    return Litestar(route_handlers=[create_visit, healthz], lifespan=[lifespan])


def main() -> None:
    parser = argparse.ArgumentParser(description="bare Litestar + asyncpg baseline")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8791)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()
    import uvicorn

    # The keyword arguments of app.cli.cmd_serve (access log off as the bench runs serve).
    uvicorn.run(
        "bench.bare_app:create_app",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        proxy_headers=True,
        forwarded_allow_ips="127.0.0.1",
        log_level="info",
        access_log=False,
    )


if __name__ == "__main__":
    main()
