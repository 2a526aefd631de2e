"""Administration: the unit tree, departments, accounts, spreadsheets, the audit log."""

from typing import Annotated, Any

from litestar import Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.params import Body

from app.domain import roles
from app.domain.forms import Form
from app.services import audit, org, spreadsheets
from app.services.org import OrgError, UserInput
from app.web import client_ip, is_htmx, not_found, page, require_user, see_other

ADMIN = {"scope": "admin"}
FORM = Body(media_type=RequestEncodingType.URL_ENCODED)
UPLOAD = Body(media_type=RequestEncodingType.MULTI_PART)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _xlsx(content: bytes, filename: str) -> Response:
    return Response(
        content,
        media_type=XLSX,
        headers={"content-disposition": f'attachment; filename="{filename}"'},
    )


@get("/admin", opt=ADMIN, include_in_schema=False)
async def admin_home(request: Request) -> Response:
    units = await org.subtree(require_user(request).scope)
    return page(
        "admin/index.html",
        request,
        unit_count=len(units),
        departments=await org.departments(),
        users=await org.users(),
    )


# -- units ---------------------------------------------------------------------------------


def _move_targets(units: list[dict], unit: dict) -> list[dict]:
    """Where ``unit`` may move: a unit of the tier above it, outside its own subtree."""
    return [
        p
        for p in units
        if roles.valid_child_tier(p["tier"], unit["tier"])
        and not p["path"].startswith(unit["path"])
    ]


async def _units_page(request: Request, status: int = 200, **context: Any) -> Response:
    user = require_user(request)
    units = await org.subtree(user.scope)
    # Each unit's move form is loaded when its row is opened (one select of every possible
    # parent per unit made the page grow with the square of the tree); the one that failed
    # comes back filled in.
    failed = next((u for u in units if u["id"] == context.get("error_unit")), None)
    return page(
        "admin/units.html",
        request,
        status,
        units=units,
        tiers=roles.TIERS,
        move_targets=_move_targets(units, failed) if failed else [],
        **context,
    )


@get("/admin/units", opt=ADMIN, include_in_schema=False)
async def units_page(request: Request) -> Response:
    return await _units_page(request)


@get("/admin/units/{unit_id:int}/move", opt=ADMIN, include_in_schema=False)
async def unit_move_form(request: Request, unit_id: int) -> Response:
    """The move form of one unit: a fragment for htmx, a page of its own without script."""
    units = await org.subtree(require_user(request).scope)
    unit = next((u for u in units if u["id"] == unit_id and u["depth"] > 0), None)
    if unit is None:
        raise not_found()
    return page(
        "admin/_unit_move_form.html" if is_htmx(request) else "admin/unit_move.html",
        request,
        u=unit,
        move_targets=_move_targets(units, unit),
        errors={},
        values={},
    )


@post("/admin/units", opt=ADMIN, include_in_schema=False)
async def unit_add(request: Request, data: Annotated[dict, FORM]) -> Response:
    form = Form(data)
    name = form.text("name", required=True, max_length=100)
    tier = form.choice("tier", roles.TIERS)
    parent_id = form.integer("parent_id", required=True)
    code = form.text("code", max_length=32)
    if form.ok:
        try:
            await org.add_unit(
                require_user(request).id,
                name=name,
                tier=tier,
                parent_id=parent_id,
                code=code or None,
            )
            return see_other("/admin/units")
        except OrgError as e:
            form.error(e.field if e.field != "parent_id" else "tier", e.message)
    return await _units_page(request, 422, errors=form.errors, values=form.values)


@post("/admin/units/{unit_id:int}/rename", opt=ADMIN, include_in_schema=False)
async def unit_rename(request: Request, unit_id: int, data: Annotated[dict, FORM]) -> Response:
    if await org.unit(unit_id) is None:
        raise not_found()
    form = Form(data)
    name = form.text("name", required=True, max_length=100)
    if form.ok:
        try:
            await org.rename_unit(require_user(request).id, unit_id, name)
            return see_other("/admin/units")
        except OrgError as e:
            form.error("name", e.message)
    return await _units_page(
        request, 422, errors=form.errors, values=form.values, error_unit=unit_id
    )


