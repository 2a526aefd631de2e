"""The statutory calendar: official holidays, 调休 workdays, overrides, Civil Code counting."""

from datetime import UTC, date, datetime, timedelta

import pytest

from app.domain.calendar import PACKAGE_YEARS, WorkCalendar, local_date

CAL = WorkCalendar()


def days(start: date, end: date) -> list[date]:
    return [start + timedelta(days=i) for i in range((end - start).days + 1)]


# --- what the packaged official calendar knows ----------------------------------------------


def test_package_knows_2025_and_2026_but_not_2027():
    assert {2025, 2026} <= PACKAGE_YEARS
    assert 2027 not in PACKAGE_YEARS
    assert {2025, 2026} <= CAL.known_years
    assert 2027 not in CAL.known_years


@pytest.mark.parametrize(
    ("first", "last"),
    [
        (date(2025, 1, 28), date(2025, 2, 4)),  # Spring Festival 2025
        (date(2026, 2, 15), date(2026, 2, 23)),  # Spring Festival 2026
        (date(2025, 10, 1), date(2025, 10, 8)),  # National Day + Mid-autumn 2025
        (date(2026, 10, 1), date(2026, 10, 7)),  # National Day 2026
    ],
)
def test_every_day_of_an_official_break_is_a_rest_day(first, last):
    assert not any(CAL.is_workday(d) for d in days(first, last))


@pytest.mark.parametrize(
    "day",
    [
        date(2025, 2, 5),
        date(2026, 2, 24),
        date(2025, 10, 9),
        date(2026, 10, 8),
    ],
)
def test_the_day_after_a_break_is_a_workday(day):
    assert CAL.is_workday(day)


@pytest.mark.parametrize(
    "day",
    [
        date(2025, 1, 26),  # Sunday before Spring Festival 2025
        date(2025, 2, 8),  # Saturday after
        date(2026, 2, 14),  # Saturday before Spring Festival 2026
        date(2026, 2, 28),  # Saturday after
        date(2025, 9, 28),  # Sunday before National Day 2025
        date(2025, 10, 11),  # Saturday after
        date(2026, 9, 20),  # Sunday before National Day 2026
        date(2026, 10, 10),  # Saturday after
    ],
)
def test_make_up_weekend_days_are_workdays(day):
    assert day.weekday() >= 5
    assert CAL.is_workday(day)


def test_ordinary_weekend_days_are_rest_days():
    assert not CAL.is_workday(date(2025, 3, 1))
    assert not CAL.is_workday(date(2025, 3, 2))
    assert CAL.is_workday(date(2025, 3, 3))


# --- unknown years and overrides ---------------------------------------------------------


def test_unknown_year_falls_back_to_monday_to_friday():
    assert CAL.is_workday(date(2027, 1, 1))  # a Friday; the real 2027 calendar is not known
    assert not CAL.is_workday(date(2027, 1, 2))
    assert not CAL.is_known(date(2027, 1, 1))
    assert CAL.is_known(date(2026, 12, 31))


def test_overrides_make_a_future_year_known_and_win():
    cal = WorkCalendar(overrides={date(2027, 1, 1): False, date(2027, 1, 2): True})
    assert 2027 in cal.known_years
    assert cal.is_known(date(2027, 6, 1))
    assert not cal.is_workday(date(2027, 1, 1))
    assert cal.is_workday(date(2027, 1, 2))


def test_overrides_win_over_the_packaged_calendar():
    cal = WorkCalendar(overrides={date(2025, 10, 9): False, date(2025, 10, 5): True})
    assert not cal.is_workday(date(2025, 10, 9))
    assert cal.is_workday(date(2025, 10, 5))
    assert CAL.is_workday(date(2025, 10, 9))  # other calendars are unaffected


def test_override_keys_may_be_datetimes():
    cal = WorkCalendar(overrides={datetime(2027, 1, 4, 12): False})
    assert not cal.is_workday(date(2027, 1, 4))


# --- working-day periods -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "expected"),
    [
        (date(2025, 3, 3), date(2025, 3, 10)),  # plain week: Mon + 5 workdays = next Mon
        (date(2025, 1, 24), date(2025, 2, 7)),  # counts Sun 1-26 (调休), skips the break
        (date(2025, 9, 26), date(2025, 10, 10)),  # counts Sun 9-28, skips Oct 1-8
        (date(2026, 2, 13), date(2026, 2, 27)),  # counts Sat 2-14, skips Feb 15-23
        (date(2026, 9, 30), date(2026, 10, 13)),  # counts Sat 10-10
    ],
)
def test_add_workdays_skips_breaks_and_counts_make_up_days(start, expected):
    assert CAL.add_workdays(start, 5) == expected


