"""/api/v1: thin JSON views over the same services as the web pages.

Nothing here exposes personal data: no emails, names, account ids or participant ids;
opinion groups smaller than the round's ``min_group_display`` are left out.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import abort, jsonify, request
from flask_babel import gettext as _
from flask_login import current_user, login_required
from flask_wtf.csrf import generate_csrf
from werkzeug.wrappers import Response

from app.agenda import lens
from app.api import bp
from app.api.openapi import openapi_document
from app.errors import translate
from app.lookups import round_and_participant_or_404, round_or_404
from app.ratelimits import post_limit, vote_limit
from deliberation import small_counts
from deliberation.engine import threshold
from deliberation.errors import DomainError
from deliberation.models import (
    Proposal,
    Round,
    SnapshotProposalStat,
)
from deliberation.models.snapshot import latest_snapshot
from deliberation.services import agenda as agenda_service
from deliberation.services import proposals as proposal_service
from deliberation.services import results as results_service
from deliberation.services import visibility, votes
from deliberation.services.proposals import submit_proposal
from deliberation.services.rounds import public_rounds


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _round_json(round_: Round) -> dict[str, Any]:
    return {
        "slug": round_.slug,
        "title": round_.title,
        "summary": round_.summary,
        "phase": round_.phase,
        "opens_at": _iso(round_.opens_at),
        "closes_at": _iso(round_.closes_at),
        "accepts_votes": round_.accepts_votes,
        "accepts_proposals": round_.accepts_proposals,
        "min_group_display": small_counts.minimum(round_.min_group_display),
    }


def _proposal_json(proposal: Proposal, stat: SnapshotProposalStat | None) -> dict[str, Any]:
    return {
        "id": proposal.id,
        "text": proposal.text,
        "is_seed": proposal.is_seed,
        "created_at": _iso(proposal.created_at),
        "votes": {"agree": stat.agree if stat else 0, "disagree": stat.disagree if stat else 0,
                  "pass": stat.passes if stat else 0},
    }


@bp.route("/openapi.json")
def openapi() -> Response:
    return jsonify(openapi_document())


@bp.route("/csrf-token")
def csrf_token() -> Response:
    """The token to send as X-CSRFToken with POST requests of this session."""
    response = jsonify({"csrf_token": generate_csrf()})
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/rounds")
def rounds() -> Response:
    items = sorted(public_rounds(), key=lambda r: r.id)
    return jsonify({"rounds": [_round_json(r) for r in items]})


@bp.route("/rounds/<slug>")
def round_detail(slug: str) -> Response:
    return jsonify(_round_json(round_or_404(slug)))


@bp.route("/rounds/<slug>/proposals")
def proposals(slug: str) -> Response:
    round_ = round_or_404(slug)
    snapshot, totals = results_service.snapshot_totals(round_)
    items = proposal_service.published(round_)
    return jsonify({"round": round_.slug,
                    "counts_as_of": _iso(snapshot.counts_as_of) if snapshot else None,
                    "proposals": [_proposal_json(p, totals.get(p.id)) for p in items]})


@bp.route("/rounds/<slug>/results")
def results(slug: str) -> Response:
    """The latest clustering snapshot: group sizes and per-group vote counts."""
    round_ = round_or_404(slug)
    snapshot = latest_snapshot(round_.id)
    if snapshot is None:
        return jsonify({"round": round_.slug, "snapshot": None})
    shown = results_service.published_counts(round_, snapshot)
    groups = shown.groups
    stats = {group_id: [{"proposal_id": stat.proposal_id, "agree": stat.agree,
                         "disagree": stat.disagree, "pass": stat.passes} for stat in counts]
             for group_id, counts in shown.counts.items()}
    return jsonify({
        "round": round_.slug,
        "snapshot": {
            "id": snapshot.id,
            "created_at": _iso(snapshot.created_at),
            "n_participants": snapshot.n_participants,
            "n_votes": snapshot.n_votes,
            "hidden_small_groups": len(snapshot.groups) - len(groups),
            # not enough votes yet to be placed / placed in a group too small to show
            # (None: fewer than the smallest count shown)
            "unplaced": small_counts.cell(snapshot.n_participants - snapshot.n_clustered,
                                          round_.min_group_display),
            "in_small_groups": small_counts.cell(
                snapshot.n_clustered - sum(g.size for g in groups), round_.min_group_display),
            "overall": stats.get(None, []),
            "groups": [{"group_id": g.group_id, "size": g.size,
                        "proposals": stats.get(g.group_id, [])} for g in groups],
        },
    })


@bp.route("/rounds/<slug>/agenda")
def agenda(slug: str) -> Response:
    """Escalated proposals (not withdrawn) with the council's official response."""
    round_ = round_or_404(slug)
    items = agenda_service.escalations_of(round_)
    entries = []
    for item in items:
        response = item.response
        entries.append({
            "id": item.id,
            "proposal_id": item.proposal_id,
            "proposal_text": visibility.public_text(item.proposal),
            "proposal_withheld": visibility.withheld_because(item.proposal),
            "kind": item.kind,
            "support": item.support,
            **_lenses(item.evidence),
            "escalated_at": _iso(item.escalated_at),
            "response": None if response is None else {
                "status": response.status,
                "outcome": response.outcome,
                # A draft saved while the council still reviews is not published.
                "answer": response.answer if response.status == "answered" else "",
                "department": response.department,
                "due_at": _iso(response.due_at),
                "answered_at": _iso(response.answered_at),
            },
        })
    return jsonify({"round": round_.slug, "agenda": entries})


