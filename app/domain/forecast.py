"""Weekly forecasts per street x category: the series, the model, MASE and the backtest.

Pure: no I/O. ``app.services.forecast`` builds the weekly counts from the database and stores
what :func:`forecast` returns.

The model (``fourier_ar``), used when a series has at least two full years (104 weeks): a
regression of ``log(1 + count)`` on a linear trend and three pairs of yearly Fourier terms
(period 52.18 weeks) by statsmodels OLS, with AR(1) errors estimated from its residuals (two
steps: the last residual decays into the forecast and widens the intervals). Eight parameters,
however long the year, so two years are enough; the log keeps intervals positive and lets a
winter peak scale with the level. The point forecast is the back-transformed median (what
minimises absolute error, which MASE measures); the 80% and 95% intervals are normal intervals
on the log scale (AR(1) error variance plus the regression's parameter uncertainty),
back-transformed (quantiles survive a monotone transform).

Fallbacks for short histories: ``seasonal_naive_drift`` (last year's same week plus the mean
yearly change, 53..103 weeks) and ``recent_mean`` (the mean of the last 8 weeks, < 53 weeks).
An all-zero history forecasts zeros (``zeros``).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np

from app.i18n import N_

HORIZON = 8
SEASON = 52
YEAR_WEEKS = 365.25 / 7
FOURIER_K = 3
MIN_MODEL_WEEKS = 2 * SEASON
Z80 = 1.2815515655446004
Z95 = 1.959963984540054

#: Forecast categories (one per record) and their labels.
CATEGORIES: dict[str, str] = {
    "heating": N_("Winter heating"),
    "property": N_("Housing and property"),
    "dispute": N_("Disputes"),
    "wages": N_("Wages and labour"),
    "safety": N_("Safety hazards"),
    "other": N_("Other requests"),
}

#: Words that put a record in a category (plain alternations: also valid PostgreSQL regexes, so
#: the service classifies in SQL with the same patterns).
HEATING_PATTERN = "暖气|供热|供暖|取暖|室温|热力|采暖|暖费"
WAGES_PATTERN = "欠薪|工资|讨薪|工程款|社保"
PROPERTY_PATTERN = "物业|漏水|电梯|回迁|房屋|楼顶|维修基金"
_HEATING = re.compile(HEATING_PATTERN)
_WAGES = re.compile(WAGES_PATTERN)
_PROPERTY = re.compile(PROPERTY_PATTERN)
CASE_CATEGORIES = {
    "住房": "property",
    "城乡建设": "property",
    "劳动保障": "wages",
    "城市管理": "safety",
    "公安": "safety",
    "应急管理": "safety",
}
_TOPIC_ORDER = (
    ("security", "safety"),
    ("fire", "safety"),
    ("dispute", "dispute"),
    ("sanitation", "property"),
)


def category_of_visit(topics: Sequence[str] | None, summary: str | None) -> str:
    """The one forecast category of a visit, from its summary's words and its topics."""
    text = summary or ""
    if _HEATING.search(text):
        return "heating"
    if _WAGES.search(text):
        return "wages"
    if _PROPERTY.search(text):
        return "property"
    topics = set(topics or ())
    for topic, category in _TOPIC_ORDER:
        if topic in topics:
            return category
    return "other"


def category_of_case(category: str | None, content: str | None) -> str:
    """The one forecast category of a petition case, from its category and content."""
    if _HEATING.search(content or ""):
        return "heating"
    return CASE_CATEGORIES.get((category or "").strip(), "other")


def week_start(day: date) -> date:
    """The Monday of ``day``'s week."""
    return day - timedelta(days=day.weekday())


def weekly_series(counts: Mapping[date, float], first: date, last: date) -> list[float]:
    """Counts per week from the week of ``first`` to the week of ``last`` (missing weeks: 0)."""
    start, end = week_start(first), week_start(last)
    n = (end - start).days // 7 + 1
    out = [0.0] * max(n, 0)
    for day, value in counts.items():
        i = (week_start(day) - start).days // 7
        if 0 <= i < n:
            out[i] += float(value)
    return out


@dataclass(frozen=True)
class Forecast:
    """The next ``len(mean)`` weeks: point forecast and 80% / 95% prediction intervals."""

    mean: tuple[float, ...]
    lo80: tuple[float, ...]
    hi80: tuple[float, ...]
    lo95: tuple[float, ...]
    hi95: tuple[float, ...]
    model: str


def _clip(values: Iterable[float]) -> tuple[float, ...]:
    return tuple(max(0.0, float(v)) if math.isfinite(v) else 0.0 for v in values)


