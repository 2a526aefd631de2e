"""Early-warning rules (预警). Pure: each rule takes plain rows and returns :class:`Draft` warnings.

A draft's key is ``(kind, subject_type, subject_id, period)``; the service upserts on it, so
running the rules again over the same records changes nothing. ``period`` names the occurrence
(the day a threshold was crossed, a due day, a week), so a new occurrence is a new warning.
Thresholds come from :class:`Thresholds` (built from the settings).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from app.domain import key_persons as kp
from app.domain.forms import N_

KINDS: dict[str, str] = {
    "repeat_petitioner": N_("Repeat petitioner"),
    "group_matter": N_("Group matter"),
    "extreme_signal": N_("Extreme-risk signal"),
    "contact_overdue": N_("Key person not contacted in time"),
    "negative_run": N_("Run of negative emotions"),
    "forecast_excess": N_("Above the forecast interval"),
}
LEVELS: dict[str, str] = {"high": N_("High"), "medium": N_("Medium"), "low": N_("Low")}
NEGATIVE = frozenset({"anger", "anxiety", "sadness"})


@dataclass(frozen=True)
class Thresholds:
    repeat_count: int = 3
    repeat_days: int = 30
    group_size: int = 5
    negative_run: int = 3


@dataclass
class Draft:
    """A warning a rule wants to exist."""

    kind: str
    unit_path: str
    subject_type: str
    subject_id: str
    period: str
    level: str
    message: str
    evidence: list[dict[str, Any]] = field(default_factory=list)

    @property
    def key(self) -> tuple[str, str, str, str]:
        return (self.kind, self.subject_type, self.subject_id, self.period)


def person_key(name: str, phone: str) -> str:
    """A stable, non-revealing key for a petitioner (name + phone)."""
    raw = f"{name.strip()}|{phone.strip()}".encode()
    return hashlib.sha256(raw).hexdigest()[:16]


def repeat_petitioners(matters: Iterable[Mapping[str, Any]], t: Thresholds) -> list[Draft]:
    """≥ ``repeat_count`` matters by one petitioner (name + phone) within ``repeat_days`` days.

    ``matters``: ``id, petitioner_name, petitioner_phone, day (date), unit_path``. One warning
    per crossing: at the matter that makes the count reach the threshold; the next crossing
    counts only matters after that one.
    """
    by_person: dict[str, list[Mapping[str, Any]]] = {}
    for m in matters:
        if not (m.get("petitioner_name") or "").strip():
            continue
        key = person_key(m["petitioner_name"], m.get("petitioner_phone") or "")
        by_person.setdefault(key, []).append(m)
    out = []
    for key, rows in by_person.items():
        rows.sort(key=lambda r: (r["day"], r["id"]))
        start = 0
        for i, row in enumerate(rows):
            window = [
                r for r in rows[start : i + 1] if (row["day"] - r["day"]).days < t.repeat_days
            ]
            if len(window) >= t.repeat_count:
                out.append(
                    Draft(
                        "repeat_petitioner",
                        row["unit_path"],
                        "petitioner",
                        key,
                        row["day"].isoformat(),
                        "high" if len(window) > t.repeat_count else "medium",
                        N_("The same petitioner raised several matters within a short time."),
                        [{"table": "petition_case", "id": r["id"]} for r in window],
                    )
                )
                start = i + 1
    return out


def group_matters(matters: Iterable[Mapping[str, Any]], t: Thresholds) -> list[Draft]:
    """Matters brought by ≥ ``group_size`` people. ``matters``: ``id, group_size, unit_path``."""
    return [
        Draft(
            "group_matter",
            m["unit_path"],
            "petition_case",
            str(m["id"]),
            "",
            "high" if (m["group_size"] or 0) >= 2 * t.group_size else "medium",
            N_("A group matter was registered."),
            [{"table": "petition_case", "id": m["id"], "group_size": m["group_size"]}],
        )
        for m in matters
        if (m.get("group_size") or 0) >= t.group_size
    ]


def extreme_signals(analyses: Iterable[Mapping[str, Any]]) -> list[Draft]:
    """Records whose analysed text carries an extreme-risk signal.

    ``analyses``: ``table_name, record_id, unit_path, signals (list of {kind, phrase})``.
    """
    out = []
    for a in analyses:
        signals = a.get("signals") or []
        if not signals:
            continue
        kinds = sorted({s.get("kind", "") for s in signals})
        out.append(
            Draft(
                "extreme_signal",
                a["unit_path"],
                a["table_name"],
                str(a["record_id"]),
                "",
                "high",
                N_("An extreme-risk signal was found in a record's text."),
                [
                    {
                        "table": a["table_name"],
                        "id": a["record_id"],
                        "kinds": kinds,
                        "phrases": [s.get("phrase", "") for s in signals][:5],
                    }
                ],
            )
        )
    return out


def contact_overdue(persons: Iterable[Mapping[str, Any]], today: date) -> list[Draft]:
    """Key persons past their contact due day.

    ``persons``: ``id, unit_path, risk_level, last_contact (date | None), registered (date)``.
    The period is the due day, so each missed cycle is one warning.
    """
    out = []
    for p in persons:
        level, last, registered = p["risk_level"], p.get("last_contact"), p["registered"]
        if not kp.contact_overdue(level, last, registered, today):
            continue
        due = kp.contact_due(level, last, registered)
        out.append(
            Draft(
                "contact_overdue",
                p["unit_path"],
                "key_person",
                str(p["id"]),
                due.isoformat(),
                "high" if level == "high" else "medium",
                N_("A key person was not contacted in time."),
                [
                    {
                        "table": "key_person",
                        "id": p["id"],
                        "due": due.isoformat(),
                        "last_contact": last.isoformat() if last else None,
                    }
                ],
            )
        )
    return out


def negative_runs(records: Iterable[Mapping[str, Any]], t: Thresholds) -> list[Draft]:
    """``negative_run`` consecutive negative emotions (anger, anxiety, sadness) of one subject.

    ``records``: ``subject_type, subject_id, unit_path, table_name, record_id, at, emotion``.
    One warning each time a run reaches the threshold (period: the record completing it).
    """
    by_subject: dict[tuple[str, str], list[Mapping[str, Any]]] = {}
    for r in records:
        by_subject.setdefault((r["subject_type"], str(r["subject_id"])), []).append(r)
    out = []
    for (stype, sid), rows in by_subject.items():
        rows.sort(key=lambda r: (r["at"], r["table_name"], r["record_id"]))
        run: list[Mapping[str, Any]] = []
        for r in rows:
            if r["emotion"] in NEGATIVE:
                run.append(r)
            else:
                run = []
            if len(run) == t.negative_run:
                last = run[-1]
                out.append(
                    Draft(
                        "negative_run",
                        last["unit_path"],
                        stype,
                        sid,
                        f"{last['table_name']}:{last['record_id']}",
                        "medium",
                        N_("Several negative emotions in a row were recorded."),
                        [
                            {
                                "table": x["table_name"],
                                "id": x["record_id"],
                                "emotion": x["emotion"],
                            }
                            for x in run
                        ],
                    )
                )
    return out


def forecast_excess(intervals: Iterable[Mapping[str, Any]]) -> list[Draft]:
    """A unit's weekly count of a category above the upper bound of its forecast interval.

    ``intervals``: ``unit_path, category, week (date), actual, upper`` (rows without an actual
    count are skipped).
    """
    out = []
    for row in intervals:
        actual, upper = row.get("actual"), row.get("upper")
        if actual is None or upper is None or actual <= upper:
            continue
        week = row["week"]
        out.append(
            Draft(
                "forecast_excess",
                row["unit_path"],
                "unit_category",
                f"{row['unit_path']}{row['category']}"[:100],
                week.isoformat() if isinstance(week, date) else str(week),
                "medium",
                N_("This week's count is above the forecast interval."),
                [
                    {
                        "category": row["category"],
                        "week": str(week),
                        "actual": actual,
                        "upper": upper,
                    }
                ],
            )
        )
    return out


def week_start(day: date) -> date:
    """The Monday of ``day``'s week."""
    return day - timedelta(days=day.weekday())
