"""Roles, capabilities and the scope predicate."""

from app.domain import roles
from app.domain.roles import Scope, can, child_path, valid_child_tier


def test_a_scope_covers_its_subtree_only():
    scope = Scope(user_id=1, role=roles.STREET_LEADER, unit_id=4, unit_path="/1/4/")
    assert scope.covers("/1/4/")
    assert scope.covers("/1/4/17/120/")
    assert not scope.covers("/1/5/")
    assert not scope.covers("/1/41/")  # a sibling whose id starts with the same digits
    assert not scope.covers(None)


def test_a_scope_without_a_unit_sees_nothing():
    scope = Scope(user_id=1, role=roles.DEPARTMENT, unit_id=None, unit_path=None, department_id=3)
    assert not scope.covers("/1/")


def test_unknown_capabilities_are_nobodys():
    assert not can(roles.ADMIN, "no.such.capability")


def test_only_field_roles_write_field_records_and_departments_read_no_units():
    assert can(roles.GRID_WORKER, "field.write")
    assert not can(roles.DEPARTMENT, "field.write")
    assert not can(roles.DEPARTMENT, "units.read")
    assert can(roles.STREET_LEADER, "field.review")
    assert not can(roles.GRID_WORKER, "field.review")


def test_the_tree_allows_only_the_1_9_n_x_tiers():
    assert valid_child_tier(None, "district")
    assert not valid_child_tier(None, "street")
    assert valid_child_tier("district", "street")
    assert valid_child_tier("community", "grid")
    assert valid_child_tier("community", "compound")
    assert not valid_child_tier("street", "grid")
    assert not valid_child_tier("compound", "grid")


def test_child_path_appends_the_id():
    assert child_path("/1/4/", 17) == "/1/4/17/"


def test_every_role_has_a_home_tier_except_departments():
    for role in roles.ROLES:
        assert (roles.ROLE_TIERS[role] == ()) == (role == roles.DEPARTMENT)
