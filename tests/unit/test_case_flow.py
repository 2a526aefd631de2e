"""The petition case state machine: the table, every action by role, the statutory rules."""

import re
from dataclasses import replace
from datetime import date, datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from app.domain import case_flow as cf
from app.domain.calendar import WorkCalendar
from app.domain.case_flow import (
    ACTIONS,
    MESSAGES,
    CaseSnapshot,
    CaseState,
    Matter,
    allowed_actions,
    apply,
    check_repeat,
    facts_key,
    register,
    replay,
)
from app.domain.clocks import ClockName, ClockState, Kind, compute_clocks, current
from app.domain.roles import ROLES

S = CaseState
CAL = WorkCalendar()
TZ = ZoneInfo("Asia/Shanghai")
TODAY = date(2025, 6, 10)  # a Tuesday, no holiday near
NOW = datetime.combine(TODAY, time(10, 0), tzinfo=TZ)
EARLIER = date(2025, 6, 9)
LEAD = "住建局"


def at(day: date) -> datetime:
    return datetime.combine(day, time(10, 0), tzinfo=TZ)


def snapshot_in(state: CaseState, **overrides) -> CaseSnapshot:
    """A plausible snapshot of a case in ``state``, every date one day before TODAY."""
    s = CaseSnapshot(state=state, registered_on=date(2025, 6, 3))
    order = list(CaseState)
    after = order.index(state)
    if state not in (S.REGISTERED, S.OBJECTED, S.DIVERTED, S.TOLD_WHERE_TO_GO):
        s = replace(s, lead=LEAD, acknowledged=frozenset({LEAD}), dispatched_on=EARLIER)
    if state is S.DISPATCHED:
        s = replace(s, acknowledged=frozenset())
    if after >= order.index(S.ACCEPTED) and state not in (S.DIVERTED, S.TOLD_WHERE_TO_GO):
        s = replace(s, accepted_on=EARLIER)
    if state is S.EXTENDED:
        s = replace(s, extensions=1, extension_days=10)
    if after >= order.index(S.REPLIED):
        s = replace(s, reply_received_on=EARLIER)
    if state is S.EVALUATED:
        s = replace(s, evaluated_stages=frozenset({"opinion"}))
    if after >= order.index(S.REVIEW_REQUESTED) and state is not S.CLOSED:
        s = replace(s, review_requested_on=EARLIER)
    if after >= order.index(S.REVIEWED) and state is not S.CLOSED:
        s = replace(s, review_received_on=EARLIER)
    if after >= order.index(S.REREVIEW_REQUESTED) and state is not S.CLOSED:
        s = replace(s, rereview_requested_on=EARLIER)
    if after >= order.index(S.REREVIEWED) and state is not S.CLOSED:
        s = replace(s, rereview_received_on=EARLIER)
    return replace(s, **overrides)


OPINION = {
    "outcome": "support",
    "request_summary": "请求修复楼顶漏水",
    "facts_and_reasons": "经查属实",
    "opinion": "责成物业七日内修复",
    "legal_basis": "《物业管理条例》第五十五条",
}


def valid_fields(action: str, snapshot: CaseSnapshot) -> dict:
    at_desk = snapshot.state in cf.DESK_STATES
    return {
        "transfer": {"lead": LEAD},
        "assign": {"lead": LEAD, "report_days": "10"},
        "acknowledge": {"body": LEAD},
        "accept": {"body": LEAD},
        "object": {"body": LEAD, "reason": "不属本部门职责"},
        "divert": {"target": "political_legal" if at_desk else "litigation", "reason": "涉诉"},
        "tell_where_to_go": {"where": "区法院", "reason": "属诉讼事项"},
        "note": {"text": "走访核实"},
        "hearing_start": {"venue": "区矛调中心"},
        "hearing_end": {},
        "mediate": {"outcome": "failed"},
        "extend": {
            "days": "30",
            "reason": "涉及多部门",
            "approved_by": "局长王某",
            "petitioner_told": "on",
        },
        "opinion": OPINION,
        "evaluate": {"satisfaction": "satisfied"},
        "request_review": {"reviewing_body": "区政府", "reason": "不服"},
        "decide_review": {"outcome": "uphold", "opinion": "维持原意见"},
        "request_rereview": {"reviewing_body": "市政府", "reason": "仍不服"},
        "decide_rereview": {"outcome": "uphold", "opinion": "维持复查意见"},
        "close": {},
        "supervise": {"reason": "逾期未办"},
        "report_back": {"summary": "已办理"},
        "claim_ownership": {"leader": "李副区长"},
    }[action]


