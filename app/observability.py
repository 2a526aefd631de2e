"""Structured access logs with request ids, and the in-process metrics behind ``GET /metrics``.

Every routed request gets a request id (the caller's ``X-Request-ID`` if it is a sane token,
else a fresh one), echoed in the ``X-Request-ID`` response header and written with one JSON
log line on the ``fengqiao.access`` logger (both by ``app.middleware.RequestMiddleware``)::

    {"ts": "...", "request_id": "...", "method": "POST", "path": "/visits",
     "route": "/visits", "status": 303, "duration_ms": 12.3, "user_id": 7, "ip": "..."}

Counters and latency histograms are kept per (method, route template, status) in this process;
``render_metrics`` prints them in the Prometheus text format together with the queue depth and
the pending roll-up marks. With several web processes, scrape each (or sum the log lines).
"""

from __future__ import annotations

import os
import secrets
import time
from bisect import bisect_left
from collections import defaultdict
from itertools import accumulate

from litestar.types import Send

REQUEST_ID_HEADER = b"x-request-id"
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
METRICS_PATH = "/metrics"


class Metrics:
    """Request counts and latency histograms of this process."""

    def __init__(self) -> None:
        self.started = time.time()
        self.counts: dict[tuple[str, str, int], int] = defaultdict(int)
        self.buckets: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0] * len(BUCKETS))
        self.sums: dict[tuple[str, str], float] = defaultdict(float)
        self.totals: dict[tuple[str, str], int] = defaultdict(int)

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        self.counts[(method, route, status)] += 1
        key = (method, route)
        self.sums[key] += seconds
        self.totals[key] += 1
        # The bucket of this observation only (``le`` buckets are cumulated when rendered);
        # past the last bound it is counted in the totals alone (``+Inf``).
        counts = self.buckets[key]
        i = bisect_left(BUCKETS, seconds)
        if i < len(BUCKETS):
            counts[i] += 1


METRICS = Metrics()


def _label(value: object) -> str:
    return str(value).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def render_metrics(
    metrics: Metrics, *, queue_depth: int | None, dirty_marks: int | None, oldest_mark_s: float
) -> str:
    """The Prometheus text exposition of ``metrics`` plus the gauges passed in."""
    out = [
        "# HELP fengqiao_http_requests_total HTTP requests by method, route and status.",
        "# TYPE fengqiao_http_requests_total counter",
    ]
    for (method, route, status), n in sorted(metrics.counts.items()):
        out.append(
            f'fengqiao_http_requests_total{{method="{method}",route="{_label(route)}",'
            f'status="{status}"}} {n}'
        )
    out += [
        "# HELP fengqiao_http_request_duration_seconds Request latency by method and route.",
        "# TYPE fengqiao_http_request_duration_seconds histogram",
    ]
    for (method, route), counts in sorted(metrics.buckets.items()):
        labels = f'method="{method}",route="{_label(route)}"'
        for bound, n in zip(BUCKETS, accumulate(counts), strict=True):
            out.append(
                f'fengqiao_http_request_duration_seconds_bucket{{{labels},le="{bound}"}} {n}'
            )
        total = metrics.totals[(method, route)]
        out.append(f'fengqiao_http_request_duration_seconds_bucket{{{labels},le="+Inf"}} {total}')
        out.append(
            f"fengqiao_http_request_duration_seconds_sum{{{labels}}} "
            f"{metrics.sums[(method, route)]:.6f}"
        )
        out.append(f"fengqiao_http_request_duration_seconds_count{{{labels}}} {total}")
    out += [
        "# HELP fengqiao_queue_depth Jobs waiting in the arq queue (-1: Redis unreachable).",
        "# TYPE fengqiao_queue_depth gauge",
        f"fengqiao_queue_depth {-1 if queue_depth is None else queue_depth}",
        "# HELP fengqiao_rollup_dirty_marks Roll-up buckets marked dirty, not yet recomputed"
        " (-1: database unreachable).",
        "# TYPE fengqiao_rollup_dirty_marks gauge",
        f"fengqiao_rollup_dirty_marks {-1 if dirty_marks is None else dirty_marks}",
        "# HELP fengqiao_rollup_oldest_mark_age_seconds Age of the oldest pending roll-up mark.",
        "# TYPE fengqiao_rollup_oldest_mark_age_seconds gauge",
        f"fengqiao_rollup_oldest_mark_age_seconds {oldest_mark_s:.1f}",
        "# HELP fengqiao_process_start_time_seconds Start time of this web process.",
        "# TYPE fengqiao_process_start_time_seconds gauge",
        f"fengqiao_process_start_time_seconds {metrics.started:.0f}",
    ]
    return "\n".join(out) + "\n"


async def gauges() -> tuple[int | None, int | None, float]:
    """(queue depth, pending dirty marks, age of the oldest mark in seconds)."""
    from app import db
    from app.services import jobs

    depth: int | None = None
    try:
        pool = await jobs._connect()
        if pool is not None:
            depth = int(await pool.zcard(jobs._queue_name))
    except Exception:
        depth = None
    try:
        row = await db.fetchrow(
            "SELECT count(*) AS n,"
            " coalesce(extract(epoch FROM now() - min(marked_at)), 0) AS age FROM rollup_dirty"
        )
        return depth, int(row["n"]), float(row["age"])
    except Exception:
        return depth, None, 0.0


def metrics_token() -> str:
    """The bearer token a scraper may use instead of an admin session (empty: none)."""
    return os.environ.get("FENGQIAO_METRICS_TOKEN", "")


def bearer_ok(authorization: bytes | None) -> bool:
    """Whether an ``Authorization`` header value carries the metrics bearer token."""
    token = metrics_token()
    if not token or authorization is None:
        return False
    given = authorization.decode("latin-1")
    return given.startswith("Bearer ") and secrets.compare_digest(given[7:], token)


async def metrics_text() -> str:
    depth, dirty, age = await gauges()
    return render_metrics(METRICS, queue_depth=depth, dirty_marks=dirty, oldest_mark_s=age)


async def send_metrics(send: Send) -> None:
    """Answer a scrape with the metrics text."""
    body = (await metrics_text()).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [
                (b"content-type", b"text/plain; version=0.0.4; charset=utf-8"),
                (b"cache-control", b"no-store"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
