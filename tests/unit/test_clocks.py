"""Statutory clocks computed from case events."""

from datetime import date, datetime, time

import pytest

from app.domain.calendar import WorkCalendar
from app.domain.clocks import (
    ARTICLE_ACCEPTANCE,
    ARTICLE_DISPATCH,
    ARTICLE_HANDLING,
    ARTICLE_REREVIEW,
    ARTICLE_REVIEW,
    ARTICLE_SUPERVISION,
    Clock,
    ClockKind,
    ClockName,
    ClockSettings,
    ClockState,
    Event,
    Kind,
    compute_clocks,
    current,
    due_soon,
    handling_due,
    hearing_days,
    rereview_decision_due,
)

CAL = WorkCalendar()


def ev(kind: str, day: date, **data) -> Event:
    return Event(kind=kind, at=datetime.combine(day, time(10, 0)), data=data)


def clock(events: list[Event], name: str, today: date) -> Clock:
    found = current(compute_clocks(events, CAL, today), name)
    assert found is not None, f"no {name} clock"
    return found


REG = date(2025, 3, 3)  # a Monday


# --- dispatch (Art. 22) ------------------------------------------------------------------


def test_dispatch_clock_runs_15_days_from_registration():
    c = clock([ev(Kind.REGISTER, REG)], ClockName.DISPATCH, REG)
    assert (c.article, c.kind, c.started_on, c.due_on) == (
        ARTICLE_DISPATCH,
        ClockKind.DUTY,
        REG,
        date(2025, 3, 18),
    )
    assert c.state is ClockState.RUNNING
    assert c.days_left(REG) == 15


def test_dispatch_on_the_15th_day_is_met():
    events = [ev(Kind.REGISTER, REG), ev(Kind.TRANSFER, date(2025, 3, 18), lead="住建")]
    c = clock(events, ClockName.DISPATCH, date(2025, 4, 1))
    assert c.state is ClockState.MET
    assert c.stopped_on == date(2025, 3, 18)
    assert c.days_left(date(2025, 4, 1)) == 0


def test_dispatch_on_the_16th_day_is_met_late():
    events = [ev(Kind.REGISTER, REG), ev(Kind.ASSIGN, date(2025, 3, 19), lead="住建")]
    c = clock(events, ClockName.DISPATCH, date(2025, 4, 1))
    assert c.state is ClockState.MET_LATE
    assert c.days_left(date(2025, 4, 1)) == -1


def test_undispatched_case_is_running_on_the_15th_day_and_overdue_on_the_16th():
    events = [ev(Kind.REGISTER, REG)]
    on_last_day = clock(events, ClockName.DISPATCH, date(2025, 3, 18))
    assert on_last_day.state is ClockState.RUNNING
    assert on_last_day.days_left(date(2025, 3, 18)) == 0
    after = clock(events, ClockName.DISPATCH, date(2025, 3, 19))
    assert after.state is ClockState.OVERDUE
    assert after.days_left(date(2025, 3, 19)) == -1
    assert after.is_open


@pytest.mark.parametrize("kind", [Kind.DIVERT, Kind.TELL_WHERE_TO_GO])
def test_desk_diversion_or_telling_where_to_go_stops_the_dispatch_clock(kind):
    events = [ev(Kind.REGISTER, REG), ev(kind, date(2025, 3, 5))]
    assert clock(events, ClockName.DISPATCH, date(2025, 4, 1)).state is ClockState.MET


def test_dispatch_deadline_in_spring_festival_moves_past_it():
    events = [ev(Kind.REGISTER, date(2025, 1, 14))]
    assert clock(events, ClockName.DISPATCH, date(2025, 1, 14)).due_on == date(2025, 2, 5)


def test_events_are_read_in_time_order_whatever_order_they_come_in():
    events = [ev(Kind.TRANSFER, date(2025, 3, 5), lead="住建"), ev(Kind.REGISTER, REG)]
    assert clock(events, ClockName.DISPATCH, date(2025, 4, 1)).state is ClockState.MET


# --- acceptance notice and objection (Art. 23) ---------------------------------------------


def dispatched(on: date = date(2025, 9, 26)) -> list[Event]:
    return [ev(Kind.REGISTER, on), ev(Kind.TRANSFER, on, lead="住建", co_handlers=["城管"])]


