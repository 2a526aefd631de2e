"""``app.middleware.parse_urlencoded`` reads a form exactly as Litestar's parser does."""

from __future__ import annotations

import random

from litestar._parsers import parse_url_encoded_form_data

from app.middleware import parse_urlencoded

PIECES = [
    "a", "Z", "0", "%", "+", " ", "&", "=", "%2", "%e4", "%E4%B8", "%B8%AD", "%zz", "é", "中",
    "\u200b", "%FF", "%C3%A9", "%F0%9F%98%80", ";", "%25", "%2B", "%26", "%3D", "\x00", "%00",
]  # fmt: skip


def litestar(body: bytes) -> dict:
    return parse_url_encoded_form_data.__wrapped__(body)


def test_a_visit_form_with_repeated_names_and_blanks():
    body = (
        b"_csrf_token=abc&topics=request&topics=help&summary=%E5%85%A5%E6%88%B7+%E8%B5%B0%E8%AE%BF"
        b"&address=&flag&x=1%2B1%3D2"
    )
    assert parse_urlencoded(body) == litestar(body)
    assert parse_urlencoded(body)["topics"] == ["request", "help"]
    assert parse_urlencoded(body)["summary"] == "入户 走访"


def test_random_and_broken_input_reads_the_same():
    rng = random.Random(8)
    for _ in range(20_000):
        text = "".join(rng.choice(PIECES) for _ in range(rng.randint(0, 25)))
        body = text.encode()
        assert parse_urlencoded(body) == litestar(body), text
