"""The key-person ledger's rules (重点人员): categories, risk levels, how often each level must be
contacted, and what a valid ID number / phone looks like. Pure: no I/O.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

from app.domain.forms import N_

CATEGORIES: dict[str, str] = {
    "repeat": N_("Repeat petitioner"),  # 重复访
    "group_leader": N_("Leader of group petitions"),  # 群体访牵头人
    "counselling": N_("Needs psychological counselling"),  # 心理疏导对象
    "dispute_party": N_("Party to a dispute"),  # 矛盾纠纷当事人
    "beijing": N_("Petitions to Beijing"),  # 进京访人员
    "other": N_("Other"),
}

RISK_LEVELS: dict[str, str] = {"high": N_("High"), "medium": N_("Medium"), "low": N_("Low")}

#: Days allowed between two contacts, per risk level (high: weekly).
CONTACT_DAYS: dict[str, int] = {"high": 7, "medium": 30, "low": 90}

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
_PHONE = re.compile(r"^(1\d{10}|0\d{2,3}-?\d{7,8})$")


def contact_interval(risk_level: str) -> int:
    """Days allowed between contacts for ``risk_level`` (unknown levels: the strictest)."""
    return CONTACT_DAYS.get(risk_level, min(CONTACT_DAYS.values()))


def contact_due(risk_level: str, last_contact: date | None, registered: date) -> date:
    """The day by which the next contact is due: the last contact (or registration) + interval."""
    return (last_contact or registered) + timedelta(days=contact_interval(risk_level))


def days_overdue(risk_level: str, last_contact: date | None, registered: date, today: date) -> int:
    """How many days past the due day ``today`` is (0 when not overdue)."""
    return max((today - contact_due(risk_level, last_contact, registered)).days, 0)


def contact_overdue(
    risk_level: str, last_contact: date | None, registered: date, today: date
) -> bool:
    """Whether the person should have been contacted before ``today``."""
    return days_overdue(risk_level, last_contact, registered, today) > 0


def valid_id_number(value: str) -> bool:
    """A mainland resident ID number: 18 characters with a valid check digit."""
    value = value.strip().upper()
    if not re.fullmatch(r"\d{17}[\dX]", value):
        return False
    total = sum(int(c) * w for c, w in zip(value[:17], _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11] == value[17]


def valid_phone(value: str) -> bool:
    """A mobile number (11 digits starting with 1) or a landline with its area code."""
    return bool(_PHONE.match(value.strip().replace(" ", "")))


def with_check_digit(first17: str) -> str:
    """An ID number completed with its check digit (for demo data and tests)."""
    total = sum(int(c) * w for c, w in zip(first17, _ID_WEIGHTS, strict=True))
    return first17 + _ID_CHECK[total % 11]