def ready_snapshot(action: str, state: CaseState) -> CaseSnapshot:
    """A snapshot in ``state`` that satisfies the action's snapshot guard where it can."""
    overrides = {}
    if action == "hearing_end":
        overrides["hearing_since"] = EARLIER
    if action == "request_rereview" and state is S.CLOSED:
        overrides["review_received_on"] = EARLIER
    return snapshot_in(state, **overrides)


def first_role(action: str, state: CaseState) -> str:
    return sorted(ACTIONS[action].roles_in(state))[0]


TRANSITIONS = [
    (row["action"], CaseState(row["from"]), CaseState(row["to"])) for row in cf.transition_table()
]
#: Moves kept only so the refusal names the rule, not the state.
GUARDED_MOVES = {("extend", S.EXTENDED): "case.refused.extend_twice"}


def assert_refused(outcome, before: CaseSnapshot, key: str) -> None:
    assert not outcome.ok
    assert outcome.refusal.key == key, outcome.refusal
    assert outcome.snapshot is before
    assert outcome.events == ()


# --- every transition of the table -----------------------------------------------------------


@pytest.mark.parametrize(("action", "source", "target"), TRANSITIONS)
def test_every_transition_in_the_table_succeeds_from_its_state(action, source, target):
    before = ready_snapshot(action, source)
    outcome = apply(
        before, action, first_role(action, source), valid_fields(action, before), NOW, CAL
    )
    if (action, source) in GUARDED_MOVES:
        assert_refused(outcome, before, GUARDED_MOVES[action, source])
        return
    assert outcome.ok, outcome.refusal
    assert outcome.snapshot.state is target
    (event,) = outcome.events
    assert event.kind == action
    assert event.at == NOW
    assert (event.data["from"], event.data["to"]) == (source.value, target.value)


REFUSED_STATES = [
    (action, state)
    for action, spec in sorted(ACTIONS.items())
    for state in CaseState
    if state not in spec.moves
]


@pytest.mark.parametrize(("action", "state"), REFUSED_STATES)
def test_every_action_is_refused_from_states_not_in_its_row(action, state):
    spec = ACTIONS[action]
    before = snapshot_in(state)
    role = sorted(spec.roles)[0]
    outcome = apply(before, action, role, valid_fields(action, before), NOW, CAL)
    assert_refused(outcome, before, "case.refused.state")


def role_cases():
    for action, spec in sorted(ACTIONS.items()):
        states = [next(iter(spec.moves))]
        if action == "divert":
            states = [S.REGISTERED, S.ACCEPTED]  # desk diversion vs Art. 31 diversion
        for state in states:
            for role in ROLES:
                yield action, state, role, role in spec.roles_in(state)


@pytest.mark.parametrize(("action", "state", "role", "allowed"), list(role_cases()))
def test_each_action_is_allowed_only_to_its_roles(action, state, role, allowed):
    before = ready_snapshot(action, state)
    outcome = apply(before, action, role, valid_fields(action, before), NOW, CAL)
    if allowed:
        assert outcome.ok, outcome.refusal
    else:
        assert_refused(outcome, before, "case.refused.role")


def test_admin_and_supervisor_cannot_handle_cases():
    for state in CaseState:
        assert allowed_actions(snapshot_in(state), "admin") == ()
        assert set(allowed_actions(snapshot_in(state), "supervisor")) <= {"supervise"}


def test_grid_worker_can_only_record_the_petitioners_evaluation():
    assert allowed_actions(snapshot_in(S.REPLIED), "grid_worker") == ("evaluate",)
    assert allowed_actions(snapshot_in(S.IN_PROGRESS), "grid_worker") == ()


def test_allowed_actions_for_the_desk_on_a_new_case():
    assert set(allowed_actions(snapshot_in(S.REGISTERED), "front_desk")) == {
        "transfer",
        "assign",
        "divert",
        "tell_where_to_go",
    }


def test_unknown_action_is_refused():
    before = snapshot_in(S.REGISTERED)
    outcome = apply(before, "approve", "front_desk", {}, NOW, CAL)
    assert_refused(outcome, before, "case.refused.unknown_action")
    assert outcome.refusal.message == "Unknown action “approve”."


def test_a_role_that_could_act_in_another_state_is_told_about_the_state():
    before = snapshot_in(S.REGISTERED)
    outcome = apply(before, "accept", "department", {"body": LEAD}, NOW, CAL)
    assert_refused(outcome, before, "case.refused.state")
    assert outcome.refusal.message == "“accept” is not possible while the case is registered."


def test_every_action_without_an_article_explains_itself_in_a_note():
    for spec in ACTIONS.values():
        assert spec.article or spec.note, spec.name
    assert "local practice" in ACTIONS["note"].note
    assert "local practice" in ACTIONS["close"].note


