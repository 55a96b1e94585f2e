"""Escalation "armed" state of a round: a facilitator confirms what would escalate.

New rounds and Pol.is imports start disarmed: the escalation engine writes nothing for
them, and the facilitator sees a preview of what would escalate on the latest snapshot
(``facilitation.preview_escalations``). Arming is audited and escalates at once what the
latest snapshot supports, as the preview showed; disarming stops further automatic
escalations (what is on the agenda stays).
"""

from __future__ import annotations

from deliberation.database import db
from deliberation.engine import escalation
from deliberation.errors import N_, Conflict
from deliberation.models import Escalation, Round, User, audit
from deliberation.models.snapshot import latest_snapshot
from deliberation.text import clean_text


def set_armed(round_: Round, armed: bool, *, actor: User | None,
              reason: str | None = None) -> list[Escalation]:
    """Arm or disarm; returns the escalations that arming created right away."""
    if round_.escalation_armed == armed:
        raise Conflict(N_("Escalation is already armed for this round.") if armed
                       else N_("Escalation is already disarmed for this round."))
    round_.escalation_armed = armed
    audit.record("round.escalation_armed" if armed else "round.escalation_disarmed",
                 actor=actor, target=round_, round_id=round_.id,
                 reason=clean_text(reason or "") or None)
    db.session.commit()
    if not armed:
        return []
    snapshot = latest_snapshot(round_.id)
    return escalation.run_for_snapshot(snapshot.id) if snapshot is not None else []
