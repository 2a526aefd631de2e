"""Health check for load balancers and operators."""

import asyncio
from dataclasses import dataclass

from litestar import Response, get
from litestar.openapi.datastructures import ResponseSpec

from app import db
from app.services import jobs


@dataclass
class Health:
    db: str
    redis: str
    status: str


@get(
    "/healthz",
    opt={"scope": "public"},
    sync_to_thread=False,
    tags=["ops"],
    responses={
        200: ResponseSpec(Health, generate_examples=False, description="The database is up."),
        503: ResponseSpec(Health, generate_examples=False, description="The database is down."),
    },
)
async def healthz() -> Response:
    """``{"db": "ok"|"down", "redis": "ok"|"down"}``; 503 when the database is down."""
    try:
        await asyncio.wait_for(db.fetchval("SELECT 1"), timeout=2)
        db_state = "ok"
    except Exception:
        db_state = "down"
    try:
        redis_state = "ok" if await asyncio.wait_for(jobs.ping(), timeout=2) else "down"
    except Exception:
        redis_state = "down"
    body = {"db": db_state, "redis": redis_state, "status": "ok" if db_state == "ok" else "down"}
    return Response(body, status_code=200 if db_state == "ok" else 503)


ROUTES = [healthz]
