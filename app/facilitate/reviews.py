"""The facilitator's say over automatic escalation: arm it after seeing the preview of what
would escalate, and approve or dismiss escalations held because a coordinated block decided
them, with a reason (all audited)."""

from __future__ import annotations

from flask import Response, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.authz import facilitator_required
from app.errors import translate
from app.facilitate import bp
from app.i18n import ngettext
from app.lookups import round_or_404
from deliberation.database import db
from deliberation.engine import escalation
from deliberation.errors import DomainError
from deliberation.ids import parse_id
from deliberation.models import EscalationReview


@bp.route("/rounds/<slug>/reviews/<id:review_id>", methods=["POST"])
@facilitator_required
def decide_review(slug: str, review_id: int) -> Response:
    round_ = round_or_404(slug, public=False)
    review = db.get_or_404(EscalationReview, review_id)
    if review.round_id != round_.id:
        from flask import abort

        abort(404)
    action = request.form.get("action", "")
    try:
        escalation.decide_review(review.id, action, actor=current_user,
                            reason=request.form.get("reason", ""))
    except DomainError as error:
        flash(translate(error), "error")
        # the top of the page, where the message is: down at the reviews it is out of sight
        # and the held escalation looks as if nothing had been pressed
        return redirect(url_for("facilitate.round_detail", slug=round_.slug), code=303)
    flash(_("The proposal was put on the council's agenda.") if action == "approve"
          else _("The escalation was dismissed; the proposal escalates only if it later "
                 "passes the rule without the flagged accounts."), "success")
    return redirect(url_for("facilitate.round_detail", slug=round_.slug) + "#reviews", code=303)


@bp.route("/rounds/<slug>/escalation", methods=["POST"])
@facilitator_required
def arm_escalation(slug: str) -> Response:
    """Confirm the preview and arm automatic escalation, or disarm it (audited)."""
    from deliberation.engine.arming import set_armed

    round_ = round_or_404(slug, public=False)
    action = request.form.get("action", "")
    if action not in ("arm", "disarm"):
        from flask import abort

        abort(400)
    try:
        created = set_armed(round_, action == "arm", actor=current_user,
                            reason=request.form.get("reason") or None,
                            seen_snapshot_id=parse_id(request.form.get("snapshot_id")))
    except DomainError as error:
        flash(translate(error), "error")
        # at the top, where the message is (the new preview it asks to check is just below)
        return redirect(url_for("facilitate.round_detail", slug=round_.slug), code=303)
    else:
        if action == "arm":
            flash(ngettext("Escalation is armed. %(num)d proposal went to the council now.",
                           "Escalation is armed. %(num)d proposals went to the council now.",
                           len(created)), "success")
        else:
            flash(_("Escalation is disarmed: nothing more goes to the council automatically."),
                  "success")
    return redirect(url_for("facilitate.round_detail", slug=round_.slug) + "#escalation",
                    code=303)
