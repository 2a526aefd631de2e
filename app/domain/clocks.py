"""Statutory clocks of a petition case, computed from its events. Pure: no I/O.

A case is a list of :class:`Event` (what happened, when, with which data); every deadline
is a :class:`Clock` derived from those events and a :class:`~app.domain.calendar.WorkCalendar`.
Nothing here is stored: recompute whenever the events or the holiday table change.

The event kinds are the case actions of :mod:`app.domain.case_flow` (one vocabulary), plus
``register``.

Article numbers follow the project's reading of the 2022 《信访工作条例》 in ``DOMAIN.md`` §3;
they live in the ``ARTICLE_*`` constants below and nowhere else, so a correction is one line.
Each was checked against the text of the Regulations (中发〔2022〕11号, in force 1 May 2022;
six chapters, fifty articles) in December 2026: 18 leaders' case ownership (包案化解), 19 a
matter raised again above while being handled, 20 at most five representatives, 21 the
information system (and the petitioner's evaluation), 22 the petition bureau's 15 days to
transfer or assign, 23 the receiving body's 15-day notice and 5-working-day objection, 24
several bodies, 28 litigation separated from petitions, 31 diversion into other procedures,
32 the handling opinion letter, 33 mediation and settlement, 34 sixty days plus at most thirty,
35 复查, 36 复核, 40 督办 (and, in ``app.services.cases``, 39 挂牌督办).

Two kinds of clock:

- **duty** — something a body must do by the due date (dispatch, acceptance notice, handling,
  review decision ...). States: running, paused, met, met_late, overdue.
- **window** — a period within which someone *may* act (objection, 复查 and 复核 requests).
  States: running, met (used in time), met_late (recorded after the window; only from imported
  history, since :mod:`case_flow` refuses it), lapsed (passed unused, or closed by another
  step such as acceptance).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from app.domain.calendar import WorkCalendar, local_date

ARTICLE_LEADER_OWNERSHIP = "第十八条"
ARTICLE_REPEAT_AT_HIGHER_LEVEL = "第十九条"
ARTICLE_GROUP_VISIT = "第二十条"
ARTICLE_REGISTER = "第二十一条"
ARTICLE_DISPATCH = "第二十二条"
ARTICLE_ACCEPTANCE = "第二十三条"
ARTICLE_MULTI_BODY = "第二十四条"
ARTICLE_LITIGATION_RELATED = "第二十八条"
ARTICLE_DIVERSION = "第三十一条"
ARTICLE_OPINION = "第三十二条"
ARTICLE_MEDIATION = "第三十三条"
ARTICLE_HANDLING = "第三十四条"
ARTICLE_REVIEW = "第三十五条"
ARTICLE_REREVIEW = "第三十六条"
ARTICLE_SUPERVISION = "第四十条"

DISPATCH_DAYS = 15
ACCEPTANCE_NOTICE_DAYS = 15
OBJECTION_WORKDAYS = 5
HANDLING_DAYS = 60
MAX_EXTENSION_DAYS = 30
REVIEW_REQUEST_DAYS = 30
REVIEW_DECISION_DAYS = 30
REREVIEW_REQUEST_DAYS = 30
REREVIEW_DECISION_DAYS = 30

LOCAL_PRACTICE = "local practice"


class Kind(StrEnum):
    """Event kinds: ``register`` plus one per case action (same names as the actions)."""

    REGISTER = "register"
    TRANSFER = "transfer"
    ASSIGN = "assign"
    ACKNOWLEDGE = "acknowledge"
    ACCEPT = "accept"
    OBJECT = "object"
    DIVERT = "divert"
    TELL_WHERE_TO_GO = "tell_where_to_go"
    NOTE = "note"
    HEARING_START = "hearing_start"
    HEARING_END = "hearing_end"
    MEDIATE = "mediate"
    EXTEND = "extend"
    OPINION = "opinion"
    EVALUATE = "evaluate"
    REQUEST_REVIEW = "request_review"
    DECIDE_REVIEW = "decide_review"
    REQUEST_REREVIEW = "request_rereview"
    DECIDE_REREVIEW = "decide_rereview"
    CLOSE = "close"
    SUPERVISE = "supervise"
    REPORT_BACK = "report_back"
    CLAIM_OWNERSHIP = "claim_ownership"


@dataclass(frozen=True)
class Event:
    """One thing that happened to a case.

    :param kind: a :class:`Kind` value.
    :param at: when it happened (aware datetimes are converted to Beijing dates).
    :param data: JSON-friendly details; dates as ISO strings (``delivered_on``, ``days`` ...).
    """

    kind: str
    at: datetime
    data: Mapping[str, Any] = field(default_factory=dict)


class ClockState(StrEnum):
    RUNNING = "running"
    PAUSED = "paused"
    MET = "met"
    MET_LATE = "met_late"
    OVERDUE = "overdue"
    LAPSED = "lapsed"


class ClockKind(StrEnum):
    DUTY = "duty"
    WINDOW = "window"


class ClockName(StrEnum):
    DISPATCH = "dispatch"
    REDISPATCH = "redispatch"
    ACCEPTANCE = "acceptance"
    OBJECTION = "objection"
    ASSIGNMENT_REPORT = "assignment_report"
    HANDLING = "handling"
    REVIEW_REQUEST = "review_request"
    REVIEW_DECISION = "review_decision"
    REREVIEW_REQUEST = "rereview_request"
    REREVIEW_DECISION = "rereview_decision"
    SUPERVISION_FEEDBACK = "supervision_feedback"


@dataclass(frozen=True)
class ClockSettings:
    """Deadlines that are local settings rather than law.

    :param supervision_feedback_days: calendar days a body has to report back on a 督办 order
        (Art. 40 provides for supervision but sets no period).
    :param redispatch_days: calendar days the desk has to re-dispatch a matter a body objected
        to. Local practice: the same 15 days as Art. 22, counted from the objection.
    :param due_soon_days: a running clock with this many days left or fewer is "due soon".
    """

    supervision_feedback_days: int = 15
    redispatch_days: int = DISPATCH_DAYS
    due_soon_days: int = 3


DEFAULT_SETTINGS = ClockSettings()


@dataclass(frozen=True)
class Clock:
    """One deadline of a case.

    :param due_on: the last day to act (inclusive, Civil Code 203 ¶2). For a paused clock,
        the due date if the pause ended on the day the clocks were computed.
    :param stopped_on: the day the clock was stopped (duty done, window used or closed).
    :param paused_days: days not counted (复核 hearings, Art. 36).
    :param body: the body the clock binds, where it binds one (the lead for acceptance).
    """

    name: str
    article: str | None
    kind: ClockKind
    started_on: date
    due_on: date
    stopped_on: date | None
    state: ClockState
    paused_days: int = 0
    body: str | None = None
    note: str = ""

    @property
    def is_open(self) -> bool:
        """Whether the clock still runs (running, paused or overdue)."""
        return self.stopped_on is None and self.state is not ClockState.LAPSED

    def days_left(self, today: date | datetime) -> int:
        """Days from ``today`` to the due date (negative: days overdue).

        A stopped clock answers the margin it was stopped with (negative: days late).
        """
        return (self.due_on - (self.stopped_on or local_date(today))).days


def due_soon(
    clock: Clock, today: date | datetime, within_days: int = DEFAULT_SETTINGS.due_soon_days
) -> bool:
    """Whether a running clock has ``within_days`` days left or fewer (and is not overdue)."""
    return clock.state is ClockState.RUNNING and 0 <= clock.days_left(today) <= within_days


def dispatch_due(registered_on: date, calendar: WorkCalendar) -> date:
    """Art. 22: the desk dispatches a registered matter within 15 days."""
    return calendar.add_days_statutory(registered_on, DISPATCH_DAYS)


def acceptance_due(received_on: date, calendar: WorkCalendar) -> date:
    """Art. 23: the receiving body gives written notice of acceptance within 15 days."""
    return calendar.add_days_statutory(received_on, ACCEPTANCE_NOTICE_DAYS)


def objection_due(received_on: date, calendar: WorkCalendar) -> date:
    """Art. 23: last day a receiving body may object (5 working days after receipt)."""
    return calendar.add_workdays(received_on, OBJECTION_WORKDAYS)


def handling_due(accepted_on: date, extension_days: int, calendar: WorkCalendar) -> date:
    """Art. 34: 60 days from acceptance, plus an extension of at most 30 days.

    The extension lengthens the period itself (60 + N days from acceptance) and Art. 203 is
    applied once to the end of that period, so a holiday that moved the original deadline is
    not counted twice. The result is never earlier than the unextended deadline.
    """
    return calendar.add_days_statutory(accepted_on, HANDLING_DAYS + extension_days)


def review_request_due(reply_received_on: date, calendar: WorkCalendar) -> date:
    """Art. 35: last day to request 复查 (30 days after receiving the written reply)."""
    return calendar.add_days_statutory(reply_received_on, REVIEW_REQUEST_DAYS)


def review_decision_due(requested_on: date, calendar: WorkCalendar) -> date:
    """Art. 35: 复查 opinion within 30 days of receiving the request."""
    return calendar.add_days_statutory(requested_on, REVIEW_DECISION_DAYS)


def rereview_request_due(review_received_on: date, calendar: WorkCalendar) -> date:
    """Art. 36: last day to request 复核 (30 days after receiving the 复查 opinion)."""
    return calendar.add_days_statutory(review_received_on, REREVIEW_REQUEST_DAYS)


def rereview_decision_due(requested_on: date, paused_days: int, calendar: WorkCalendar) -> date:
    """Art. 36: 复核 opinion within 30 days; time spent on a hearing is not counted.

    ``paused_days`` (see :func:`hearing_days`) lengthen the period day for day.
    """
    return calendar.add_days_statutory(requested_on, REREVIEW_DECISION_DAYS + paused_days)


def hearing_days(started_on: date, ended_on: date) -> int:
    """Days a hearing takes out of the 复核 period: ``ended_on - started_on``.

    Counted like any period (Civil Code 201: the starting day is not counted), so a hearing
    begun and finished on one day pauses nothing and a hearing from the 5th to the 7th
    pauses two days. This never gives the deciding body more time than the law allows.
    """
    return max(0, (ended_on - started_on).days)


def event_date(event: Event, key: str | None = None) -> date:
    """The date ``data[key]`` names (ISO string or date), else the event's own date.

    Used for ``delivered_on``: the written reply's period runs from its receipt by the
    petitioner, which may be later than the day it was issued.
    """
    value = event.data.get(key) if key else None
    if isinstance(value, datetime | date):
        return local_date(value)
    if isinstance(value, str) and value:
        return date.fromisoformat(value[:10])
    return local_date(event.at)


@dataclass
class _Pending:
    name: ClockName
    article: str | None
    kind: ClockKind
    started_on: date
    due_on: date
    body: str | None = None
    note: str = ""
    stopped_on: date | None = None
    used: bool = False
    paused_days: int = 0
    paused_since: date | None = None
    extension_days: int = 0

    @property
    def open(self) -> bool:
        return self.stopped_on is None

    def stop(self, on: date, *, used: bool = True) -> None:
        if self.open:
            self.stopped_on = on
            self.used = used


def compute_clocks(
    events: Iterable[Event],
    calendar: WorkCalendar,
    today: date | datetime,
    settings: ClockSettings = DEFAULT_SETTINGS,
) -> tuple[Clock, ...]:
    """Every clock of a case, in the order they started, with their state as of ``today``.

    :param events: the case's events in any order (sorted by ``at``, stable).
    :param today: the day the states (running / overdue / lapsed) are judged on.
    """
    today = local_date(today)
    clocks: list[_Pending] = []

    def start(
        name: ClockName, article: str | None, kind: ClockKind, on: date, due: date, **kw: Any
    ) -> _Pending:
        pending = _Pending(name, article, kind, on, due, **kw)
        clocks.append(pending)
        return pending

    def open_clocks(*names: ClockName) -> list[_Pending]:
        return [c for c in clocks if c.open and c.name in names]

    def stop(names: tuple[ClockName, ...], on: date, *, used: bool = True) -> None:
        for clock in open_clocks(*names):
            clock.stop(on, used=used)

    desk = (ClockName.DISPATCH, ClockName.REDISPATCH)
    receipt = (ClockName.ACCEPTANCE, ClockName.OBJECTION)

    for event in sorted(events, key=lambda e: e.at):
        on = local_date(event.at)
        kind = event.kind
        if kind == Kind.REGISTER:
            start(
                ClockName.DISPATCH,
                ARTICLE_DISPATCH,
                ClockKind.DUTY,
                on,
                dispatch_due(on, calendar),
            )
        elif kind in (Kind.TRANSFER, Kind.ASSIGN):
            stop(desk, on)
            stop(receipt, on, used=False)
            lead = event.data.get("lead")
            start(
                ClockName.ACCEPTANCE,
                ARTICLE_ACCEPTANCE,
                ClockKind.DUTY,
                on,
                acceptance_due(on, calendar),
                body=lead,
            )
            start(
                ClockName.OBJECTION,
                ARTICLE_ACCEPTANCE,
                ClockKind.WINDOW,
                on,
                objection_due(on, calendar),
                body=lead,
            )
            if kind == Kind.ASSIGN and event.data.get("report_days"):
                start(
                    ClockName.ASSIGNMENT_REPORT,
                    ARTICLE_DISPATCH,
                    ClockKind.DUTY,
                    on,
                    calendar.add_days_statutory(on, int(event.data["report_days"])),
                    body=lead,
                )
        elif kind in (Kind.DIVERT, Kind.TELL_WHERE_TO_GO):
            # Whoever holds the matter answers it by diverting or declining it.
            stop(desk, on)
            stop((ClockName.ACCEPTANCE, ClockName.HANDLING), on)
            stop((ClockName.OBJECTION,), on, used=False)
        elif kind == Kind.ACCEPT:
            stop((ClockName.ACCEPTANCE,), on)
            stop((ClockName.OBJECTION,), on, used=False)
            start(
                ClockName.HANDLING,
                ARTICLE_HANDLING,
                ClockKind.DUTY,
                on,
                handling_due(on, 0, calendar),
            )
        elif kind == Kind.OBJECT:
            if event.data.get("lead", True):
                stop(receipt, on)
                start(
                    ClockName.REDISPATCH,
                    None,
                    ClockKind.DUTY,
                    on,
                    calendar.add_days_statutory(on, settings.redispatch_days),
                    note=LOCAL_PRACTICE,
                )
        elif kind == Kind.EXTEND:
            for clock in open_clocks(ClockName.HANDLING):
                clock.extension_days += int(event.data.get("days", 0))
                clock.due_on = handling_due(clock.started_on, clock.extension_days, calendar)
        elif kind == Kind.OPINION:
            stop((ClockName.HANDLING,), on)
            received = event_date(event, "delivered_on")
            start(
                ClockName.REVIEW_REQUEST,
                ARTICLE_REVIEW,
                ClockKind.WINDOW,
                received,
                review_request_due(received, calendar),
            )
        elif kind == Kind.REQUEST_REVIEW:
            stop((ClockName.REVIEW_REQUEST,), on)
            start(
                ClockName.REVIEW_DECISION,
                ARTICLE_REVIEW,
                ClockKind.DUTY,
                on,
                review_decision_due(on, calendar),
            )
        elif kind == Kind.DECIDE_REVIEW:
            stop((ClockName.REVIEW_DECISION,), on)
            received = event_date(event, "delivered_on")
            start(
                ClockName.REREVIEW_REQUEST,
                ARTICLE_REREVIEW,
                ClockKind.WINDOW,
                received,
                rereview_request_due(received, calendar),
            )
        elif kind == Kind.REQUEST_REREVIEW:
            stop((ClockName.REREVIEW_REQUEST,), on)
            start(
                ClockName.REREVIEW_DECISION,
                ARTICLE_REREVIEW,
                ClockKind.DUTY,
                on,
                rereview_decision_due(on, 0, calendar),
            )
        elif kind == Kind.HEARING_START:
            for clock in open_clocks(ClockName.REREVIEW_DECISION):
                if clock.paused_since is None:
                    clock.paused_since = on
        elif kind in (Kind.HEARING_END, Kind.DECIDE_REREVIEW):
            for clock in open_clocks(ClockName.REREVIEW_DECISION):
                if clock.paused_since is not None:
                    clock.paused_days += hearing_days(clock.paused_since, on)
                    clock.paused_since = None
                    clock.due_on = rereview_decision_due(
                        clock.started_on, clock.paused_days, calendar
                    )
            if kind == Kind.DECIDE_REREVIEW:
                stop((ClockName.REREVIEW_DECISION,), on)
        elif kind == Kind.SUPERVISE:
            days = int(event.data.get("feedback_days") or settings.supervision_feedback_days)
            start(
                ClockName.SUPERVISION_FEEDBACK,
                ARTICLE_SUPERVISION,
                ClockKind.DUTY,
                on,
                calendar.add_days_statutory(on, days),
                note="period: local setting",
            )
        elif kind == Kind.REPORT_BACK:
            # One report answers every report-back request still open.
            stop((ClockName.ASSIGNMENT_REPORT, ClockName.SUPERVISION_FEEDBACK), on)

    return tuple(_finish(clock, today, calendar) for clock in clocks)


def _finish(pending: _Pending, today: date, calendar: WorkCalendar) -> Clock:
    clock = Clock(
        name=pending.name,
        article=pending.article,
        kind=pending.kind,
        started_on=pending.started_on,
        due_on=pending.due_on,
        stopped_on=pending.stopped_on,
        state=ClockState.RUNNING,
        paused_days=pending.paused_days,
        body=pending.body,
        note=pending.note,
    )
    if pending.stopped_on is not None:
        if pending.kind is ClockKind.WINDOW and not pending.used:
            return replace(clock, state=ClockState.LAPSED)
        late = pending.stopped_on > pending.due_on
        return replace(clock, state=ClockState.MET_LATE if late else ClockState.MET)
    if pending.paused_since is not None:
        paused = pending.paused_days + hearing_days(pending.paused_since, today)
        due = rereview_decision_due(pending.started_on, paused, calendar)
        return replace(clock, state=ClockState.PAUSED, due_on=due, paused_days=paused)
    if today > pending.due_on:
        lapsed = pending.kind is ClockKind.WINDOW
        return replace(clock, state=ClockState.LAPSED if lapsed else ClockState.OVERDUE)
    return clock


def current(clocks: Iterable[Clock], name: str) -> Clock | None:
    """The most recently started clock called ``name`` (None if it never started)."""
    found = None
    for clock in clocks:
        if clock.name == name:
            found = clock
    return found