def test_action_names_match_the_contract():
    contract = {
        "accept",
        "transfer",
        "assign",
        "divert",
        "object",
        "opinion",
        "extend",
        "request_review",
        "decide_review",
        "request_rereview",
        "decide_rereview",
        "close",
        "evaluate",
    }
    assert contract <= set(ACTIONS)


def test_every_refusal_key_used_in_the_code_has_an_english_default():
    source = Path(cf.__file__).read_text(encoding="utf-8")
    used = set(re.findall(r'"(case\.refused\.[a-z_]+)"', source))
    assert used <= set(MESSAGES)
    assert used == set(MESSAGES)


# --- multi-body dispatch (Art. 24) ---------------------------------------------------------


def multi_body() -> CaseSnapshot:
    outcome = apply(
        snapshot_in(S.REGISTERED),
        "transfer",
        "front_desk",
        {"lead": LEAD, "co_handlers": ["城管局", "人社局"]},
        NOW,
        CAL,
    )
    assert outcome.ok
    return outcome.snapshot


def test_transfer_to_several_bodies_records_one_lead_and_co_handlers():
    s = multi_body()
    assert (s.state, s.lead, s.co_handlers, s.dispatched_on) == (
        S.DISPATCHED,
        LEAD,
        ("城管局", "人社局"),
        TODAY,
    )
    assert not s.dispatch_complete
    assert s.awaiting_acknowledgement == (LEAD, "城管局", "人社局")


def test_co_handlers_may_come_as_a_comma_list():
    outcome = apply(
        snapshot_in(S.REGISTERED),
        "transfer",
        "front_desk",
        {"lead": LEAD, "co_handlers": "城管局, 人社局,城管局"},
        NOW,
        CAL,
    )
    assert outcome.snapshot.co_handlers == ("城管局", "人社局")


def test_the_lead_cannot_also_be_a_co_handler():
    before = snapshot_in(S.REGISTERED)
    outcome = apply(
        before, "transfer", "front_desk", {"lead": LEAD, "co_handlers": [LEAD]}, NOW, CAL
    )
    assert_refused(outcome, before, "case.refused.invalid")
    assert outcome.refusal.fields == {"co_handlers": cf.FIELD_MUST_DIFFER}


def test_multi_body_dispatch_is_not_complete_until_every_body_acknowledged():
    s = multi_body()
    refused = apply(s, "accept", "department", {"body": LEAD}, NOW, CAL)
    assert_refused(refused, s, "case.refused.dispatch_incomplete")
    assert refused.refusal.message.endswith("waiting for 城管局, 人社局 to acknowledge receipt.")
    assert "accept" not in allowed_actions(s, "department")

    s = apply(s, "acknowledge", "department", {"body": "城管局"}, NOW, CAL).snapshot
    assert_refused(
        apply(s, "accept", "department", {"body": LEAD}, NOW, CAL),
        s,
        "case.refused.dispatch_incomplete",
    )
    s = apply(s, "acknowledge", "department", {"body": "人社局"}, NOW, CAL).snapshot
    assert s.awaiting_acknowledgement == (LEAD,)
    assert "accept" in allowed_actions(s, "department")

    accepted = apply(s, "accept", "department", {"body": LEAD}, NOW, CAL)
    assert accepted.ok
    assert accepted.snapshot.state is S.ACCEPTED
    assert accepted.snapshot.dispatch_complete
    assert accepted.snapshot.accepted_on == TODAY


def test_a_body_acknowledges_only_once():
    s = apply(multi_body(), "acknowledge", "department", {"body": "城管局"}, NOW, CAL).snapshot
    assert_refused(
        apply(s, "acknowledge", "department", {"body": "城管局"}, NOW, CAL),
        s,
        "case.refused.already_acknowledged",
    )


def test_a_body_the_matter_was_not_sent_to_cannot_acknowledge():
    s = multi_body()
    outcome = apply(s, "acknowledge", "department", {"body": "民政局"}, NOW, CAL)
    assert_refused(outcome, s, "case.refused.invalid")
    assert outcome.refusal.fields == {"body": cf.FIELD_NOT_A_BODY}


def test_only_the_lead_accepts():
    s = snapshot_in(S.DISPATCHED, co_handlers=("城管局",), acknowledged=frozenset({"城管局"}))
    assert_refused(
        apply(s, "accept", "department", {"body": "城管局"}, NOW, CAL), s, "case.refused.not_lead"
    )


def test_a_single_body_accepts_without_a_separate_acknowledgement():
    s = snapshot_in(S.DISPATCHED)
    assert apply(s, "accept", "street_leader", {"body": LEAD}, NOW, CAL).ok


# --- objection within 5 working days (Art. 23) ---------------------------------------------

NATIONAL_DAY_RECEIPT = date(2025, 9, 26)  # 5th working day: Oct 10; 6th: Sat Oct 11 (调休)


