"""The message catalog: English msgids in code and templates, Simplified Chinese by default.

Catalogs are Babel ``.po`` files, one per area, under ``app/i18n/<locale>/``; they are read
(and merged) once at start-up. ``en`` needs no catalog: the msgids are the English text.
"""

from __future__ import annotations

from contextvars import ContextVar
from functools import cache
from pathlib import Path

from babel.messages.pofile import read_po

LOCALES = ("zh_CN", "en")
DEFAULT_LOCALE = "zh_CN"
CATALOG_DIR = Path(__file__).parent

current_locale: ContextVar[str] = ContextVar("current_locale", default=DEFAULT_LOCALE)


@cache
def catalog(locale: str) -> dict[str, str]:
    """Every translated message of ``locale`` (msgid -> text), merged over all area files."""
    messages: dict[str, str] = {}
    folder = CATALOG_DIR / locale
    if not folder.is_dir():
        return messages
    for po in sorted(folder.glob("*.po")):
        with po.open("rb") as fh:
            for message in read_po(fh, locale=locale):
                if message.id and message.string and isinstance(message.id, str):
                    messages[message.id] = message.string
    return messages


def gettext(message: str, locale: str | None = None) -> str:
    """``message`` in the current (or given) locale; the English msgid when untranslated."""
    return catalog(locale or current_locale.get()).get(message, message)


def ngettext(singular: str, plural: str, n: int) -> str:
    """Plural-aware gettext (Chinese has one form; English picks by ``n``)."""
    return gettext(singular if n == 1 else plural)


_ = gettext


def negotiate(cookie: str | None, user_locale: str | None, accept: str | None) -> str:
    """Choose the locale: the user's cookie, then their account, then the default (zh_CN)."""
    for candidate in (cookie, user_locale):
        if candidate in LOCALES:
            return candidate
    return DEFAULT_LOCALE


def N_(message: str) -> str:
    """Mark ``message`` for the catalog without translating it yet (translated when shown)."""
    return message
