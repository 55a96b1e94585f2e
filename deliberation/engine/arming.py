"""Escalation "armed" state of a round: a facilitator confirms what would escalate.

New rounds and Pol.is imports start disarmed: the escalation engine writes nothing for
them, and the facilitator sees a preview of what would escalate on the latest snapshot
(``facilitation.preview_escalations``). Arming is audited and escalates at once what the
latest snapshot supports, as the preview showed; disarming stops further automatic
escalations (what is on the agenda stays).
"""

from __future__ import annotations

import sqlalchemy as sa

from deliberation.database import db, update_one
from deliberation.engine import escalation
from deliberation.errors import N_, Conflict
from deliberation.models import Escalation, Round, User, audit
from deliberation.models.snapshot import latest_snapshot
from deliberation.text import clean_text


def set_armed(round_: Round, armed: bool, *, actor: User | None, reason: str | None = None,
              seen_snapshot_id: int | None = None) -> list[Escalation]:
    """Arm or disarm; returns the escalations that arming created right away.

    ``seen_snapshot_id``: the snapshot whose preview the facilitator confirmed (None: the
    preview said there was none yet). Arming refuses when the round's latest snapshot is
    another one (the votes were regrouped after the preview, so it would escalate what
    nobody looked at), and an imported round before its first snapshot (its votes are
    all there, and the first snapshot would escalate them unseen)."""
    already = Conflict(N_("Escalation is already armed for this round.") if armed
                       else N_("Escalation is already disarmed for this round."))
    if round_.escalation_armed == armed:
        raise already
    snapshot = latest_snapshot(round_.id)
    if armed and (snapshot.id if snapshot is not None else None) != seen_snapshot_id:
        raise Conflict(N_("The votes were grouped again after you looked at the preview. "
                          "Check the new preview and confirm again."))
    if armed and snapshot is None and round_.source != "native":
        raise Conflict(N_("The imported votes have not been grouped yet. Wait for the "
                          "first grouping, check its preview and confirm then."))
    # Changed only if still the other way when written: of two facilitators (or a double
    # click) arming at the same moment, the second finds it done, on both databases, and
    # the public list of rule changes shows it once.
    update_one(sa.update(Round).where(Round.id == round_.id,
                                      Round.escalation_armed.is_(not armed))
               .values(escalation_armed=armed), already)
    db.session.refresh(round_)
    audit.record("round.escalation_armed" if armed else "round.escalation_disarmed",
                 actor=actor, target=round_, round_id=round_.id,
                 reason=clean_text(reason or "") or None,
                 snapshot_id=snapshot.id if armed and snapshot is not None else None)
    db.session.commit()
    if not armed or snapshot is None:
        return []
    return escalation.run_for_snapshot(snapshot.id)
