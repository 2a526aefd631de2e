"""The statutory calendar: working days and how periods are counted.

Working days follow China's official holiday calendar, make-up workdays (调休) included, as
published each year by the State Council General Office and packaged by ``chinesecalendar``.
An admin can add a year the package does not know yet (or correct a day) with an override
table. A year that neither knows falls back to Monday–Friday; :attr:`WorkCalendar.known_years`
lets the UI warn that deadlines in such a year are provisional.

Periods are counted under the Civil Code (民法典):

- Art. 201: "按照年、月、日、小时计算期间的，开始的当日不计入，自下一日开始计算。" — the day
  the period starts is not counted.
- Art. 203: "期间的最后一日是法定休假日的，以法定休假日结束的次日为期间的最后一日。" — a period
  whose last day is a statutory rest day ends on the day after that rest.

Decision — weekends extend calendar-day periods too. 法定休假日 is read as every day on which
people lawfully rest: the statutory holidays (全国年节及纪念日放假办法) *and* the weekly rest
days (公休日, Saturday and Sunday under 国务院关于职工工作时间的规定), as shifted by the
official 调休 arrangements. This is the reading the courts have long applied (the former
民通意见 §198 spelt it out: "期间的最后一天是星期日或者其他法定休假日，而星期日或者其他法定休假日
有变通的，以实际休假日的次日为期间的最后一天"), and it is also the reading that never shortens
a petitioner's or a body's time. Consequences:

- a period ending on an ordinary Saturday ends on the following Monday;
- a period ending on a make-up Saturday (调休上班) ends that Saturday — it is a working day;
- a period ending inside the Spring Festival break ends on the first working day after it.

Art. 203 ¶2 makes the last day run until 24:00, so a deadline is a *date* and an act on that
date is in time.

Dates are local (Beijing) dates: :func:`local_date` turns an aware ``datetime`` into one.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import chinese_calendar

#: The district's time zone: every local date and week is Beijing's.
TZ_NAME = "Asia/Shanghai"
LOCAL_TZ = ZoneInfo(TZ_NAME)

_ONE_DAY = timedelta(days=1)

#: Years the packaged official calendar covers (inclusive range, as the package checks it).
PACKAGE_YEARS: frozenset[int] = frozenset(
    range(
        min(chinese_calendar.holidays).year,
        max(chinese_calendar.holidays).year + 1,
    )
)


def local_date(value: date | datetime) -> date:
    """The Beijing calendar date of ``value``; naive datetimes are taken as Beijing time."""
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(LOCAL_TZ)
        return value.date()
    return value


def local_date_sql(column: str) -> str:
    """SQL for the Beijing calendar date of a ``timestamptz`` column (:func:`local_date`)."""
    return f"({column} AT TIME ZONE '{TZ_NAME}')::date"


def today() -> date:
    """Today's date in Beijing (the server's own date trails it from 16:00 to 24:00 UTC)."""
    return datetime.now(LOCAL_TZ).date()


class WorkCalendar:
    """Working days and statutory period arithmetic.

    :param overrides: ``{date: is_workday}`` entries that win over the packaged calendar, e.g.
        next year's official holiday notice entered by an admin before the package has it. A
        year with at least one override counts as known.
    """

    def __init__(self, overrides: Mapping[date, bool] | None = None) -> None:
        self._overrides: dict[date, bool] = {
            local_date(day): bool(flag) for day, flag in (overrides or {}).items()
        }
        self.known_years: frozenset[int] = PACKAGE_YEARS | {d.year for d in self._overrides}

    def is_known(self, day: date | datetime) -> bool:
        """Whether ``day`` falls in a year whose official holidays are known (not guessed)."""
        return local_date(day).year in self.known_years

    def is_workday(self, day: date | datetime) -> bool:
        """Whether ``day`` is a working day: override, else official calendar, else Mon–Fri."""
        day = local_date(day)
        if day in self._overrides:
            return self._overrides[day]
        if day.year in PACKAGE_YEARS:
            return chinese_calendar.is_workday(day)
        return day.weekday() < 5

    def next_workday(self, day: date | datetime) -> date:
        """``day`` itself if it is a working day, else the first working day after it."""
        day = local_date(day)
        while not self.is_workday(day):
            day += _ONE_DAY
        return day

    def add_workdays(self, start: date | datetime, n: int) -> date:
        """The ``n``-th working day after ``start`` (the starting day is not counted).

        ``n == 0`` returns ``start``. Used for periods the law states in working days
        (工作日), e.g. the 5-working-day objection window.
        """
        if n < 0:
            raise ValueError("n must not be negative")
        day = local_date(start)
        counted = 0
        while counted < n:
            day += _ONE_DAY
            if self.is_workday(day):
                counted += 1
        return day

    def add_days_statutory(self, start: date | datetime, n: int) -> date:
        """The last day of an ``n``-day period starting on ``start`` (Civil Code 201, 203).

        The starting day is not counted; if the ``n``-th day is a rest day (weekend or
        holiday, see the module docstring for why weekends count), the period ends on the
        first working day after it. ``n == 0`` returns ``start`` unchanged.
        """
        if n < 0:
            raise ValueError("n must not be negative")
        day = local_date(start)
        if n == 0:
            return day
        return self.next_workday(day + timedelta(days=n))

    def workdays_between(self, start: date | datetime, end: date | datetime) -> int:
        """Working days after ``start`` up to and including ``end`` (0 if ``end <= start``)."""
        day, end = local_date(start), local_date(end)
        count = 0
        while day < end:
            day += _ONE_DAY
            if self.is_workday(day):
                count += 1
        return count
