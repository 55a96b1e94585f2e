"""Policy agenda pages: public list and items, the council's workflow, dossiers, exports,
facilitators' manual escalation and withdrawal, and the open-data download."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import (
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from wtforms import SelectChoice

from app import town
from app.agenda import bp, exports, lens
from app.agenda.charts import group_bars
from app.agenda.forms import (
    LAYER_LABELS,
    OUTCOME_LABELS,
    STATUS_LABELS,
    ManualEscalationForm,
    ReasonForm,
    ResponseForm,
)
from app.auth.routes import safe_next
from app.authz import council_required, facilitator_required
from app.downloads import CSV_CONTENT_TYPE, attachment, in_language, requested_language
from app.errors import attach_to_form, render_error, translate
from app.htmx import render_page_or_fragment
from app.lookups import round_or_404
from app.paging import ListPage
from app.ratelimits import download_limit
from app.rule_words import method_words
from app.search_args import search_args
from app.template_helpers import local_datetime
from deliberation import small_counts
from deliberation.engine import escalation as engine
from deliberation.engine import threshold
from deliberation.errors import Conflict, DomainError
from deliberation.models import Escalation
from deliberation.services import agenda as service
from deliberation.services import rounds
from deliberation.text import clean_text

PICKER_PAGE = 20  # proposals listed at a time when escalating by hand
PUBLIC_ITEMS_PER_PAGE = 20  # agenda items per page of the public agenda


@bp.app_context_processor
def agenda_globals() -> dict[str, Any]:
    def new_answers() -> list[Escalation]:
        if not current_user.is_authenticated:
            return []
        return service.new_answers_for(current_user)

    return {"agenda_new_answers": new_answers, "STATUS_LABELS": STATUS_LABELS,
            "OUTCOME_LABELS": OUTCOME_LABELS, "LAYER_LABELS": LAYER_LABELS,
            "robustness_words": lens.robustness_words, "bridging_words": lens.bridging_words,
            "grouping_words": lens.grouping_words}


def _filters(*, public: bool) -> dict[str, Any]:
    """The list's filters; a round that is not there (an old or mistyped address) is a 404,
    not an empty list whose download and dossier links would lead nowhere."""
    sort = request.args.get("sort", "date")
    slug = request.args.get("round") or None
    if slug is not None:
        round_or_404(slug, public=public)
    return {"round_slug": slug,
            "status": request.args.get("status") or None,
            "theme": clean_text(request.args.get("theme") or "") or None,
            "sort": sort if sort in service.SORTS else "date"}


def _evidence(item: service.AgendaItem) -> dict[str, Any]:
    ev = item.escalation.evidence or {}
    round_ = item.escalation.round
    policy = ev.get("policy") or round_.policy
    groups = ev.get("groups", [])
    current = item.current
    threshold_share = float(policy.get("min_group_agree", 0.5))
    return {
        "frozen": group_bars(groups, threshold_share, round_.min_group_display),
        "current": (group_bars([g.__dict__ for g in current.groups], threshold_share,
                               round_.min_group_display)
                    if current is not None else None),
        "policy": policy,
        "explain": threshold.explain(policy),
        "snapshot": ev.get("snapshot"),
        "lens": threshold.lens_summary(ev),
        "placement": _placement(ev.get("snapshot"), round_.min_group_display),
        "votes_by_kind": ev.get("votes_by_kind"),  # absent on items escalated before it
        "data": _data(ev.get("snapshot")),
        "minimum": small_counts.minimum(round_.min_group_display),
        # the round's rule changed after this item went to the council: it was judged by
        # the rule frozen in its evidence, which the page shows
        "rule_changed_after": [change.at for change in rounds.rule_changes(
            item.escalation.round_id) if change.at > item.escalation.escalated_at],
    }


def _data(snapshot: dict[str, Any] | None) -> dict[str, Any] | None:
    """Which votes the groups were drawn from, and how, for a sentence in words."""
    manifest = (snapshot or {}).get("manifest") or {}
    if not manifest.get("n_votes"):
        return None
    # The votes on rejected, pending, hidden and meta proposals are not among them (older
    # snapshots recorded only the totals).
    return {"votes": manifest.get("n_votes_grouped", manifest["n_votes"]),
            "people": manifest.get("n_participants", 0),
            "proposals": manifest.get("n_statements_grouped", manifest.get("n_statements", 0)),
            "when": datetime.fromisoformat(snapshot["created_at"]),
            "given": manifest.get("membership") == "given",
            "method": method_words(manifest.get("method")),
            "max_groups": (manifest.get("parameters") or {}).get("max_groups"),
            "deterministic": bool(manifest.get("deterministic")),
            # UMAP's layout is compiled for the processor it ran on (clustering/README.md)
            "processor": (manifest.get("versions") or {}).get("processor")
            if manifest.get("reducer") == "umap" else None}


def _placement(snapshot: dict[str, Any] | None, round_minimum: int
               ) -> dict[str, int | None] | None:
    """How many participants the snapshot placed in groups, and how many it could not place
    yet (too few votes); small counts withheld."""
    manifest = (snapshot or {}).get("manifest") or {}
    total, placed = manifest.get("n_participants"), manifest.get("n_clustered")
    if total is None or placed is None:
        return None
    return {"total": total, "placed": placed,
            "unplaced": small_counts.cell(total - placed, round_minimum)}


# ---------------------------------------------------------------- public

@bp.route("/")
def public_index() -> Response:
    filters = _filters(public=True)
    filters["theme"] = None
    # In pages: residents read it on phones, and the rounds of a town can send hundreds
    # (four Pol.is conversations: 133 items, 54,000 px on a 390 px screen, with the open
    # data below them). Sorted whole first, as the support order is the figure shown.
    page = ListPage(service.list_items(public_only=True, **filters), search_args().page,
                    PUBLIC_ITEMS_PER_PAGE)
    return render_page_or_fragment("agenda/public_index.html", "agenda/_public_list.html",
                                   items=page.items, results=page, filters=filters,
                                   rounds=rounds.public_rounds(), statuses=STATUS_LABELS)


@bp.route("/items/<id:escalation_id>")
def public_item(escalation_id: int) -> str:
    item = service.get_item(escalation_id)
    if not item.escalation.round.is_public:
        abort(404)
    if current_user.is_authenticated:
        service.mark_seen(current_user, [escalation_id])
    return render_template("agenda/public_item.html", item=item, evidence=_evidence(item),
                           overdue=item.overdue,
                           first_due=service.first_due_at(item.escalation))


@bp.route("/seen", methods=["POST"])
def mark_seen() -> Response:
    if current_user.is_authenticated:
        service.mark_seen(current_user)
    # the banner is on every page: back to the page it was read on
    return redirect(safe_next("agenda.public_index"), code=303)


@bp.route("/rounds/<slug>/open-data.zip")
@download_limit
def open_data(slug: str) -> Response:
    from deliberation.interop import polis_export

    round_ = round_or_404(slug)
    if not round_.open_data_enabled:
        abort(404)
    if not round_.open_data_published:
        return render_error(404, _("The open data of this round is published when voting "
                                   "has ended."))
    return attachment(polis_export.export_zip(round_.id), f"{round_.slug}-polis-export.zip",
                      "application/zip")


# ---------------------------------------------------------------- council

@bp.route("/council/")
@council_required
def council_index() -> Response:
    filters = _filters(public=False)
    items = service.list_items(**filters)
    return render_page_or_fragment("agenda/council_index.html", "agenda/_council_list.html",
                                   items=items, filters=filters, rounds=rounds.public_rounds(),
                                   themes=service.themes(), statuses=STATUS_LABELS)


def _council_item(escalation_id: int, form: ResponseForm | None = None,
                  status: int = 200) -> tuple[str, int]:
    item = service.get_item(escalation_id)
    resp = item.response
    if form is None:
        form = ResponseForm()
        form.load(resp)
    return render_template(
        "agenda/council_item.html", item=item, evidence=_evidence(item), form=form,
        history=service.history(item.escalation),
        representative=service.representative(item.escalation)), status


@bp.route("/council/items/<id:escalation_id>")
@council_required
def council_item(escalation_id: int) -> tuple[str, int]:
    return _council_item(escalation_id)


@bp.route("/council/items/<id:escalation_id>/response", methods=["POST"])
@council_required
def update_response(escalation_id: int) -> Response | tuple[str, int]:
    form = ResponseForm()
    if not form.validate_on_submit():
        return _council_item(escalation_id, form, 400)
    try:
        service.update_response(
            escalation_id, actor=current_user, status=form.status.data,
            outcome=form.outcome.data, reasons=form.reasons.data, answer=form.answer.data,
            department=form.department.data, plan_theme=form.plan_theme.data,
            plan_layer=form.plan_layer.data, due_at=form.due_at_utc(),
            seen=form.seen())
    except Conflict as error:
        form.saved_meanwhile(error, service.get_item(escalation_id).response)
        return _council_item(escalation_id, form, error.http_status)
    except DomainError as error:
        attach_to_form(form, error)
        return _council_item(escalation_id, form, error.http_status)
    flash(_("The response was saved."), "success")
    return redirect(url_for("agenda.council_item", escalation_id=escalation_id), code=303)


@bp.route("/council/items/<id:escalation_id>/dossier")
@council_required
def item_dossier(escalation_id: int) -> str:
    item = service.get_item(escalation_id)
    return _dossier([item], title=item.escalation.proposal.text[:80])


def _dossier(items: list[service.AgendaItem], **context: Any) -> str:
    """The printable dossier: per item the export's facts in words (as in the CSV), then
    the evidence and the answer."""
    facts = {}
    for row in exports.prepare([service.export_row(i) for i in items]):
        # A printed page shows its times as every other page does (2026/09/17 10:00), not
        # in the CSV's form for spreadsheets (2026-09-17 10:00) beside the evidence's.
        for key in ("escalated_at", "answered_at", "due_at", "withdrawn_at"):
            if row[key]:
                row["display"][key] = local_datetime(datetime.fromisoformat(row[key]))
        facts[row["escalation_id"]] = row["display"]
    return render_template("agenda/dossier.html", items=items, facts=facts,
                           columns=exports.DOSSIER_COLUMNS,
                           evidences={i.escalation.id: _evidence(i) for i in items}, **context)


@bp.route("/council/rounds/<slug>/dossier")
@council_required
def round_dossier(slug: str) -> str:
    round_ = round_or_404(slug, public=False)
    items = service.list_items(round_slug=slug, include_withdrawn=False)
    return _dossier(items, round=round_, title=round_.title)


@bp.route("/council/export.<fmt>")
@council_required
def council_export(fmt: str) -> Response:
    if fmt not in ("csv", "json"):
        abort(404)
    rows = service.export_rows(_filters(public=False)["round_slug"])
    with requested_language():
        body = exports.render(rows, fmt, town=town.localized().as_dict())
        name = in_language("agenda", fmt)
    content_type = CSV_CONTENT_TYPE if fmt == "csv" else "application/json"
    return attachment(body, name, content_type)


# ---------------------------------------------------------------- facilitators

@bp.route("/manage/rounds/<slug>/escalate", methods=["GET", "POST"])
@facilitator_required
def manual_escalation(slug: str) -> Response | tuple[str, int]:
    """Pick a proposal by searching its text (radio buttons, a page of matches at a time)."""
    round_ = round_or_404(slug, public=False)
    form = ManualEscalationForm()
    form.proposal_id.choices = [SelectChoice(pid, "") for pid in
                                service.escalation_candidate_ids(round_)]
    status = 200
    if request.method == "POST":
        if form.validate_on_submit():
            try:
                esc = engine.escalate_manually(form.proposal_id.data, actor=current_user,
                                               reason=form.reason.data)
            except DomainError as error:
                flash(translate(error), "error")
                status = error.http_status
            else:
                flash(_("The proposal was put on the policy agenda."), "success")
                return redirect(url_for("agenda.public_item", escalation_id=esc.id), code=303)
        else:
            status = 400
    args = search_args()
    page = service.search_escalation_candidates(round_, args.terms, page=args.page,
                                                per_page=PICKER_PAGE)
    return render_template("agenda/manual_escalation.html", form=form, round=round_, results=page,
                           q=args.q, query_error=args.error, any_left=bool(form.proposal_id.choices),
                           selected=form.proposal_id.data if request.method == "POST" else None), status


@bp.route("/manage/items/<id:escalation_id>/withdraw", methods=["GET", "POST"])
@facilitator_required
def withdraw(escalation_id: int) -> Response | tuple[str, int]:
    item = service.get_item(escalation_id)
    form = ReasonForm()
    status = 200
    if request.method == "POST":
        if form.validate_on_submit():
            try:
                engine.withdraw(escalation_id, actor=current_user, reason=form.reason.data)
            except DomainError as error:
                flash(translate(error), "error")
                status = error.http_status
            else:
                flash(_("The escalation was withdrawn."), "success")
                return redirect(url_for("agenda.public_item", escalation_id=escalation_id),
                                code=303)
        else:
            status = 400
    return render_template("agenda/withdraw.html", form=form, item=item), status
