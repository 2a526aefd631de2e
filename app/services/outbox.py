"""The phones' offline outboxes as the server sees them: heartbeats and queue depth per scope.

A phone that can reach the server reports, per logged-in user, how many records it still holds
in its IndexedDB outbox and since when (``record_heartbeat``). Dashboards ask
``pending_on_phones(scope)`` to say "N records still on M phones".
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from app import db
from app.domain.roles import Scope
from app.i18n import N_

DEVICE_ID = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
MAX_PENDING = 100_000


class HeartbeatError(ValueError):
    """Bad heartbeat input: ``field`` and an English message (translated by the route)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def parse_heartbeat(body: Any) -> tuple[str, int, datetime | None]:
    """Validate ``{device_id, pending, oldest_at}``; raises ``HeartbeatError``."""
    if not isinstance(body, dict):
        raise HeartbeatError("body", N_("Invalid request."))
    device_id = body.get("device_id")
    if not isinstance(device_id, str) or not DEVICE_ID.match(device_id):
        raise HeartbeatError("device_id", N_("Invalid device id."))
    pending = body.get("pending")
    if isinstance(pending, bool) or not isinstance(pending, int) or not 0 <= pending <= MAX_PENDING:
        raise HeartbeatError("pending", N_("Enter a whole number."))
    oldest_raw = body.get("oldest_at")
    oldest: datetime | None = None
    if oldest_raw not in (None, ""):
        if not isinstance(oldest_raw, str):
            raise HeartbeatError("oldest_at", N_("Enter a valid date and time."))
        try:
            oldest = datetime.fromisoformat(oldest_raw.replace("Z", "+00:00"))
        except ValueError as exc:
            raise HeartbeatError("oldest_at", N_("Enter a valid date and time.")) from exc
        if oldest.tzinfo is None:
            oldest = oldest.replace(tzinfo=UTC)
    if pending == 0:
        oldest = None
    return device_id, pending, oldest


async def record_heartbeat(scope: Scope, device_id: str, pending: int,
                           oldest_at: datetime | None) -> None:
    """Upsert this user's report for this phone."""
    await db.fetch(
        "INSERT INTO outbox_heartbeat (device_key, \"user\", device_id, unit_path, pending, "
        "oldest_at, reported_at) VALUES ({}, {}, {}, {}, {}, {}, now()) "
        "ON CONFLICT (device_key) DO UPDATE SET unit_path = EXCLUDED.unit_path, "
        "pending = EXCLUDED.pending, oldest_at = EXCLUDED.oldest_at, reported_at = now()",
        f"{scope.user_id}:{device_id}", scope.user_id, device_id, scope.unit_path, pending,
        oldest_at,
    )


async def pending_on_phones(scope: Scope) -> dict[str, Any]:
    """Records still held on phones of users in ``scope``'s subtree.

    ``{"records": N, "phones": M, "oldest_at": datetime | None, "reported_at": datetime | None}``
    where M counts distinct phones holding at least one record (their last report).
    A scope without a unit path (departments) sees nothing.
    """
    empty = {"records": 0, "phones": 0, "oldest_at": None, "reported_at": None}
    if not scope.unit_path:
        return empty
    row = await db.fetchrow(
        "SELECT COALESCE(SUM(pending), 0)::int AS records, "
        "COUNT(DISTINCT device_id)::int AS phones, MIN(oldest_at) AS oldest_at, "
        "MAX(reported_at) AS reported_at FROM outbox_heartbeat "
        "WHERE pending > 0 AND unit_path LIKE {}",
        _like_prefix(scope.unit_path),
    )
    return dict(row) if row else empty


async def my_heartbeats(scope: Scope) -> list[dict[str, Any]]:
    """This user's phones and what each last reported."""
    return await db.fetch(
        "SELECT device_id, pending, oldest_at, reported_at FROM outbox_heartbeat "
        "WHERE \"user\" = {} ORDER BY reported_at DESC",
        scope.user_id,
    )


def _like_prefix(path: str) -> str:
    return path.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
