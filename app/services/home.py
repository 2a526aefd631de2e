"""What each role's home page shows. Areas register panels as they land."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from app.services.auth import CurrentUser


@dataclass
class Panel:
    """One block of the home page: a title, a template partial and its data."""

    title: str
    template: str
    data: dict = field(default_factory=dict)
    order: int = 50


PanelSource = Callable[[CurrentUser], Awaitable[Panel | None]]
_sources: list[PanelSource] = []


def panel_source(fn: PanelSource) -> PanelSource:
    """Register ``fn(user) -> Panel | None`` as a source of home-page panels."""
    _sources.append(fn)
    return fn


async def panels(user: CurrentUser) -> list[Panel]:
    """The panels ``user`` sees on the home page, in order."""
    out = []
    for source in _sources:
        panel = await source(user)
        if panel is not None:
            out.append(panel)
    return sorted(out, key=lambda p: p.order)
