"""Metric formulas leaders read (DOMAIN.md §5). Pure: no I/O.

Roll-up buckets store additive counts per unit per day; rates are computed here, at read time,
from the summed counts of a window (today, 7 days, 30 days), never averaged across units.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date

AGREED = ("agreed_written", "agreed_oral")


def ratio(numerator: float, denominator: float) -> float | None:
    """``numerator / denominator``, or None when there is nothing to divide by."""
    if not denominator:
        return None
    return numerator / denominator


def sum_buckets(buckets: Iterable[Mapping[str, float]]) -> dict[str, float]:
    """Add up per-day count buckets key by key (missing keys count as 0)."""
    total: dict[str, float] = {}
    for bucket in buckets:
        for key, value in bucket.items():
            total[key] = total.get(key, 0) + (value or 0)
    return total


def reach_rate(m: Mapping[str, float]) -> float | None:
    """Calls that reached the person / all calls."""
    return ratio(m.get("calls_reached", 0), m.get("calls", 0))


def satisfaction_rate(m: Mapping[str, float]) -> float | None:
    """群众满意率: (satisfied + basically satisfied) / calls with an answer on satisfaction."""
    good = m.get("calls_satisfied", 0) + m.get("calls_basically", 0)
    rated = good + m.get("calls_dissatisfied", 0)
    return ratio(good, rated)


def mediations_closed(m: Mapping[str, float]) -> float:
    """Mediations with an outcome other than in progress."""
    return m.get("mediations", 0) - m.get("mediations_in_progress", 0)


def mediation_success_rate(m: Mapping[str, float]) -> float | None:
    """调解成功率: agreements (written or oral) / mediations closed."""
    return ratio(m.get("mediations_agreed", 0), mediations_closed(m))


def resolved_locally_rate(m: Mapping[str, float]) -> float | None:
    """矛盾不上交: agreements reached at street tier or below / mediations closed."""
    return ratio(m.get("mediations_agreed_local", 0), mediations_closed(m))


def coverage(visited_30d: float, households: float) -> float | None:
    """Visit coverage: households visited in the last 30 days / households (capped at 1)."""
    value = ratio(visited_30d, households)
    return None if value is None else min(value, 1.0)


def overdue(m: Mapping[str, float], day: date, today: date) -> float:
    """Follow-ups of a bucket that were not done by their due day.

    A bucket's follow-ups are those due that day. Before today, every one not done on time is
    overdue; on or after today none is overdue yet.
    """
    if day >= today:
        return 0
    return max(m.get("followups_due", 0) - m.get("followups_done_on_time", 0), 0)


def accepted_timely_rate(m: Mapping[str, float]) -> float | None:
    """及时受理率: cases accepted within 15 days of receipt / cases accepted."""
    return ratio(m.get("cases_accepted_timely", 0), m.get("cases_accepted", 0))


def replied_on_time_rate(m: Mapping[str, float]) -> float | None:
    """按期办结率: cases answered by their handling deadline / cases answered."""
    return ratio(m.get("cases_replied_on_time", 0), m.get("cases_replied", 0))


def case_satisfaction_rate(m: Mapping[str, float]) -> float | None:
    """Cases: evaluations satisfied or basically satisfied / evaluations."""
    return ratio(m.get("cases_satisfied", 0), m.get("cases_evaluated", 0))


def first_time_once_rate(m: Mapping[str, float]) -> float | None:
    """初信初访一次性化解率: first-time matters resolved at once / first-time matters."""
    return ratio(m.get("cases_first_time_once", 0), m.get("cases_first_time", 0))


def derived(m: Mapping[str, float]) -> dict[str, float | None]:
    """All rates of a summed window."""
    return {
        "reach_rate": reach_rate(m),
        "satisfaction_rate": satisfaction_rate(m),
        "mediation_success_rate": mediation_success_rate(m),
        "resolved_locally_rate": resolved_locally_rate(m),
        "accepted_timely_rate": accepted_timely_rate(m),
        "replied_on_time_rate": replied_on_time_rate(m),
        "case_satisfaction_rate": case_satisfaction_rate(m),
        "first_time_once_rate": first_time_once_rate(m),
    }


def percent(value: float | None) -> str:
    """A rate as ``"87.5%"``; ``"—"`` when undefined."""
    if value is None:
        return "—"
    return f"{value * 100:.1f}%"
