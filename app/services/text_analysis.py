"""Emotion analysis of stored free text: one ``text_analysis`` row per record.

Which text is analysed: ``visit.summary``, ``call.summary``, ``mediation.summary`` and
``petition_case.content`` (when the cases area is installed). :func:`analyse_record` analyses one
record (the arq job ``analyze_record``); :func:`backfill` finds, set-based, every record without an
analysis or edited since it was analysed and analyses them in batches. The cron sweep runs
:func:`backfill` every few minutes, so it is the durable trigger: nothing has to enqueue after a
write, and a record written while Redis or the worker was down is still analysed.
Both paths upsert on ``(table_name, record_id)``, so running them twice is harmless.
"""

from __future__ import annotations

import json
from typing import Any

import anyio

from app import db
from app.domain.emotion import analyze

#: table -> its free-text column.
TEXT_COLUMNS: dict[str, str] = {
    "visit": "summary",
    "call": "summary",
    "mediation": "summary",
    "petition_case": "content",
}
BATCH = 500


async def _existing_tables() -> list[str]:
    rows = await db.fetch(
        "SELECT t FROM unnest({}::text[]) AS t WHERE to_regclass(t) IS NOT NULL",
        list(TEXT_COLUMNS),
    )
    present = {r["t"] for r in rows}
    return [t for t in TEXT_COLUMNS if t in present]


async def _upsert(table: str, rows: list[tuple[int, str]]) -> int:
    """Analyse ``(record_id, text)`` pairs and upsert their analyses in one statement; return
    how many of them carry an extreme-risk signal."""
    if not rows:
        return 0
    ids, emotions, intensities, signals = [], [], [], []
    flagged = 0
    # each distinct text once (grid logs repeat), off the event loop: a batch of 500 is CPU
    # work of about half a second (rules and n-gram model; a model that mixes in the sentence
    # encoder adds tens of milliseconds a text)
    texts = {t or "" for _, t in rows}
    results = await anyio.to_thread.run_sync(lambda: {t: analyze(t).to_dict() for t in texts})
    for record_id, text in rows:
        result = results[text or ""]
        flagged += bool(result["signals"])
        ids.append(record_id)
        emotions.append(result["emotion"])
        intensities.append(float(result["intensity"]))
        signals.append(json.dumps(result["signals"], ensure_ascii=False))
    await db.fetch(
        "INSERT INTO text_analysis (table_name, record_id, emotion, intensity, signals,"
        " analysed_at)"
        " SELECT {}, r.id, r.emotion, r.intensity, r.signals::jsonb, now()"
        " FROM unnest({}::int[], {}::text[], {}::float8[], {}::text[])"
        " AS r(id, emotion, intensity, signals)"
        " ON CONFLICT (table_name, record_id) DO UPDATE SET emotion = EXCLUDED.emotion,"
        " intensity = EXCLUDED.intensity, signals = EXCLUDED.signals,"
        " analysed_at = EXCLUDED.analysed_at",
        table,
        ids,
        emotions,
        intensities,
        signals,
    )
    return flagged


async def analyse_record(table: str, record_id: int) -> dict[str, Any] | None:
    """Analyse one record's text and store it; None when the table or record does not exist."""
    column = TEXT_COLUMNS.get(table)
    if column is None or table not in await _existing_tables():
        return None
    row = await db.fetchrow(f"SELECT id, {column} AS text FROM {table} WHERE id = {{}}", record_id)
    if row is None:
        return None
    await _upsert(table, [(row["id"], row["text"])])
    return await analysis_of(table, record_id)


async def _has_updated_at(table: str) -> bool:
    return bool(
        await db.fetchval(
            "SELECT 1 FROM information_schema.columns WHERE table_name = {}"
            " AND column_name = 'updated_at'",
            table,
        )
    )


async def backfill(limit: int | None = None) -> int:
    """Analyse every record without an analysis (or edited since); return how many were done.

    One anti-join per table finds the missing ones; they are analysed ``BATCH`` at a time.
    """
    done = 0
    for table in await _existing_tables():
        column = TEXT_COLUMNS[table]
        stale = " OR t.updated_at > a.analysed_at" if await _has_updated_at(table) else ""
        last_id = 0
        while limit is None or done < limit:
            size = BATCH if limit is None else min(BATCH, limit - done)
            rows = await db.fetch(
                f"SELECT t.id, t.{column} AS text FROM {table} t"
                " LEFT JOIN text_analysis a ON a.table_name = {} AND a.record_id = t.id"
                f" WHERE t.id > {{}} AND (a.id IS NULL{stale}) ORDER BY t.id LIMIT {{}}",
                table,
                last_id,
                size,
            )
            if not rows:
                break
            await _upsert(table, [(r["id"], r["text"]) for r in rows])
            done += len(rows)
            last_id = rows[-1]["id"]
        if limit is not None and done >= limit:
            break
    return done


async def analyse_new(limit: int = BATCH) -> tuple[int, int]:
    """Analyse the records inserted since the newest analysis of their table (at most ``limit``
    per table); return (records analysed, how many of them carry a signal).

    The roll-up wake-up runs this a second or so after each write, so a new record's emotion and
    signals (and the warning a signal raises) do not wait for the sweep. It only looks past the
    highest analysed id, an index lookup; a record committed out of id order, or edited, is left
    to the sweep.
    """
    done = flagged = 0
    for table in await _existing_tables():
        column = TEXT_COLUMNS[table]
        rows = await db.fetch(
            f"SELECT t.id, t.{column} AS text FROM {table} t WHERE t.id > coalesce("
            "(SELECT max(record_id) FROM text_analysis WHERE table_name = {}), 0)"
            " ORDER BY t.id LIMIT {}",
            table,
            limit,
        )
        flagged += await _upsert(table, [(r["id"], r["text"]) for r in rows])
        done += len(rows)
    return done, flagged


def _shape(row: dict[str, Any]) -> dict[str, Any]:
    signals = row["signals"]
    if isinstance(signals, str):
        signals = json.loads(signals)
    return {
        "emotion": row["emotion"],
        "intensity": float(row["intensity"]),
        "signals": signals or [],
        "analysed_at": row["analysed_at"],
    }


async def analysis_of(table: str, record_id: int) -> dict[str, Any] | None:
    """The stored analysis of one record, if any."""
    row = await db.fetchrow(
        "SELECT * FROM text_analysis WHERE table_name = {} AND record_id = {}", table, record_id
    )
    return _shape(row) if row else None


async def analyses_of(table: str, record_ids: list[int]) -> dict[int, dict[str, Any]]:
    """Stored analyses of many records of one table: record_id -> analysis."""
    if not record_ids:
        return {}
    rows = await db.fetch(
        "SELECT * FROM text_analysis WHERE table_name = {} AND record_id = ANY({}::int[])",
        table,
        list(record_ids),
    )
    return {r["record_id"]: _shape(r) for r in rows}
