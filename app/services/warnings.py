"""Early warnings (预警): the rules of :mod:`app.domain.warnings` run over the records, upserted
into ``warning`` (unique per kind + subject + period, so a second run adds nothing), listed,
acknowledged and handled in scope, and counted in the roll-ups (``warnings_new`` per unit/day).

The arq cron job ``warnings_evaluate`` (worker/warning_jobs.py) calls :func:`evaluate` every ten
minutes. The forecast rule runs only when ``app.services.forecast.latest_intervals`` exists
(``evaluate`` reports ``forecast_rule``: whether it ran).
"""

from __future__ import annotations

import json
import logging
from datetime import datetime, timedelta
from typing import Any

from app import db
from app.domain import calendar
from app.domain import warnings as rules
from app.domain.forms import LOCAL_TZ, N_
from app.domain.roles import Scope
from app.services import audit, rollups
from app.services.key_persons import LAST_CONTACT

log = logging.getLogger("fengqiao.warnings")

SIGNAL_DAYS = 30  # extreme-risk signals in records of the last 30 days
RUN_DAYS = 90  # negative runs among records of the last 90 days
GROUP_DAYS = 30
PAGE_SIZE = 100
STATES = {
    "open": N_("Not acknowledged"),
    "acknowledged": N_("Acknowledged"),
    "handled": N_("Handled"),
}
#: evidence table -> page prefix
RECORD_PATHS = {
    "petition_case": "/cases/",
    "visit": "/visits/",
    "call": "/calls/",
    "mediation": "/mediations/",
    "key_person": "/key-persons/",
}

rollups.register(
    rollups.MetricSource(
        "warnings",
        ("warnings_new",),
        f"""SELECT unit_path, {calendar.local_date_sql("created_at")} AS day, count(*)
            FROM warning WHERE {rollups._range("created_at")} AND {rollups._PATHS}
            GROUP BY 1, 2""",
    )
)


def thresholds() -> rules.Thresholds:
    from app.settings import Settings

    s = Settings.from_env()
    return rules.Thresholds(
        repeat_count=s.warning_repeat_count,
        repeat_days=s.warning_repeat_days,
        group_size=s.warning_group_size,
        negative_run=s.warning_negative_run,
    )


async def _matters(since) -> list[dict]:
    return await db.fetch(
        "SELECT id, petitioner_name, petitioner_phone, group_size, unit_path,"
        f" {calendar.local_date_sql('received_at')} AS day"
        " FROM petition_case WHERE received_at >= {}",
        datetime.combine(since, datetime.min.time(), tzinfo=LOCAL_TZ),
    )


async def _signals(since) -> list[dict]:
    rows = await db.fetch(
        "SELECT ta.table_name, ta.record_id, ta.signals, r.unit_path FROM text_analysis ta"
        " JOIN ("
        " SELECT 'visit' AS t, id, unit_path, visited_at AS at FROM visit"
        " UNION ALL SELECT 'call', id, unit_path, called_at FROM call"
        " UNION ALL SELECT 'mediation', id, unit_path, held_at FROM mediation"
        " UNION ALL SELECT 'petition_case', id, unit_path, received_at FROM petition_case"
        ") r ON r.t = ta.table_name AND r.id = ta.record_id"
        " WHERE jsonb_array_length(ta.signals) > 0 AND r.at >= {}",
        datetime.combine(since, datetime.min.time(), tzinfo=LOCAL_TZ),
    )
    for r in rows:
        if isinstance(r["signals"], str):
            r["signals"] = json.loads(r["signals"])
    return rows


async def _persons() -> list[dict]:
    rows = await db.fetch(
        f"SELECT kp.id, kp.unit_path, kp.risk_level, kp.created_at, {LAST_CONTACT} AS last"
        " FROM key_person kp"
    )
    return [
        {
            "id": r["id"],
            "unit_path": r["unit_path"],
            "risk_level": r["risk_level"],
            "registered": calendar.local_date(r["created_at"]),
            "last_contact": calendar.local_date(r["last"]) if r["last"] else None,
        }
        for r in rows
    ]


