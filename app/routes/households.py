"""Households (the register of each grid): coverage, add by hand, import, search for pickers."""

from typing import Annotated, Any

from litestar import Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.params import Body

from app.domain.forms import N_, Form
from app.routes.visits import FORM, READ, WRITE, fpage
from app.services import field, households
from app.services.spreadsheets import RowError
from app.web import require_user, see_other

UPLOAD = Body(media_type=RequestEncodingType.MULTI_PART)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


async def _page(request: Request, status: int = 200, **context: Any) -> Response:
    user = require_user(request)
    grid_id = context.pop("grid_id", None) or request.query_params.get("grid")
    coverage = await households.coverage(user.scope)
    grid = next((g for g in coverage if str(g["id"]) == str(grid_id)), None)
    if grid is None and user.unit_tier == "grid":
        grid = next((g for g in coverage if g["id"] == user.unit_id), None)
    rows = await households.in_grid(user.scope, grid["id"]) if grid else []
    return fpage(
        "field/households.html",
        request,
        status,
        coverage=coverage,
        grid=grid,
        households=rows,
        grids=await field.grids(user.scope),
        **context,
    )


@get("/households", opt=READ, include_in_schema=False)
async def households_page(request: Request) -> Response:
    return await _page(request)


@post("/households", opt=WRITE, include_in_schema=False)
async def household_add(request: Request, data: Annotated[dict, FORM]) -> Response:
    user = require_user(request)
    form = households.check(data)
    grid_id = Form(data).integer("grid_id")
    grid = await field._grid(user.scope, grid_id)
    if grid is None:
        form.error("grid_id", N_("Choose a grid."))
    if form.ok:
        await households.add(user.id, grid, form.values)
        return see_other(f"/households?grid={grid['id']}")
    return await _page(
        request, 422, errors=form.errors, values=field.typed_values(data), grid_id=grid_id
    )


@post("/households/import", opt=WRITE, include_in_schema=False)
async def household_import(request: Request, data: Annotated[dict[str, Any], UPLOAD]) -> Response:
    user = require_user(request)
    grid_id = Form(data).integer("grid_id")
    grid = await field._grid(user.scope, grid_id)
    upload = data.get("file")
    if grid is None:
        count, errors = 0, [RowError(0, "grid_id", N_("Choose a grid."))]
    elif not isinstance(upload, UploadFile):
        count, errors = 0, [RowError(0, "file", N_("Choose an .xlsx file."))]
    else:
        count, errors = await households.import_sheet(user.id, grid, await upload.read())
    return fpage(
        "field/household_import.html",
        request,
        422 if errors else 200,
        count=count,
        row_errors=errors,
        grid=grid,
    )


@get("/households/template.xlsx", opt=READ, include_in_schema=False)
async def household_template() -> Response:
    return Response(
        households.template(),
        media_type=XLSX,
        headers={"content-disposition": 'attachment; filename="households.xlsx"'},
    )


@get("/households/search", opt=READ, include_in_schema=False)
async def household_search(request: Request, q: str = "", grid_id: str = "") -> Response:
    """Options for the visit form's household picker (typed part of an address)."""
    user = require_user(request)
    grid = int(grid_id) if grid_id.isdigit() else None
    found = await households.search(user.scope, q[:100], grid)
    return fpage("field/_household_options.html", request, found=found, q=q)


ROUTES = [households_page, household_add, household_import, household_template, household_search]
