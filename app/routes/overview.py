"""The situation overview (综合态势): counts and trends by unit, open risks, emotion mix,
forecasts above last year and overdue matters on one page, each number linking to its records.
"""

from __future__ import annotations

from datetime import timedelta

from litestar import Request, Response, get

from app.domain import forecast as fc
from app.domain.metrics import percent
from app.i18n import gettext
from app.services import org, overview, risks
from app.web import not_found, page, require_user

OPT = {"scope": "unit", "cap": "dashboard.read"}


def _warning_kinds() -> dict[str, str]:
    try:
        from app.domain.warnings import KINDS
    except ImportError:
        return {}
    return {k: gettext(v) for k, v in KINDS.items()}


@get("/overview", opt=OPT, include_in_schema=False)
async def overview_page(request: Request) -> Response:
    user = require_user(request)
    if user.unit_id is None:
        raise not_found()
    unit = await org.unit_in_scope(user.scope, user.unit_id)
    if unit is None:
        raise not_found()
    data = await overview.build(user, unit)
    day = data["dash"]["day"]
    return page(
        "overview/index.html",
        request,
        o=data,
        categories={k: gettext(v) for k, v in fc.CATEGORIES.items()},
        levels={k: gettext(v) for k, v in risks.LEVELS.items()},
        emotions=overview.EMOTIONS,
        pct=percent,
        warning_kinds=_warning_kinds(),
        day=day.isoformat(),
        since7=(day - timedelta(days=6)).isoformat(),
        since30=(day - timedelta(days=29)).isoformat(),
    )


@get("/overview/emotions", opt=OPT, include_in_schema=False)
async def overview_emotions(request: Request) -> Response:
    """The records behind the emotion mix (drilldown), last 30 days, in scope."""
    user = require_user(request)
    emotion = request.query_params.get("emotion") or None
    if emotion is not None and emotion not in overview.EMOTIONS:
        emotion = None
    signals = request.query_params.get("signals") == "1"
    rows = await overview.emotion_records(user.scope, emotion, signals)
    return page("overview/emotions.html", request, rows=rows, emotion=emotion, signals=signals)


ROUTES = [overview_page, overview_emotions]
