"""Where areas register their arq job functions and cron jobs."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

_functions: list[Callable[..., Any]] = []
_crons: list[Any] = []


def job(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Register ``fn`` as an arq job (its name is the function's name)."""
    _functions.append(fn)
    return fn


def cron(cron_job: Any) -> Any:
    """Register an ``arq.cron(...)`` job."""
    _crons.append(cron_job)
    return cron_job


def _load_areas() -> None:
    # Importing an area's job module registers its jobs.
    import worker.jobs  # noqa: F401


def functions() -> list[Callable[..., Any]]:
    _load_areas()
    return list(_functions)


def cron_jobs() -> list[Any]:
    _load_areas()
    return list(_crons)
