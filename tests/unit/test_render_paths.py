"""The faster render paths read and translate exactly as Jinja's own: dict fields, gettext, CSRF."""

from __future__ import annotations

import pytest
from jinja2 import Environment
from litestar.middleware.csrf import generate_csrf_token

from app import i18n
from app.middleware import csrf_tokens_match
from app.templating import AppEnvironment, install

EXPRESSIONS = [
    "{{ r.id }}",
    "{{ r.name }}",
    "{{ r.missing is defined }}",
    "{{ r.missing | default('none') }}",
    "{{ r.items is callable }}",  # a dict method wins over a key of that name, as in Jinja
    "{{ r['items'] }}",
    "{{ r.get('id') }}",
    "{{ r.nested.deep }}",
    "{{ r.nested.gone is defined }}",
    "{{ o.real }}",
    "{{ sub.id }} {{ sub.attr }}",
    "{{ r.__class__.__name__ }}",
    "{{ _('Saved.') }}",
    "{{ _('50%% done') }}",
    "{{ _('%(n)s of <b>', n='<i>') }}",
    "{{ gettext('Log the next one') }}",
]


class Sub(dict):
    attr = "class attribute"


def _envs(autoescape: bool) -> tuple[Environment, Environment]:
    plain = Environment(autoescape=autoescape, extensions=["jinja2.ext.i18n"])
    plain.install_gettext_callables(i18n.gettext, i18n.ngettext, newstyle=True)  # type: ignore[attr-defined]
    fast = AppEnvironment(autoescape=autoescape, extensions=["jinja2.ext.i18n"])
    fast.install_gettext_callables(i18n.gettext, i18n.ngettext, newstyle=True)  # type: ignore[attr-defined]
    install(fast)
    return plain, fast


@pytest.mark.parametrize("autoescape", [True, False])
@pytest.mark.parametrize("locale", ["zh_CN", "en"])
@pytest.mark.parametrize("source", EXPRESSIONS)
def test_app_environment_renders_as_jinja(source: str, locale: str, autoescape: bool) -> None:
    plain, fast = _envs(autoescape)
    context = {
        "r": {"id": 7, "name": "<x>", "items": "a key", "nested": {"deep": 1}},
        "o": 3,
        "sub": Sub(id=2, attr="a key"),
    }
    token = i18n.current_locale.set(locale)
    try:
        expected = plain.from_string(source).render(context)
        assert fast.from_string(source).render(context) == expected
    finally:
        i18n.current_locale.reset(token)


def test_a_global_set_later_reaches_templates_already_loaded() -> None:
    _, fast = _envs(True)
    template = fast.from_string("{{ later | default('unset') }}")
    assert template.render() == "unset"
    fast.globals["later"] = "set"
    assert template.render() == "set"


def test_csrf_tokens_match_one_check_or_two() -> None:
    secret = "s" * 32
    token, other = generate_csrf_token(secret), generate_csrf_token(secret)
    assert csrf_tokens_match(token, token, secret)
    assert not csrf_tokens_match(token, other, secret)
    assert not csrf_tokens_match(token, token, "another secret")
    forged = token[:-1] + ("0" if token[-1] != "0" else "1")
    assert not csrf_tokens_match(forged, forged, secret)
    assert not csrf_tokens_match(token, forged, secret)
    assert not csrf_tokens_match(forged, token, secret)
    assert not csrf_tokens_match("", "", secret)