def test_acceptance_notice_is_due_15_days_after_receipt_for_the_lead():
    c = clock(dispatched(date(2025, 3, 3)), ClockName.ACCEPTANCE, date(2025, 3, 3))
    assert (c.article, c.due_on, c.body) == (ARTICLE_ACCEPTANCE, date(2025, 3, 18), "住建")


def test_acceptance_stops_the_acceptance_clock_and_closes_the_objection_window():
    events = [*dispatched(date(2025, 3, 3)), ev(Kind.ACCEPT, date(2025, 3, 4), body="住建")]
    assert clock(events, ClockName.ACCEPTANCE, date(2025, 3, 4)).state is ClockState.MET
    objection = clock(events, ClockName.OBJECTION, date(2025, 3, 4))
    assert objection.state is ClockState.LAPSED
    assert objection.stopped_on == date(2025, 3, 4)


def test_acceptance_after_15_days_is_met_late():
    events = [*dispatched(date(2025, 3, 3)), ev(Kind.ACCEPT, date(2025, 3, 19), body="住建")]
    assert clock(events, ClockName.ACCEPTANCE, date(2025, 3, 19)).state is ClockState.MET_LATE


def test_objection_window_is_5_working_days_across_national_day():
    c = clock(dispatched(), ClockName.OBJECTION, date(2025, 9, 26))
    assert (c.kind, c.article, c.due_on) == (
        ClockKind.WINDOW,
        ARTICLE_ACCEPTANCE,
        date(2025, 10, 10),
    )


def test_objection_on_the_5th_working_day_is_met():
    events = [*dispatched(), ev(Kind.OBJECT, date(2025, 10, 10), body="住建", lead=True)]
    assert clock(events, ClockName.OBJECTION, date(2025, 10, 10)).state is ClockState.MET


def test_objection_recorded_on_the_6th_working_day_is_met_late():
    events = [*dispatched(), ev(Kind.OBJECT, date(2025, 10, 11), body="住建", lead=True)]
    assert clock(events, ClockName.OBJECTION, date(2025, 10, 11)).state is ClockState.MET_LATE


def test_unused_objection_window_lapses_rather_than_going_overdue():
    c = clock(dispatched(), ClockName.OBJECTION, date(2025, 10, 11))
    assert c.state is ClockState.LAPSED
    assert not c.is_open


def test_lead_objection_starts_a_local_practice_redispatch_clock():
    events = [*dispatched(date(2025, 3, 3)), ev(Kind.OBJECT, date(2025, 3, 5), lead=True)]
    c = clock(events, ClockName.REDISPATCH, date(2025, 3, 5))
    assert c.article is None
    assert c.note == "local practice"
    assert c.due_on == date(2025, 3, 20)
    assert clock(events, ClockName.ACCEPTANCE, date(2025, 3, 5)).state is ClockState.MET


def test_redispatch_stops_the_redispatch_clock_and_starts_a_new_round():
    events = [
        *dispatched(date(2025, 3, 3)),
        ev(Kind.OBJECT, date(2025, 3, 5), lead=True),
        ev(Kind.TRANSFER, date(2025, 3, 7), lead="人社"),
    ]
    clocks = compute_clocks(events, CAL, date(2025, 3, 7))
    assert current(clocks, ClockName.REDISPATCH).state is ClockState.MET
    acceptance = [c for c in clocks if c.name == ClockName.ACCEPTANCE]
    assert [c.body for c in acceptance] == ["住建", "人社"]
    assert acceptance[-1].state is ClockState.RUNNING
    assert acceptance[-1].started_on == date(2025, 3, 7)


def test_co_handler_objection_does_not_stop_the_leads_clocks():
    events = [*dispatched(date(2025, 3, 3)), ev(Kind.OBJECT, date(2025, 3, 4), lead=False)]
    clocks = compute_clocks(events, CAL, date(2025, 3, 4))
    assert current(clocks, ClockName.ACCEPTANCE).state is ClockState.RUNNING
    assert current(clocks, ClockName.REDISPATCH) is None


