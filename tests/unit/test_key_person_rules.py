"""The key-person ledger's pure rules: contact frequency per risk level, ID number and phone."""

from datetime import date, timedelta

import pytest

from app.domain import key_persons as kp

REG = date(2026, 1, 1)


@pytest.mark.parametrize("level, days", [("high", 7), ("medium", 30), ("low", 90)])
def test_contact_frequency_per_level_at_the_threshold(level, days):
    last = date(2026, 3, 1)
    assert kp.CONTACT_DAYS[level] == days
    assert kp.contact_due(level, last, REG) == last + timedelta(days=days)
    # due day itself is not overdue; the day after is (threshold +-1)
    assert not kp.contact_overdue(level, last, REG, last + timedelta(days=days - 1))
    assert not kp.contact_overdue(level, last, REG, last + timedelta(days=days))
    assert kp.contact_overdue(level, last, REG, last + timedelta(days=days + 1))
    assert kp.days_overdue(level, last, REG, last + timedelta(days=days + 1)) == 1


def test_never_contacted_counts_from_registration_and_unknown_level_is_strictest():
    assert kp.contact_due("high", None, REG) == REG + timedelta(days=7)
    assert kp.contact_overdue("high", None, REG, REG + timedelta(days=8))
    assert kp.contact_interval("bogus") == 7
    assert kp.days_overdue("low", None, REG, REG) == 0


def test_id_number_check_digit_and_phone():
    good = kp.with_check_digit("22010519650101234")
    assert kp.valid_id_number(good)
    assert kp.valid_id_number(good.lower())
    bad_digit = good[:17] + ("0" if good[17] != "0" else "1")
    assert not kp.valid_id_number(bad_digit)
    assert not kp.valid_id_number("12345")
    assert kp.valid_phone("13912345678") and kp.valid_phone("0431-88881234")
    assert not kp.valid_phone("1391234567") and not kp.valid_phone("abc")