def test_objection_on_the_5th_working_day_sends_the_matter_back_to_the_desk():
    s = snapshot_in(S.DISPATCHED, dispatched_on=NATIONAL_DAY_RECEIPT)
    outcome = apply(
        s, "object", "department", {"body": LEAD, "reason": "不属职责"}, at(date(2025, 10, 10)), CAL
    )
    assert outcome.ok
    assert outcome.snapshot.state is S.OBJECTED
    assert outcome.snapshot.lead is None
    assert outcome.events[0].data["lead"] is True
    assert "transfer" in allowed_actions(outcome.snapshot, "front_desk")


def test_objection_on_the_6th_working_day_is_refused():
    s = snapshot_in(S.DISPATCHED, dispatched_on=NATIONAL_DAY_RECEIPT)
    outcome = apply(
        s, "object", "department", {"body": LEAD, "reason": "不属职责"}, at(date(2025, 10, 11)), CAL
    )
    assert_refused(outcome, s, "case.refused.objection_late")
    assert outcome.refusal.params == {"due": "2025-10-10"}
    assert outcome.refusal.article == "第二十三条"


def test_a_co_handler_objecting_leaves_and_the_lead_keeps_the_matter():
    s = snapshot_in(S.DISPATCHED, co_handlers=("城管局", "人社局"))
    outcome = apply(s, "object", "department", {"body": "城管局", "reason": "无关"}, NOW, CAL)
    assert outcome.snapshot.state is S.DISPATCHED
    assert outcome.snapshot.co_handlers == ("人社局",)
    assert outcome.snapshot.lead == LEAD
    assert outcome.events[0].data["to"] == "dispatched"


def test_objection_needs_a_reason():
    s = snapshot_in(S.DISPATCHED)
    outcome = apply(s, "object", "department", {"body": LEAD}, NOW, CAL)
    assert_refused(outcome, s, "case.refused.invalid")
    assert set(outcome.refusal.fields) == {"reason"}


# --- diversion and telling where to go -----------------------------------------------------


def test_desk_diverts_only_to_political_legal_organs_or_discipline_inspection():
    s = snapshot_in(S.REGISTERED)
    for target, article in (("political_legal", "第二十八条"), ("discipline", "第二十二条")):
        outcome = apply(s, "divert", "front_desk", {"target": target, "reason": "r"}, NOW, CAL)
        assert outcome.snapshot.state is S.DIVERTED
        assert outcome.events[0].data["article"] == article
    wrong = apply(s, "divert", "front_desk", {"target": "arbitration", "reason": "r"}, NOW, CAL)
    assert_refused(wrong, s, "case.refused.invalid")
    assert set(wrong.refusal.fields) == {"target"}


@pytest.mark.parametrize("target", cf.PROCEDURE_DIVERSIONS)
def test_the_handling_body_diverts_into_legal_procedures_under_art_31(target):
    s = snapshot_in(S.IN_PROGRESS)
    outcome = apply(s, "divert", "department", {"target": target, "reason": "r"}, NOW, CAL)
    assert outcome.snapshot.state is S.DIVERTED
    assert outcome.events[0].data["article"] == "第三十一条"


def test_the_handling_body_cannot_use_desk_diversions():
    s = snapshot_in(S.ACCEPTED)
    outcome = apply(s, "divert", "department", {"target": "discipline", "reason": "r"}, NOW, CAL)
    assert_refused(outcome, s, "case.refused.invalid")


def test_the_desk_cannot_divert_a_case_a_body_is_handling():
    s = snapshot_in(S.IN_PROGRESS)
    outcome = apply(s, "divert", "front_desk", {"target": "litigation", "reason": "r"}, NOW, CAL)
    assert_refused(outcome, s, "case.refused.role")


def test_diverted_and_told_cases_take_no_further_procedure_steps():
    for state in (S.DIVERTED, S.TOLD_WHERE_TO_GO):
        assert set(allowed_actions(snapshot_in(state), "front_desk")) == set()
        assert set(allowed_actions(snapshot_in(state), "district_leader")) == {"supervise"}


# --- handling, hearing, mediation, extension (Arts. 33, 34) ----------------------------------


def test_a_note_moves_an_accepted_case_into_progress_and_keeps_an_extended_one_extended():
    assert (
        apply(snapshot_in(S.ACCEPTED), "note", "department", {"text": "t"}, NOW, CAL).snapshot.state
        is S.IN_PROGRESS
    )
    extended = apply(snapshot_in(S.EXTENDED), "note", "department", {"text": "t"}, NOW, CAL)
    assert extended.snapshot.state is S.EXTENDED