def test_assignment_starts_a_report_back_clock_that_report_back_stops():
    events = [
        ev(Kind.REGISTER, REG),
        ev(Kind.ASSIGN, REG, lead="住建", report_days=20),
        ev(Kind.REPORT_BACK, date(2025, 3, 20)),
    ]
    c = clock(events, ClockName.ASSIGNMENT_REPORT, date(2025, 3, 20))
    assert (c.article, c.due_on, c.state) == (ARTICLE_DISPATCH, date(2025, 3, 24), ClockState.MET)


# --- handling (Art. 34) ------------------------------------------------------------------


def accepted(on: date) -> list[Event]:
    return [*dispatched(on), ev(Kind.ACCEPT, on, body="住建")]


def test_handling_is_due_on_the_60th_day_after_acceptance():
    c = clock(accepted(date(2025, 4, 14)), ClockName.HANDLING, date(2025, 4, 14))
    assert (c.article, c.due_on) == (ARTICLE_HANDLING, date(2025, 6, 13))


def test_opinion_on_the_60th_day_is_met_and_on_the_61st_met_late():
    on_time = [*accepted(date(2025, 4, 14)), ev(Kind.OPINION, date(2025, 6, 13))]
    late = [*accepted(date(2025, 4, 14)), ev(Kind.OPINION, date(2025, 6, 14))]
    assert clock(on_time, ClockName.HANDLING, date(2025, 7, 1)).state is ClockState.MET
    assert clock(late, ClockName.HANDLING, date(2025, 7, 1)).state is ClockState.MET_LATE


def test_handling_is_overdue_the_day_after_the_60th_day():
    events = accepted(date(2025, 4, 14))
    assert clock(events, ClockName.HANDLING, date(2025, 6, 13)).state is ClockState.RUNNING
    assert clock(events, ClockName.HANDLING, date(2025, 6, 14)).state is ClockState.OVERDUE


def test_handling_deadline_in_labour_day_moves_past_it():
    assert clock(accepted(date(2025, 3, 5)), ClockName.HANDLING, REG).due_on == date(2025, 5, 6)


def test_extension_applied_on_the_last_day_adds_its_days_to_the_period():
    events = [*accepted(date(2025, 4, 14)), ev(Kind.EXTEND, date(2025, 6, 13), days=30)]
    c = clock(events, ClockName.HANDLING, date(2025, 6, 14))
    # 2025-04-14 + 90 = 2025-07-13, a Sunday -> Monday 07-14.
    assert c.due_on == date(2025, 7, 14)
    assert c.state is ClockState.RUNNING


def test_extension_counts_from_the_unrolled_end_so_a_holiday_is_not_counted_twice():
    # 60th day after 2025-08-02 is Oct 1: due Oct 9. A 5-day extension ends Oct 6 -> Oct 9 too.
    assert handling_due(date(2025, 8, 2), 0, CAL) == date(2025, 10, 9)
    assert handling_due(date(2025, 8, 2), 5, CAL) == date(2025, 10, 9)
    assert handling_due(date(2025, 8, 2), 10, CAL) == date(2025, 10, 11)  # 调休 Saturday


def test_diversion_after_acceptance_stops_handling():
    events = [*accepted(date(2025, 4, 14)), ev(Kind.DIVERT, date(2025, 4, 20))]
    assert clock(events, ClockName.HANDLING, date(2025, 7, 1)).state is ClockState.MET


# --- 复查 and 复核 (Arts. 35, 36) --------------------------------------------------------


def replied(on: date, delivered: date | None = None) -> list[Event]:
    data = {"delivered_on": delivered.isoformat()} if delivered else {}
    return [*accepted(on), ev(Kind.OPINION, on, **data)]


def test_review_window_runs_30_days_from_receipt_of_the_written_reply():
    events = replied(date(2025, 3, 3), delivered=date(2025, 3, 5))
    c = clock(events, ClockName.REVIEW_REQUEST, date(2025, 3, 5))
    assert (c.article, c.kind, c.started_on, c.due_on) == (
        ARTICLE_REVIEW,
        ClockKind.WINDOW,
        date(2025, 3, 5),
        date(2025, 4, 7),  # day 30 = Apr 4, Qingming (Apr 4-6)
    )


