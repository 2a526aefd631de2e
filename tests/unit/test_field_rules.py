"""Field-work rules: correction window, review, mediation outcomes, archive numbers, tasks,
coverage."""

from datetime import UTC, date, datetime, timedelta

import pytest

from app.domain import field as rules

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    "is_author, age_hours, state, expected",
    [
        (True, 0, "pending", True),
        (True, 23.9, "pending", True),
        (True, 24, "pending", False),
        (True, 100, "pending", False),
        (True, 100, "returned", True),
        (True, 1, "reviewed", False),
        (False, 1, "pending", False),
        (False, 100, "returned", False),
    ],
)
def test_author_corrects_for_24_hours_or_after_a_send_back(is_author, age_hours, state, expected):
    created = NOW - timedelta(hours=age_hours)
    assert (
        rules.can_edit(is_author=is_author, created_at=created, now=NOW, review_state=state)
        is expected
    )


@pytest.mark.parametrize(
    "is_author, state, expected",
    [
        (False, "pending", True),
        (False, "returned", True),
        (False, "reviewed", False),
        (True, "pending", False),
    ],
)
def test_reviewers_review_other_peoples_unreviewed_records(is_author, state, expected):
    assert rules.can_review(is_author=is_author, review_state=state) is expected


def test_an_open_mediation_may_reach_every_outcome_and_a_closed_one_is_final():
    assert set(rules.next_outcomes("in_progress")) == set(rules.MEDIATION_OUTCOMES)
    for closed in rules.CLOSED_OUTCOMES:
        assert rules.next_outcomes(closed) == (closed,)


@pytest.mark.parametrize("outcome", list(rules.MEDIATION_OUTCOMES))
def test_a_party_refusing_ends_the_mediation_as_failed(outcome):
    assert rules.outcome_after_refusal(outcome, True) == "failed"
    assert rules.outcome_after_refusal(outcome, False) == outcome


TWO = [{"name": "甲", "role": "applicant"}, {"name": "乙", "role": "respondent"}]


def test_a_written_agreement_needs_facts_responsibilities_terms_performance_and_signing():
    errors = rules.outcome_errors({"outcome": "agreed_written", "parties": TWO})
    assert set(errors) == {
        "facts",
        "responsibilities",
        "agreement_terms",
        "performance_method",
        "performance_due",
        "agreement_signed_on",
    }
    complete = {
        "outcome": "agreed_written",
        "parties": TWO,
        "facts": "f",
        "responsibilities": "r",
        "agreement_terms": "t",
        "performance_method": "m",
        "performance_due": date(2026, 12, 10),
        "agreement_signed_on": date(2026, 12, 1),
    }
    assert rules.outcome_errors(complete) == {}
    late = {**complete, "performance_due": date(2026, 11, 1)}
    assert set(rules.outcome_errors(late)) == {"performance_due"}
    single = {**complete, "parties": TWO[:1]}
    assert set(rules.outcome_errors(single)) == {"parties"}


def test_an_oral_agreement_records_its_terms_and_a_failure_its_reason():
    assert set(rules.outcome_errors({"outcome": "agreed_oral", "parties": TWO})) == {
        "agreement_terms"
    }
    assert set(rules.outcome_errors({"outcome": "failed", "parties": TWO})) == {"terminated_note"}
    for outcome in ("in_progress", "escalated", "referred"):
        assert rules.outcome_errors({"outcome": outcome, "parties": TWO[:1]}) == {}


def test_judicial_confirmation_window_is_30_days_after_signing():
    assert rules.judicial_confirmation_due(date(2026, 12, 1)) == date(2026, 12, 31)
    assert rules.judicial_confirmation_due(date(2027, 2, 1)) == date(2027, 3, 3)


@pytest.mark.parametrize(
    "tier, allowed",
    [
        ("grid", True),
        ("community", True),
        ("street", True),
        ("district", False),
    ],
)
def test_escalation_goes_to_the_next_tier_up_to_the_district(tier, allowed):
    assert rules.next_tier_allowed(tier) is allowed


def test_archive_numbers_carry_venue_year_and_a_four_digit_sequence():
    number = rules.archive_number("DS-C1", 2026, 7)
    assert number == "DS-C1调〔2026〕0007号"
    assert rules.parse_archive_number(number) == ("DS-C1", 2026, 7)
    assert rules.parse_archive_number(rules.archive_number("X", 2027, 12345)) == ("X", 2027, 12345)
    assert rules.parse_archive_number("nonsense") is None
    assert rules.parse_archive_number("") is None
    with pytest.raises(ValueError):
        rules.archive_number("DS", 2026, 0)


