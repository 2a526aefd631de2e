"""Follow-up tasks (今日待办) and the review queue; the home panels of field work."""

from datetime import timedelta

from litestar import Request, Response, get, post

from app.domain import field as rules
from app.domain import roles
from app.routes.visits import REVIEW, WRITE, fpage
from app.services import field
from app.services.auth import CurrentUser
from app.services.home import Panel, panel_source
from app.web import not_found, require_user, see_other

#: Tasks due within this many days are "due"; later ones (up to the 30-day judicial
#: confirmation window of a fresh agreement) are listed as coming up.
DUE_DAYS = 7


@get("/tasks", opt=WRITE, include_in_schema=False)
async def tasks_page(request: Request) -> Response:
    user = require_user(request)
    rows = await field.tasks(user, horizon_days=rules.JUDICIAL_CONFIRMATION_DAYS)
    soon = field.today() + timedelta(days=DUE_DAYS)
    return fpage(
        "field/tasks.html",
        request,
        tasks=[t for t in rows if t["due"] <= soon],
        later=[t for t in rows if t["due"] > soon],
        returned=await field.returned_to(user),
    )


@post("/tasks/{task_id:int}/done", opt=WRITE, include_in_schema=False)
async def task_done(request: Request, task_id: int) -> Response:
    if not await field.mark_task_done(require_user(request), task_id):
        raise not_found()
    return see_other("/tasks")


@get("/review", opt=REVIEW, include_in_schema=False)
async def review_queue(request: Request) -> Response:
    user = require_user(request)
    pending = {}
    for table in field.RECORD_TABLES:
        rows, _more = await field.listing(user.scope, table, field.Filters(review="pending"))
        pending[table] = rows
    return fpage(
        "field/review.html", request, counts=await field.review_counts(user.scope), pending=pending
    )


@panel_source
async def today_panel(user: CurrentUser) -> Panel | None:
    """今日待办 for those who log field work; the review queue's counts for reviewers."""
    if user.role in roles.REVIEWERS:
        counts = await field.review_counts(user.scope)
        return Panel("Review queue", "field/_panel_review.html", {"counts": counts}, order=20)
    if user.role in roles.FIELD_WRITERS:
        return Panel(
            "Today's tasks",
            "field/_panel_tasks.html",
            {"counts": await field.task_counts(user)},
            order=10,
        )
    return None


ROUTES = [tasks_page, task_done, review_queue]