def test_review_window_defaults_to_the_opinion_date():
    c = clock(replied(date(2025, 3, 3)), ClockName.REVIEW_REQUEST, date(2025, 3, 3))
    assert (c.started_on, c.due_on) == (date(2025, 3, 3), date(2025, 4, 2))


def test_review_window_lapses_unused():
    events = replied(date(2025, 3, 3))
    assert clock(events, ClockName.REVIEW_REQUEST, date(2025, 4, 2)).state is ClockState.RUNNING
    assert clock(events, ClockName.REVIEW_REQUEST, date(2025, 4, 3)).state is ClockState.LAPSED


def test_review_request_uses_the_window_and_starts_the_30_day_decision_clock():
    events = [*replied(date(2025, 3, 3)), ev(Kind.REQUEST_REVIEW, date(2025, 3, 10))]
    clocks = compute_clocks(events, CAL, date(2025, 3, 10))
    assert current(clocks, ClockName.REVIEW_REQUEST).state is ClockState.MET
    decision = current(clocks, ClockName.REVIEW_DECISION)
    assert (decision.due_on, decision.state) == (date(2025, 4, 9), ClockState.RUNNING)


def reviewed(on: date) -> list[Event]:
    return [*replied(on), ev(Kind.REQUEST_REVIEW, on), ev(Kind.DECIDE_REVIEW, on)]


def test_review_decision_starts_the_rereview_window():
    c = clock(reviewed(date(2025, 3, 3)), ClockName.REREVIEW_REQUEST, date(2025, 3, 3))
    assert (c.article, c.due_on, c.state) == (
        ARTICLE_REREVIEW,
        date(2025, 4, 2),
        ClockState.RUNNING,
    )
    assert clock(reviewed(date(2025, 3, 3)), ClockName.REVIEW_DECISION, REG).state is ClockState.MET


def rereview_requested(on: date) -> list[Event]:
    return [*reviewed(on), ev(Kind.REQUEST_REREVIEW, on)]


def test_rereview_decision_is_due_30_days_after_the_request():
    c = clock(rereview_requested(REG), ClockName.REREVIEW_DECISION, REG)
    assert (c.article, c.due_on, c.paused_days) == (ARTICLE_REREVIEW, date(2025, 4, 2), 0)


def test_rereview_hearing_time_is_not_counted():
    events = [
        *rereview_requested(REG),
        ev(Kind.HEARING_START, date(2025, 3, 10)),
        ev(Kind.HEARING_END, date(2025, 3, 15)),
    ]
    c = clock(events, ClockName.REREVIEW_DECISION, date(2025, 3, 16))
    assert c.paused_days == 5
    assert c.due_on == date(2025, 4, 7)  # Apr 2 + 5 = Apr 7 (Qingming ended Apr 6)
    assert c.state is ClockState.RUNNING


def test_rereview_clock_is_paused_while_a_hearing_is_open():
    events = [*rereview_requested(REG), ev(Kind.HEARING_START, date(2025, 3, 10))]
    c = clock(events, ClockName.REREVIEW_DECISION, date(2025, 3, 12))
    assert c.state is ClockState.PAUSED
    assert c.paused_days == 2
    assert c.due_on == date(2025, 4, 7)  # Mar 3 + 32 = Apr 4, Qingming
    later = clock(events, ClockName.REREVIEW_DECISION, date(2025, 5, 1))
    assert later.state is ClockState.PAUSED  # never overdue while the hearing runs


def test_a_hearing_within_one_day_pauses_nothing():
    assert hearing_days(date(2025, 3, 10), date(2025, 3, 10)) == 0
    assert hearing_days(date(2025, 3, 10), date(2025, 3, 12)) == 2


def test_a_decision_with_the_hearing_still_open_closes_the_pause():
    events = [
        *rereview_requested(REG),
        ev(Kind.HEARING_START, date(2025, 3, 10)),
        ev(Kind.DECIDE_REREVIEW, date(2025, 4, 5)),
    ]
    c = clock(events, ClockName.REREVIEW_DECISION, date(2025, 4, 5))
    assert c.paused_days == 26
    assert c.state is ClockState.MET


