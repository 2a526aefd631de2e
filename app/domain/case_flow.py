"""The petition case state machine (信访事项办理流程), as a table. Pure: no I/O.

:data:`ACTIONS` lists every action: the states it may start from and the state it leads to,
the roles allowed, the article it rests on (``None`` with a note where the rule is local
practice, not law), and how its fields are validated. :func:`apply` is the only way a case
changes: it answers an :class:`Outcome` carrying the new :class:`CaseSnapshot` and the
:class:`~app.domain.clocks.Event` to append, or a :class:`Refusal` (message key + English
default) and the snapshot unchanged. :func:`replay` folds stored events back into a snapshot.

Field validation uses the project's :class:`~app.domain.forms.Form`, so HTML forms and JSON
bodies share field names and per-field messages.

Flow in one breath: the desk registers (Art. 21) and, within 15 days (Art. 22), transfers or
assigns the matter to one lead body plus co-handlers, diverts it (政法 for litigation-related
matters, Art. 28; 纪检监察 for accusations) or tells the petitioner where to go. Every body
acknowledges receipt (Art. 24); the lead accepts with written notice within 15 days or any body
objects within 5 working days (Art. 23), which sends it back to the desk. The lead diverts it
into a legal procedure (Art. 31) or investigates, may hold a hearing or mediate (Art. 33), may
extend once by ≤ 30 days (Art. 34), and issues the opinion letter (Art. 32). The petitioner
evaluates, may request 复查 (Art. 35) and then 复核 (Art. 36), after which the matter is final.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from app.domain.calendar import WorkCalendar, local_date
from app.domain.clocks import (
    ARTICLE_ACCEPTANCE,
    ARTICLE_DISPATCH,
    ARTICLE_DIVERSION,
    ARTICLE_GROUP_VISIT,
    ARTICLE_HANDLING,
    ARTICLE_LEADER_OWNERSHIP,
    ARTICLE_LITIGATION_RELATED,
    ARTICLE_MEDIATION,
    ARTICLE_MULTI_BODY,
    ARTICLE_OPINION,
    ARTICLE_REGISTER,
    ARTICLE_REPEAT_AT_HIGHER_LEVEL,
    ARTICLE_REREVIEW,
    ARTICLE_REVIEW,
    ARTICLE_SUPERVISION,
    LOCAL_PRACTICE,
    MAX_EXTENSION_DAYS,
    Event,
    Kind,
    event_date,
    handling_due,
    objection_due,
    rereview_request_due,
    review_request_due,
)
from app.domain.forms import Form, multi
from app.domain.roles import (
    COMMUNITY_STAFF,
    DEPARTMENT,
    DISTRICT_LEADER,
    FRONT_DESK,
    GRID_WORKER,
    STREET_LEADER,
    SUPERVISOR,
)


class CaseState(StrEnum):
    REGISTERED = "registered"
    DISPATCHED = "dispatched"
    OBJECTED = "objected"
    ACCEPTED = "accepted"
    IN_PROGRESS = "in_progress"
    EXTENDED = "extended"
    DIVERTED = "diverted"
    TOLD_WHERE_TO_GO = "told_where_to_go"
    REPLIED = "replied"
    EVALUATED = "evaluated"
    REVIEW_REQUESTED = "review_requested"
    REVIEWED = "reviewed"
    REREVIEW_REQUESTED = "rereview_requested"
    REREVIEWED = "rereviewed"
    CLOSED = "closed"
    FINAL = "final"


S = CaseState
ALL_STATES: frozenset[CaseState] = frozenset(CaseState)
#: No petition-procedure step follows these (supervision and report-back still may).
TERMINAL_STATES: frozenset[CaseState] = frozenset({S.DIVERTED, S.TOLD_WHERE_TO_GO, S.FINAL})
DESK_STATES: frozenset[CaseState] = frozenset({S.REGISTERED, S.OBJECTED})
HANDLING_STATES: frozenset[CaseState] = frozenset({S.ACCEPTED, S.IN_PROGRESS, S.EXTENDED})

#: Bodies a matter is dispatched to: functional departments and street offices (属地).
RECEIVERS: frozenset[str] = frozenset({DEPARTMENT, STREET_LEADER})

OUTCOMES = ("support", "explain", "not_support")  # 予以支持 · 解释说明 · 不予支持 (Art. 32)
REVIEW_OUTCOMES = ("uphold", "revise")  # 维持 · 变更/撤销 the opinion under review
SATISFACTION = ("satisfied", "basically", "dissatisfied")
#: Front-desk diversions: 涉法涉诉 → 政法 (Art. 28), accusations → 纪检监察 (Art. 22 options).
DESK_DIVERSIONS = {
    "political_legal": ARTICLE_LITIGATION_RELATED,
    "discipline": ARTICLE_DISPATCH,
}
#: Art. 31: matters that belong in another legal procedure are led into it.
PROCEDURE_DIVERSIONS = ("litigation", "arbitration", "administrative", "party_appeal")
MEDIATION_OUTCOMES = ("agreed", "failed")
MAX_REPORT_DAYS = 90
MAX_FEEDBACK_DAYS = 90
MAX_GROUP_REPRESENTATIVES = 5  # Art. 20
CHANNELS = ("online", "letter", "phone", "fax", "visit")  # Art. 17


#: Every refusal key with its English default text (the message catalog translates the key).
MESSAGES: dict[str, str] = {
    "case.refused.unknown_action": "Unknown action “{action}”.",
    "case.refused.role": "Your role ({role}) may not {action} this case.",
    "case.refused.state": "“{action}” is not possible while the case is {state}.",
    "case.refused.invalid": "Some fields need correcting.",
    "case.refused.not_a_body": "{body} is not one of the bodies this matter was dispatched to.",
    "case.refused.already_acknowledged": "{body} has already acknowledged receipt.",
    "case.refused.not_lead": "Only the lead body ({lead}) can accept this matter.",
    "case.refused.dispatch_incomplete": (
        "Dispatch is not complete: still waiting for {waiting} to acknowledge receipt."
    ),
    "case.refused.objection_late": (
        "Objections must be made within 5 working days of receipt; the window closed on {due}."
    ),
    "case.refused.extend_twice": "The handling period can be extended only once.",
    "case.refused.extend_after_deadline": (
        "The handling period ended on {due}; it can no longer be extended."
    ),
    "case.refused.hearing_open": "A hearing is still open; end it first.",
    "case.refused.no_hearing_open": "No hearing is open.",
    "case.refused.already_evaluated": "The petitioner's evaluation of this stage is recorded.",
    "case.refused.no_reply": "No written reply has been issued yet.",
    "case.refused.review_already_requested": "A review (复查) was already requested.",
    "case.refused.review_window_closed": (
        "A review (复查) must be requested within 30 days of receiving the written reply; "
        "the window closed on {due}."
    ),
    "case.refused.no_review_decision": "There is no review (复查) opinion to re-review.",
    "case.refused.rereview_already_requested": "A re-review (复核) was already requested.",
    "case.refused.rereview_window_closed": (
        "A re-review (复核) must be requested within 30 days of receiving the review opinion; "
        "the window closed on {due}."
    ),
    "case.refused.repeat_at_higher_level": (
        "The same matter is already being handled at a lower level; it is not accepted again "
        "at a higher level while it is handled."
    ),
    "case.refused.repeat_after_rereview": (
        "The same matter was settled by a re-review (复核); it is not accepted again on the "
        "same facts and reasons."
    ),
}

#: Per-field messages beyond the generic ones of :class:`Form` (English msgids).
FIELD_MUST_DIFFER = "The lead body cannot also be a co-handler."
FIELD_MUST_CONFIRM = "Confirm that the petitioner was told."
FIELD_DATE_RANGE = "Date out of range."
FIELD_TERMS_REQUIRED = "Record the agreed terms."
FIELD_TOO_MANY_REPRESENTATIVES = "A group visit sends at most 5 representatives."
FIELD_NOT_A_BODY = "Not one of the bodies this matter was dispatched to."


@dataclass(frozen=True)
class Refusal:
    """Why something was not done.

    :param key: message catalog key (``case.refused.*``); :attr:`message` is the English default.
    :param fields: per-field English msgids, for rendering beside the form fields.
    :param article: the article the refusal rests on, if any.
    """

    key: str
    params: Mapping[str, Any] = field(default_factory=dict)
    fields: Mapping[str, str] = field(default_factory=dict)
    article: str | None = None

    @property
    def default(self) -> str:
        """The English default text of :attr:`key` (unformatted)."""
        return MESSAGES[self.key]

    @property
    def message(self) -> str:
        """The English default text with its parameters filled in."""
        return self.default.format(**self.params)


@dataclass(frozen=True)
class CaseSnapshot:
    """What the state machine needs to know about a case (derived from its events).

    ``lead`` and ``co_handlers`` are body ids as strings; dates are Beijing dates.
    """

    state: CaseState
    registered_on: date
    lead: str | None = None
    co_handlers: tuple[str, ...] = ()
    acknowledged: frozenset[str] = frozenset()
    dispatched_on: date | None = None
    accepted_on: date | None = None
    extensions: int = 0
    extension_days: int = 0
    hearing_since: date | None = None
    reply_received_on: date | None = None
    review_requested_on: date | None = None
    review_received_on: date | None = None
    rereview_requested_on: date | None = None
    rereview_received_on: date | None = None
    evaluated_stages: frozenset[str] = frozenset()
    owner: str | None = None

    @property
    def bodies(self) -> tuple[str, ...]:
        """Every body the matter is dispatched to, lead first."""
        return ((self.lead,) if self.lead else ()) + self.co_handlers

    @property
    def awaiting_acknowledgement(self) -> tuple[str, ...]:
        """Bodies that have not acknowledged receipt yet (Art. 24), lead first."""
        return tuple(b for b in self.bodies if b not in self.acknowledged)

    @property
    def dispatch_complete(self) -> bool:
        """Whether every body the matter went to has acknowledged receipt."""
        return bool(self.bodies) and not self.awaiting_acknowledgement

    @property
    def stage(self) -> str:
        """The latest answer the petitioner holds: ``opinion``, ``review`` or ``rereview``."""
        if self.rereview_received_on:
            return "rereview"
        if self.review_received_on:
            return "review"
        return "opinion"


@dataclass(frozen=True)
class Outcome:
    """The result of :func:`apply`: new snapshot + events, or a refusal and nothing changed."""

    snapshot: CaseSnapshot
    events: tuple[Event, ...] = ()
    refusal: Refusal | None = None

    @property
    def ok(self) -> bool:
        return self.refusal is None


Parser = Callable[[Form, CaseSnapshot, date], None]
Guard = Callable[[CaseSnapshot], Refusal | None]
TimedGuard = Callable[[CaseSnapshot, Mapping[str, Any], date, WorkCalendar], Refusal | None]
Effect = Callable[[CaseSnapshot, Mapping[str, Any], date], CaseSnapshot]


@dataclass(frozen=True)
class ActionSpec:
    """One row of the table.

    :param moves: from-state -> to-state (an action that records something maps a state to
        itself). The effect may override the move (an objecting co-handler leaves the case
        dispatched).
    :param roles: who may take the action; ``state_roles`` narrows it for given from-states.
    :param fields: ``(name, required)`` pairs, for forms and documentation.
    :param guard: a check on the snapshot alone (also used to hide buttons).
    :param timed: a check needing today's date and the calendar (statutory windows).
    """

    name: str
    moves: Mapping[CaseState, CaseState]
    roles: frozenset[str]
    article: str | None
    fields: tuple[tuple[str, bool], ...]
    parse: Parser
    effect: Effect
    guard: Guard | None = None
    timed: TimedGuard | None = None
    state_roles: Mapping[CaseState, frozenset[str]] = field(default_factory=dict)
    note: str = ""

    def roles_in(self, state: CaseState) -> frozenset[str]:
        """The roles allowed to take this action from ``state``."""
        return self.state_roles.get(state, self.roles)


def _refuse(key: str, article: str | None = None, **params: Any) -> Refusal:
    return Refusal(key=key, params=params, article=article)


def _iso(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def _stay(states: Iterable[CaseState]) -> dict[CaseState, CaseState]:
    return {state: state for state in states}


def _date_in(form: Form, name: str, earliest: date | None, today: date) -> None:
    """Optional date not before ``earliest`` and not after today; defaults to today."""
    day = form.day(name)
    if day is None:
        form.values[name] = today
    elif day > today or (earliest is not None and day < earliest):
        form.error(name, FIELD_DATE_RANGE)


def _body_of_case(form: Form, snapshot: CaseSnapshot) -> str:
    body = form.text("body", required=True, max_length=100)
    if body and body not in snapshot.bodies:
        form.error("body", FIELD_NOT_A_BODY)
    return body


# --- parsers: read and check the fields of one action -------------------------------------


def _parse_dispatch(form: Form, snapshot: CaseSnapshot, today: date) -> None:
    lead = form.text("lead", required=True, max_length=100)
    co = list(dict.fromkeys(multi(form.data, "co_handlers")))
    if lead and lead in co:
        form.error("co_handlers", FIELD_MUST_DIFFER)
    form.values["co_handlers"] = co
    form.text("reason", max_length=2000)


def _parse_assign(form: Form, snapshot: CaseSnapshot, today: date) -> None:
    _parse_dispatch(form, snapshot, today)
    form.integer("report_days", required=True, min_value=1, max_value=MAX_REPORT_DAYS)


def _parse_acknowledge(form: Form, snapshot: CaseSnapshot, today: date) -> None:
    _body_of_case(form, snapshot)


def _parse_accept(form: Form, snapshot: CaseSnapshot, today: date) -> None:
    _body_of_case(form, snapshot)
    _date_in(form, "notice_sent_on", snapshot.dispatched_on, today)


def _parse_object(form: Form, snapshot: CaseSnapshot, today: date) -> None:
    body = _body_of_case(form, snapshot)
    form.text("reason", required=True)
    form.values["lead"] = body == snapshot.lead


def _parse_divert(form: Form, snapshot: CaseSnapshot, today: date) -> None:
    at_desk = snapshot.state in DESK_STATES
    targets = tuple(DESK_DIVERSIONS) if at_desk else PROCEDURE_DIVERSIONS
    target = form.choice("target", targets)
    form.text("reason", required=True)
    form.text("receiving_body", max_length=200)
    if target:
        form.values["article"] = DESK_DIVERSIONS[target] if at_desk else ARTICLE_DIVERSION


def _parse_tell(form: Form, snapshot: CaseSnapshot, today: date) -> None:
    form.text("where", required=True, max_length=500)
    form.text("reason", required=True)


def _parse_text(form: Form, snapshot: CaseSnapshot, today: date) -> None:
    form.text("text", required=True, max_length=10000)


def _parse_hearing(form: Form, snapshot: CaseSnapshot, today: date) -> None:
    form.text("venue", max_length=200)
    form.text("text", max_length=10000)
    in_rereview = snapshot.state is S.REREVIEW_REQUESTED
    form.values["article"] = ARTICLE_REREVIEW if in_rereview else None


def _parse_mediate(form: Form, snapshot: CaseSnapshot, today: date) -> None:
    outcome = form.choice("outcome", MEDIATION_OUTCOMES)
    terms = form.text("terms", max_length=10000)
    if outcome == "agreed" and not terms:
        form.error("terms", FIELD_TERMS_REQUIRED)


def _parse_extend(form: Form, snapshot: CaseSnapshot, today: date) -> None:
    form.integer("days", required=True, min_value=1, max_value=MAX_EXTENSION_DAYS)
    form.text("reason", required=True)
    form.text("approved_by", required=True, max_length=100)
    if not form.boolean("petitioner_told"):
        form.error("petitioner_told", FIELD_MUST_CONFIRM)


def _parse_opinion(form: Form, snapshot: CaseSnapshot, today: date) -> None:
    form.choice("outcome", OUTCOMES)
    form.text("request_summary", required=True, max_length=10000)
    form.text("facts_and_reasons", required=True, max_length=20000)
    form.text("opinion", required=True, max_length=20000)
    form.text("legal_basis", required=True, max_length=10000)
    _date_in(form, "delivered_on", snapshot.accepted_on, today)


def _parse_evaluate(form: Form, snapshot: CaseSnapshot, today: date) -> None:
    form.choice("satisfaction", SATISFACTION)
    form.text("comment", max_length=2000)
    form.values["stage"] = snapshot.stage


def _parse_review_request(form: Form, snapshot: CaseSnapshot, today: date) -> None:
    form.text("reviewing_body", required=True, max_length=200)
    form.text("reason", required=True)


def _parse_review_decision(earliest: Callable[[CaseSnapshot], date | None]) -> Parser:
    def parse(form: Form, snapshot: CaseSnapshot, today: date) -> None:
        form.choice("outcome", REVIEW_OUTCOMES)
        form.text("opinion", required=True, max_length=20000)
        _date_in(form, "delivered_on", earliest(snapshot), today)

    return parse


def _parse_close(form: Form, snapshot: CaseSnapshot, today: date) -> None:
    form.text("summary", max_length=10000)
    if snapshot.state is S.REREVIEWED:
        form.values["article"] = ARTICLE_REREVIEW


def _parse_supervise(form: Form, snapshot: CaseSnapshot, today: date) -> None:
    form.text("reason", required=True)
    form.integer("feedback_days", min_value=1, max_value=MAX_FEEDBACK_DAYS)


def _parse_report_back(form: Form, snapshot: CaseSnapshot, today: date) -> None:
    form.text("summary", required=True, max_length=10000)


def _parse_claim(form: Form, snapshot: CaseSnapshot, today: date) -> None:
    form.text("leader", required=True, max_length=100)


# --- guards -------------------------------------------------------------------------------


def _dispatch_complete_but_lead(snapshot: CaseSnapshot) -> Refusal | None:
    # The lead's acceptance is its acknowledgement; every co-handler must have acknowledged.
    waiting = [b for b in snapshot.awaiting_acknowledgement if b != snapshot.lead]
    if waiting:
        return _refuse(
            "case.refused.dispatch_incomplete", ARTICLE_MULTI_BODY, waiting=", ".join(waiting)
        )
    return None


def _no_hearing_open(snapshot: CaseSnapshot) -> Refusal | None:
    return _refuse("case.refused.hearing_open") if snapshot.hearing_since else None


def _hearing_open(snapshot: CaseSnapshot) -> Refusal | None:
    return None if snapshot.hearing_since else _refuse("case.refused.no_hearing_open")


def _extend_once(snapshot: CaseSnapshot) -> Refusal | None:
    if snapshot.extensions:
        return _refuse("case.refused.extend_twice", ARTICLE_HANDLING)
    return None


def _not_yet_evaluated(snapshot: CaseSnapshot) -> Refusal | None:
    if snapshot.stage in snapshot.evaluated_stages:
        return _refuse("case.refused.already_evaluated")
    return None


def _review_possible(snapshot: CaseSnapshot) -> Refusal | None:
    if snapshot.reply_received_on is None:
        return _refuse("case.refused.no_reply", ARTICLE_REVIEW)
    if snapshot.review_requested_on is not None:
        return _refuse("case.refused.review_already_requested", ARTICLE_REVIEW)
    return None


def _rereview_possible(snapshot: CaseSnapshot) -> Refusal | None:
    if snapshot.review_received_on is None:
        return _refuse("case.refused.no_review_decision", ARTICLE_REREVIEW)
    if snapshot.rereview_requested_on is not None:
        return _refuse("case.refused.rereview_already_requested", ARTICLE_REREVIEW)
    return None


def _acknowledge_once(form_body: str, snapshot: CaseSnapshot) -> Refusal | None:
    if form_body in snapshot.acknowledged:
        return _refuse("case.refused.already_acknowledged", ARTICLE_MULTI_BODY, body=form_body)
    return None


# --- timed guards (need today and the calendar) -------------------------------------------


def _timed_acknowledge(
    snapshot: CaseSnapshot, data: Mapping[str, Any], today: date, calendar: WorkCalendar
) -> Refusal | None:
    return _acknowledge_once(data["body"], snapshot)


def _timed_accept(
    snapshot: CaseSnapshot, data: Mapping[str, Any], today: date, calendar: WorkCalendar
) -> Refusal | None:
    if data["body"] != snapshot.lead:
        return _refuse("case.refused.not_lead", ARTICLE_MULTI_BODY, lead=snapshot.lead)
    return None


def _timed_object(
    snapshot: CaseSnapshot, data: Mapping[str, Any], today: date, calendar: WorkCalendar
) -> Refusal | None:
    assert snapshot.dispatched_on is not None
    due = objection_due(snapshot.dispatched_on, calendar)
    if today > due:
        return _refuse("case.refused.objection_late", ARTICLE_ACCEPTANCE, due=due.isoformat())
    return None


def _timed_extend(
    snapshot: CaseSnapshot, data: Mapping[str, Any], today: date, calendar: WorkCalendar
) -> Refusal | None:
    assert snapshot.accepted_on is not None
    due = handling_due(snapshot.accepted_on, snapshot.extension_days, calendar)
    if today > due:
        return _refuse("case.refused.extend_after_deadline", ARTICLE_HANDLING, due=due.isoformat())
    return None


def _timed_review(
    snapshot: CaseSnapshot, data: Mapping[str, Any], today: date, calendar: WorkCalendar
) -> Refusal | None:
    assert snapshot.reply_received_on is not None
    due = review_request_due(snapshot.reply_received_on, calendar)
    if today > due:
        return _refuse("case.refused.review_window_closed", ARTICLE_REVIEW, due=due.isoformat())
    return None


def _timed_rereview(
    snapshot: CaseSnapshot, data: Mapping[str, Any], today: date, calendar: WorkCalendar
) -> Refusal | None:
    assert snapshot.review_received_on is not None
    due = rereview_request_due(snapshot.review_received_on, calendar)
    if today > due:
        return _refuse("case.refused.rereview_window_closed", ARTICLE_REREVIEW, due=due.isoformat())
    return None


# --- effects: fold one event's data into the snapshot (used by apply and replay) ----------


def _date(data: Mapping[str, Any], key: str, on: date) -> date:
    value = data.get(key)
    if isinstance(value, date):
        return value
    return date.fromisoformat(value[:10]) if value else on


def _fx_dispatch(s: CaseSnapshot, d: Mapping[str, Any], on: date) -> CaseSnapshot:
    return replace(
        s,
        lead=d["lead"],
        co_handlers=tuple(d.get("co_handlers") or ()),
        acknowledged=frozenset(),
        dispatched_on=on,
    )


def _fx_acknowledge(s: CaseSnapshot, d: Mapping[str, Any], on: date) -> CaseSnapshot:
    return replace(s, acknowledged=s.acknowledged | {d["body"]})


def _fx_accept(s: CaseSnapshot, d: Mapping[str, Any], on: date) -> CaseSnapshot:
    return replace(s, acknowledged=s.acknowledged | {d["body"]}, accepted_on=on)


def _fx_object(s: CaseSnapshot, d: Mapping[str, Any], on: date) -> CaseSnapshot:
    if d.get("lead", True):
        return replace(s, lead=None, co_handlers=(), acknowledged=frozenset())
    # A co-handler that objects leaves; the lead keeps the matter.
    return replace(
        s,
        state=S.DISPATCHED,
        co_handlers=tuple(b for b in s.co_handlers if b != d["body"]),
        acknowledged=s.acknowledged - {d["body"]},
    )


def _fx_none(s: CaseSnapshot, d: Mapping[str, Any], on: date) -> CaseSnapshot:
    return s


def _fx_hearing_start(s: CaseSnapshot, d: Mapping[str, Any], on: date) -> CaseSnapshot:
    return replace(s, hearing_since=on)


def _fx_hearing_end(s: CaseSnapshot, d: Mapping[str, Any], on: date) -> CaseSnapshot:
    return replace(s, hearing_since=None)


def _fx_extend(s: CaseSnapshot, d: Mapping[str, Any], on: date) -> CaseSnapshot:
    return replace(s, extensions=s.extensions + 1, extension_days=s.extension_days + d["days"])


def _fx_opinion(s: CaseSnapshot, d: Mapping[str, Any], on: date) -> CaseSnapshot:
    return replace(s, reply_received_on=_date(d, "delivered_on", on))


def _fx_evaluate(s: CaseSnapshot, d: Mapping[str, Any], on: date) -> CaseSnapshot:
    return replace(s, evaluated_stages=s.evaluated_stages | {d.get("stage", s.stage)})


def _fx_request_review(s: CaseSnapshot, d: Mapping[str, Any], on: date) -> CaseSnapshot:
    return replace(s, review_requested_on=on)


def _fx_decide_review(s: CaseSnapshot, d: Mapping[str, Any], on: date) -> CaseSnapshot:
    return replace(s, review_received_on=_date(d, "delivered_on", on))


def _fx_request_rereview(s: CaseSnapshot, d: Mapping[str, Any], on: date) -> CaseSnapshot:
    return replace(s, rereview_requested_on=on)


def _fx_decide_rereview(s: CaseSnapshot, d: Mapping[str, Any], on: date) -> CaseSnapshot:
    return replace(s, rereview_received_on=_date(d, "delivered_on", on), hearing_since=None)


def _fx_claim(s: CaseSnapshot, d: Mapping[str, Any], on: date) -> CaseSnapshot:
    return replace(s, owner=d["leader"])


# --- the table ----------------------------------------------------------------------------

_HEARING_STATES = HANDLING_STATES | {S.REREVIEW_REQUESTED}
_TO_IN_PROGRESS = {S.ACCEPTED: S.IN_PROGRESS, S.IN_PROGRESS: S.IN_PROGRESS, S.EXTENDED: S.EXTENDED}
_DESK_TO = {state: S.DISPATCHED for state in DESK_STATES}
_DIVERT_FROM = DESK_STATES | {S.DISPATCHED} | HANDLING_STATES
_EVALUATE_MOVES = {S.REPLIED: S.EVALUATED} | _stay({S.REVIEWED, S.REREVIEWED, S.CLOSED, S.FINAL})

ACTIONS: dict[str, ActionSpec] = {
    spec.name: spec
    for spec in (
        ActionSpec(
            name=Kind.TRANSFER,
            moves=_DESK_TO,
            roles=frozenset({FRONT_DESK}),
            article=ARTICLE_DISPATCH,
            fields=(("lead", True), ("co_handlers", False), ("reason", False)),
            parse=_parse_dispatch,
            effect=_fx_dispatch,
        ),
        ActionSpec(
            name=Kind.ASSIGN,
            moves=_DESK_TO,
            roles=frozenset({FRONT_DESK, DISTRICT_LEADER}),
            article=ARTICLE_DISPATCH,
            fields=(
                ("lead", True),
                ("co_handlers", False),
                ("report_days", True),
                ("reason", False),
            ),
            parse=_parse_assign,
            effect=_fx_dispatch,
        ),
        ActionSpec(
            name=Kind.ACKNOWLEDGE,
            moves=_stay({S.DISPATCHED}),
            roles=RECEIVERS,
            article=ARTICLE_MULTI_BODY,
            fields=(("body", True),),
            parse=_parse_acknowledge,
            effect=_fx_acknowledge,
            timed=_timed_acknowledge,
            note="Art. 24 governs multi-body matters; a per-body receipt step is local practice.",
        ),
        ActionSpec(
            name=Kind.ACCEPT,
            moves={S.DISPATCHED: S.ACCEPTED},
            roles=RECEIVERS,
            article=ARTICLE_ACCEPTANCE,
            fields=(("body", True), ("notice_sent_on", False)),
            parse=_parse_accept,
            effect=_fx_accept,
            guard=_dispatch_complete_but_lead,
            timed=_timed_accept,
        ),
        ActionSpec(
            name=Kind.OBJECT,
            moves={S.DISPATCHED: S.OBJECTED},
            roles=RECEIVERS,
            article=ARTICLE_ACCEPTANCE,
            fields=(("body", True), ("reason", True)),
            parse=_parse_object,
            effect=_fx_object,
            timed=_timed_object,
        ),
        ActionSpec(
            name=Kind.DIVERT,
            moves={state: S.DIVERTED for state in _DIVERT_FROM},
            roles=RECEIVERS,
            state_roles={state: frozenset({FRONT_DESK}) for state in DESK_STATES},
            article=ARTICLE_DIVERSION,
            fields=(("target", True), ("reason", True), ("receiving_body", False)),
            parse=_parse_divert,
            effect=_fx_none,
            note="At the desk: political_legal (Art. 28) or discipline (Art. 22); "
            "by the body: litigation, arbitration, administrative, party_appeal (Art. 31).",
        ),
        ActionSpec(
            name=Kind.TELL_WHERE_TO_GO,
            moves={state: S.TOLD_WHERE_TO_GO for state in DESK_STATES},
            roles=frozenset({FRONT_DESK}),
            article=ARTICLE_DISPATCH,
            fields=(("where", True), ("reason", True)),
            parse=_parse_tell,
            effect=_fx_none,
        ),
        ActionSpec(
            name=Kind.NOTE,
            moves=_TO_IN_PROGRESS,
            roles=RECEIVERS,
            article=None,
            fields=(("text", True),),
            parse=_parse_text,
            effect=_fx_none,
            note=f"Investigation record: {LOCAL_PRACTICE}.",
        ),
        ActionSpec(
            name=Kind.HEARING_START,
            moves=_TO_IN_PROGRESS | _stay({S.REREVIEW_REQUESTED}),
            roles=RECEIVERS | {DISTRICT_LEADER},
            article=None,
            fields=(("venue", False), ("text", False)),
            parse=_parse_hearing,
            effect=_fx_hearing_start,
            guard=_no_hearing_open,
            note="In 复核 the hearing pauses the 30 days (Art. 36); during handling it is "
            "allowed for complex cases (DOMAIN.md §3, no article given) and pauses nothing.",
        ),
        ActionSpec(
            name=Kind.HEARING_END,
            moves=_stay(_HEARING_STATES),
            roles=RECEIVERS | {DISTRICT_LEADER},
            article=None,
            fields=(("text", False),),
            parse=_parse_hearing,
            effect=_fx_hearing_end,
            guard=_hearing_open,
            note="See hearing_start.",
        ),
        ActionSpec(
            name=Kind.MEDIATE,
            moves=_TO_IN_PROGRESS,
            roles=RECEIVERS,
            article=ARTICLE_MEDIATION,
            fields=(("outcome", True), ("terms", False)),
            parse=_parse_mediate,
            effect=_fx_none,
        ),
        ActionSpec(
            name=Kind.EXTEND,
            moves={state: S.EXTENDED for state in (S.ACCEPTED, S.IN_PROGRESS, S.EXTENDED)},
            roles=RECEIVERS,
            article=ARTICLE_HANDLING,
            fields=(
                ("days", True),
                ("reason", True),
                ("approved_by", True),
                ("petitioner_told", True),
            ),
            parse=_parse_extend,
            effect=_fx_extend,
            guard=_extend_once,
            timed=_timed_extend,
        ),
        ActionSpec(
            name=Kind.OPINION,
            moves={state: S.REPLIED for state in HANDLING_STATES},
            roles=RECEIVERS,
            article=ARTICLE_OPINION,
            fields=(
                ("outcome", True),
                ("request_summary", True),
                ("facts_and_reasons", True),
                ("opinion", True),
                ("legal_basis", True),
                ("delivered_on", False),
            ),
            parse=_parse_opinion,
            effect=_fx_opinion,
            guard=_no_hearing_open,
        ),
        ActionSpec(
            name=Kind.EVALUATE,
            moves=_EVALUATE_MOVES,
            roles=frozenset({FRONT_DESK, STREET_LEADER, COMMUNITY_STAFF, GRID_WORKER}),
            article=ARTICLE_REGISTER,
            fields=(("satisfaction", True), ("comment", False)),
            parse=_parse_evaluate,
            effect=_fx_evaluate,
            guard=_not_yet_evaluated,
            note="One evaluation per answer (opinion, 复查, 复核): local practice.",
        ),
        ActionSpec(
            name=Kind.REQUEST_REVIEW,
            moves={state: S.REVIEW_REQUESTED for state in (S.REPLIED, S.EVALUATED, S.CLOSED)},
            roles=frozenset({FRONT_DESK, DEPARTMENT}),
            article=ARTICLE_REVIEW,
            fields=(("reviewing_body", True), ("reason", True)),
            parse=_parse_review_request,
            effect=_fx_request_review,
            guard=_review_possible,
            timed=_timed_review,
        ),
        ActionSpec(
            name=Kind.DECIDE_REVIEW,
            moves={S.REVIEW_REQUESTED: S.REVIEWED},
            roles=frozenset({DEPARTMENT, DISTRICT_LEADER}),
            article=ARTICLE_REVIEW,
            fields=(("outcome", True), ("opinion", True), ("delivered_on", False)),
            parse=_parse_review_decision(lambda s: s.review_requested_on),
            effect=_fx_decide_review,
        ),
        ActionSpec(
            name=Kind.REQUEST_REREVIEW,
            moves={state: S.REREVIEW_REQUESTED for state in (S.REVIEWED, S.CLOSED)},
            roles=frozenset({FRONT_DESK, DEPARTMENT}),
            article=ARTICLE_REREVIEW,
            fields=(("reviewing_body", True), ("reason", True)),
            parse=_parse_review_request,
            effect=_fx_request_rereview,
            guard=_rereview_possible,
            timed=_timed_rereview,
        ),
        ActionSpec(
            name=Kind.DECIDE_REREVIEW,
            moves={S.REREVIEW_REQUESTED: S.REREVIEWED},
            roles=frozenset({DEPARTMENT, DISTRICT_LEADER}),
            article=ARTICLE_REREVIEW,
            fields=(("outcome", True), ("opinion", True), ("delivered_on", False)),
            parse=_parse_review_decision(lambda s: s.rereview_requested_on),
            effect=_fx_decide_rereview,
            guard=_no_hearing_open,
        ),
        ActionSpec(
            name=Kind.CLOSE,
            moves={
                S.REPLIED: S.CLOSED,
                S.EVALUATED: S.CLOSED,
                S.REVIEWED: S.CLOSED,
                S.REREVIEWED: S.FINAL,
            },
            roles=frozenset({FRONT_DESK, DEPARTMENT, STREET_LEADER}),
            article=None,
            fields=(("summary", False),),
            parse=_parse_close,
            effect=_fx_none,
            note=f"Closing (办结归档) after a written answer is {LOCAL_PRACTICE}; a closed case "
            "can still be taken to 复查/复核 within the windows. After 复核 it is final "
            "(Art. 36).",
        ),
        ActionSpec(
            name=Kind.SUPERVISE,
            moves=_stay(ALL_STATES),
            roles=frozenset({SUPERVISOR, DISTRICT_LEADER}),
            article=ARTICLE_SUPERVISION,
            fields=(("reason", True), ("feedback_days", False)),
            parse=_parse_supervise,
            effect=_fx_none,
            note="The feedback period is a local setting (ClockSettings).",
        ),
        ActionSpec(
            name=Kind.REPORT_BACK,
            moves=_stay(ALL_STATES),
            roles=RECEIVERS,
            article=ARTICLE_DISPATCH,
            fields=(("summary", True),),
            parse=_parse_report_back,
            effect=_fx_none,
            note="Answers an assignment's report-back deadline (Art. 22) and 督办 (Art. 40).",
        ),
        ActionSpec(
            name=Kind.CLAIM_OWNERSHIP,
            moves=_stay(ALL_STATES - TERMINAL_STATES),
            roles=frozenset({DISTRICT_LEADER, STREET_LEADER}),
            article=ARTICLE_LEADER_OWNERSHIP,
            fields=(("leader", True),),
            parse=_parse_claim,
            effect=_fx_claim,
        ),
    )
}


def transition_table() -> list[dict[str, Any]]:
    """The table as plain rows (action, from, to, roles, article, fields, note) for docs."""
    rows = []
    for spec in ACTIONS.values():
        for source, target in spec.moves.items():
            rows.append(
                {
                    "action": spec.name,
                    "from": source.value,
                    "to": target.value,
                    "roles": sorted(spec.roles_in(source)),
                    "article": spec.article,
                    "fields": [name for name, _ in spec.fields],
                    "note": spec.note,
                }
            )
    return rows


def allowed_actions(snapshot: CaseSnapshot, role: str) -> tuple[str, ...]:
    """Actions ``role`` may take on the case now, for rendering buttons.

    Checks state, role and what the snapshot alone tells (extended once, hearing open,
    dispatch incomplete ...). Field values and statutory windows are checked by :func:`apply`.
    """
    return tuple(
        spec.name
        for spec in ACTIONS.values()
        if snapshot.state in spec.moves
        and role in spec.roles_in(snapshot.state)
        and (spec.guard is None or spec.guard(snapshot) is None)
    )


def apply(
    case_state: CaseSnapshot,
    action: str,
    role: str,
    fields: Mapping[str, Any],
    now: datetime,
    calendar: WorkCalendar,
) -> Outcome:
    """Take ``action`` on the case as ``role`` at ``now``.

    Checks in order: known action, role, from-state, snapshot guard, fields, statutory window.
    On success answers the new snapshot and one event (kind = action; data = cleaned fields as
    JSON-friendly values plus ``role``, ``from`` and ``to``). On refusal answers the same
    snapshot, no events and a :class:`Refusal`.

    :param fields: form or JSON values by field name (strings are fine: they are parsed).
    """
    spec = ACTIONS.get(action)
    if spec is None:
        return Outcome(case_state, refusal=_refuse("case.refused.unknown_action", action=action))
    state = case_state.state
    if state in spec.moves and role not in spec.roles_in(state):
        return Outcome(case_state, refusal=_refuse("case.refused.role", role=role, action=action))
    if state not in spec.moves:
        if not any(role in spec.roles_in(s) for s in spec.moves):
            refusal = _refuse("case.refused.role", role=role, action=action)
        else:
            refusal = _refuse("case.refused.state", action=action, state=state.value)
        return Outcome(case_state, refusal=refusal)
    if spec.guard is not None and (refusal := spec.guard(case_state)) is not None:
        return Outcome(case_state, refusal=refusal)

    today = local_date(now)
    form = Form(fields)
    spec.parse(form, case_state, today)
    if not form.ok:
        refusal = Refusal(
            key="case.refused.invalid", fields=dict(form.errors), article=spec.article
        )
        return Outcome(case_state, refusal=refusal)
    data = {name: _iso(value) for name, value in form.values.items()}
    if spec.timed is not None and (refusal := spec.timed(case_state, data, today, calendar)):
        return Outcome(case_state, refusal=refusal)

    new = _advance(case_state, spec, data, today)
    data |= {"role": role, "from": state.value, "to": new.state.value}
    data.setdefault("article", spec.article)
    return Outcome(new, events=(Event(kind=spec.name, at=now, data=data),))


def _advance(
    snapshot: CaseSnapshot, spec: ActionSpec, data: Mapping[str, Any], on: date
) -> CaseSnapshot:
    moved = replace(snapshot, state=spec.moves[snapshot.state])
    return spec.effect(moved, data, on)


#: Who may register a matter: the district desk and the street and community centres.
REGISTRARS: frozenset[str] = frozenset({FRONT_DESK, STREET_LEADER, COMMUNITY_STAFF})


def register(role: str, fields: Mapping[str, Any], now: datetime) -> Outcome:
    """Register a new matter (登记, Art. 21): the first event and snapshot of a case.

    Fields (CONTRACT.md): ``channel``, ``petitioner_name``, ``petitioner_phone``,
    ``group_size``, ``representatives`` (Art. 20: at most 5 for a group visit), ``category``,
    ``content``, ``received_at`` (when the matter was received; defaults to ``now``; the
    Art. 22 period runs from it). On refusal the snapshot is a placeholder: nothing exists yet.
    """
    if role not in REGISTRARS:
        return Outcome(
            CaseSnapshot(S.REGISTERED, local_date(now)),
            refusal=_refuse("case.refused.role", role=role, action="register"),
        )
    form = Form(fields)
    channel = form.choice("channel", CHANNELS)
    form.text("petitioner_name", required=True, max_length=100)
    form.text("petitioner_phone", max_length=40)
    group = form.integer("group_size", min_value=1, max_value=100000, default=1)
    reps = form.integer("representatives", min_value=1, max_value=100000)
    if channel == "visit" and (group or 1) > 1 and (reps or group or 1) > MAX_GROUP_REPRESENTATIVES:
        form.error("representatives", FIELD_TOO_MANY_REPRESENTATIVES)
    form.text("category", max_length=100)
    form.text("content", required=True, max_length=20000)
    received = form.moment("received_at", default=now)
    if received is not None and local_date(received) > local_date(now):
        form.error("received_at", FIELD_DATE_RANGE)
    if not form.ok:
        refusal = Refusal(
            key="case.refused.invalid", fields=dict(form.errors), article=ARTICLE_REGISTER
        )
        return Outcome(CaseSnapshot(S.REGISTERED, local_date(now)), refusal=refusal)
    assert received is not None
    data = {name: _iso(value) for name, value in form.values.items()}
    data |= {"role": role, "to": S.REGISTERED.value, "recorded_at": now.isoformat()}
    data["article"] = ARTICLE_GROUP_VISIT if channel == "visit" and group > 1 else ARTICLE_REGISTER
    snapshot = CaseSnapshot(S.REGISTERED, local_date(received))
    return Outcome(snapshot, events=(Event(kind=Kind.REGISTER, at=received, data=data),))


def replay(events: Iterable[Event]) -> CaseSnapshot:
    """Rebuild a snapshot from stored events (the first must be ``register``).

    Trusts the events (they were validated when applied); unknown kinds are skipped so that
    adding an action never breaks old cases.
    """
    ordered = sorted(events, key=lambda e: e.at)
    if not ordered or ordered[0].kind != Kind.REGISTER:
        raise ValueError("a case's events start with 'register'")
    snapshot = CaseSnapshot(S.REGISTERED, event_date(ordered[0]))
    for event in ordered[1:]:
        spec = ACTIONS.get(event.kind)
        if spec is None or snapshot.state not in spec.moves:
            continue
        snapshot = _advance(snapshot, spec, event.data, event_date(event))
    return snapshot


# --- repeated matters (Arts. 19 and 36) ---------------------------------------------------

#: Tiers a petition can be raised at, lowest first.
LEVELS: tuple[str, ...] = ("community", "street", "district", "city", "province", "national")
#: "已经受理或者正在办理" (Art. 19): accepted by a body and not yet answered.
BEING_HANDLED: frozenset[CaseState] = HANDLING_STATES
#: Art. 36: a 复核 opinion ends the matter for the same facts and reasons.
SETTLED_BY_REREVIEW: frozenset[CaseState] = frozenset({S.REREVIEWED, S.FINAL})


@dataclass(frozen=True)
class Matter:
    """A petition matter as the repeat check sees it.

    :param facts_key: the facts and reasons, normalised with :func:`facts_key`.
    :param level: one of :data:`LEVELS` — where the matter is raised / was handled.
    :param handling_due_on: the handling deadline of an existing matter; once it has passed
        the matter is no longer "within the prescribed period" (Art. 19).
    """

    facts_key: str
    state: str
    level: str
    id_number: str = ""
    phone: str = ""
    name: str = ""
    case_id: str | None = None
    handling_due_on: date | None = None


def facts_key(text: str) -> str:
    """A comparison key for facts and reasons: NFKC, lower case, no spaces or punctuation."""
    normal = unicodedata.normalize("NFKC", text).lower()
    return "".join(ch for ch in normal if unicodedata.category(ch)[0] not in "PZSC")


def _digits(value: str) -> str:
    digits = "".join(ch for ch in value if ch.isdigit())
    return digits[2:] if digits.startswith("86") and len(digits) == 13 else digits


def same_petitioner(a: Matter, b: Matter) -> bool:
    """Same person: by ID number when both have one, else by phone *and* name."""
    if a.id_number.strip() and b.id_number.strip():
        return a.id_number.strip().upper() == b.id_number.strip().upper()
    phone_a, phone_b = _digits(a.phone), _digits(b.phone)
    name_a, name_b = a.name.strip(), b.name.strip()
    return bool(phone_a and name_a) and (phone_a, name_a) == (phone_b, name_b)


def check_repeat(
    new_matter: Matter, existing_matters: Iterable[Matter], today: date | None = None
) -> Refusal | None:
    """Whether a newly raised matter must not be accepted because it repeats an existing one.

    - Art. 36: the same petitioner, facts and reasons after a 复核 opinion — refused at any
      level.
    - Art. 19: the same matter already accepted and being handled (within its period, when
      ``today`` and ``handling_due_on`` are given) raised again at a *higher* level — refused.

    Same- or lower-level repeats and repeats of answered matters are not refused here (the
    petitioner's route is 复查/复核; merging duplicates is the desk's call).
    """
    level = LEVELS.index(new_matter.level)
    for old in existing_matters:
        if old.facts_key != new_matter.facts_key or not same_petitioner(new_matter, old):
            continue
        params = {"case_id": old.case_id or ""}
        if old.state in SETTLED_BY_REREVIEW:
            return Refusal("case.refused.repeat_after_rereview", params, article=ARTICLE_REREVIEW)
        in_period = today is None or old.handling_due_on is None or today <= old.handling_due_on
        if old.state in BEING_HANDLED and in_period and level > LEVELS.index(old.level):
            return Refusal(
                "case.refused.repeat_at_higher_level",
                params,
                article=ARTICLE_REPEAT_AT_HIGHER_LEVEL,
            )
    return None