def _lenses(evidence: dict[str, Any] | None) -> dict[str, Any]:
    """Bridging score and robustness of an escalation, as figures, levels and words."""
    summary = threshold.lens_summary(evidence)
    return {
        "bridging": None if summary["bridging"] is None else {
            "score": summary["bridging"], "level": summary["bridging_level"],
            "words": lens.bridging_words(summary)},
        "robustness": None if summary["robustness"] is None else {
            "level": summary["robustness"], "holds_for": summary["holds"],
            "groupings": summary["total"], "words": lens.robustness_words(summary)},
    }


def _status(error: DomainError) -> int:
    """State conflicts (round phase, proposal not open) are 409 in the API; bad input 400."""
    if error.http_status == 400 and ({"phase", "status"} & error.context.keys()):
        return 409
    return error.http_status


def _json_body() -> dict[str, Any]:
    # Not silent: a body over the size or depth limit, or not JSON at all, is a 400 that
    # says so (app/request_input.py).
    body = request.get_json()
    if not isinstance(body, dict):
        abort_json(400, _("Send a JSON object."))
    return body


def abort_json(status: int, message: str) -> None:
    from app.errors import render_error

    abort(render_error(status, message))


@bp.route("/rounds/<slug>/votes", methods=["POST"])
@login_required
@vote_limit
def vote(slug: str) -> tuple[Response, int]:
    round_, participant = round_and_participant_or_404(slug, current_user)
    body = _json_body()
    try:
        saved = votes.cast(round_, current_user, participant, body.get("proposal_id"),
                           body.get("value"), source="api")
    except DomainError as error:
        abort_json(_status(error), translate(error))
    return jsonify({"proposal_id": saved.proposal_id, "value": saved.value}), 200


@bp.route("/rounds/<slug>/proposals", methods=["POST"])
@login_required
@post_limit
def propose(slug: str) -> tuple[Response, int]:
    round_ = round_or_404(slug)
    body = _json_body()
    try:
        created = submit_proposal(round_, current_user, body.get("text"))
    except DomainError as error:
        abort_json(_status(error), translate(error))
    return jsonify({"id": created.id, "text": created.text, "status": created.status}), 201