async def _emotion_records(since) -> list[dict]:
    """Analysed records per household (its visits) and per key person (calls about them and
    visits to their household), in time order."""
    start = datetime.combine(since, datetime.min.time(), tzinfo=LOCAL_TZ)
    return await db.fetch(
        "SELECT 'household' AS subject_type, v.household::text AS subject_id, v.unit_path,"
        " 'visit' AS table_name, v.id AS record_id, v.visited_at AS at, ta.emotion"
        " FROM visit v JOIN text_analysis ta ON ta.table_name = 'visit' AND ta.record_id = v.id"
        " WHERE v.household IS NOT NULL AND v.visited_at >= {}"
        " UNION ALL"
        " SELECT 'key_person', kp.id::text, kp.unit_path, 'call', c.id, c.called_at, ta.emotion"
        " FROM call c JOIN key_person kp ON c.subject_type = 'key_person' AND c.subject_id = kp.id"
        " JOIN text_analysis ta ON ta.table_name = 'call' AND ta.record_id = c.id"
        " WHERE c.called_at >= {}"
        " UNION ALL"
        " SELECT 'key_person', kp.id::text, kp.unit_path, 'visit', v.id, v.visited_at, ta.emotion"
        " FROM visit v JOIN key_person kp ON kp.household_id = v.household"
        " JOIN text_analysis ta ON ta.table_name = 'visit' AND ta.record_id = v.id"
        " WHERE v.visited_at >= {}",
        start,
        start,
        start,
    )


async def _forecast_drafts(today) -> list[rules.Draft] | None:
    """Drafts of the forecast rule, or None when the forecast area offers no intervals.

    ``latest_intervals()`` maps (street id, category, week start) -> (lo95, hi95); this week's
    count so far (``weekly_counts``) above hi95 is a warning (the count only grows in a week).
    """
    try:
        from app.services import forecast
    except Exception:
        return None
    if not hasattr(forecast, "latest_intervals") or not hasattr(forecast, "weekly_counts"):
        return None
    try:
        intervals = await forecast.latest_intervals()
        week = rules.week_start(today)
        current = {k: v for k, v in intervals.items() if k[2] == week}
        if not current:
            return []
        counts = await forecast.weekly_counts(None, week + timedelta(days=7))
        paths = {
            r["id"]: r["path"]
            for r in await db.fetch(
                "SELECT id, path FROM unit WHERE id = ANY({}::int[])",
                sorted({k[0] for k in current}),
            )
        }
        rows = [
            {
                "unit_path": paths[street],
                "category": category,
                "week": week,
                "actual": counts.get((street, category), {}).get(week, 0),
                "upper": round(hi, 1),
            }
            for (street, category, _w), (_lo, hi) in current.items()
            if street in paths
        ]
    except Exception:
        log.exception("forecast intervals unavailable; forecast rule skipped")
        return None
    return rules.forecast_excess(rows)


async def drafts(today=None) -> tuple[list[rules.Draft], dict[str, Any]]:
    """Every rule's drafts for ``today`` (and which rules ran)."""
    today = today or calendar.today()
    t = thresholds()
    matters = await _matters(today - timedelta(days=2 * t.repeat_days))
    out = rules.repeat_petitioners(matters, t)
    recent = today - timedelta(days=GROUP_DAYS)
    out += rules.group_matters([m for m in matters if m["day"] >= recent], t)
    out += rules.extreme_signals(await _signals(today - timedelta(days=SIGNAL_DAYS)))
    out += rules.contact_overdue(await _persons(), today)
    out += rules.negative_runs(await _emotion_records(today - timedelta(days=RUN_DAYS)), t)
    forecast = await _forecast_drafts(today)
    if forecast is not None:
        out += forecast
    return out, {"forecast_rule": forecast is not None}


async def evaluate(today=None) -> dict[str, Any]:
    """Run every rule and upsert the warnings; returns how many are new. Idempotent."""
    found, info = await drafts(today)
    new = 0
    by_key = {d.key: d for d in found}
    async with db.transaction():
        for d in by_key.values():
            row = await db.fetchrow(
                "INSERT INTO warning (kind, unit_path, subject_type, subject_id, period, level,"
                " message, evidence, created_at)"
                " VALUES ({}, {}, {}, {}, {}, {}, {}, {}::jsonb, now())"
                " ON CONFLICT (kind, subject_type, subject_id, period) DO UPDATE"
                " SET evidence = EXCLUDED.evidence, level = EXCLUDED.level"
                " WHERE warning.evidence IS DISTINCT FROM EXCLUDED.evidence"
                " OR warning.level IS DISTINCT FROM EXCLUDED.level"
                " RETURNING (xmax = 0) AS inserted, unit_path, created_at",
                d.kind,
                d.unit_path,
                d.subject_type,
                d.subject_id[:100],
                d.period,
                d.level,
                d.message,
                json.dumps(d.evidence, ensure_ascii=False, default=str),
            )
            if row and row["inserted"]:
                new += 1
                await _mark(row["unit_path"], row["created_at"])
    if new:
        await _wake()
    return {"found": len(by_key), "new": new, **info}


async def _mark(unit_path: str, at: datetime) -> None:
    from app.services import marks

    await marks.mark_dirty(unit_path, calendar.local_date(at))


async def _wake() -> None:
    from app.services import marks

    await marks.wake()


