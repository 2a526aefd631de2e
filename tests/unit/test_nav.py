"""Navigation: each role sees its own entries, home first, then what it reaches for first."""

from app.domain import roles
from app.templating import nav_for


def paths(role: str) -> list[str]:
    return [path for path, _label in nav_for(role)]


def test_home_comes_first_for_every_role():
    for role in roles.ROLES:
        assert paths(role)[0] == "/"


def test_the_front_desk_starts_from_its_cases_and_the_grid_worker_from_today():
    assert paths(roles.FRONT_DESK)[1] == "/cases"
    assert paths(roles.GRID_WORKER)[1:3] == ["/tasks", "/visits"]


def test_only_admins_see_administration_and_departments_see_no_field_work():
    assert "/admin" in paths(roles.ADMIN)
    assert all("/admin" not in paths(r) for r in roles.ROLES if r != roles.ADMIN)
    assert "/visits" not in paths(roles.DEPARTMENT)
