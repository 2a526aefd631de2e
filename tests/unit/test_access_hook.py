"""Every route runs ``app.web.access_check`` first, or the app refuses to start."""

from __future__ import annotations

import pytest
from litestar import Litestar, Router, get

from app.main import check_access_hook
from app.web import access_check


@get("/fine", opt={"scope": "public"}, sync_to_thread=False)
def fine() -> str:
    return "ok"


async def own_hook(request) -> None:
    return None


@get("/own-hook", opt={"scope": "public"}, before_request=own_hook, sync_to_thread=False)
def with_own_hook() -> str:
    return "ok"


@get("/cached", opt={"scope": "public"}, cache=60, sync_to_thread=False)
def cached() -> str:
    return "ok"


def test_the_app_hook_on_every_route_passes() -> None:
    check_access_hook(Litestar([fine], before_request=access_check))


@pytest.mark.parametrize(
    "app",
    [
        Litestar([fine]),  # no hook at all
        Litestar([fine, with_own_hook], before_request=access_check),  # the nearest one wins
        Litestar([fine, cached], before_request=access_check),  # answered before the hook
        Litestar(
            [Router("/r", route_handlers=[fine], before_request=own_hook)],
            before_request=access_check,
        ),
    ],
)
def test_a_route_that_would_skip_the_access_check_stops_the_start(app: Litestar) -> None:
    with pytest.raises(RuntimeError, match="access_check"):
        check_access_hook(app)


def test_the_real_app_passes(settings) -> None:
    from app.main import create_app

    create_app(settings)  # calls check_access_hook
