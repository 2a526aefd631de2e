"""The pure helpers of the load benchmark (percentiles, ratios, wrk output, tables)."""

import pytest

from bench.load_bench import md_table, parse_wrk_result, percentile, ratio, scaled, visit_form_body


def test_percentile_interpolates_between_ranks() -> None:
    values = [4.0, 1.0, 3.0, 2.0]  # unsorted on purpose
    assert percentile(values, 0) == 1.0
    assert percentile(values, 100) == 4.0
    assert percentile(values, 50) == pytest.approx(2.5)
    assert percentile(list(range(1, 101)), 95) == pytest.approx(95.05)
    assert percentile([7.0], 95) == 7.0


def test_percentile_refuses_nonsense() -> None:
    with pytest.raises(ValueError):
        percentile([], 50)
    with pytest.raises(ValueError):
        percentile([1.0], 101)


def test_ratio_and_scale() -> None:
    assert ratio(300, 600) == 0.5
    assert ratio(1, 0) == 0.0
    assert scaled(0.1, 20, 4) == 4
    assert scaled(1.0, 20, 4) == 20


def test_parse_wrk_result_finds_the_json_line() -> None:
    out = 'Running 5s test @ http://x\n  1 threads\nFQRESULT {"requests": 10, "p95_us": 900}\n'
    assert parse_wrk_result(out) == {"requests": 10, "p95_us": 900}
    with pytest.raises(ValueError):
        parse_wrk_result("no result here")


def test_md_table() -> None:
    assert md_table(["a", "b"], [[1, "x"]]) == "| a | b |\n|---|---|\n| 1 | x |"


def test_visit_form_body_carries_the_csrf_field_only_when_given() -> None:
    assert "_csrf_token=tok" in visit_form_body("tok", 5)
    assert "_csrf_token" not in visit_form_body("", 5)
    assert "grid_id=5" in visit_form_body("", 5)
    assert "client_uuid" not in visit_form_body("tok", 5)  # added per request
