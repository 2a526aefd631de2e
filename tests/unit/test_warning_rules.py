"""Early-warning rules at their thresholds (±1), their keys (idempotence) and periods."""

from datetime import date, datetime, timedelta

from app.domain import warnings as w

T = w.Thresholds(repeat_count=3, repeat_days=30, group_size=5, negative_run=3)
D0 = date(2026, 10, 1)


def _matter(i, day, name="王某", phone="13800000000", group=1):
    return {
        "id": i,
        "petitioner_name": name,
        "petitioner_phone": phone,
        "day": day,
        "unit_path": "/1/2/",
        "group_size": group,
    }


def test_repeat_petitioner_at_threshold():
    two = [_matter(1, D0), _matter(2, D0 + timedelta(days=5))]
    assert w.repeat_petitioners(two, T) == []
    three = [*two, _matter(3, D0 + timedelta(days=29))]
    out = w.repeat_petitioners(three, T)
    assert len(out) == 1 and out[0].period == (D0 + timedelta(days=29)).isoformat()
    assert [e["id"] for e in out[0].evidence] == [1, 2, 3]
    # the third matter 30 days after the first: outside the window
    late = [*two, _matter(3, D0 + timedelta(days=30))]
    assert w.repeat_petitioners(late, T) == []
    # another petitioner (other phone) does not add up
    mixed = [*two, _matter(3, D0 + timedelta(days=3), phone="13900000000")]
    assert w.repeat_petitioners(mixed, T) == []
    # the same input twice gives the same keys
    assert [d.key for d in w.repeat_petitioners(three, T)] == [d.key for d in out]
    assert "王某" not in out[0].subject_id


def test_group_matter_at_threshold():
    rows = [_matter(1, D0, group=4), _matter(2, D0, group=5), _matter(3, D0, group=6)]
    out = w.group_matters(rows, T)
    assert [d.subject_id for d in out] == ["2", "3"]


def test_extreme_signal_only_when_signals_are_present():
    rows = [
        {"table_name": "visit", "record_id": 1, "unit_path": "/1/", "signals": []},
        {
            "table_name": "call",
            "record_id": 2,
            "unit_path": "/1/",
            "signals": [{"kind": "self_harm", "phrase": "不想活了"}],
        },
    ]
    out = w.extreme_signals(rows)
    assert len(out) == 1 and out[0].key == ("extreme_signal", "call", "2", "")
    assert out[0].level == "high"


def test_contact_overdue_at_threshold():
    reg = D0 - timedelta(days=100)
    person = {"id": 7, "unit_path": "/1/", "risk_level": "high", "registered": reg}
    on_due = w.contact_overdue([{**person, "last_contact": D0}], D0 + timedelta(days=7))
    assert on_due == []
    late = w.contact_overdue([{**person, "last_contact": D0}], D0 + timedelta(days=8))
    assert len(late) == 1 and late[0].period == (D0 + timedelta(days=7)).isoformat()
    low = {**person, "risk_level": "low", "last_contact": D0}
    assert w.contact_overdue([low], D0 + timedelta(days=90)) == []
    assert len(w.contact_overdue([low], D0 + timedelta(days=91))) == 1


def _rec(i, emotion, subject="5"):
    return {
        "subject_type": "household",
        "subject_id": subject,
        "unit_path": "/1/",
        "table_name": "visit",
        "record_id": i,
        "at": datetime(2026, 10, 1, 9) + timedelta(days=i),
        "emotion": emotion,
    }


def test_negative_run_at_threshold():
    assert w.negative_runs([_rec(1, "anger"), _rec(2, "anxiety")], T) == []
    out = w.negative_runs([_rec(1, "anger"), _rec(2, "anxiety"), _rec(3, "sadness")], T)
    assert len(out) == 1 and out[0].period == "visit:3"
    broken = [_rec(1, "anger"), _rec(2, "calm"), _rec(3, "anger"), _rec(4, "sadness")]
    assert w.negative_runs(broken, T) == []
    # a fourth negative in a row does not repeat the warning; a new run after calm does
    long = [_rec(i, "anger") for i in range(1, 5)] + [_rec(5, "calm")]
    long += [_rec(i, "anxiety") for i in range(6, 9)]
    assert [d.period for d in w.negative_runs(long, T)] == ["visit:3", "visit:8"]
    other = [_rec(1, "anger"), _rec(2, "anger", subject="6"), _rec(3, "anger")]
    assert w.negative_runs(other, T) == []


def test_forecast_excess_only_above_the_upper_bound():
    rows = [
        {"unit_path": "/1/2/", "category": "heating", "week": D0, "actual": 10, "upper": 10},
        {"unit_path": "/1/2/", "category": "heating", "week": D0, "actual": 11, "upper": 10},
        {"unit_path": "/1/3/", "category": "heating", "week": D0, "actual": None, "upper": 1},
    ]
    out = w.forecast_excess(rows)
    assert len(out) == 1 and out[0].period == D0.isoformat()