_SELECT = (
    "SELECT w.*, coalesce(nullif(a.full_name, ''), a.username) AS acknowledged_name,"
    " coalesce(nullif(h.full_name, ''), h.username) AS handled_name, un.name AS unit_name"
    " FROM warning w LEFT JOIN unit un ON un.path = w.unit_path"
    " LEFT JOIN app_user a ON a.id = w.acknowledged_by"
    " LEFT JOIN app_user h ON h.id = w.handled_by WHERE w.unit_path LIKE {}"
)


def _decode(row: dict) -> dict:
    if isinstance(row.get("evidence"), str):
        row["evidence"] = json.loads(row["evidence"])
    row["state"] = (
        "handled" if row["handled_at"] else "acknowledged" if row["acknowledged_at"] else "open"
    )
    return row


async def search(
    scope: Scope, *, kind: str = "", level: str = "", state: str = "", limit: int = PAGE_SIZE
) -> list[dict]:
    if not scope.unit_path:
        return []
    sql = _SELECT
    args: list[Any] = [scope.unit_path + "%"]
    if kind in rules.KINDS:
        sql += " AND w.kind = {}"
        args.append(kind)
    if level in rules.LEVELS:
        sql += " AND w.level = {}"
        args.append(level)
    if state == "open":
        sql += " AND w.acknowledged_at IS NULL AND w.handled_at IS NULL"
    elif state == "acknowledged":
        sql += " AND w.acknowledged_at IS NOT NULL AND w.handled_at IS NULL"
    elif state == "handled":
        sql += " AND w.handled_at IS NOT NULL"
    sql += (
        " ORDER BY (w.handled_at IS NOT NULL), (w.acknowledged_at IS NOT NULL),"
        " array_position(ARRAY['high','medium','low']::text[], w.level::text),"
        " w.created_at DESC, w.id DESC LIMIT {}"
    )
    args.append(limit)
    return await _with_person_names([_decode(r) for r in await db.fetch(sql, *args)])


async def _with_person_names(rows: list[dict]) -> list[dict]:
    """Give key-person evidence its masked name (张**), so a list reads as people, not ids."""
    from app.services.key_persons import mask_name

    ids = {
        int(e["id"])
        for r in rows
        for e in r.get("evidence") or ()
        if e.get("table") == "key_person" and e.get("id")
    }
    if not ids:
        return rows
    names = {
        r["id"]: mask_name(r["name"])
        for r in await db.fetch("SELECT id, name FROM key_person WHERE id = ANY({})", list(ids))
    }
    for r in rows:
        for e in r.get("evidence") or ():
            if e.get("table") == "key_person" and e.get("id") in names:
                e["name"] = names[e["id"]]
    return rows


async def get(scope: Scope, warning_id: int) -> dict | None:
    if not scope.unit_path:
        return None
    row = await db.fetchrow(_SELECT + " AND w.id = {}", scope.unit_path + "%", warning_id)
    return (await _with_person_names([_decode(row)]))[0] if row else None


async def open_count(scope: Scope) -> int:
    if not scope.unit_path:
        return 0
    return await db.fetchval(
        "SELECT count(*) FROM warning WHERE unit_path LIKE {} AND handled_at IS NULL",
        scope.unit_path + "%",
    )


async def acknowledge(scope: Scope, warning_id: int) -> bool:
    """Mark a warning seen (first acknowledgement kept); False when out of scope."""
    async with db.transaction():
        row = await db.fetchrow(
            "UPDATE warning SET acknowledged_by = coalesce(acknowledged_by, {}),"
            " acknowledged_at = coalesce(acknowledged_at, now())"
            " WHERE id = {} AND unit_path LIKE {} RETURNING unit_path",
            scope.user_id,
            warning_id,
            (scope.unit_path or "-") + "%",
        )
        if row is None:
            return False
        await audit.record(
            "warning.acknowledge",
            actor_id=scope.user_id,
            object_type="warning",
            object_id=warning_id,
            unit_path=row["unit_path"],
        )
    return True


async def handle(scope: Scope, warning_id: int, note: str) -> bool:
    """Record how the warning was handled (acknowledges it too); False when out of scope."""
    async with db.transaction():
        row = await db.fetchrow(
            "UPDATE warning SET handled_by = {}, handled_at = now(), handled_note = {},"
            " acknowledged_by = coalesce(acknowledged_by, {}),"
            " acknowledged_at = coalesce(acknowledged_at, now())"
            " WHERE id = {} AND unit_path LIKE {} RETURNING unit_path",
            scope.user_id,
            note,
            scope.user_id,
            warning_id,
            (scope.unit_path or "-") + "%",
        )
        if row is None:
            return False
        await audit.record(
            "warning.handle",
            actor_id=scope.user_id,
            object_type="warning",
            object_id=warning_id,
            unit_path=row["unit_path"],
            detail={"note": note},
        )
    return True