def test_mediation_agreement_needs_its_terms():
    s = snapshot_in(S.IN_PROGRESS)
    outcome = apply(s, "mediate", "department", {"outcome": "agreed"}, NOW, CAL)
    assert_refused(outcome, s, "case.refused.invalid")
    assert outcome.refusal.fields == {"terms": cf.FIELD_TERMS_REQUIRED}
    ok = apply(s, "mediate", "department", {"outcome": "agreed", "terms": "赔偿"}, NOW, CAL)
    assert ok.ok and ok.events[0].data["article"] == "第三十三条"


def test_only_one_hearing_is_open_at_a_time_and_the_opinion_waits_for_it():
    s = apply(snapshot_in(S.IN_PROGRESS), "hearing_start", "department", {}, NOW, CAL).snapshot
    assert s.hearing_since == TODAY
    assert_refused(
        apply(s, "hearing_start", "department", {}, NOW, CAL), s, "case.refused.hearing_open"
    )
    assert_refused(
        apply(s, "opinion", "department", OPINION, NOW, CAL), s, "case.refused.hearing_open"
    )
    ended = apply(s, "hearing_end", "department", {}, NOW, CAL).snapshot
    assert ended.hearing_since is None
    assert apply(ended, "opinion", "department", OPINION, NOW, CAL).ok


def test_ending_a_hearing_that_is_not_open_is_refused():
    s = snapshot_in(S.IN_PROGRESS)
    assert_refused(
        apply(s, "hearing_end", "department", {}, NOW, CAL), s, "case.refused.no_hearing_open"
    )


EXTEND = valid_fields("extend", snapshot_in(S.IN_PROGRESS))


def test_extension_records_days_and_moves_to_extended():
    outcome = apply(snapshot_in(S.IN_PROGRESS), "extend", "department", EXTEND, NOW, CAL)
    assert outcome.snapshot.state is S.EXTENDED
    assert (outcome.snapshot.extensions, outcome.snapshot.extension_days) == (1, 30)
    data = outcome.events[0].data
    assert (data["days"], data["approved_by"], data["article"]) == (30, "局长王某", "第三十四条")


def test_extending_twice_is_refused():
    once = apply(snapshot_in(S.IN_PROGRESS), "extend", "department", EXTEND, NOW, CAL).snapshot
    twice = apply(once, "extend", "department", {**EXTEND, "days": "5"}, NOW, CAL)
    assert_refused(twice, once, "case.refused.extend_twice")
    assert twice.refusal.message == "The handling period can be extended only once."
    assert "extend" not in allowed_actions(once, "department")


@pytest.mark.parametrize(
    ("fields", "bad"),
    [
        ({**EXTEND, "days": "31"}, {"days"}),
        ({**EXTEND, "days": "0"}, {"days"}),
        ({**EXTEND, "days": "thirty"}, {"days"}),
        ({k: v for k, v in EXTEND.items() if k != "reason"}, {"reason"}),
        ({k: v for k, v in EXTEND.items() if k != "approved_by"}, {"approved_by"}),
        ({k: v for k, v in EXTEND.items() if k != "petitioner_told"}, {"petitioner_told"}),
        ({}, {"days", "reason", "approved_by", "petitioner_told"}),
    ],
)
def test_extension_fields_are_validated(fields, bad):
    s = snapshot_in(S.IN_PROGRESS)
    outcome = apply(s, "extend", "department", fields, NOW, CAL)
    assert_refused(outcome, s, "case.refused.invalid")
    assert set(outcome.refusal.fields) == bad


def test_extension_on_the_last_day_of_the_60_is_allowed_and_the_day_after_refused():
    accepted_on = date(2025, 3, 5)  # 60th day: May 4 (Labour Day) -> due May 6
    s = snapshot_in(S.IN_PROGRESS, accepted_on=accepted_on)
    on_last_day = apply(s, "extend", "department", EXTEND, at(date(2025, 5, 6)), CAL)
    assert on_last_day.ok
    events = [
        cf.Event(Kind.REGISTER, at(date(2025, 3, 3))),
        cf.Event(Kind.TRANSFER, at(date(2025, 3, 4)), {"lead": LEAD}),
        cf.Event(Kind.ACCEPT, at(accepted_on), {"body": LEAD}),
        *on_last_day.events,
    ]
    handling = current(compute_clocks(events, CAL, date(2025, 5, 7)), ClockName.HANDLING)
    assert handling.due_on == date(2025, 6, 3)  # Mar 5 + 90
    assert handling.state is ClockState.RUNNING
    late = apply(s, "extend", "department", EXTEND, at(date(2025, 5, 7)), CAL)
    assert_refused(late, s, "case.refused.extend_after_deadline")
    assert late.refusal.params == {"due": "2025-05-06"}


# --- opinion, evaluation, review, re-review (Arts. 32, 35, 36) ---------------------------------


