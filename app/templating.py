"""Jinja globals and filters: navigation per role, labels, local time, masking."""

from __future__ import annotations

from collections.abc import MutableMapping
from datetime import date, datetime
from typing import Any

from jinja2 import Environment, pass_context
from jinja2.runtime import Context
from markupsafe import Markup

from app import i18n
from app.domain import calendar, roles
from app.i18n import N_, current_locale, gettext

LOCAL_TZ = calendar.LOCAL_TZ

ROLE_LABELS = {
    roles.ADMIN: N_("Administrator"),
    roles.FRONT_DESK: N_("Front desk"),
    roles.DISTRICT_LEADER: N_("District leader"),
    roles.SUPERVISOR: N_("Supervisor"),
    roles.DEPARTMENT: N_("Department handler"),
    roles.STREET_LEADER: N_("Street leader"),
    roles.COMMUNITY_STAFF: N_("Community staff"),
    roles.GRID_WORKER: N_("Grid worker"),
}

TIER_LABELS = {
    "district": N_("District"),
    "street": N_("Street / town"),
    "community": N_("Community / village"),
    "grid": N_("Grid"),
    "compound": N_("Compound"),
}

#: (path, label msgid, roles that see it). Areas add their entries here as they land.
NAV: list[tuple[str, str, frozenset[str]]] = [
    ("/", N_("Home"), frozenset(roles.ROLES)),
    ("/dashboard", N_("Dashboard"), roles.CAPABILITIES["dashboard.read"]),
    (
        "/overview",
        N_("Overview"),
        frozenset({roles.DISTRICT_LEADER, roles.SUPERVISOR, roles.STREET_LEADER, roles.ADMIN}),
    ),  # noqa: E501
    ("/forecasts", N_("Forecasts"), roles.CAPABILITIES["dashboard.read"]),
    ("/tasks", N_("Today"), roles.FIELD_WRITERS),
    ("/visits", N_("Visits"), roles.CAPABILITIES["field.read"]),
    ("/calls", N_("Calls"), roles.CAPABILITIES["field.read"]),
    ("/mediations", N_("Mediations"), roles.CAPABILITIES["field.read"]),
    ("/households", N_("Households"), roles.CAPABILITIES["field.read"]),
    ("/review", N_("Review"), roles.REVIEWERS),
    ("/cases", N_("Cases"), roles.CAPABILITIES["cases.read"] - {roles.ADMIN}),
    ("/lists", N_("Lists"), frozenset(roles.ROLES) - {roles.GRID_WORKER, roles.DEPARTMENT}),
    ("/admin", N_("Administration"), frozenset({roles.ADMIN})),
    ("/risks", N_("Risks"), roles.CAPABILITIES["platform.read"]),
    ("/key-persons", N_("Key persons"), roles.CAPABILITIES["platform.read"]),
    ("/warnings", N_("Warnings"), roles.CAPABILITIES["platform.read"]),
]


#: What each role reaches for first; the rest of NAV follows in its own order.
ROLE_FIRST: dict[str, tuple[str, ...]] = {
    roles.GRID_WORKER: ("/tasks", "/visits", "/calls", "/mediations", "/households"),
    roles.COMMUNITY_STAFF: ("/tasks", "/mediations", "/review", "/visits"),
    roles.STREET_LEADER: ("/review", "/overview", "/warnings", "/dashboard"),
    roles.FRONT_DESK: ("/cases", "/lists"),
    roles.DEPARTMENT: ("/cases",),
    roles.DISTRICT_LEADER: ("/overview", "/warnings", "/dashboard", "/cases", "/lists"),
    roles.SUPERVISOR: ("/cases", "/overview", "/dashboard"),
    roles.ADMIN: ("/admin",),
}


def nav_for(role: str) -> list[tuple[str, str]]:
    """The navigation entries a role sees: home, then what the role reaches for first."""
    first = ("/", *ROLE_FIRST.get(role, ()))
    entries = [(path, label) for path, label, allowed in NAV if role in allowed]
    entries.sort(key=lambda e: first.index(e[0]) if e[0] in first else len(first))
    return [(path, gettext(label)) for path, label in entries]


def local_time(value: datetime | date | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """A date-time shown in Beijing time (dates as they are)."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(LOCAL_TZ)
        return value.strftime(fmt)
    return value.strftime("%Y-%m-%d")


def mask_phone(value: str | None) -> str:
    """138****5678: the middle digits of a phone number hidden."""
    if not value:
        return ""
    return value[:3] + "****" + value[-4:] if len(value) >= 8 else "****"


def mask_id_number(value: str | None) -> str:
    """An ID number with only its first 3 and last 2 characters shown."""
    if not value:
        return ""
    return value[:3] + "*" * max(len(value) - 5, 4) + value[-2:]


#: What ``getattr`` finds on a plain dict: its methods and ``object``'s (a dict instance has no
#: ``__dict__``), so any other name can only be one of its keys.
_DICT_ATTRIBUTES = frozenset(dir(dict))


class AppEnvironment(Environment):
    """Jinja's environment, with what every render and include pays made cheaper: the same
    output (``tests/unit/test_render_paths.py`` compares it with Jinja's own).

    ``r.name`` on a plain dict (a database row): Jinja tries ``getattr(r, "name")`` first and
    the item second, so every field of a row cost a raised and caught ``AttributeError``. A
    name that is not an attribute of ``dict`` goes straight to the item here: the same value,
    or the same undefined, as before.
    """

    def make_globals(self, d: MutableMapping[str, Any] | None) -> MutableMapping[str, Any]:
        """A template loaded without globals of its own reads the environment's dict itself.

        Jinja's ``ChainMap`` over the two is walked in Python whenever a context is made (each
        render and each include, twice). Nothing here sets globals on one template: a global is
        set on the environment, which every template sees either way.
        """
        if not d:
            return self.globals
        return super().make_globals(d)

    def getattr(self, obj: Any, attribute: str) -> Any:
        if type(obj) is dict and attribute not in _DICT_ATTRIBUTES:
            try:
                return obj[attribute]
            except (TypeError, LookupError):
                return self.undefined(obj=obj, name=attribute)
        return super().getattr(obj, attribute)


@pass_context
def template_gettext(context: Context, message: str, **variables: Any) -> str:
    """``_()`` / ``gettext()`` in templates: what ``install_gettext_callables(newstyle=True)``
    installs, in one call instead of three (the alias, the wrapper, ``Context.call``).

    The translation is markup when autoescaping and always a format string: ``%(name)s`` takes
    the (escaped) variables, ``%%`` is a percent sign. Without variables or a ``%`` that
    formatting leaves the text as it is, so it is skipped.
    """
    text = i18n.gettext(message)
    if context.eval_ctx.autoescape:
        text = Markup(text)
    if not variables and "%" not in text:
        return text
    return text % variables


def install(env: Environment) -> None:
    """Register the globals and filters on ``env`` (after its gettext callables)."""
    env.globals.update(_=template_gettext, gettext=template_gettext)
    env.globals.update(
        nav_for=nav_for,
        role_label=lambda r: gettext(ROLE_LABELS.get(r, r)),
        tier_label=lambda t: gettext(TIER_LABELS.get(t, t)),
        locale=lambda: current_locale.get(),
        today=calendar.today,
    )
    env.filters.update(
        local_time=local_time,
        mask_phone=mask_phone,
        mask_id=mask_id_number,
        tier_option=lambda t: (t, gettext(TIER_LABELS.get(t, t))),
        role_option=lambda r: (r, gettext(ROLE_LABELS.get(r, r))),
        dept_option=lambda d: (d["id"], d["name"]),
    )