def test_a_visit_with_a_follow_up_date_asks_for_a_follow_up():
    assert rules.visit_tasks(None) == []
    assert rules.visit_tasks(date(2026, 12, 3)) == [rules.TaskSpec("follow_up", date(2026, 12, 3))]


def test_agreements_ask_for_judicial_confirmation_and_performance_follow_up():
    signed, due = date(2026, 12, 1), date(2026, 12, 20)
    assert rules.mediation_tasks("agreed_written", signed, due) == [
        rules.TaskSpec("judicial_confirmation", date(2026, 12, 31)),
        rules.TaskSpec("performance", due),
    ]
    assert rules.mediation_tasks("agreed_oral", None, due) == [rules.TaskSpec("performance", due)]
    assert rules.mediation_tasks("agreed_written", None, None) == []
    for outcome in ("in_progress", "failed", "escalated", "referred"):
        assert rules.mediation_tasks(outcome, signed, due) == []


@pytest.mark.parametrize(
    "due, done, expected",
    [
        (date(2026, 11, 29), False, "overdue"),
        (date(2026, 11, 30), False, "today"),
        (date(2026, 12, 1), False, "upcoming"),
        (date(2026, 11, 1), True, "done"),
    ],
)
def test_task_status(due, done, expected):
    assert rules.task_status(due, date(2026, 11, 30), done) == expected


def test_calls_answer_follow_ups_and_performance_but_not_judicial_confirmation():
    assert {"follow_up", "performance"} == rules.ANSWERED_BY_CALL


@pytest.mark.parametrize(
    "visited, households, expected",
    [
        (0, 0, None),
        (5, 0, None),
        (0, 10, 0.0),
        (5, 10, 0.5),
        (10, 10, 1.0),
        (12, 10, 1.0),
    ],
)
def test_coverage_is_visited_households_over_households(visited, households, expected):
    assert rules.coverage(visited, households) == expected


@pytest.mark.parametrize(
    "is_author, age_hours, state, expected",
    [
        (True, 1, "pending", None),
        (True, 100, "returned", None),
        (True, 25, "pending", "24 hours"),
        (True, 1, "reviewed", "reviewed"),
        (False, 1, "pending", "Only the person"),
    ],
)
def test_edit_refusal_says_why_a_record_is_read_only(is_author, age_hours, state, expected):
    created = NOW - timedelta(hours=age_hours)
    kwargs = {"is_author": is_author, "created_at": created, "now": NOW, "review_state": state}
    refusal = rules.edit_refusal(**kwargs)
    assert (refusal is None) is rules.can_edit(**kwargs)
    if expected is None:
        assert refusal is None
    else:
        assert expected in refusal


@pytest.mark.parametrize(
    ("mood", "analysis", "disagrees"),
    [
        ("calm", {"emotion": "calm", "intensity": 0.1, "signals": []}, False),
        ("calm", {"emotion": "calm", "intensity": 0.2, "signals": [{"kind": "media"}]}, True),
        ("calm", {"emotion": "sadness", "intensity": 0.85, "signals": []}, True),
        ("calm", {"emotion": "anger", "intensity": 0.65, "signals": []}, False),
        ("dissatisfied", {"emotion": "anger", "intensity": 0.9, "signals": []}, False),
        ("agitated", {"emotion": "satisfied", "intensity": 0.7, "signals": []}, False),
        ("agitated", {"emotion": "calm", "intensity": 0.2, "signals": [{"kind": "media"}]}, False),
        ("agitated", {"emotion": "anger", "intensity": 0.9, "signals": []}, False),
        ("calm", None, False),
    ],
)
def test_mood_disagrees_with_the_analysis(mood, analysis, disagrees):
    assert rules.mood_disagrees(mood, analysis) is disagrees


def test_an_analysis_older_than_the_last_edit_is_no_reason_to_check_the_mood():
    analysed = datetime(2026, 11, 1, 9, tzinfo=UTC)
    analysis = {"emotion": "anger", "intensity": 0.9, "signals": [], "analysed_at": analysed}
    assert rules.mood_disagrees("calm", analysis, analysed - timedelta(minutes=5))
    assert not rules.mood_disagrees("calm", analysis, analysed + timedelta(minutes=5))
