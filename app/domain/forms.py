"""One way to parse and validate input, for HTML forms and JSON bodies alike.

A :class:`Form` collects cleaned values and one message per bad field; messages are English
msgids (translated when rendered). Pure: no I/O.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from datetime import date, datetime, time
from typing import Any

from app.domain.calendar import LOCAL_TZ


def N_(message: str) -> str:
    """Mark a message for the catalog (translated where it is shown)."""
    return message


REQUIRED = N_("This field is required.")


def _raw(data: Mapping[str, Any], name: str) -> Any:
    value = data.get(name)
    if isinstance(value, list):
        value = value[-1] if value else None
    if isinstance(value, str):
        value = value.strip()
    return value


def multi(data: Mapping[str, Any], name: str) -> list[str]:
    """All values of a multi-valued field (checkbox list, JSON array, or comma list)."""
    getall = getattr(data, "getall", None)
    values = getall(name, []) if getall is not None else data.get(name) or []
    if isinstance(values, str):
        values = [v for v in values.split(",")]
    return [str(v).strip() for v in values if str(v).strip()]


class Form:
    """Parses fields of ``data`` one by one; ``errors`` maps field -> message."""

    def __init__(self, data: Mapping[str, Any]) -> None:
        self.data = data
        self.values: dict[str, Any] = {}
        self.errors: dict[str, str] = {}

    @property
    def ok(self) -> bool:
        return not self.errors

    def error(self, name: str, message: str) -> None:
        """Record ``message`` for ``name`` unless that field already has one."""
        self.errors.setdefault(name, message)

    def text(
        self, name: str, *, required: bool = False, max_length: int = 2000, default: str = ""
    ) -> str:
        value = _raw(self.data, name)
        if value is None or value == "":
            if required:
                self.error(name, REQUIRED)
            self.values[name] = default
            return default
        value = str(value)
        if len(value) > max_length:
            self.error(name, "Too long.")
        if "\x00" in value:
            # PostgreSQL text cannot hold NUL; say so here rather than fail on insert.
            value = value.replace("\x00", "")
            self.error(name, N_("Contains a character that cannot be stored."))
        self.values[name] = value
        return value

    def choice(
        self,
        name: str,
        choices: Iterable[str],
        *,
        required: bool = True,
        default: str | None = None,
    ) -> str | None:
        value = _raw(self.data, name)
        if value in (None, ""):
            if required and default is None:
                self.error(name, REQUIRED)
            self.values[name] = default
            return default
        if str(value) not in set(choices):
            self.error(name, "Not one of the allowed choices.")
            self.values[name] = str(value)
            return None
        self.values[name] = str(value)
        return str(value)

    def choices(self, name: str, choices: Iterable[str], *, required: bool = False) -> list[str]:
        allowed = set(choices)
        values = multi(self.data, name)
        if required and not values:
            self.error(name, REQUIRED)
        if any(v not in allowed for v in values):
            self.error(name, "Not one of the allowed choices.")
        self.values[name] = values
        return [v for v in values if v in allowed]

    def integer(
        self,
        name: str,
        *,
        required: bool = False,
        min_value: int | None = None,
        max_value: int | None = None,
        default: int | None = None,
    ) -> int | None:
        value = _raw(self.data, name)
        if value in (None, ""):
            if required:
                self.error(name, REQUIRED)
            self.values[name] = default
            return default
        try:
            number = int(value)
        except (TypeError, ValueError):
            self.error(name, "Enter a whole number.")
            self.values[name] = value
            return None
        if (min_value is not None and number < min_value) or (
            max_value is not None and number > max_value
        ):
            self.error(name, "Out of range.")
        self.values[name] = number
        return number

    def boolean(self, name: str) -> bool:
        value = _raw(self.data, name)
        result = value is True or str(value).lower() in {"1", "true", "on", "yes"}
        self.values[name] = result
        return result

    def day(self, name: str, *, required: bool = False) -> date | None:
        value = _raw(self.data, name)
        if value in (None, ""):
            if required:
                self.error(name, REQUIRED)
            self.values[name] = None
            return None
        try:
            parsed = date.fromisoformat(str(value)[:10])
        except ValueError:
            self.error(name, "Enter a date as YYYY-MM-DD.")
            self.values[name] = value
            return None
        self.values[name] = parsed
        return parsed

    def moment(self, name: str, *, required: bool = False, default: datetime | None = None):
        """An ISO 8601 date-time; naive values are taken as Beijing time."""
        value = _raw(self.data, name)
        if value in (None, ""):
            if required and default is None:
                self.error(name, REQUIRED)
            self.values[name] = default
            return default
        try:
            text = str(value).replace("Z", "+00:00")
            parsed = datetime.fromisoformat(text) if "T" in text or " " in text else None
            if parsed is None:
                parsed = datetime.combine(date.fromisoformat(text), time(9, 0))
        except ValueError:
            self.error(name, "Enter a date and time.")
            self.values[name] = value
            return None
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=LOCAL_TZ)
        self.values[name] = parsed
        return parsed

    def uuid(self, name: str, *, required: bool = False) -> uuid.UUID | None:
        value = _raw(self.data, name)
        if value in (None, ""):
            if required:
                self.error(name, REQUIRED)
            self.values[name] = None
            return None
        try:
            parsed = uuid.UUID(str(value))
        except ValueError:
            self.error(name, "Not a valid UUID.")
            self.values[name] = value
            return None
        self.values[name] = parsed
        return parsed