def test_rereview_decision_after_the_extended_period_is_met_late():
    events = [
        *rereview_requested(REG),
        ev(Kind.HEARING_START, date(2025, 3, 10)),
        ev(Kind.HEARING_END, date(2025, 3, 11)),
        ev(Kind.DECIDE_REREVIEW, date(2025, 4, 8)),
    ]
    assert rereview_decision_due(REG, 1, CAL) == date(2025, 4, 3)
    c = clock(events, ClockName.REREVIEW_DECISION, date(2025, 4, 8))
    assert c.state is ClockState.MET_LATE


def test_a_hearing_during_handling_does_not_pause_the_60_days():
    events = [
        *accepted(date(2025, 4, 14)),
        ev(Kind.HEARING_START, date(2025, 5, 6)),
        ev(Kind.HEARING_END, date(2025, 5, 20)),
    ]
    c = clock(events, ClockName.HANDLING, date(2025, 5, 21))
    assert (c.due_on, c.paused_days) == (date(2025, 6, 13), 0)


# --- supervision (Art. 40) -----------------------------------------------------------------


def test_supervision_feedback_uses_the_setting_and_report_back_stops_it():
    events = [ev(Kind.REGISTER, REG), ev(Kind.SUPERVISE, REG)]
    c = clock(events, ClockName.SUPERVISION_FEEDBACK, REG)
    assert (c.article, c.due_on) == (ARTICLE_SUPERVISION, date(2025, 3, 18))
    settings = ClockSettings(supervision_feedback_days=7)
    custom = current(compute_clocks(events, CAL, REG, settings), ClockName.SUPERVISION_FEEDBACK)
    assert custom.due_on == date(2025, 3, 10)
    done = [*events, ev(Kind.REPORT_BACK, date(2025, 3, 12))]
    assert clock(done, ClockName.SUPERVISION_FEEDBACK, REG).state is ClockState.MET


def test_supervision_order_may_set_its_own_feedback_days():
    events = [ev(Kind.REGISTER, REG), ev(Kind.SUPERVISE, REG, feedback_days=3)]
    assert clock(events, ClockName.SUPERVISION_FEEDBACK, REG).due_on == date(2025, 3, 6)


def test_unanswered_supervision_goes_overdue():
    events = [ev(Kind.REGISTER, REG), ev(Kind.SUPERVISE, REG, feedback_days=3)]
    c = clock(events, ClockName.SUPERVISION_FEEDBACK, date(2025, 3, 7))
    assert c.state is ClockState.OVERDUE


# --- due soon ----------------------------------------------------------------------------


def test_due_soon_flags_running_clocks_within_the_threshold():
    c = clock([ev(Kind.REGISTER, REG)], ClockName.DISPATCH, REG)  # due Mar 18
    assert not due_soon(c, date(2025, 3, 14))
    assert due_soon(c, date(2025, 3, 15))
    assert due_soon(c, date(2025, 3, 18))
    assert due_soon(c, date(2025, 3, 11), within_days=7)


def test_due_soon_ignores_overdue_and_stopped_clocks():
    overdue = clock([ev(Kind.REGISTER, REG)], ClockName.DISPATCH, date(2025, 3, 19))
    assert not due_soon(overdue, date(2025, 3, 19))
    met = clock(
        [ev(Kind.REGISTER, REG), ev(Kind.TRANSFER, date(2025, 3, 17), lead="x")],
        ClockName.DISPATCH,
        date(2025, 3, 17),
    )
    assert not due_soon(met, date(2025, 3, 17))


def test_a_case_with_no_events_has_no_clocks():
    assert compute_clocks([], CAL, REG) == ()
    assert current((), ClockName.DISPATCH) is None


def test_a_full_case_yields_its_clocks_in_the_order_they_started():
    events = [*rereview_requested(REG), ev(Kind.DECIDE_REREVIEW, REG)]
    names = [c.name for c in compute_clocks(events, CAL, REG)]
    assert names == [
        ClockName.DISPATCH,
        ClockName.ACCEPTANCE,
        ClockName.OBJECTION,
        ClockName.HANDLING,
        ClockName.REVIEW_REQUEST,
        ClockName.REVIEW_DECISION,
        ClockName.REREVIEW_REQUEST,
        ClockName.REREVIEW_DECISION,
    ]