def _normal(mean: np.ndarray, sd: np.ndarray, model: str) -> Forecast:
    return Forecast(
        mean=_clip(mean),
        lo80=_clip(mean - Z80 * sd),
        hi80=_clip(mean + Z80 * sd),
        lo95=_clip(mean - Z95 * sd),
        hi95=_clip(mean + Z95 * sd),
        model=model,
    )


def seasonal_naive(y: Sequence[float], horizon: int = HORIZON, season: int = SEASON) -> list[float]:
    """Last season's same week (repeated for horizons beyond one season)."""
    n = len(y)
    if n < season:
        return [float(y[-1]) if n else 0.0] * horizon
    return [float(y[n - season + (h % season)]) for h in range(horizon)]


def _seasonal_naive_drift(y: np.ndarray, horizon: int, season: int) -> Forecast:
    diffs = y[season:] - y[:-season]
    drift = float(diffs.mean())
    sd = float(diffs.std(ddof=1)) if len(diffs) > 1 else float(np.abs(diffs).mean() or 1.0)
    base = np.array(seasonal_naive(y, horizon, season))
    steps = np.array([h // season + 1 for h in range(horizon)], dtype=float)
    mean = base + drift * steps
    return _normal(mean, sd * np.sqrt(steps * (1 + 1 / max(len(diffs), 1))), "seasonal_naive_drift")


def _recent_mean(y: np.ndarray, horizon: int) -> Forecast:
    recent = y[-8:]
    mean = float(recent.mean())
    sd = float(recent.std(ddof=1)) if len(recent) > 1 else max(mean, 1.0) ** 0.5
    sd = max(sd, math.sqrt(max(mean, 0.0)))  # at least Poisson noise
    sd_h = np.full(horizon, sd * math.sqrt(1 + 1 / len(recent)))
    return _normal(np.full(horizon, mean), sd_h, "recent_mean")


def fourier_terms(t: np.ndarray, k: int = FOURIER_K, period: float = YEAR_WEEKS) -> np.ndarray:
    """Trend and ``k`` sine/cosine pairs of the yearly cycle for week numbers ``t``."""
    cols = [t / period]
    for j in range(1, k + 1):
        angle = 2 * math.pi * j * t / period
        cols += [np.sin(angle), np.cos(angle)]
    return np.column_stack(cols)


def _fourier_ar(y: np.ndarray, horizon: int, phase: int) -> Forecast:
    import statsmodels.api as sm

    n = len(y)
    t = np.arange(n, dtype=float) + phase
    t_new = np.arange(n, n + horizon, dtype=float) + phase
    z = np.log1p(y)
    fit = sm.OLS(z, sm.add_constant(fourier_terms(t), has_constant="add")).fit()
    x_new = sm.add_constant(fourier_terms(t_new), has_constant="add")
    pred = fit.get_prediction(x_new).summary_frame(alpha=0.05)
    resid = np.asarray(fit.resid, dtype=float)
    # AR(1) errors, two-step: the last residual decays into the forecast; the variance grows.
    phi = float(np.clip(np.corrcoef(resid[:-1], resid[1:])[0, 1], -0.95, 0.95))
    if not math.isfinite(phi):
        phi = 0.0
    h = np.arange(1, horizon + 1)
    mu = np.asarray(pred["mean"], dtype=float) + resid[-1] * phi**h
    innov = float(np.var(resid[1:] - phi * resid[:-1], ddof=1))
    ar_var = innov * np.array([np.sum(phi ** (2 * np.arange(k))) for k in h])
    se_mean = np.asarray(pred["mean_se"], dtype=float)
    sd = np.sqrt(ar_var + se_mean**2)
    if not np.all(np.isfinite(mu)) or not np.all(np.isfinite(sd)):
        raise ValueError("model could not be fitted")
    return Forecast(
        mean=_clip(np.expm1(mu)),
        lo80=_clip(np.expm1(mu - Z80 * sd)),
        hi80=_clip(np.expm1(mu + Z80 * sd)),
        lo95=_clip(np.expm1(mu - Z95 * sd)),
        hi95=_clip(np.expm1(mu + Z95 * sd)),
        model="fourier_ar",
    )


def forecast(
    y: Sequence[float], horizon: int = HORIZON, season: int = SEASON, phase: int = 0
) -> Forecast:
    """Forecast the ``horizon`` weeks after the weekly counts ``y``.

    ``phase``: the week number (on any fixed calendar, e.g. weeks since 2000-01-03) of ``y[0]``,
    so the yearly cycle lines up with the calendar whatever the series' start.
    """
    arr = np.nan_to_num(np.asarray(y, dtype=float), nan=0.0).clip(min=0.0)
    if len(arr) == 0 or not arr.any():
        zeros = (0.0,) * horizon
        return Forecast(zeros, zeros, zeros, zeros, zeros, "zeros")
    if len(arr) >= 2 * season:
        try:
            return _fourier_ar(arr, horizon, phase)
        except (ValueError, np.linalg.LinAlgError):
            pass
    if len(arr) > season:
        return _seasonal_naive_drift(arr, horizon, season)
    return _recent_mean(arr, horizon)


def mase(
    actual: Sequence[float],
    predicted: Sequence[float],
    train: Sequence[float],
    season: int = SEASON,
) -> float:
    """Mean absolute error of ``predicted`` scaled by the in-sample seasonal-naive error.

    With fewer than ``season + 1`` training weeks the scale is the one-step naive error. A zero
    scale (a constant history) gives 0 for a perfect forecast and infinity otherwise.
    """
    a = np.asarray(actual, dtype=float)
    p = np.asarray(predicted, dtype=float)
    tr = np.asarray(train, dtype=float)
    if len(a) == 0 or len(a) != len(p):
        raise ValueError("actual and predicted must be non-empty and of equal length")
    m = season if len(tr) > season else 1
    if len(tr) <= m:
        raise ValueError("training series too short for a MASE scale")
    scale = float(np.mean(np.abs(tr[m:] - tr[:-m])))
    error = float(np.mean(np.abs(a - p)))
    if scale == 0.0:
        return 0.0 if error == 0.0 else math.inf
    return error / scale


@dataclass(frozen=True)
class Backtest:
    """Rolling-origin backtest: mean MASE of the model and of seasonal naive over the origins."""

    model_mase: float
    naive_mase: float
    origins: int
    coverage95: float  # share of actual weeks inside the model's 95% interval


def backtest(
    y: Sequence[float],
    horizon: int = HORIZON,
    origins: int = 13,
    step: int = 4,
    season: int = SEASON,
    phase: int = 0,
) -> Backtest | None:
    """Forecast from ``origins`` cut-offs ``step`` weeks apart (the last ends at the series' end;
    by default a year of origins, so every season is scored); None when the series is too short
    for even one origin with a year of training data."""
    arr = np.asarray(y, dtype=float)
    n = len(arr)
    cuts = [n - horizon - i * step for i in range(origins)]
    cuts = sorted(c for c in cuts if c > season)
    if not cuts:
        return None
    model_scores, naive_scores, inside, total = [], [], 0, 0
    for cut in cuts:
        train, actual = arr[:cut], arr[cut : cut + horizon]
        fc = forecast(train, horizon, season, phase)
        naive = seasonal_naive(train, horizon, season)
        model_scores.append(mase(actual, fc.mean, train, season))
        naive_scores.append(mase(actual, naive, train, season))
        inside += sum(lo <= a <= hi for a, lo, hi in zip(actual, fc.lo95, fc.hi95, strict=True))
        total += len(actual)
    finite = [(m, s) for m, s in zip(model_scores, naive_scores, strict=True) if math.isfinite(m)]
    if not finite:
        return Backtest(math.inf, math.inf, len(cuts), inside / total)
    return Backtest(
        model_mase=float(np.mean([m for m, _ in finite])),
        naive_mase=float(np.mean([s for _, s in finite if math.isfinite(s)] or [math.inf])),
        origins=len(cuts),
        coverage95=inside / total,
    )


EPOCH = date(2000, 1, 3)  # a Monday: week numbers for ``phase``


def week_number(day: date) -> int:
    """Weeks since 2000-01-03 of ``day``'s week (the ``phase`` of a series starting there)."""
    return (week_start(day) - EPOCH).days // 7


def yearly_profile(week: date, peak_months: Mapping[int, float]) -> float:
    """A smooth month-weight profile (1..12 -> weight) read at ``week`` (linear between mid-months).

    Used by the demo history; pure so it can be tested.
    """
    mid = week + timedelta(days=3)
    pos = (mid.month - 1) + (mid.day - 1) / 31 - 0.5
    lo = math.floor(pos)
    frac = pos - lo
    w_lo = peak_months[(lo % 12) + 1]
    w_hi = peak_months[((lo + 1) % 12) + 1]
    return w_lo * (1 - frac) + w_hi * frac
