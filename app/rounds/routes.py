"""Public round pages and citizen participation: vote, propose, report, results."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode

from flask import (
    abort,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from app.drafts import draft_to_restore
from app.errors import render_error, translate, wants_json
from app.htmx import is_htmx, render_page_or_fragment
from app.lookups import round_and_participant_or_404, round_or_404
from app.ratelimits import post_limit, vote_limit
from app.rounds import bp
from app.rounds.forms import ProposalForm, ReportForm
from app.rule_words import policy_sentence, rule_change_words
from app.search_args import search_args
from deliberation.errors import Conflict, DomainError
from deliberation.models import Participant, Proposal, Round
from deliberation.services import agenda, moderation, participants, results, rounds, votes
from deliberation.services import proposals as proposal_service
from deliberation.services.proposals import MAX_LENGTH, submit_proposal
from deliberation.services.reports import report_proposal
from deliberation.services.vote_card import VoteCard, vote_card

VOTE_LABELS = {1: "agree", -1: "disagree", 0: "pass"}
RESULTS_PER_PAGE = 20  # proposals with per-group bars per results page
PROPOSALS_PER_PAGE = 20


@bp.errorhandler(DomainError)
def domain_error(error: DomainError) -> Response:
    """Domain errors of this blueprint, with the message translated. Someone who may not
    take part in a round learns why and how to get verified, not just "forbidden"."""
    if "eligibility" in error.context and not is_htmx() and not wants_json():
        response = make_response(render_template(
            "rounds/not_eligible.html", message=translate(error),
            eligibility=error.context["eligibility"]), error.http_status)
        return response
    return render_error(error.http_status, translate(error))


def get_proposal(round_: Round, proposal_id: int) -> Proposal:
    proposal = proposal_service.in_round(round_, proposal_id)
    if proposal is None:
        abort(404)
    return proposal


@bp.route("/<slug>")
def show(slug: str) -> str:
    round_ = round_or_404(slug)
    counts = results.round_counts([round_.id])[round_.id]
    return render_template(
        "rounds/show.html", round=round_, counts=counts, policy_text=policy_sentence(round_.policy),
        rule_changes=rule_change_words(rounds.rule_changes(round_.id, rounds.LISTED_SETTINGS)),
        removals=moderation.removed_after_publication(round_.id),
        backlog=moderation.review_backlog(round_.id),
        agenda=agenda.list_items(round_slug=round_.slug, include_withdrawn=False),
    )


def _participant(round_: Round, create: bool = True):
    return participants.participant_for(round_, current_user, create=create)


def _card_context(round_: Round, participant: Participant | None, message: str | None = None,
                  error: str | None = None, card: VoteCard | None = None) -> dict:
    card = card or vote_card(round_, participant)
    return {"round": round_, "proposal": card.proposal, "message": message, "error": error,
            "voted": card.voted, "remaining": card.remaining}


@bp.route("/<slug>/vote", methods=["GET"])
@login_required
def vote(slug: str) -> Response:
    # Looking writes nothing: the participation starts with the first vote or proposal.
    round_, participant = round_and_participant_or_404(slug, current_user)
    participants.check_eligible(round_, current_user)
    # A closed round's card says so itself.
    return render_page_or_fragment("rounds/vote.html", "rounds/_vote_card.html",
                                   **_card_context(round_, participant))


@bp.route("/<slug>/vote", methods=["POST"])
@login_required
@vote_limit
def cast(slug: str) -> Response:
    round_, participant = round_and_participant_or_404(slug, current_user)
    back = request.form.get("back", "")
    try:
        saved = votes.cast(round_, current_user, participant, request.form.get("proposal_id"),
                           request.form.get("value"), next_card=is_htmx())
    except DomainError as error:
        participant = participants.participant_for(round_, current_user, create=False)
        if is_htmx():
            # 200 on purpose: htmx does not swap 4xx responses by default, and the card
            # carries the message (role="alert") so the person sees why nothing changed.
            response = render_page_or_fragment("rounds/vote.html", "rounds/_vote_card.html",
                                               **_card_context(round_, participant, error=translate(error)))
            response.headers["X-Hiroba-Error"] = error.code
            return response
        flash(translate(error), "error")
        # not at the proposal: the message is at the top of the page, which a jump down a
        # long list would leave out of sight, so the vote would seem taken
        return redirect(_back_url(round_, back, at_proposal=False), code=303)
    message = _("Your vote was saved.")
    if is_htmx():
        return render_page_or_fragment("rounds/vote.html", "rounds/_vote_card.html",
                                       **_card_context(round_, saved.participant, message=message,
                                                       card=saved.next_card))
    flash(message, "success")
    return redirect(_back_url(round_, back), code=303)


# What of the proposal list's query string a vote cast from it leads back to.
LIST_ARGS = ("q", "status", "voted", "sort", "page")


def _back_url(round_: Round, back: str, at_proposal: bool = True) -> str:
    """Where a vote sent without htmx leads back to: the page it was cast on, at the
    proposal (the list with the same search and page, so nobody loses their place)."""
    proposal_id = request.form.get("proposal_id", "")
    is_id = proposal_id.isascii() and proposal_id.isdigit() and len(proposal_id) <= 10
    place = f"#text-{proposal_id}" if is_id and at_proposal else ""
    if back == "proposals":
        kept = [(key, value) for key, value in parse_qsl(request.form.get("back_query", ""))
                if key in LIST_ARGS][:len(LIST_ARGS)]
        query = f"?{urlencode(kept)}" if kept else ""
        return url_for("rounds.proposals", slug=round_.slug) + query + place
    if back == "mine":
        return url_for("rounds.mine", slug=round_.slug) + place
    if back == "proposal" and is_id:
        return url_for("rounds.proposal", slug=round_.slug, proposal_id=int(proposal_id))
    return url_for("rounds.vote", slug=round_.slug)


@bp.route("/<slug>/proposals")
def proposals(slug: str) -> Response:
    """All published proposals: search, filters, sort and pages, all in the query string."""
    round_ = round_or_404(slug)
    participant = _participant(round_, create=False) if current_user.is_authenticated else None
    args = search_args()
    filters = {
        "q": args.q,
        "status": request.args.get("status", ""),
        "voted": request.args.get("voted", "") if current_user.is_authenticated else "",
        "sort": request.args.get("sort", "newest"),
    }
    page = proposal_service.browse(
        round_, args.terms, status=filters["status"], voted=filters["voted"], participant=participant,
        sort=filters["sort"], page=args.page, per_page=PROPOSALS_PER_PAGE)
    my_votes = votes.votes_of(participant) if participant else {}
    response = render_page_or_fragment(
        "rounds/proposals.html", "rounds/_proposal_results.html", round=round_, results=page,
        items=page.items, my_votes=my_votes, back="proposals", filters=filters,
        searched=bool(args.terms or filters["status"] in proposal_service.BROWSE_STATUSES
                      or filters["voted"] in proposal_service.BROWSE_VOTED),
        query_error=args.error, signed_in=current_user.is_authenticated,
        agenda_items=agenda.items_of_proposals([p.id for p in page.items]))
    return response


@bp.route("/<slug>/proposals/<id:proposal_id>")
def proposal(slug: str, proposal_id: int) -> str:
    round_ = round_or_404(slug)
    item = get_proposal(round_, proposal_id)
    if not item.is_visible:
        mine = False
        if current_user.is_authenticated:
            participant = _participant(round_, create=False)
            mine = participant is not None and participant.id == item.author_id
        if not mine and item.status == "hidden":
            # reported: the page stays, says so, and shows no text until a facilitator decides
            return render_template("rounds/under_review.html", round=round_, item=item)
        if not mine:
            abort(404)
    participant = _participant(round_, create=False) if current_user.is_authenticated else None
    my_votes = votes.votes_of(participant) if participant else {}
    return render_template("rounds/proposal.html", round=round_, item=item, my_votes=my_votes,
                           back="proposal", agenda_items=agenda.items_of_proposals([item.id]))


@bp.route("/<slug>/mine")
@login_required
def mine(slug: str) -> str:
    round_ = round_or_404(slug)
    participant = _participant(round_, create=False)
    my_votes = votes.votes_of(participant) if participant else {}
    voted = proposal_service.voted_on(my_votes)
    return render_template("rounds/mine.html", round=round_, my_votes=my_votes, voted=voted,
                           agenda_items=agenda.items_of_proposals([p.id for p in voted]),
                           my_proposals=proposal_service.proposals_by(round_, current_user),
                           back="mine")


@bp.route("/<slug>/propose", methods=["GET", "POST"])
@login_required
@post_limit
def propose(slug: str) -> Response | str:
    round_ = round_or_404(slug)
    form = ProposalForm()
    duplicate = None
    status = 200
    if not round_.accepts_proposals:
        status = 200 if request.method == "GET" else 400
        if request.method == "POST":
            form.text.errors = [_("This round is not accepting proposals at the moment.")]
    elif form.validate_on_submit():
        try:
            created = submit_proposal(round_, current_user, form.text.data)
        except Conflict as error:
            dup_id = error.context.get("proposal_id")
            duplicate = proposal_service.in_round(round_, dup_id) if dup_id else None
            if duplicate is not None and not duplicate.is_visible:
                # Linked only once published: a link to one waiting for review would give
                # its number to whoever guessed its words.
                duplicate = None
            form.text.errors = [_("The same proposal already exists in this round.")]
            status = 409
        except DomainError as error:
            form.text.errors = [translate(error)]
            status = error.http_status
        else:
            if created.status == "pending":
                flash(_("Thank you. Your proposal waits for a facilitator's review; you can "
                        "follow it under “My votes and proposals”."), "success")
                return redirect(url_for("rounds.mine", slug=round_.slug), code=303)
            flash(_("Thank you. Your proposal is published and you agreed with it."), "success")
            return redirect(url_for("rounds.proposal", slug=round_.slug,
                                    proposal_id=created.id), code=303)
    elif request.method == "POST":
        status = 400
    return render_template("rounds/propose.html", round=round_, form=form,
                           max_length=MAX_LENGTH, duplicate=duplicate,
                           restore_draft=request.method == "GET" and draft_to_restore()), status


@bp.route("/<slug>/proposals/<id:proposal_id>/report", methods=["GET", "POST"])
@login_required
@post_limit
def report(slug: str, proposal_id: int) -> Response | str:
    round_ = round_or_404(slug)
    item = get_proposal(round_, proposal_id)
    if not item.is_visible:
        abort(404)
    form = ReportForm()
    status = 200
    if form.validate_on_submit():
        try:
            report_proposal(item, current_user, form.reason.data)
        except DomainError as error:
            form.reason.errors = [translate(error)]
            status = error.http_status
        else:
            flash(_("Thank you. A facilitator will look at your report."), "success")
            return redirect(url_for("rounds.proposals", slug=round_.slug), code=303)
    elif request.method == "POST":
        status = 400
    return render_template("rounds/report.html", round=round_, item=item, form=form), status


@bp.route("/<slug>/results")
def results_page(slug: str) -> str:
    round_ = round_or_404(slug)
    participant = _participant(round_, create=False) if current_user.is_authenticated else None
    data = results.results_for(round_, participant)
    page = request.args.get("page", 1, type=int) or 1
    pages = 1
    shown: list = []
    if data is not None:
        pages = max(1, -(-len(data.proposals) // RESULTS_PER_PAGE))
        page = min(max(page, 1), pages)
        shown = data.proposals[(page - 1) * RESULTS_PER_PAGE: page * RESULTS_PER_PAGE]
    return render_template("rounds/results.html", round=round_, results=data, shown=shown,
                           page=page, pages=pages, map_size=results.MAP_SIZE)
