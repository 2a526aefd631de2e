"""The role-aware home page."""

from litestar import Request, Response, get

from app.services import home as home_service
from app.web import page, require_user


@get("/", opt={"scope": "any"}, include_in_schema=False)
async def home(request: Request) -> Response:
    user = require_user(request)
    panels = await home_service.panels(user)
    return page("home.html", request, panels=panels)


ROUTES = [home]