@pytest.mark.parametrize("missing", sorted(OPINION))
def test_the_opinion_letter_needs_every_element_of_art_32(missing):
    s = snapshot_in(S.IN_PROGRESS)
    fields = {k: v for k, v in OPINION.items() if k != missing}
    outcome = apply(s, "opinion", "department", fields, NOW, CAL)
    assert_refused(outcome, s, "case.refused.invalid")
    assert set(outcome.refusal.fields) == {missing}


def test_opinion_outcome_must_be_support_explain_or_not_support():
    s = snapshot_in(S.IN_PROGRESS)
    outcome = apply(s, "opinion", "department", {**OPINION, "outcome": "maybe"}, NOW, CAL)
    assert set(outcome.refusal.fields) == {"outcome"}


def test_opinion_delivery_date_defaults_to_today_and_cannot_be_in_the_future():
    s = snapshot_in(S.IN_PROGRESS)
    assert apply(s, "opinion", "department", OPINION, NOW, CAL).snapshot.reply_received_on == TODAY
    future = apply(s, "opinion", "department", {**OPINION, "delivered_on": "2025-06-11"}, NOW, CAL)
    assert set(future.refusal.fields) == {"delivered_on"}
    past = apply(s, "opinion", "department", {**OPINION, "delivered_on": "2025-06-09"}, NOW, CAL)
    assert past.snapshot.reply_received_on == EARLIER
    assert past.events[0].data["delivered_on"] == "2025-06-09"


def test_the_petitioner_evaluates_each_answer_once():
    s = apply(
        snapshot_in(S.REPLIED), "evaluate", "grid_worker", {"satisfaction": "basically"}, NOW, CAL
    )
    assert s.snapshot.state is S.EVALUATED
    assert s.events[0].data["stage"] == "opinion"
    assert "evaluate" not in allowed_actions(s.snapshot, "grid_worker")
    closed = snapshot_in(S.CLOSED, evaluated_stages=frozenset({"opinion"}))
    assert_refused(
        apply(closed, "evaluate", "front_desk", {"satisfaction": "satisfied"}, NOW, CAL),
        closed,
        "case.refused.already_evaluated",
    )
    reviewed = snapshot_in(S.REVIEWED, evaluated_stages=frozenset({"opinion"}))
    again = apply(reviewed, "evaluate", "front_desk", {"satisfaction": "dissatisfied"}, NOW, CAL)
    assert again.ok and again.events[0].data["stage"] == "review"


REVIEW = valid_fields("request_review", snapshot_in(S.REPLIED))
REREVIEW = valid_fields("request_rereview", snapshot_in(S.REVIEWED))


def test_review_may_be_requested_on_the_30th_day_after_receiving_the_reply():
    s = snapshot_in(S.REPLIED, reply_received_on=date(2025, 3, 3))  # 30th day: Apr 2
    assert apply(s, "request_review", "front_desk", REVIEW, at(date(2025, 4, 2)), CAL).ok
    late = apply(s, "request_review", "front_desk", REVIEW, at(date(2025, 4, 3)), CAL)
    assert_refused(late, s, "case.refused.review_window_closed")
    assert late.refusal.article == "第三十五条"


def test_a_closed_case_can_still_go_to_review_within_the_window():
    s = snapshot_in(S.CLOSED)
    outcome = apply(s, "request_review", "front_desk", REVIEW, NOW, CAL)
    assert outcome.snapshot.state is S.REVIEW_REQUESTED
    assert outcome.snapshot.review_requested_on == TODAY


def test_review_is_requested_only_once():
    s = snapshot_in(S.CLOSED, review_requested_on=EARLIER, review_received_on=EARLIER)
    assert_refused(
        apply(s, "request_review", "front_desk", REVIEW, NOW, CAL),
        s,
        "case.refused.review_already_requested",
    )
    assert "request_review" not in allowed_actions(s, "front_desk")
    assert "request_rereview" in allowed_actions(s, "front_desk")


def test_rereview_needs_a_review_opinion_first():
    s = snapshot_in(S.CLOSED)
    assert_refused(
        apply(s, "request_rereview", "front_desk", REREVIEW, NOW, CAL),
        s,
        "case.refused.no_review_decision",
    )


def test_rereview_window_is_30_days_from_receiving_the_review_opinion():
    s = snapshot_in(S.REVIEWED, review_received_on=date(2025, 3, 3))
    assert apply(s, "request_rereview", "department", REREVIEW, at(date(2025, 4, 2)), CAL).ok
    assert_refused(
        apply(s, "request_rereview", "department", REREVIEW, at(date(2025, 4, 3)), CAL),
        s,
        "case.refused.rereview_window_closed",
    )


