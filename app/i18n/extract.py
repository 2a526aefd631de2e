"""Find every UI message in code and templates; report (or add) those the zh_CN catalog lacks.

``python -m app.i18n.extract`` lists missing msgids; ``--add FILE.po`` appends them to an area
catalog with an empty translation for a person to fill in.
"""

from __future__ import annotations

import sys
from pathlib import Path

from babel.messages.extract import extract_from_dir

from app.i18n import catalog

APP = Path(__file__).resolve().parent.parent
KEYWORDS = {
    "_": None,
    "gettext": None,
    "ngettext": (1, 2),
    "N_": None,
    "error": (2,),
    "OrgError": (2,),
    "RowError": (3,),
}
METHODS = [
    ("**.py", "python"),
    ("templates/**.html", "jinja2"),
]


def messages() -> dict[str, str]:
    """msgid -> first place it was found."""
    found: dict[str, str] = {}
    for filename, lineno, message, _comments, _context in extract_from_dir(
        str(APP),
        method_map=METHODS,
        keywords=KEYWORDS,
        options_map={"templates/**.html": {"extensions": "jinja2.ext.i18n"}},
    ):
        ids = message if isinstance(message, tuple) else (message,)
        for msgid in ids:
            if msgid and isinstance(msgid, str):
                found.setdefault(msgid, f"{filename}:{lineno}")
    return found


def missing(locale: str = "zh_CN") -> dict[str, str]:
    """Messages without a translation in ``locale``."""
    known = catalog(locale)
    return {m: where for m, where in messages().items() if m not in known}


def main() -> None:
    todo = missing()
    if "--add" in sys.argv:
        target = Path(sys.argv[sys.argv.index("--add") + 1])
        with target.open("a", encoding="utf-8") as fh:
            for msgid, where in todo.items():
                escaped = msgid.replace("\\", "\\\\").replace('"', '\\"')
                fh.write(f'\n#: {where}\nmsgid "{escaped}"\nmsgstr ""\n')
    for msgid, where in todo.items():
        print(f"{where}\t{msgid}")
    print(f"{len(todo)} missing", file=sys.stderr)


if __name__ == "__main__":
    main()
