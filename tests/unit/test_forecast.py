"""Forecast domain: the model on generated series with known yearly seasonality, MASE, the
rolling-origin backtest, fallbacks for short histories, zeros, and the category rules."""

from __future__ import annotations

import math
from datetime import date

import numpy as np
import pytest

from app.domain import forecast as f


def seasonal_series(n: int, seed: int, level: float = 20.0, amp: float = 0.8) -> np.ndarray:
    """Poisson counts with a winter peak (log-cosine yearly cycle) and a mild upward trend."""
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    lam = level * np.exp(amp * np.cos(2 * math.pi * t / f.YEAR_WEEKS)) * (1 + 0.002 * t)
    return rng.poisson(lam).astype(float)


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5, 6])
def test_model_beats_seasonal_naive_on_seasonal_series(seed):
    y = seasonal_series(175, seed)
    result = f.backtest(y)  # 13 origins 4 weeks apart: a year of cut-offs
    assert result is not None and result.origins == 13
    assert result.model_mase < 1.0
    assert result.model_mase < result.naive_mase
    assert result.coverage95 >= 0.8


def test_intervals_contain_most_of_the_future():
    inside95 = inside80 = total = 0
    for seed in range(20):
        y = seasonal_series(170, seed)
        train, future = y[:-8], y[-8:]
        fc = f.forecast(train)
        assert fc.model == "fourier_ar"
        assert len(fc.mean) == f.HORIZON
        for a, lo80, hi80, lo95, hi95, m in zip(
            future, fc.lo80, fc.hi80, fc.lo95, fc.hi95, fc.mean, strict=True
        ):
            assert 0 <= lo95 <= lo80 <= m <= hi80 <= hi95
            inside95 += lo95 <= a <= hi95
            inside80 += lo80 <= a <= hi80
            total += 1
    assert inside95 / total >= 0.88
    assert inside80 / total >= 0.65


def test_winter_forecast_is_higher_than_summer():
    y = seasonal_series(156, 7)  # week 0 is mid-winter (cosine peak): ends in winter again
    winter = f.forecast(y).mean
    summer = f.forecast(y[:130]).mean  # ends half a year later: summer weeks ahead
    assert np.mean(winter) > 2 * np.mean(summer)


def test_short_histories_fall_back():
    y = seasonal_series(80, 3)
    fc = f.forecast(y)
    assert fc.model == "seasonal_naive_drift"
    assert len(fc.mean) == 8 and all(lo <= hi for lo, hi in zip(fc.lo95, fc.hi95, strict=True))
    fc = f.forecast(y[:20])
    assert fc.model == "recent_mean"
    assert fc.lo95[0] <= fc.mean[0] <= fc.hi95[0]
    assert f.forecast([5.0]).model == "recent_mean"
    assert f.forecast([]).model == "zeros"
    assert f.backtest(y[:40]) is None


def test_zeros_are_handled():
    fc = f.forecast([0.0] * 120)
    assert fc.model == "zeros" and fc.mean == (0.0,) * 8 and fc.hi95 == (0.0,) * 8
    sparse = np.zeros(130)
    sparse[::13] = 1
    fc = f.forecast(sparse)
    assert all(v >= 0 and math.isfinite(v) for v in fc.mean + fc.lo95 + fc.hi95)
    assert f.mase([0, 0], [0, 0], [3.0] * 60) == 0.0
    assert f.mase([1, 0], [0, 0], [3.0] * 60) == math.inf


def test_mase_against_seasonal_naive_scale():
    train = [float(i % 4) for i in range(60)]  # period 4: seasonal naive is perfect with m=4
    assert f.mase([1, 2], [1, 2], train, season=4) == 0.0
    train = list(range(10))  # shorter than a season: one-step naive scale (1 per week)
    assert f.mase([12, 13], [10, 10], [float(v) for v in train]) == pytest.approx(2.5)
    with pytest.raises(ValueError):
        f.mase([1], [1, 2], train)


def test_seasonal_naive_repeats_last_year():
    y = list(range(60))
    assert f.seasonal_naive(y, 3) == [8.0, 9.0, 10.0]


def test_weekly_series_and_weeks():
    assert f.week_start(date(2026, 11, 29)) == date(2026, 11, 23)  # a Sunday -> its Monday
    counts = {date(2026, 11, 2): 2, date(2026, 11, 4): 1, date(2026, 11, 18): 5}
    assert f.weekly_series(counts, date(2026, 11, 2), date(2026, 11, 23)) == [3, 0, 5, 0]
    assert f.week_number(f.EPOCH) == 0 and f.week_number(date(2000, 1, 10)) == 1


def test_categories():
    assert f.category_of_visit(["request"], "暖气不热，已多次找热力公司没人管") == "heating"
    assert f.category_of_visit(["dispute"], "建筑工地包工头欠薪失联") == "wages"
    assert f.category_of_visit(["security", "fire"], "楼道堆放杂物") == "safety"
    assert f.category_of_visit(["dispute"], "邻居养狗夜里吠叫") == "dispute"
    assert f.category_of_visit([], "") == "other"
    assert f.category_of_case("住房", "小区楼顶漏水") == "property"
    assert f.category_of_case("住房", "供热不达标，室温只有十四度") == "heating"
    assert f.category_of_case("劳动保障", "") == "wages"
    assert f.category_of_case("教育", "") == "other"
    assert set(f.CATEGORIES) >= {"heating", "property", "dispute", "wages", "safety", "other"}


def test_yearly_profile_is_smooth():
    months = {m: float(m) for m in range(1, 13)}
    a = f.yearly_profile(date(2026, 6, 1), months)
    b = f.yearly_profile(date(2026, 6, 8), months)
    assert 5 <= a <= 6 and a < b
