"""The policy agenda: listing escalated proposals, the council's response workflow,
answers seen by participants, and exports (JSON/CSV rows)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask_sqlalchemy.pagination import Pagination

from deliberation import small_counts
from deliberation.database import db, update_one
from deliberation.engine import escalation as engine
from deliberation.engine import threshold
from deliberation.errors import N_, Conflict, DomainError, NotFound
from deliberation.models import (
    AgendaAnswerSeen,
    AuditEntry,
    ClusterSnapshot,
    Escalation,
    OfficialResponse,
    Participant,
    Proposal,
    Round,
    User,
    Vote,
    audit,
)
from deliberation.models._common import utcnow
from deliberation.models.agenda import PLAN_LAYERS, RESPONSE_OUTCOMES, RESPONSE_STATUSES
from deliberation.services import search, visibility
from deliberation.text import clean_text

SORTS = ("date", "support")
# Allowed status changes (answered items may be re-opened for review).
TRANSITIONS = {
    "received": {"received", "under_review", "answered"},
    "under_review": {"under_review", "answered", "received"},
    "answered": {"answered", "under_review"},
}
SAVED_MEANWHILE = N_("Someone saved this response after you opened the page (another member "
                     "of staff, or you in another tab or with a second click). Yours is not "
                     "saved yet: see the history below, then press “Save response” again to "
                     "replace it with what you entered.")


def is_overdue(response: OfficialResponse | None, now: datetime | None = None) -> bool:
    if response is None or response.status == "answered":
        return False
    return response.due_at < (now or utcnow())


def support_share(groups: list[dict[str, Any]], round_minimum: int | None = None
                  ) -> float | None:
    """An item's support, the one figure shown on every page: the agree share among those
    who voted, in the weakest group that counts for the rule (every group when none
    counts), of the groups the small-count rule shows (the round's ``min_group_display``).
    None without group figures (an item escalated by hand before any snapshot)."""
    groups = [g for g in groups if small_counts.shown(g["size"], round_minimum)]
    counted = [g for g in groups if g.get("eligible", True)] or groups
    shares = [g["agree"] / seen for g in counted
              if (seen := g["agree"] + g["disagree"] + g["passes"])]
    return min(shares) if shares else None


@dataclass
class AgendaItem:
    escalation: Escalation
    current: threshold.Decision | None  # on the latest snapshot

    @property
    def response(self) -> OfficialResponse | None:
        return self.escalation.response

    @property
    def support(self) -> float | None:
        """Support when it was escalated (see ``support_share``)."""
        return support_share((self.escalation.evidence or {}).get("groups") or [],
                             self.escalation.round.min_group_display)

    @property
    def overdue(self) -> bool:
        return is_overdue(self.response)

    @property
    def support_fallen(self) -> bool:
        """Automatic escalations whose current support no longer meets the rule."""
        return (self.escalation.kind == "automatic" and self.current is not None
                and not self.current.escalate)


def _base_query() -> sa.Select:
    return (sa.select(Escalation)
            .join(Escalation.round)
            .outerjoin(Escalation.response)
            .options(so.contains_eager(Escalation.round), so.contains_eager(Escalation.response),
                     so.joinedload(Escalation.proposal)))


def list_items(*, round_slug: str | None = None, status: str | None = None,
               theme: str | None = None, sort: str = "date",
               include_withdrawn: bool = True, public_only: bool = False) -> list[AgendaItem]:
    query = _base_query()
    if round_slug:
        query = query.where(Round.slug == round_slug)
    if status == "overdue":
        query = query.where(OfficialResponse.status != "answered",
                            OfficialResponse.due_at < utcnow())
    elif status == "withdrawn":
        query = query.where(Escalation.withdrawn_at.is_not(None))
    elif status in RESPONSE_STATUSES:
        query = query.where(OfficialResponse.status == status)
    if theme:
        query = query.where(OfficialResponse.plan_theme == theme)
    if not include_withdrawn and status != "withdrawn":
        query = query.where(Escalation.withdrawn_at.is_(None))
    if public_only:
        query = query.where(Round.phase != "draft")
    if sort == "support":
        query = query.order_by(Escalation.support.desc(), Escalation.id.desc())
    else:
        query = query.order_by(Escalation.escalated_at.desc(), Escalation.id.desc())
    escalations = db.session.scalars(query).unique().all()
    current = engine.current_decisions(escalations)
    items = [AgendaItem(e, current.get(e.id)) for e in escalations]
    if sort == "support":  # by the figure people see (stable: ties keep the query's order)
        items.sort(key=lambda item: -(item.support if item.support is not None else -1.0))
    return items


def items_of_proposals(proposal_ids: list[int]) -> dict[int, AgendaItem]:
    """The agenda items (withdrawn ones left out) of these proposals, by proposal id: a
    proposal listed in its round leads to what the council made of it."""
    if not proposal_ids:
        return {}
    escalations = db.session.scalars(_base_query().where(
        Escalation.proposal_id.in_(proposal_ids), Escalation.withdrawn_at.is_(None))).unique().all()
    current = engine.current_decisions(escalations)
    return {e.proposal_id: AgendaItem(e, current.get(e.id)) for e in escalations}


def _current(esc: Escalation) -> threshold.Decision | None:
    try:
        return engine.current_decision(esc)
    except threshold.PolicyError:
        return None


def get_item(escalation_id: int) -> AgendaItem:
    esc = db.session.get(Escalation, escalation_id)
    if esc is None:
        raise NotFound(N_("No such agenda item."))
    return AgendaItem(esc, _current(esc))


def themes() -> list[str]:
    return list(db.session.scalars(
        sa.select(OfficialResponse.plan_theme).where(OfficialResponse.plan_theme != "")
        .distinct().order_by(OfficialResponse.plan_theme)))


def history(esc: Escalation) -> list[AuditEntry]:
    """Audit entries about the escalation and its response, oldest first."""
    targets = [sa.and_(AuditEntry.target_type == "escalations", AuditEntry.target_id == esc.id)]
    if esc.response is not None:
        targets.append(sa.and_(AuditEntry.target_type == "official_responses",
                               AuditEntry.target_id == esc.response.id))
    return list(db.session.scalars(
        sa.select(AuditEntry).where(sa.or_(*targets)).order_by(AuditEntry.id)))


def first_due_at(esc: Escalation) -> datetime | None:
    """The deadline the council had before it first moved it, when it did (else None):
    the public page shows it beside the current one, so that more time taken is seen."""
    resp = esc.response
    if resp is None:
        return None
    for details in db.session.scalars(
            sa.select(AuditEntry.details).where(
                AuditEntry.action == "response.updated",
                AuditEntry.target_type == "official_responses",
                AuditEntry.target_id == resp.id).order_by(AuditEntry.id)):
        before = ((details or {}).get("before") or {}).get("due_at")
        if before and before != (details or {}).get("due_at"):
            first = datetime.fromisoformat(before)
            return first if first != resp.due_at else None
    return None


def representative(esc: Escalation, per_group: int = 3) -> dict[int, list[dict[str, Any]]]:
    """Representative proposals of each group on the escalation's snapshot (for context)."""
    from deliberation.models import Proposal

    snapshot = db.session.get(ClusterSnapshot, esc.snapshot_id) if esc.snapshot_id else None
    if snapshot is None:
        return {}
    repness = (snapshot.statistics or {}).get("repness", {})
    wanted = {int(r["proposal_id"]) for rows in repness.values() for r in rows[:per_group]}
    # Only public texts: a representative proposal rejected or hidden since is left out.
    texts = dict(db.session.execute(
        sa.select(Proposal.id, Proposal.text).where(Proposal.id.in_(wanted),
                                                    visibility.public_clause())
    ).tuples().all())
    out: dict[int, list[dict[str, Any]]] = {}
    for gid, rows in sorted(repness.items(), key=lambda kv: int(kv[0])):
        out[int(gid)] = [{"proposal_id": int(r["proposal_id"]), "direction": r["direction"],
                          "text": texts[int(r["proposal_id"])]}
                         for r in rows[:per_group] if int(r["proposal_id"]) in texts]
    return out


def update_response(escalation_id: int, *, actor: User, status: str, outcome: str | None,
                    reasons: str, answer: str, department: str, plan_theme: str,
                    plan_layer: str | None, due_at: datetime | None,
                    seen: datetime | None = None) -> OfficialResponse:
    """The council's response workflow (audited).

    ``seen``: when the response was last saved as the page showed it. A response saved since
    (another member of staff, a second tab, a double click) is not overwritten unseen: a
    conflict, and nothing is stored."""
    esc = db.session.get(Escalation, escalation_id)
    if esc is None or esc.response is None:
        raise NotFound(N_("No such agenda item."))
    resp = esc.response
    if status not in RESPONSE_STATUSES:
        raise DomainError(N_("Unknown status."), field="status")
    if status not in TRANSITIONS[resp.status]:
        raise DomainError(N_("This status change is not allowed."), field="status")
    outcome = outcome or None
    plan_layer = plan_layer or None
    if outcome is not None and outcome not in RESPONSE_OUTCOMES:
        raise DomainError(N_("Unknown outcome."), field="outcome")
    if plan_layer is not None and plan_layer not in PLAN_LAYERS:
        raise DomainError(N_("Unknown plan layer."), field="plan_layer")
    reasons, answer = clean_text(reasons or ""), clean_text(answer or "")
    if status == "answered":
        if outcome is None:
            raise DomainError(N_("An answer needs an outcome."), field="outcome")
        if not reasons:
            raise DomainError(N_("An answer needs the reasons for the outcome."), field="reasons")
        if not answer:
            raise DomainError(N_("An answer needs a public answer text."), field="answer")
    if due_at is not None and due_at.tzinfo is None:
        raise DomainError(N_("The deadline needs a time zone."), field="due_at")
    if seen is not None and resp.updated_at != seen:
        raise Conflict(SAVED_MEANWHILE)
    before = {"status": resp.status, "outcome": resp.outcome, "due_at": resp.due_at.isoformat()}
    changed_answer = status == "answered" and (
        resp.status != "answered" or resp.answer != answer or resp.outcome != outcome)
    values: dict[str, Any] = {
        "status": status, "outcome": outcome if status == "answered" else None,
        "reasons": reasons, "answer": answer, "department": clean_text(department or ""),
        "plan_theme": clean_text(plan_theme or ""), "plan_layer": plan_layer,
        "updated_by_id": actor.id, "updated_at": utcnow(),
    }
    if due_at is not None:
        values["due_at"] = due_at
    if changed_answer:
        values["answered_at"] = utcnow()
    elif status != "answered":
        values["answered_at"] = None
    # Written only if nobody saved it since it was read here: of two saves at the same
    # moment the second finds it changed, on both databases, and stores nothing.
    update_one(sa.update(OfficialResponse)
               .where(OfficialResponse.id == resp.id,
                      OfficialResponse.updated_at == resp.updated_at)
               .values(**values), Conflict(SAVED_MEANWHILE))
    db.session.refresh(resp)
    audit.record("response.updated", actor=actor, target=resp, round_id=esc.round_id,
                 before=before, status=status, outcome=resp.outcome,
                 department=resp.department, plan_theme=resp.plan_theme,
                 plan_layer=plan_layer, due_at=resp.due_at.isoformat())
    db.session.commit()
    return resp


# ------------------------------------------------------------ answers seen by voters

def _voted_answers(user_id: int) -> sa.Select:
    voted = (sa.select(Vote.proposal_id)
             .join(Participant, sa.and_(Participant.round_id == Vote.round_id,
                                        Participant.id == Vote.participant_id))
             .where(Participant.user_id == user_id))
    seen = (sa.select(AgendaAnswerSeen.id).where(
        AgendaAnswerSeen.user_id == user_id,
        AgendaAnswerSeen.response_id == OfficialResponse.id,
        AgendaAnswerSeen.answered_at >= OfficialResponse.answered_at))
    return (sa.select(Escalation)
            .join(OfficialResponse, OfficialResponse.escalation_id == Escalation.id)
            .where(OfficialResponse.status == "answered",
                   OfficialResponse.answered_at.is_not(None),
                   Escalation.proposal_id.in_(voted), ~sa.exists(seen))
            .order_by(OfficialResponse.answered_at.desc()))


def new_answers_for(user: User | None) -> list[Escalation]:
    """Answered items the person voted on and has not seen since the answer."""
    if user is None or not getattr(user, "is_authenticated", False):
        return []
    return list(db.session.scalars(_voted_answers(user.id).limit(20)))


def mark_seen(user: User, escalation_ids: list[int] | None = None) -> int:
    """Record that the person saw the current answers (all new ones, or the given items)."""
    items = new_answers_for(user)
    if escalation_ids is not None:
        items = [e for e in items if e.id in set(escalation_ids)]
    for esc in items:
        resp = esc.response
        row = db.session.scalar(sa.select(AgendaAnswerSeen).where(
            AgendaAnswerSeen.user_id == user.id, AgendaAnswerSeen.response_id == resp.id))
        if row is None:
            db.session.add(AgendaAnswerSeen(user_id=user.id, response_id=resp.id,
                                            answered_at=resp.answered_at))
        else:
            row.answered_at, row.seen_at = resp.answered_at, utcnow()
    db.session.commit()
    return len(items)


# ------------------------------------------------------------ exports

def escalations_of(round_: Round) -> list[Escalation]:
    """The round's escalations that were not withdrawn, oldest first."""
    return list(db.session.scalars(
        sa.select(Escalation).where(Escalation.round_id == round_.id,
                                    Escalation.withdrawn_at.is_(None))
        .order_by(Escalation.id)))


def _not_yet_escalated(round_: Round) -> sa.Select:
    return sa.select(Proposal).where(
        Proposal.round_id == round_.id, Proposal.status == "published", ~Proposal.is_meta,
        ~sa.exists().where(Escalation.proposal_id == Proposal.id)).order_by(Proposal.id)


def escalation_candidate_ids(round_: Round) -> list[int]:
    """The round's published proposals that are not on the agenda (a facilitator may put
    one there by hand); meta statements never go there."""
    return list(db.session.scalars(_not_yet_escalated(round_).with_only_columns(Proposal.id)))


def search_escalation_candidates(round_: Round, terms: list[str], *, page: int,
                                 per_page: int) -> Pagination:
    """One page of those candidates, oldest first, whose text contains every term."""
    query = _not_yet_escalated(round_)
    if terms:
        query = query.where(search.proposal_text_matches(
            Proposal.id, Proposal.text, terms, db.session.get_bind().dialect.name))
    return search.page_of(query, page, per_page)


def export_rows(round_slug: str | None = None) -> list[dict[str, Any]]:
    """One :func:`export_row` per escalated proposal (of one round), oldest first."""
    if round_slug and db.session.scalar(sa.select(Round.id).where(Round.slug == round_slug)) \
            is None:
        raise NotFound(N_("There is no round with this address."))
    return [export_row(item) for item in sorted(list_items(round_slug=round_slug),
                                                key=lambda i: i.escalation.id)]


def export_row(item: AgendaItem) -> dict[str, Any]:
    """One escalated proposal with codes and UTC times (the web layer's
    ``app.agenda.exports`` turns them into labels, Japan time and percentages)."""
    esc, resp, proposal = item.escalation, item.response, item.escalation.proposal
    groups = (esc.evidence or {}).get("groups", [])
    summary = threshold.lens_summary(esc.evidence)
    withheld = visibility.withheld_because(proposal)
    return {
        "escalation_id": esc.id,
        "proposal_id": esc.proposal_id,
        "external_id": proposal.external_id,
        "text": proposal.text,  # staff export: kept, with the reason it is not public
        "text_withheld": withheld,
        "rejection_reason": (proposal.rejection_reason or "") if withheld == "rejected"
                            else "",
        "round": esc.round.slug,
        "round_title": esc.round.title,
        "round_phase": esc.round.phase,
        "kind": esc.kind,
        "escalation_reason": esc.reason or "",
        "escalated_at": esc.escalated_at.isoformat(),
        "withdrawn_at": esc.withdrawn_at.isoformat() if esc.withdrawn_at else None,
        "withdrawal_reason": esc.withdrawal_reason or "",
        "status": resp.status if resp else None,
        "outcome": resp.outcome if resp else None,
        "reasons": resp.reasons if resp else "",
        "answer": resp.answer if resp else "",
        "answered_at": resp.answered_at.isoformat() if resp and resp.answered_at else None,
        "due_at": resp.due_at.isoformat() if resp else None,
        "overdue": item.overdue,
        "department": resp.department if resp else "",
        "plan_theme": resp.plan_theme if resp else "",
        "plan_layer": resp.plan_layer if resp else None,
        "support": item.support,  # the figure every page shows
        "lower_bound": esc.support,  # what the rule compares with the threshold
        "support_fallen": item.support_fallen,
        "bridging_score": summary["bridging"],
        "bridging": summary["bridging_level"],
        "robustness": summary["robustness"],
        "holds_for": (f"{summary['holds']}/{summary['total']}" if summary["total"]
                      else None),
        "lens": summary,  # the web layer turns it into words, then drops it
        # Numbered from 1 as on every page ("group 1"); group_id is the snapshot's.
        "groups": [{"number": g["group_id"] + 1, "group_id": g["group_id"],
                    "size": g["size"], "agree": g["agree"], "disagree": g["disagree"],
                    "passes": g["passes"], "lower_bound": g["lower_bound"],
                    "eligible": g["eligible"]}
                   for g in groups
                   if small_counts.shown(g["size"], esc.round.min_group_display)],
        # By relation to the town, as frozen (small counts already withheld); None on items
        # escalated before the evidence kept it.
        "votes_by_kind": (esc.evidence or {}).get("votes_by_kind"),
    }
