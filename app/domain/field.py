"""Field work rules: choices, the 24-hour correction window, mediation outcomes and their
transitions (People's Mediation Law), archive numbers, follow-up tasks, visit coverage.

Pure: no I/O. Labels are msgids (translated where shown).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from app.domain.forms import N_
from app.domain.warnings import NEGATIVE

VISIT_KINDS = {
    "door": N_("Door-to-door visit"),
    "reception": N_("Open-door reception"),
    "away": N_("Follow-up away from the street"),
}
TOPICS = {
    "dispute": N_("Dispute"),
    "request": N_("Request"),
    "suggestion": N_("Suggestion"),
    "security": N_("Security hazard"),
    "fire": N_("Fire hazard"),
    "sanitation": N_("Sanitation"),
    "policy": N_("Policy publicity"),
    "other": N_("Other"),
}
#: A resident's mood ("Discontented", not "Dissatisfied": that msgid is a satisfaction rating).
MOODS = {"calm": N_("Calm"), "dissatisfied": N_("Discontented"), "agitated": N_("Agitated")}
CALL_SUBJECTS = {
    "visit": N_("Visit"),
    "mediation": N_("Mediation"),
    "case": N_("Petition case"),
    "key_person": N_("Key person"),
    "household": N_("Household"),
}
CALL_OUTCOMES = {"reached": N_("Reached"), "no_answer": N_("No answer"), "refused": N_("Refused")}
SATISFACTIONS = {
    "satisfied": N_("Satisfied"),
    "basically": N_("Basically satisfied"),
    "dissatisfied": N_("Dissatisfied"),
}
DISPUTE_TYPES = {
    "heating": N_("Winter heating"),
    "property": N_("Property management"),
    "noise": N_("Neighbour noise"),
    "neighbour": N_("Neighbourhood dispute"),
    "wages": N_("Wage arrears"),
    "demolition": N_("Demolition compensation"),
    "family": N_("Marriage and family"),
    "debt": N_("Debts"),
    "other": N_("Other"),
}
PARTY_ROLES = {
    "applicant": N_("Applicant"),
    "respondent": N_("Respondent"),
    "third_party": N_("Third party"),
}
MEDIATOR_KINDS = {
    "people_mediator": N_("People's mediator"),
    "five_elders": N_("Five-elders mediator"),
    "psychologist": N_("Psychologist"),
    "lawyer": N_("Lawyer"),
    "judge": N_("Judge"),
    "prosecutor": N_("Prosecutor"),
    "police": N_("Police officer"),
    "grid_worker": N_("Grid worker"),
    "volunteer": N_("Volunteer"),
}
METHODS = {
    "law": N_("Reasoning by law"),
    "reason": N_("Reasoning by sense"),
    "feeling": N_("Appeal to feeling"),
}
MEDIATION_OUTCOMES = {
    "in_progress": N_("In progress"),
    "agreed_written": N_("Written agreement"),
    "agreed_oral": N_("Oral agreement"),
    "failed": N_("Failed, terminated"),
    "escalated": N_("Escalated to the next tier"),
    "referred": N_("Referred elsewhere"),
}
REVIEW_STATES = {
    "pending": N_("Awaiting review"),
    "reviewed": N_("Reviewed"),
    "returned": N_("Sent back"),
}
TASK_KINDS = {
    "follow_up": N_("Follow-up"),
    "judicial_confirmation": N_("Judicial confirmation"),
    "performance": N_("Performance follow-up"),
}
TASK_STATUSES = {
    "done": N_("Done"),
    "overdue": N_("Overdue"),
    "today": N_("Due today"),
    "upcoming": N_("Upcoming"),
}
#: Told to the parties when a mediation fails (Art. 26).
LEGAL_ROUTES = N_(
    "The parties were told they may sue in court, apply for arbitration, or ask the"
    " competent administrative authority to handle the matter."
)

EDIT_WINDOW = timedelta(hours=24)
JUDICIAL_CONFIRMATION_DAYS = 30
COVERAGE_DAYS = 30

OPEN = "in_progress"
CLOSED_OUTCOMES = frozenset(MEDIATION_OUTCOMES) - {OPEN}
AGREED = frozenset({"agreed_written", "agreed_oral"})


def can_edit(*, is_author: bool, created_at: datetime, now: datetime, review_state: str) -> bool:
    """Whether the author may still correct a record.

    The author corrects for 24 hours after logging it, and again whenever a reviewer sent it
    back; a reviewed record is read-only, and nobody else edits it.
    """
    if not is_author or review_state == "reviewed":
        return False
    return review_state == "returned" or now - created_at < EDIT_WINDOW


def edit_refusal(
    *, is_author: bool, created_at: datetime, now: datetime, review_state: str
) -> str | None:
    """Why the user may not correct a record (a msgid), or None when ``can_edit`` allows it."""
    if can_edit(is_author=is_author, created_at=created_at, now=now, review_state=review_state):
        return None
    if not is_author:
        return N_("Only the person who logged this record can correct it.")
    if review_state == "reviewed":
        return N_("This record has been reviewed and is read-only.")
    return N_(
        "Corrections are possible for 24 hours after logging (or after a reviewer sends the"
        " record back); this record is read-only now."
    )


def can_review(*, is_author: bool, review_state: str) -> bool:
    """Reviewers review other people's records that are not yet reviewed."""
    return not is_author and review_state != "reviewed"


