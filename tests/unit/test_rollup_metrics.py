"""Metric formulas (DOMAIN.md §5) and the metric registry's SQL generation."""

from datetime import date

from app.domain import metrics as f


def test_rates_are_computed_from_summed_counts_not_averaged():
    a = {"calls": 10, "calls_reached": 9}
    b = {"calls": 90, "calls_reached": 45}
    total = f.sum_buckets([a, b])
    assert total == {"calls": 100, "calls_reached": 54}
    assert f.reach_rate(total) == 0.54


def test_rates_without_a_denominator_are_undefined():
    assert f.reach_rate({}) is None
    assert f.satisfaction_rate({"calls": 3}) is None
    assert f.mediation_success_rate({"mediations": 2, "mediations_in_progress": 2}) is None
    assert f.percent(None) == "—"


def test_satisfaction_counts_satisfied_and_basically_among_rated():
    m = {"calls_satisfied": 6, "calls_basically": 2, "calls_dissatisfied": 2, "calls": 20}
    assert f.satisfaction_rate(m) == 0.8


def test_mediation_success_and_resolved_locally_are_over_closed_mediations():
    m = {
        "mediations": 10,
        "mediations_in_progress": 2,
        "mediations_agreed": 6,
        "mediations_agreed_local": 4,
    }
    assert f.mediations_closed(m) == 8
    assert f.mediation_success_rate(m) == 0.75
    assert f.resolved_locally_rate(m) == 0.5


def test_coverage_is_capped_and_undefined_without_households():
    assert f.coverage(30, 60) == 0.5
    assert f.coverage(70, 60) == 1.0
    assert f.coverage(3, 0) is None


def test_overdue_only_for_days_before_today():
    m = {"followups_due": 5, "followups_done_on_time": 3}
    today = date(2026, 11, 30)
    assert f.overdue(m, date(2026, 11, 29), today) == 2
    assert f.overdue(m, today, today) == 0
    assert f.overdue(m, date(2026, 12, 1), today) == 0


def test_another_area_registers_metrics_without_editing_the_core():
    from app.services import rollups

    source = rollups.MetricSource(
        "test_cases",
        ("test_extra_count",),
        "SELECT unit_path, current_date AS day, 0 FROM unit WHERE false",
    )
    try:
        rollups.register(source)
        assert "test_extra_count" in rollups.metric_names()
        # Not a core column: stored in the JSONB of the bucket, summed into the parents.
        assert "test_extra_count" in rollups.extra_names()
        sql = rollups._own_sql(None)
        assert "'test_extra_count'" in sql
        assert "'test_extra_count'" in rollups._parents_sql()
    finally:
        rollups.SOURCES[:] = [s for s in rollups.SOURCES if s.name != "test_cases"]
    assert "test_extra_count" not in rollups.metric_names()


def test_core_metrics_are_columns_and_every_core_source_maps_to_them():
    from app.db.rollups.tables import CORE, RollupDay
    from app.services import rollups

    columns = {c._meta.name for c in RollupDay._meta.columns}
    assert set(CORE) <= columns
    core_sources = [s for s in rollups.SOURCES if set(s.metrics) <= set(CORE)]
    assert {m for s in core_sources for m in s.metrics} == set(CORE)


def test_json_object_is_chunked_below_the_argument_limit():
    from app.services import rollups

    pairs = [(f"m{i}", "0") for i in range(95)]
    sql = rollups._json_object(pairs)
    assert sql.count("jsonb_build_object(") == 3


def test_wake_takes_its_defer_from_the_apps_settings_not_the_environment():
    """Built with ``rollup_defer_seconds=0.37`` while the environment says 5: wake() uses 0.37.

    In a subprocess: building an app configures the process-wide database engine."""
    import os
    import subprocess
    import sys

    code = (
        "import dataclasses\n"
        "from app.main import create_app\n"
        "from app.services import marks\n"
        "from app.settings import Settings\n"
        "assert marks._defer_seconds() == 5.0\n"
        "create_app(dataclasses.replace(Settings.from_env(), rollup_defer_seconds=0.37))\n"
        "print(marks._defer_seconds())\n"
    )
    env = dict(os.environ)
    env.update(
        FENGQIAO_ROLLUP_DEFER_SECONDS="5",
        FENGQIAO_SECRET_KEY="unit-test",
        PICCOLO_CONF="app.piccolo_conf",
        DATABASE_URL="postgresql://nobody@127.0.0.1:1/none",
    )
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().splitlines()[-1] == "0.37"