def test_rereview_decision_waits_for_an_open_hearing_to_end():
    s = apply(snapshot_in(S.REREVIEW_REQUESTED), "hearing_start", "district_leader", {}, NOW, CAL)
    assert s.events[0].data["article"] == "第三十六条"
    decide = valid_fields("decide_rereview", s.snapshot)
    assert_refused(
        apply(s.snapshot, "decide_rereview", "district_leader", decide, NOW, CAL),
        s.snapshot,
        "case.refused.hearing_open",
    )


def test_a_hearing_during_handling_cites_no_article():
    outcome = apply(snapshot_in(S.IN_PROGRESS), "hearing_start", "department", {}, NOW, CAL)
    assert outcome.events[0].data["article"] is None


def test_closing_after_rereview_makes_the_case_final_and_nothing_reopens_it():
    outcome = apply(snapshot_in(S.REREVIEWED), "close", "front_desk", {}, NOW, CAL)
    assert outcome.snapshot.state is S.FINAL
    assert outcome.events[0].data["article"] == "第三十六条"
    final = outcome.snapshot
    for action in ("request_review", "request_rereview", "opinion", "extend", "transfer"):
        assert not apply(
            final, action, first_role(action, next(iter(ACTIONS[action].moves))), {}, NOW, CAL
        ).ok
    assert set(allowed_actions(final, "front_desk")) == {"evaluate"}


def test_closing_before_rereview_is_not_final():
    assert (
        apply(snapshot_in(S.REPLIED), "close", "department", {}, NOW, CAL).snapshot.state
        is S.CLOSED
    )
    assert (
        apply(snapshot_in(S.REVIEWED), "close", "department", {}, NOW, CAL).snapshot.state
        is S.CLOSED
    )


# --- oversight --------------------------------------------------------------------------------


def test_supervision_and_report_back_leave_the_state_alone():
    for state in CaseState:
        s = snapshot_in(state)
        sup = apply(
            s, "supervise", "supervisor", {"reason": "逾期", "feedback_days": "5"}, NOW, CAL
        )
        assert sup.snapshot == s and sup.events[0].data["feedback_days"] == 5
        rep = apply(s, "report_back", "department", {"summary": "已办"}, NOW, CAL)
        assert rep.snapshot == s


def test_a_leader_claims_ownership_of_an_open_case():
    outcome = apply(
        snapshot_in(S.IN_PROGRESS), "claim_ownership", "district_leader", {"leader": "李"}, NOW, CAL
    )
    assert outcome.snapshot.owner == "李"
    assert outcome.events[0].data["article"] == "第十八条"


# --- refusal changes nothing ---------------------------------------------------------------


def test_a_refusal_returns_the_same_snapshot_and_no_events():
    s = snapshot_in(S.EXTENDED)
    frozen = replace(s)
    outcome = apply(s, "extend", "department", EXTEND, NOW, CAL)
    assert outcome.snapshot is s and s == frozen
    assert outcome.events == ()


# --- register and replay -------------------------------------------------------------------


def test_register_starts_a_case_with_a_register_event():
    received = datetime(2025, 6, 9, 15, 0, tzinfo=TZ)
    outcome = register(
        "front_desk",
        {
            "channel": "visit",
            "petitioner_name": "张三",
            "content": "楼顶漏水",
            "received_at": received.isoformat(),
        },
        NOW,
    )
    assert outcome.ok
    assert outcome.snapshot == CaseSnapshot(S.REGISTERED, EARLIER)
    (event,) = outcome.events
    assert (event.kind, event.at) == (Kind.REGISTER, received)
    assert event.data["article"] == "第二十一条"


def test_register_refuses_a_future_receipt_date_and_missing_fields():
    outcome = register("front_desk", {"channel": "fax", "received_at": "2025-06-11T09:00"}, NOW)
    assert outcome.refusal.key == "case.refused.invalid"
    assert set(outcome.refusal.fields) == {"petitioner_name", "content", "received_at"}


def test_a_group_visit_sends_at_most_five_representatives():
    base = {"channel": "visit", "petitioner_name": "张三", "content": "欠薪", "group_size": "30"}
    assert set(register("front_desk", base, NOW).refusal.fields) == {"representatives"}
    too_many = register("front_desk", {**base, "representatives": "6"}, NOW)
    assert set(too_many.refusal.fields) == {"representatives"}
    ok = register("front_desk", {**base, "representatives": "5"}, NOW)
    assert ok.ok and ok.events[0].data["article"] == "第二十条"


def test_only_desks_register_matters():
    assert register("grid_worker", {}, NOW).refusal.key == "case.refused.role"
    assert register("department", {}, NOW).refusal.key == "case.refused.role"


