"""The one validation pattern used by forms and the JSON API."""

from datetime import date

from app.domain.forms import REQUIRED, Form


def test_required_text_missing_gives_a_message_and_keeps_nothing_else_out():
    form = Form({"summary": "  "})
    assert form.text("summary", required=True) == ""
    assert form.errors == {"summary": REQUIRED}


def test_choice_outside_the_list_is_refused_but_kept_for_redisplay():
    form = Form({"kind": "teleport"})
    assert form.choice("kind", ["door", "reception", "away"]) is None
    assert form.values["kind"] == "teleport"
    assert "kind" in form.errors


def test_multi_values_come_from_lists_or_commas():
    assert Form({"topics": ["dispute", "fire"]}).choices("topics", ["dispute", "fire"]) == [
        "dispute",
        "fire",
    ]
    assert Form({"topics": "dispute,fire"}).choices("topics", ["dispute", "fire"]) == [
        "dispute",
        "fire",
    ]
    bad = Form({"topics": ["dispute", "x"]})
    bad.choices("topics", ["dispute"])
    assert "topics" in bad.errors


def test_integers_dates_moments_and_uuids():
    form = Form({"n": "abc", "m": "7", "d": "2026-02-30", "t": "2026-11-30T09:15", "u": "nope"})
    assert form.integer("n") is None and "n" in form.errors
    assert form.integer("m", min_value=1, max_value=5) == 7 and "m" in form.errors
    assert form.day("d") is None and "d" in form.errors
    moment = form.moment("t")
    assert moment.utcoffset().total_seconds() == 8 * 3600
    assert form.uuid("u") is None and "u" in form.errors


def test_a_date_alone_is_accepted_as_a_moment():
    form = Form({"t": "2026-11-30"})
    assert form.moment("t").date() == date(2026, 11, 30)
    assert form.ok


def test_booleans_from_checkboxes_and_json():
    assert Form({"b": "on"}).boolean("b")
    assert Form({"b": True}).boolean("b")
    assert not Form({}).boolean("b")