@post("/admin/units/{unit_id:int}/move", opt=ADMIN, include_in_schema=False)
async def unit_move(request: Request, unit_id: int, data: Annotated[dict, FORM]) -> Response:
    if await org.unit(unit_id) is None:
        raise not_found()
    form = Form(data)
    parent_id = form.integer("parent_id", required=True)
    if form.ok:
        try:
            await org.move_unit(require_user(request).id, unit_id, parent_id)
            return see_other("/admin/units")
        except OrgError as e:
            form.error("parent_id", e.message)
    return await _units_page(
        request, 422, errors=form.errors, values=form.values, error_unit=unit_id
    )


# -- departments ---------------------------------------------------------------------------


async def _departments_page(request: Request, status: int = 200, **context: Any) -> Response:
    return page(
        "admin/departments.html", request, status, departments=await org.departments(), **context
    )


@get("/admin/departments", opt=ADMIN, include_in_schema=False)
async def departments_page(request: Request) -> Response:
    return await _departments_page(request)


@post("/admin/departments", opt=ADMIN, include_in_schema=False)
async def department_add(request: Request, data: Annotated[dict, FORM]) -> Response:
    form = Form(data)
    name = form.text("name", required=True, max_length=100)
    code = form.text("code", max_length=32)
    if form.ok:
        try:
            await org.add_department(require_user(request).id, name, code or None)
            return see_other("/admin/departments")
        except OrgError as e:
            form.error(e.field, e.message)
    return await _departments_page(request, 422, errors=form.errors, values=form.values)


@post("/admin/departments/{dept_id:int}", opt=ADMIN, include_in_schema=False)
async def department_change(
    request: Request, dept_id: int, data: Annotated[dict, FORM]
) -> Response:
    if not any(d["id"] == dept_id for d in await org.departments()):
        raise not_found()
    form = Form(data)
    name = form.text("name", required=True, max_length=100)
    active = form.boolean("active")
    if form.ok:
        try:
            await org.set_department(require_user(request).id, dept_id, name=name, active=active)
            return see_other("/admin/departments")
        except OrgError as e:
            form.error(e.field, e.message)
    return await _departments_page(
        request, 422, errors=form.errors, values=form.values, error_dept=dept_id
    )


# -- users ---------------------------------------------------------------------------------


@get("/admin/users", opt=ADMIN, include_in_schema=False)
async def users_page(request: Request, q: str = "") -> Response:
    return page("admin/users.html", request, users=await org.users(q), q=q)


async def _user_form(request: Request, status: int = 200, **context: Any) -> Response:
    user = require_user(request)
    return page(
        "admin/user_form.html",
        request,
        status,
        roles=roles.ROLES,
        units=await org.subtree(user.scope),
        departments=await org.departments(True),
        **context,
    )


@get("/admin/users/new", opt=ADMIN, include_in_schema=False)
async def user_new(request: Request) -> Response:
    return await _user_form(request, account=None)


def _user_input(form: Form, *, password_required: bool) -> UserInput:
    return UserInput(
        username=form.text("username", required=True, max_length=64),
        full_name=form.text("full_name", max_length=100),
        role=form.choice("role", roles.ROLES) or "",
        unit_id=form.integer("unit_id"),
        department_id=form.integer("department_id"),
        phone=form.text("phone", max_length=32),
        is_head=form.boolean("is_head"),
        password=form.text("password", required=password_required, max_length=200) or None,
    )


@post("/admin/users", opt=ADMIN, include_in_schema=False)
async def user_create(request: Request, data: Annotated[dict, FORM]) -> Response:
    form = Form(data)
    payload = _user_input(form, password_required=True)
    if form.ok:
        try:
            new_id = await org.create_user(require_user(request).id, payload)
            return see_other(f"/admin/users/{new_id}")
        except OrgError as e:
            form.error(e.field, e.message)
    form.values.pop("password", None)
    return await _user_form(request, 422, account=None, errors=form.errors, values=form.values)


