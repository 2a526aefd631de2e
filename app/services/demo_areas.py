"""Imports every area's demo-history module so its seeders register. Areas add a line here."""
import app.services.cases_demo  # noqa: F401  (petition cases)
import app.services.field_demo  # noqa: F401  (field work)
import app.services.forecast_demo  # noqa: F401  (forecasts: demo weekly history, order 95)
import app.services.platform_demo  # noqa: F401  (smart platform: key persons, risks, warnings)
import app.services.rollups  # noqa: F401  (roll-ups: rolls the demo history up, order 90)
