"""Operations: ``GET /metrics`` (Prometheus text) for admins or a scraper with the token.

A scraper sends ``Authorization: Bearer $FENGQIAO_METRICS_TOKEN`` (answered by
``app.observability`` before the guard); everybody else needs an admin session.
"""

from litestar import Response, get

from app.observability import METRICS_PATH, metrics_text


@get(METRICS_PATH, opt={"scope": "admin"}, include_in_schema=False, sync_to_thread=False)
async def metrics() -> Response:
    """Request counts and latency by route, queue depth, pending roll-up marks."""
    return Response(
        await metrics_text(),
        media_type="text/plain; version=0.0.4; charset=utf-8",
        headers={"cache-control": "no-store"},
    )


ROUTES = [metrics]
