"""Mediation corrections: the author corrects a mediation for 24 hours after logging it (or
after a reviewer sent it back), every change audited; afterwards it is read-only.

The same rule as visits and calls (``app.domain.field.can_edit``). The outcome itself is not
corrected here: an open mediation's outcome is recorded with ``field.record_outcome``, and a
closed one is final (its archive number stays); what was written about it can be corrected.
"""

from __future__ import annotations

from typing import Any

from app import db
from app.domain import field as rules
from app.domain.calendar import local_date
from app.domain.forms import N_, Form
from app.services import audit, field
from app.services.auth import CurrentUser
from app.services.field import FieldError, JsonValue
from app.services.marks import mark_dirty, wake

#: The columns a correction may change (venue, outcome and archive number stay).
EDITABLE = (
    "held_at",
    "dispute_type",
    "summary",
    "parties",
    "mediators",
    "methods",
    "facts",
    "responsibilities",
    "agreement_terms",
    "performance_method",
    "performance_due",
    "agreement_signed_on",
    "terminated_note",
)


def refusal(user: CurrentUser, mediation: dict) -> str | None:
    """Why ``user`` may not correct ``mediation`` now (a msgid), or None."""
    return rules.edit_refusal(
        is_author=mediation["author"] == user.id,
        created_at=mediation["created_at"],
        now=field.now(),
        review_state=mediation["review_state"],
    )


def edit_values(mediation: dict) -> dict[str, Any]:
    """The correction form's values from the stored mediation."""
    m = mediation
    values: dict[str, Any] = {
        "client_uuid": str(m["client_uuid"]),
        "held_at": field.local_input(m["held_at"]),
        "dispute_type": m["dispute_type"],
        "summary": m["summary"],
        "outcome": m["outcome"],
        "methods": m["methods"] or [],
    }
    for name in ("facts", "responsibilities", "agreement_terms", "performance_method"):
        values[name] = m[name] or ""
    values["terminated_note"] = m["terminated_note"] or ""
    for name in ("performance_due", "agreement_signed_on"):
        values[name] = m[name].isoformat() if m[name] else ""
    for i, p in enumerate(m["parties"] or []):
        values.update({f"parties-{i}-{k}": v for k, v in p.items()})
    for i, p in enumerate(m["mediators"] or []):
        values.update({f"mediators-{i}-{k}": v for k, v in p.items()})
    return values


async def read_correction(user: CurrentUser, data: Any, mediation: dict) -> Form:
    """Parse and check a correction of ``mediation``: the same checks as a new mediation, with
    its outcome kept."""
    kept = {k: v for k, v in data.items() if k not in ("outcome", "party_refused")}
    kept["outcome"] = mediation["outcome"]
    f = await field.read_mediation(user, kept, current=mediation)
    held_at = f.moment("held_at", required=True)
    f.choice("dispute_type", rules.DISPUTE_TYPES)
    f.text("summary", required=True, max_length=4000)
    if held_at and held_at > field.now() + field.FUTURE_SLACK:
        f.error("held_at", N_("Cannot be in the future."))
    typed = field._people(kept, "parties", field.PARTY_ROWS, ("name", "role", "phone"))
    if not typed:
        f.error("parties", N_("Name at least one person."))
    typed = field._people(kept, "mediators", field.MEDIATOR_ROWS, ("name", "kind"))
    f.values["mediators"] = typed
    return f


async def correct(user: CurrentUser, mediation: dict, form: Form) -> None:
    """Store the author's correction; audit the changed fields; mark the roll-up days (the old
    and, if the date moved, the new one) dirty. Refused (FieldError) once read-only."""
    v = form.values
    new = {k: v[k] for k in EDITABLE}
    async with db.transaction():
        locked = await db.fetchrow(
            "SELECT author, created_at, review_state, held_at, unit_path FROM mediation"
            " WHERE id = {} FOR UPDATE",
            mediation["id"],
        )
        why = refusal(user, locked)
        if why:
            raise FieldError({"": why})
        changes = {k: [mediation[k], val] for k, val in new.items() if mediation[k] != val}
        columns = {
            k: JsonValue.of(val) if k in ("parties", "mediators") else val for k, val in new.items()
        }
        sets = ", ".join(
            f"{k} = {{}}::jsonb" if isinstance(val, JsonValue) else f"{k} = {{}}"
            for k, val in columns.items()
        )
        await db.fetch(
            f"UPDATE mediation SET {sets}, updated_at = now(),"
            " review_state = CASE WHEN review_state = 'returned' THEN 'pending'"
            " ELSE review_state END WHERE id = {}",
            *[val.text if isinstance(val, JsonValue) else val for val in columns.values()],
            mediation["id"],
        )
        await audit.record(
            "mediation.correct",
            actor_id=user.id,
            object_type="mediation",
            object_id=mediation["id"],
            unit_path=locked["unit_path"],
            detail=changes,
        )
        await field._sync_tasks(
            "mediation",
            mediation["id"],
            rules.mediation_tasks(
                mediation["outcome"], new["agreement_signed_on"], new["performance_due"]
            ),
            locked["unit_path"],
            mediation["author"],
        )
        old_day = local_date(locked["held_at"])
        new_day = local_date(new["held_at"])
        await mark_dirty(locked["unit_path"], old_day)
        if new_day != old_day:
            await mark_dirty(locked["unit_path"], new_day)
    await wake()