# Strong enough for the analysis to outweigh the worker's reading of the resident's mood. A
# complaint's text reads as anger (intensity 0.6-0.7) however calmly the resident said it, and
# a flat log of an agitated resident reads calm (staff records are calm by convention): neither
# is a contradiction.
MOOD_CHECK_INTENSITY = 0.8


def mood_disagrees(
    mood: str | None, analysis: Mapping[str, Any] | None, edited_at: datetime | None = None
) -> bool:
    """Whether the analysis of a visit's summary contradicts the calm mood its worker logged:
    the text carries an extreme-risk signal or a very strong negative emotion. A reviewer then
    asks the worker. An analysis older than the record's last edit (``edited_at``) says
    nothing until the worker analyses the edited text again."""
    if not analysis or mood != "calm":
        return False
    analysed_at = analysis.get("analysed_at")
    if edited_at is not None and analysed_at is not None and analysed_at < edited_at:
        return False
    if analysis.get("signals"):
        return True
    strong = float(analysis.get("intensity") or 0.0) >= MOOD_CHECK_INTENSITY
    return strong and analysis.get("emotion") in NEGATIVE


def next_outcomes(current: str) -> tuple[str, ...]:
    """The outcomes a mediation may move to from ``current``.

    An open mediation may reach any outcome (or stay open); a closed one is final: the file is
    archived, and a new dispute is a new mediation.
    """
    if current == OPEN:
        return tuple(MEDIATION_OUTCOMES)
    return (current,)


def outcome_after_refusal(outcome: str, party_refused: bool) -> str:
    """A party's refusal ends the mediation (Art. 17): it is recorded as failed."""
    return "failed" if party_refused else outcome


def outcome_errors(values: dict) -> dict[str, str]:
    """What each outcome requires (Arts. 26, 28, 29); field -> message for what is missing."""
    outcome = values.get("outcome")
    errors: dict[str, str] = {}
    need = N_("Required for this outcome.")
    if outcome == "agreed_written":
        for name in ("facts", "responsibilities", "agreement_terms", "performance_method"):
            if not values.get(name):
                errors[name] = need
        if not values.get("performance_due"):
            errors["performance_due"] = need
        if not values.get("agreement_signed_on"):
            errors["agreement_signed_on"] = need
    elif outcome == "agreed_oral":
        if not values.get("agreement_terms"):
            errors["agreement_terms"] = need
    elif outcome == "failed" and not values.get("terminated_note"):
        errors["terminated_note"] = need
    parties = values.get("parties") or []
    if outcome in AGREED and len(parties) < 2:
        errors["parties"] = N_("An agreement needs at least two parties.")
    signed = values.get("agreement_signed_on")
    due = values.get("performance_due")
    if signed and due and due < signed:
        errors["performance_due"] = N_("Cannot be before the agreement was signed.")
    return errors


def judicial_confirmation_due(signed_on: date) -> date:
    """The last day to apply jointly for judicial confirmation: 30 days after signing (Art. 33)."""
    return signed_on + timedelta(days=JUDICIAL_CONFIRMATION_DAYS)


def next_tier_allowed(tier: str) -> bool:
    """Whether a venue of ``tier`` has a next tier up to escalate to (the district has none)."""
    return tier in {"grid", "community", "street"}


ARCHIVE_RE = re.compile(r"^(?P<venue>.+)调〔(?P<year>\d{4})〕(?P<seq>\d{4,})号$")


def archive_number(venue_code: str, year: int, seq: int) -> str:
    """The file number of a closed mediation: ``DS-C1调〔2026〕0007号`` (per venue and year)."""
    if seq < 1:
        raise ValueError("sequence numbers start at 1")
    return f"{venue_code}调〔{year}〕{seq:04d}号"


def parse_archive_number(number: str) -> tuple[str, int, int] | None:
    """(venue code, year, sequence) of an archive number, or None when it is not one."""
    match = ARCHIVE_RE.match(number or "")
    if not match:
        return None
    return match["venue"], int(match["year"]), int(match["seq"])


@dataclass(frozen=True)
class TaskSpec:
    """A follow-up task a record asks for."""

    kind: str
    due: date


def visit_tasks(follow_up_due: date | None) -> list[TaskSpec]:
    """A visit with a follow-up date asks for a follow-up by that date."""
    return [TaskSpec("follow_up", follow_up_due)] if follow_up_due else []


def mediation_tasks(
    outcome: str, agreement_signed_on: date | None, performance_due: date | None
) -> list[TaskSpec]:
    """An agreement asks for a performance follow-up (回访, Art. 31) by its performance date;
    a signed written agreement also for the judicial-confirmation window (Art. 33)."""
    tasks: list[TaskSpec] = []
    if outcome == "agreed_written" and agreement_signed_on:
        tasks.append(
            TaskSpec("judicial_confirmation", judicial_confirmation_due(agreement_signed_on))
        )
    if outcome in AGREED and performance_due:
        tasks.append(TaskSpec("performance", performance_due))
    return tasks


#: Which open tasks a call about a record answers (a judicial confirmation is marked done).
ANSWERED_BY_CALL = frozenset({"follow_up", "performance"})


def task_status(due: date, today: date, done: bool) -> str:
    """``done``, ``overdue``, ``today`` or ``upcoming``."""
    if done:
        return "done"
    if due < today:
        return "overdue"
    return "today" if due == today else "upcoming"


def coverage(visited_households: int, households: int) -> float | None:
    """Share of a grid's households visited in the last 30 days (None: no households)."""
    if households <= 0:
        return None
    return min(visited_households, households) / households
