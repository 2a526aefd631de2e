"""Reactions of other areas to organisation changes, registered by those areas.

Kept as a list of callables so ``org`` does not import the areas that depend on it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

UnitMoved = Callable[[str, str], Awaitable[None]]
_on_unit_moved: list[UnitMoved] = []


def on_unit_moved(fn: UnitMoved) -> UnitMoved:
    """Register ``fn(old_path, new_path)`` to run after a unit moved."""
    _on_unit_moved.append(fn)
    return fn


async def unit_moved(old_path: str, new_path: str) -> None:
    """Run every registered reaction to a move."""
    for fn in _on_unit_moved:
        await fn(old_path, new_path)
