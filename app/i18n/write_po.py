"""Write an area catalog from a dict (used when adding translations by hand: see README)."""

from __future__ import annotations

from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po, write_po


def merge(path: Path, translations: dict[str, str], locale: str = "zh_CN") -> None:
    """Add or update ``translations`` in the ``.po`` file at ``path``."""
    if path.exists():
        with path.open("rb") as fh:
            cat = read_po(fh, locale=locale)
    else:
        cat = Catalog(locale=locale, project="fengqiao", charset="utf-8")
    for msgid, text in translations.items():
        cat.add(msgid, text)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as fh:
        write_po(fh, cat, width=0, sort_output=True, omit_header=False)
