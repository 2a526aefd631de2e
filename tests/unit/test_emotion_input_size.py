"""Analysis time grows with the text, not with its square: one request of the largest
accepted size must not hold the server (``make security`` found 20,000 digits taking 50 s:
the crowd-size pattern retried its digit run from every digit)."""

from __future__ import annotations

import time

from app.domain.emotion import analyze
from app.routes.text_api import MAX_TEXT


def test_a_long_run_of_digits_is_analysed_in_linear_time():
    analyze("你好")  # load the lexicons first
    started = time.perf_counter()
    analyze("0" * MAX_TEXT)
    assert time.perf_counter() - started < 5


def test_a_crowd_size_in_digits_is_still_a_gathering():
    kinds = {s.kind for s in analyze("我们3000多个工人明天去区政府讨薪").signals}
    assert "gathering" in kinds