def test_add_workdays_does_not_count_the_starting_day():
    assert CAL.add_workdays(date(2025, 3, 3), 1) == date(2025, 3, 4)


def test_add_workdays_from_a_rest_day_starts_counting_after_it():
    assert CAL.add_workdays(date(2025, 3, 1), 1) == date(2025, 3, 3)


def test_add_zero_workdays_is_the_start():
    assert CAL.add_workdays(date(2025, 10, 3), 0) == date(2025, 10, 3)


def test_negative_periods_are_rejected():
    with pytest.raises(ValueError):
        CAL.add_workdays(date(2025, 3, 3), -1)
    with pytest.raises(ValueError):
        CAL.add_days_statutory(date(2025, 3, 3), -1)


def test_workdays_between_counts_after_start_up_to_end():
    assert CAL.workdays_between(date(2025, 9, 26), date(2025, 10, 10)) == 5
    assert CAL.workdays_between(date(2025, 3, 3), date(2025, 3, 3)) == 0
    assert CAL.workdays_between(date(2025, 3, 5), date(2025, 3, 3)) == 0


# --- calendar-day periods (Civil Code 201, 203) ---------------------------------------------


def test_the_starting_day_is_not_counted():
    assert CAL.add_days_statutory(date(2025, 3, 3), 15) == date(2025, 3, 18)


def test_a_period_ending_on_a_workday_ends_that_day():
    assert CAL.add_days_statutory(date(2025, 4, 14), 60) == date(2025, 6, 13)


def test_jan_31_plus_30_days_lands_on_sunday_march_2_and_ends_monday():
    assert CAL.add_days_statutory(date(2025, 1, 31), 30) == date(2025, 3, 3)


def test_leap_february_2028_is_counted_day_by_day():
    # 2028 is not in the package: Monday–Friday fallback. Feb 29 exists.
    assert CAL.add_days_statutory(date(2028, 1, 31), 29) == date(2028, 2, 29)
    assert CAL.add_days_statutory(date(2028, 1, 31), 30) == date(2028, 3, 1)


def test_a_period_ending_on_an_ordinary_saturday_ends_on_monday():
    assert CAL.add_days_statutory(date(2025, 2, 14), 15) == date(2025, 3, 3)


def test_a_period_ending_on_a_make_up_saturday_ends_that_saturday():
    assert CAL.add_days_statutory(date(2025, 1, 24), 15) == date(2025, 2, 8)
    assert CAL.add_days_statutory(date(2026, 2, 13), 15) == date(2026, 2, 28)


@pytest.mark.parametrize(
    ("start", "expected"),
    [
        (date(2025, 1, 14), date(2025, 2, 5)),  # day 15 = Jan 29, Spring Festival 2025
        (date(2026, 2, 1), date(2026, 2, 24)),  # day 15 = Feb 16, Spring Festival 2026
        (date(2025, 9, 16), date(2025, 10, 9)),  # day 15 = Oct 1, National Day 2025
        (date(2026, 9, 16), date(2026, 10, 8)),  # day 15 = Oct 1, National Day 2026
    ],
)
def test_a_period_ending_in_a_holiday_ends_on_the_first_workday_after(start, expected):
    assert CAL.add_days_statutory(start, 15) == expected


def test_a_sixty_day_period_ending_in_labour_day_moves_past_it():
    # 2025-03-05 + 60 = Sunday 2025-05-04, inside Labour Day (May 1-5).
    assert CAL.add_days_statutory(date(2025, 3, 5), 60) == date(2025, 5, 6)


def test_zero_days_is_the_start_even_on_a_holiday():
    assert CAL.add_days_statutory(date(2025, 10, 1), 0) == date(2025, 10, 1)


def test_next_workday_is_the_day_itself_when_it_is_a_workday():
    assert CAL.next_workday(date(2025, 10, 9)) == date(2025, 10, 9)
    assert CAL.next_workday(date(2025, 10, 1)) == date(2025, 10, 9)


def test_overrides_move_statutory_period_ends():
    cal = WorkCalendar(overrides={date(2025, 3, 18): False})
    assert cal.add_days_statutory(date(2025, 3, 3), 15) == date(2025, 3, 19)


# --- dates from datetimes --------------------------------------------------------------------


def test_aware_datetimes_are_read_as_beijing_dates():
    late_utc = datetime(2025, 3, 2, 20, 0, tzinfo=UTC)  # 04:00 on Mar 3 in Beijing
    assert local_date(late_utc) == date(2025, 3, 3)
    assert CAL.is_workday(late_utc)


def test_naive_datetimes_keep_their_date():
    assert local_date(datetime(2025, 3, 2, 23, 59)) == date(2025, 3, 2)
    assert CAL.add_days_statutory(datetime(2025, 3, 3, 23, 0), 15) == date(2025, 3, 18)