def test_replay_of_the_events_rebuilds_the_snapshot_of_a_whole_case():
    day = date(2025, 3, 3)
    outcome = register(
        "front_desk", {"channel": "letter", "petitioner_name": "张三", "content": "c"}, at(day)
    )
    s, events = outcome.snapshot, list(outcome.events)
    steps = [
        ("transfer", "front_desk", {"lead": LEAD, "co_handlers": "城管局,人社局"}),
        ("acknowledge", "department", {"body": "城管局"}),
        ("object", "department", {"body": "人社局", "reason": "无关"}),
        ("accept", "department", {"body": LEAD}),
        ("note", "department", {"text": "走访"}),
        ("extend", "department", EXTEND),
        ("opinion", "department", OPINION),
        ("evaluate", "grid_worker", {"satisfaction": "dissatisfied"}),
        ("request_review", "front_desk", REVIEW),
        ("decide_review", "district_leader", {"outcome": "uphold", "opinion": "维持"}),
        ("request_rereview", "front_desk", REREVIEW),
        ("hearing_start", "district_leader", {}),
        ("hearing_end", "district_leader", {}),
        ("decide_rereview", "district_leader", {"outcome": "uphold", "opinion": "维持"}),
        ("close", "front_desk", {}),
    ]
    for i, (action, role, fields) in enumerate(steps, start=1):
        outcome = apply(s, action, role, fields, at(date(2025, 3, 3 + i)), CAL)
        assert outcome.ok, (action, outcome.refusal)
        s = outcome.snapshot
        events.extend(outcome.events)
    assert s.state is S.FINAL
    assert replay(events) == s
    assert replay(reversed(events)) == s


def test_replay_needs_a_register_event_first():
    with pytest.raises(ValueError):
        replay([])


# --- repeated matters (Arts. 19, 36) ---------------------------------------------------------

KEY = facts_key("楼顶 漏水，多次反映未解决！")


def matter(state=S.IN_PROGRESS, level="street", **kw) -> Matter:
    base = {"facts_key": KEY, "state": state, "level": level, "id_number": "22010219800101123x"}
    return Matter(**(base | kw))


def test_facts_key_ignores_spacing_punctuation_and_width():
    assert facts_key("楼顶漏水, 多次反映未解决!") == KEY
    assert facts_key("ＡＢＣ 漏水") == facts_key("abc漏水")


def test_a_matter_being_handled_raised_again_at_a_higher_level_is_not_accepted():
    refusal = check_repeat(matter(level="district"), [matter(case_id="17")])
    assert refusal.key == "case.refused.repeat_at_higher_level"
    assert refusal.article == "第十九条"
    assert refusal.params == {"case_id": "17"}


@pytest.mark.parametrize("level", ["street", "community"])
def test_a_repeat_at_the_same_or_a_lower_level_is_not_refused(level):
    assert check_repeat(matter(level=level), [matter()]) is None


def test_a_repeat_after_the_handling_period_ran_out_is_not_refused():
    old = matter(handling_due_on=date(2025, 6, 9))
    assert check_repeat(matter(level="district"), [old], today=TODAY) is None
    assert check_repeat(matter(level="district"), [old], today=EARLIER) is not None


@pytest.mark.parametrize("state", [S.REGISTERED, S.DISPATCHED, S.REPLIED, S.CLOSED, S.REVIEWED])
def test_matters_not_yet_accepted_or_already_answered_do_not_block_a_higher_level(state):
    assert check_repeat(matter(level="district"), [matter(state=state)]) is None


@pytest.mark.parametrize("level", ["community", "street", "district", "national"])
def test_after_rereview_the_same_facts_and_reasons_are_not_accepted_at_any_level(level):
    for state in (S.REREVIEWED, S.FINAL):
        refusal = check_repeat(matter(level=level), [matter(state=state)])
        assert refusal.key == "case.refused.repeat_after_rereview"
        assert refusal.article == "第三十六条"


def test_different_facts_are_a_new_matter():
    other = matter(facts_key=facts_key("噪音扰民"), level="district")
    assert check_repeat(other, [matter(state=S.FINAL)]) is None


def test_petitioner_is_matched_by_id_number_case_insensitively():
    new = matter(level="district", id_number="22010219800101123X", phone="1", name="A")
    assert check_repeat(new, [matter(phone="2", name="B")]) is not None
    other_id = matter(level="district", id_number="220102199001011234")
    assert check_repeat(other_id, [matter()]) is None


def test_without_id_numbers_petitioner_is_matched_by_phone_and_name():
    old = matter(id_number="", phone="138 0000 0000", name="张三")
    same = matter(level="district", id_number="", phone="+86 13800000000", name="张三")
    assert check_repeat(same, [old]) is not None
    other_name = matter(level="district", id_number="", phone="13800000000", name="李四")
    assert check_repeat(other_name, [old]) is None
    nothing = matter(level="district", id_number="", phone="", name="")
    assert check_repeat(nothing, [matter(id_number="", phone="", name="")]) is None
