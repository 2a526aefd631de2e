"""The audit log: who did what to which object, and when."""

from __future__ import annotations

import json
from typing import Any

from app import db


async def record(
    action: str,
    *,
    actor_id: int | None,
    object_type: str = "",
    object_id: Any = "",
    unit_path: str = "",
    ip: str = "",
    detail: dict | None = None,
) -> None:
    """Append one audit event (joins the current transaction, if any)."""
    await db.fetch(
        "INSERT INTO audit_event (at, actor, action, object_type, object_id, unit_path, ip, detail)"
        " VALUES (now(), {}, {}, {}, {}, {}, {}, {}::jsonb)",
        actor_id,
        action,
        object_type,
        str(object_id),
        unit_path,
        ip,
        json.dumps(detail or {}, ensure_ascii=False, default=str),
    )


async def recent(limit: int = 100, action_prefix: str = "") -> list[dict]:
    """The latest events, newest first, optionally only actions starting with a prefix."""
    return await db.fetch(
        "SELECT e.*, u.username FROM audit_event e LEFT JOIN app_user u ON u.id = e.actor"
        " WHERE e.action LIKE {} ORDER BY e.id DESC LIMIT {}",
        action_prefix + "%",
        limit,
    )