@get("/admin/users/{user_id:int}", opt=ADMIN, include_in_schema=False)
async def user_edit(request: Request, user_id: int) -> Response:
    account = await org.user(user_id)
    if account is None:
        raise not_found()
    return await _user_form(request, account=account, values=account)


@post("/admin/users/{user_id:int}", opt=ADMIN, include_in_schema=False)
async def user_update(request: Request, user_id: int, data: Annotated[dict, FORM]) -> Response:
    account = await org.user(user_id)
    if account is None:
        raise not_found()
    form = Form(data)
    payload = _user_input(form, password_required=False)
    payload.password = None
    if form.ok:
        try:
            await org.update_user(require_user(request).id, user_id, payload)
            return see_other(f"/admin/users/{user_id}")
        except OrgError as e:
            form.error(e.field, e.message)
    return await _user_form(request, 422, account=account, errors=form.errors, values=form.values)


@post("/admin/users/{user_id:int}/active", opt=ADMIN, include_in_schema=False)
async def user_set_active(request: Request, user_id: int, data: Annotated[dict, FORM]) -> Response:
    if await org.user(user_id) is None:
        raise not_found()
    await org.set_active(require_user(request).id, user_id, Form(data).boolean("active"))
    return see_other(f"/admin/users/{user_id}")


@post("/admin/users/{user_id:int}/password", opt=ADMIN, include_in_schema=False)
async def user_reset_password(
    request: Request, user_id: int, data: Annotated[dict, FORM]
) -> Response:
    account = await org.user(user_id)
    if account is None:
        raise not_found()
    form = Form(data)
    password = form.text("new_password", required=True, max_length=200)
    if form.ok:
        try:
            await org.reset_password(require_user(request).id, user_id, password)
            return see_other(f"/admin/users/{user_id}?reset=1")
        except OrgError as e:
            form.error("new_password", e.message)
    return await _user_form(request, 422, account=account, values=account, errors=form.errors)


# -- spreadsheets --------------------------------------------------------------------------


@get("/admin/export/{kind:str}", opt=ADMIN, include_in_schema=False)
async def export_sheet(request: Request, kind: str) -> Response:
    exporters = {"units": spreadsheets.export_units, "users": spreadsheets.export_users}
    if kind not in exporters:
        raise not_found()
    content = await exporters[kind]()
    await audit.record(
        f"{kind[:-1]}.export", actor_id=require_user(request).id, ip=client_ip(request)
    )
    return _xlsx(content, f"{kind}.xlsx")


@get("/admin/template/{kind:str}", opt=ADMIN, include_in_schema=False)
async def template_sheet(kind: str) -> Response:
    if kind not in ("units", "users"):
        raise not_found()
    return _xlsx(spreadsheets.template(kind), f"{kind}-template.xlsx")


@post("/admin/import/{kind:str}", opt=ADMIN, include_in_schema=False)
async def import_sheet(
    request: Request, kind: str, data: Annotated[dict[str, Any], UPLOAD]
) -> Response:
    if kind not in ("units", "users"):
        raise not_found()
    upload = data.get("file")
    if not isinstance(upload, UploadFile):
        return page(
            "admin/import_result.html",
            request,
            400,
            kind=kind,
            count=0,
            errors=[spreadsheets.RowError(0, "file", "Choose an .xlsx file.")],
        )
    content = await upload.read()
    importer = spreadsheets.import_units if kind == "units" else spreadsheets.import_users
    count, errors = await importer(require_user(request).id, content)
    return page(
        "admin/import_result.html",
        request,
        422 if errors else 200,
        kind=kind,
        count=count,
        errors=errors,
    )


@get("/admin/audit", opt=ADMIN, include_in_schema=False)
async def audit_log(request: Request, action: str = "") -> Response:
    return page("admin/audit.html", request, events=await audit.recent(200, action), action=action)


ROUTES = [
    admin_home,
    units_page,
    unit_move_form,
    unit_add,
    unit_rename,
    unit_move,
    departments_page,
    department_add,
    department_change,
    users_page,
    user_new,
    user_create,
    user_edit,
    user_update,
    user_set_active,
    user_reset_password,
    export_sheet,
    template_sheet,
    import_sheet,
    audit_log,
]
