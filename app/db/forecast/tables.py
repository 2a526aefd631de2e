"""Forecasts: weekly counts per street x category for the next weeks, and demo history."""

from piccolo.columns import Date, Integer, Real, Serial, Timestamptz, Varchar
from piccolo.table import Table


class Forecast(Table, tablename="forecast"):
    """One forecast week of one street x category (the latest computation replaces the last)."""

    id = Serial(primary_key=True)
    street = Integer(index=True)  # unit id of the street
    category = Varchar(length=32)
    week_start = Date()
    mean = Real()
    lo80 = Real()
    hi80 = Real()
    lo95 = Real()
    hi95 = Real()
    computed_at = Timestamptz()
    model = Varchar(length=32)


class ForecastHistory(Table, tablename="forecast_history"):
    """Weekly counts per street x category kept as numbers (``source`` 'demo': generated demo
    history before the raw demo records begin)."""

    id = Serial(primary_key=True)
    street = Integer(index=True)
    category = Varchar(length=32)
    week_start = Date()
    count = Integer()
    source = Varchar(length=16, default="demo")
