"""Facilitator pages: rounds, phases, seeds, Pol.is import, moderation, audit log,
assisted participation, presentation view and engagement dashboard."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from flask import Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import format_date
from flask_babel import gettext as _
from flask_login import current_user

from app.authz import facilitator_required
from app.downloads import csv_attachment, in_language, requested_language
from app.errors import attach_to_form, translate, translate_parts
from app.facilitate import bp, exports
from app.facilitate.charts import active_range, bar_chart, line_chart
from app.facilitate.forms import (
    AssistedForm,
    ImportForm,
    RoundForm,
    SeedForm,
    WorkshopForm,
    phase_choices,
)
from app.htmx import render_page_or_fragment
from app.i18n import ngettext
from app.lookups import round_or_404
from app.mail import external_url
from app.search_args import search_args
from app.template_helpers import ACTION_LABELS, PHASE_LABELS, audit_key
from deliberation import small_counts
from deliberation.database import db
from deliberation.engine import coordination
from deliberation.errors import N_, Conflict, DomainError
from deliberation.ids import parse_id
from deliberation.models import ImportJob, Round, Workshop
from deliberation.models.snapshot import latest_snapshot
from deliberation.services import (
    audit,
    engagement,
    facilitation,
    health,
    moderation,
    workshops,
)
from deliberation.services import proposals as proposal_service
from deliberation.services import votes as vote_service
from deliberation.services.results import shorten

SKIPPED_NAMED, SKIPPED_LENGTH = 3, 60  # seed lines already in the round, named after upload
AUDIT_PAGE = 50


# ---------------------------------------------------------------- rounds

@bp.route("/")
@facilitator_required
def rounds() -> str:
    return render_template("facilitate/rounds.html", rounds=facilitation.rounds_newest_first(),
                           pending=moderation.pending_by_round())


@bp.route("/rounds/new", methods=["GET", "POST"])
@facilitator_required
def new_round() -> Any:
    form = RoundForm()
    if form.validate_on_submit():
        try:
            round_ = facilitation.create_round(slug=form.slug.data, actor=current_user,
                                               **form.values())
        except DomainError as error:
            attach_to_form(form, error)
        else:
            flash(_("The round was created."), "success")
            return redirect(url_for("facilitate.round_detail", slug=round_.slug), code=303)
    return render_template("facilitate/round_form.html", form=form, round=None), \
        400 if form.errors else 200


@bp.route("/rounds/<slug>")
@facilitator_required
def round_detail(slug: str) -> str:
    round_ = round_or_404(slug, public=False)
    stats = {**facilitation.round_figures(round_), "backlog": moderation.backlog(round_.id)}
    return render_template("facilitate/round_detail.html", round=round_, stats=stats,
                           transitions=_available_transitions(round_),
                           snapshot=latest_snapshot(round_.id),
                           reviews=coordination.pending_reviews(round_.id),
                           preview=None if round_.escalation_armed else
                           facilitation.preview_escalations(round_, round_.policy),
                           snapshot_pending_since=health.pending_since(round_.id),
                           minimum=small_counts.minimum(round_.min_group_display))


def _available_transitions(round_: Round) -> list[tuple[str, str]]:
    labels = {"open_collecting": _("Open for proposals"), "open_voting": _("Open for voting"),
              "reflect": _("Move to reflection"), "close": _("Close the round"),
              "reopen": _("Reopen for voting")}
    return [(action, labels[action]) for action, (allowed, _to) in
            facilitation.TRANSITIONS.items() if round_.phase in allowed]


@bp.route("/rounds/<slug>/edit", methods=["GET", "POST"])
@facilitator_required
def edit_round(slug: str) -> Any:
    round_ = round_or_404(slug, public=False)
    form = RoundForm()
    form.phase.choices = phase_choices(public=round_.is_public)
    if request.method == "GET":
        form.load(round_)
    else:
        form.slug.data = round_.slug  # the address never changes
    preview, rule_change, status = None, None, 200
    if form.validate_on_submit():
        if "preview" in request.form:
            preview = _preview(round_, form.policy())
        else:
            try:
                facilitation.update_round(
                    round_, actor=current_user, seen=form.seen(),
                    rule_confirmed="confirm_rule" in request.form,
                    rule_snapshot_id=parse_id(request.form.get("rule_snapshot_id")),
                    **form.values())
            except facilitation.RuleChangeUnconfirmed as error:
                # what the change would do, on the snapshot the confirmation is bound to
                rule_change = {"message": translate(error),
                               **facilitation.preview_rule_change(round_, form.values())}
                status = error.http_status
            except Conflict as error:
                form.saved_meanwhile(error, round_)
                status = error.http_status
            except DomainError as error:
                attach_to_form(form, error)
                status = error.http_status
            else:
                flash(_("The round was saved."), "success")
                return redirect(url_for("facilitate.round_detail", slug=round_.slug), code=303)
    elif request.method == "POST":
        status = 400
    return render_template("facilitate/round_form.html", form=form, round=round_,
                           preview=preview, rule_change=rule_change), status


def _preview(round_: Round, policy: dict[str, Any]) -> dict[str, Any]:
    """What-if preview of the threshold policy from the latest snapshot."""
    try:
        return {"ok": True, **facilitation.preview_escalations(round_, policy)}
    except DomainError as error:
        return {"ok": False, "error": translate(error)}


@bp.route("/rounds/<slug>/preview", methods=["POST"])
@facilitator_required
def preview(slug: str) -> Any:
    """htmx: the preview fragment for the policy fields currently in the form."""
    round_ = round_or_404(slug, public=False)
    form = RoundForm()
    form.slug.data = round_.slug
    if form.validate():
        result = _preview(round_, form.policy())
    else:
        # which settings, so that a facilitator who pressed "Preview" need not save to see it
        problems = [(form[name].label.text, message)
                    for name, messages in form.errors.items() if name in form
                    for message in messages]
        result = {"ok": False, "error": _("Please correct the settings first."),
                  "problems": problems}
    return render_page_or_fragment("facilitate/preview.html", "facilitate/_preview.html",
                                   round=round_, preview=result)


@bp.route("/rounds/<slug>/phase", methods=["POST"])
@facilitator_required
def change_phase(slug: str) -> Response:
    round_ = round_or_404(slug, public=False)
    action = request.form.get("action", "")
    facilitation.transition(round_, action, actor=current_user,
                            reason=request.form.get("reason") or None)
    flash(_("The round is now in phase: %(phase)s.", phase=PHASE_LABELS[round_.phase]), "success")
    return redirect(url_for("facilitate.round_detail", slug=round_.slug), code=303)


# ---------------------------------------------------------------- seeds

@bp.route("/rounds/<slug>/seeds", methods=["GET", "POST"])
@facilitator_required
def seeds(slug: str) -> Any:
    round_ = round_or_404(slug, public=False)
    form = SeedForm()
    if form.validate_on_submit():
        texts: list[str] = []
        if form.text.data and form.text.data.strip():
            texts.append(form.text.data)
        upload = _uploaded(form.upload)
        if upload is not None:  # as large as the request allows (MAX_CONTENT_LENGTH)
            try:
                texts += facilitation.parse_upload(upload.read())
            except DomainError as error:
                attach_to_form(form, error)
        if not form.upload.errors:
            try:
                added, duplicates = facilitation.add_seed_proposals(round_, texts,
                                                                    actor=current_user)
            except DomainError as error:
                form.text.errors = [translate(error)]
            else:
                flash(ngettext("%(num)d seed proposal added.", "%(num)d seed proposals added.",
                               len(added)), "success")
                # Messages live in the session cookie, which browsers drop beyond 4 KB:
                # a file uploaded again must not name each of its hundreds of lines.
                for text in duplicates[:SKIPPED_NAMED]:
                    flash(_("Skipped (already in the round): %(text)s",
                            text=shorten(text, SKIPPED_LENGTH)), "warning")
                if len(duplicates) > SKIPPED_NAMED:
                    more = len(duplicates) - SKIPPED_NAMED
                    flash(ngettext("%(num)d more proposal already in the round was skipped.",
                                   "%(num)d more proposals already in the round were skipped.",
                                   more), "warning")
                return redirect(url_for("facilitate.seeds", slug=round_.slug), code=303)
    return render_template("facilitate/seeds.html", round=round_, form=form,
                           seeds=facilitation.seed_proposals(round_)), \
        400 if form.errors else 200


# ---------------------------------------------------------------- Pol.is import

def _uploaded(field: Any) -> Any:
    upload = field.data
    return upload if upload and getattr(upload, "filename", "") else None


@bp.route("/import", methods=["GET", "POST"])
@facilitator_required
def polis_upload() -> Any:
    # Imported here: unpacking uses the importer, which loads NumPy and pyarrow.
    from deliberation.interop import polis_import
    from deliberation.jobs import polis_imports

    request.max_content_length = polis_import.MAX_UPLOAD_BYTES * 5 + 1024 * 1024  # zip or five files
    form = ImportForm()
    if not form.is_submitted():
        _settings_of_a_failed_import(form)
    error = None
    if form.validate_on_submit():
        files = {name: _uploaded(field) for name, field in (
            ("comments.csv", form.comments), ("votes.csv", form.votes),
            ("participants-votes.csv", form.participants_votes),
            ("summary.csv", form.summary), ("math-pca2.json", form.math_pca2))}
        try:
            job = polis_imports.queue_upload(
                Path(current_app.config["IMPORT_FOLDER"]),
                archive=_uploaded(form.archive),
                files={name: upload for name, upload in files.items() if upload},
                slug=form.slug.data.strip(), phase=form.phase.data,
                title=(form.title.data or "").strip() or None, actor=current_user)
        except DomainError as exc:
            error = translate(exc)
        else:
            return redirect(url_for("facilitate.polis_import_status", job_id=job.id), code=303)
    status = 400 if (error or form.errors) else 200
    return render_template("facilitate/import.html", form=form, error=error), status


def _settings_of_a_failed_import(form: ImportForm) -> None:
    """Fill the form from the query string that a failed import's "upload a corrected
    export" link carries, so that only the files need choosing again."""
    form.slug.data = request.args.get("slug", "")[:64] or form.slug.data
    form.title.data = request.args.get("title", "")[:200] or form.title.data
    if request.args.get("phase") in {choice.value for choice in form.phase.choices}:
        form.phase.data = request.args["phase"]


@bp.route("/imports/<id:job_id>")
@facilitator_required
def polis_import_status(job_id: int) -> Any:
    from deliberation.jobs import polis_imports

    job = db.get_or_404(ImportJob, job_id)
    written = polis_imports.rows_written(Path(current_app.config["IMPORT_FOLDER"]), job)
    return render_page_or_fragment(
        "facilitate/import_status.html", "facilitate/_import_status.html", job=job,
        rows_written=written, error=translate_parts(job.error) if job.error else None,
        round=db.session.get(Round, job.round_id) if job.round_id else None)


# ---------------------------------------------------------------- moderation

@bp.route("/rounds/<slug>/moderation", methods=["GET", "POST"])
@facilitator_required
def moderation_queue(slug: str) -> Any:
    round_ = round_or_404(slug, public=False)
    error = error_field = None
    ids: list[int] = []
    if request.method == "POST":
        ids = [parse_id(v) for v in request.form.getlist("proposal_id")]
        action = request.form.get("action", "")
        if request.form.get("restore"):  # the one-click restore button of a hidden proposal
            ids, action = [parse_id(request.form["restore"])], "restore"
        try:
            if None in ids:
                raise DomainError(N_("Some of the selected proposals are not in this round."))
            n = moderation.moderate(round_, ids, action, actor=current_user,
                                    reason=request.form.get("reason"),
                                    seen=moderation.seen_from_form(request.form.getlist("seen")))
        except Conflict as exc:  # decided meanwhile: the fresh list, nothing selected
            error, status, ids = translate(exc), 409, []
        except DomainError as exc:
            error, status, error_field = translate(exc), 400, exc.field
        else:
            flash(ngettext("%(num)d proposal updated.", "%(num)d proposals updated.", n), "success")
            return redirect(url_for("facilitate.moderation_queue", slug=round_.slug), code=303)
    items = moderation.queue(round_)
    return render_page_or_fragment(
        "facilitate/moderation.html", "facilitate/_queue.html", status=status if error else 200,
        round=round_, items=items, error=error, error_field=error_field,
        reason=request.form.get("reason", ""),
        selected=set(ids) if error else set(), seen_token=moderation.seen_token)


# ---------------------------------------------------------------- audit log

def _audit(round_: Round | None) -> Any:
    round_id = round_.id if round_ else None
    if request.args.get("format") == "csv":
        with requested_language():
            body = exports.audit_csv(audit_key(), round_id)
            name = in_language(f"audit-{round_.slug if round_ else 'all'}", "csv")
        return csv_attachment(body, name)
    args = search_args()
    page = audit.search_entries(round_id, args.terms, page=args.page, per_page=AUDIT_PAGE,
                                action_words={action: str(label)
                                              for action, label in ACTION_LABELS.items()})
    return render_page_or_fragment("facilitate/audit.html", "facilitate/_audit_entries.html",
                                   round=round_, results=page, q=args.q, query_error=args.error)


@bp.route("/audit")
@facilitator_required
def audit_all() -> Any:
    return _audit(None)


@bp.route("/rounds/<slug>/audit")
@facilitator_required
def audit_round(slug: str) -> Any:
    return _audit(round_or_404(slug, public=False))


# ---------------------------------------------------------------- workshops

@bp.route("/rounds/<slug>/workshops", methods=["GET", "POST"])
@facilitator_required
def workshops_page(slug: str) -> Any:
    """Open a workshop (a time-boxed registration link for one venue) and list them."""
    round_ = round_or_404(slug, public=False)
    form = WorkshopForm()
    status = 200
    if form.is_submitted():
        status = 400
        if form.validate():
            try:
                workshop = workshops.open_workshop(round_, actor=current_user,
                                                   label=form.label.data,
                                                   hours=form.hours.data, seats=form.seats.data)
            except DomainError as error:
                db.session.rollback()
                status = error.http_status
                attach_to_form(form, error)
            else:
                flash(_("The workshop is open. Print this page or show the QR code."),
                      "success")
                return redirect(url_for("facilitate.workshop", slug=round_.slug,
                                        workshop_id=workshop.id), code=303)
    return render_template("facilitate/workshops.html", round=round_, form=form,
                           workshops=workshops.for_round(round_)), status


def _workshop_or_404(round_: Round, workshop_id: int) -> Workshop:
    workshop = db.session.get(Workshop, workshop_id)
    if workshop is None or workshop.round_id != round_.id:
        abort(404)
    return workshop


@bp.route("/rounds/<slug>/workshops/<id:workshop_id>")
@facilitator_required
def workshop(slug: str, workshop_id: int) -> str:
    """The workshop's link and QR code, to print or show on a screen."""
    round_ = round_or_404(slug, public=False)
    workshop = _workshop_or_404(round_, workshop_id)
    # Typed from a projected screen or a printed sheet: ten characters in two groups of five
    # are read and kept in mind more easily (the link ignores the dash).
    code = f"{workshop.code[:5]}-{workshop.code[5:]}"
    return render_template("facilitate/workshop.html", round=round_, workshop=workshop,
                           link=external_url("main.workshop_link", code=code))


@bp.route("/rounds/<slug>/workshops/<id:workshop_id>/qr.svg")
@facilitator_required
def workshop_qr(slug: str, workshop_id: int) -> Response:
    """The QR code of the workshop's link as SVG (drawn here: no outside service)."""
    import io

    import segno

    round_ = round_or_404(slug, public=False)
    workshop = _workshop_or_404(round_, workshop_id)
    out = io.BytesIO()
    segno.make(external_url("main.workshop_link", code=workshop.code), error="m").save(
        out, kind="svg", scale=8, border=4, xmldecl=True)
    response = Response(out.getvalue(), mimetype="image/svg+xml")
    response.headers["Content-Disposition"] = f'inline; filename="workshop-{workshop.id}.svg"'
    return response


@bp.route("/rounds/<slug>/workshops/<id:workshop_id>/close", methods=["POST"])
@facilitator_required
def close_workshop(slug: str, workshop_id: int) -> Response:
    round_ = round_or_404(slug, public=False)
    workshop = _workshop_or_404(round_, workshop_id)
    try:
        workshops.close_workshop(workshop, actor=current_user)
    except DomainError as error:
        db.session.rollback()
        flash(translate(error), "error")
    else:
        flash(_("The workshop is closed: its link no longer lifts the registration limit."),
              "success")
    return redirect(url_for("facilitate.workshops_page", slug=round_.slug), code=303)


# ---------------------------------------------------------------- assisted participation

@bp.route("/rounds/<slug>/assisted", methods=["GET", "POST"])
@facilitator_required
def assisted(slug: str) -> Any:
    round_ = round_or_404(slug, public=False)
    form = AssistedForm()
    participants = facilitation.assisted_participants(round_)
    if not form.is_submitted() and participants:
        # Paper sheets are typed in one after another: offer the next one's label
        # (用紙26 after 用紙25) and the last one's kind, to be changed if they differ.
        form.label.data = next_label(participants[-1].label or "")
        form.kind.data = participants[-1].kind
    if form.validate_on_submit():
        try:
            participant = facilitation.create_assisted_participant(
                round_, label=form.label.data, kind=form.kind.data, actor=current_user)
        except DomainError as error:
            attach_to_form(form, error)
        else:
            return redirect(url_for("facilitate.assisted_votes", slug=round_.slug,
                                    participant_id=participant.id), code=303)
    return render_template("facilitate/assisted.html", round=round_, form=form,
                           participants=participants), \
        400 if form.errors else 200


def next_label(label: str) -> str:
    """The label with its final number one higher (用紙09 → 用紙10), or empty without one."""
    match = re.search(r"([0-9]+)$", label)
    if match is None:
        return ""
    digits = match.group(1)
    return label[:match.start()] + str(int(digits) + 1).zfill(len(digits))


VOTE_CHOICES = (("1", 1), ("-1", -1), ("0", 0), ("", None))


@bp.route("/rounds/<slug>/assisted/<id:participant_id>", methods=["GET", "POST"])
@facilitator_required
def assisted_votes(slug: str, participant_id: int) -> Any:
    round_ = round_or_404(slug, public=False)
    participant = facilitation.get_assisted_participant(round_, participant_id)
    proposals = proposal_service.published(round_)
    error = None
    if request.method == "POST":
        values = dict(VOTE_CHOICES)
        votes: dict[int, int | None] = {}
        for proposal in proposals:
            raw = request.form.get(f"vote-{proposal.id}", "")
            if raw not in values:
                error = _("Unknown vote value.")
                break
            votes[proposal.id] = values[raw]
        if error is None:
            try:
                n = facilitation.record_assisted_votes(round_, participant, votes,
                                                       actor=current_user)
            except DomainError as exc:
                error = translate(exc)
            else:
                flash(ngettext("%(num)d vote saved for %(label)s.", "%(num)d votes saved for %(label)s.",
                               n, label=participant.label),
                      "success")
                return redirect(url_for("facilitate.assisted", slug=round_.slug), code=303)
    return render_template("facilitate/assisted_votes.html", round=round_,
                           participant=participant, proposals=proposals,
                           current=vote_service.votes_of(participant),
                           error=error), 400 if error else 200


# ---------------------------------------------------------------- presentation

@bp.route("/rounds/<slug>/present")
@facilitator_required
def present(slug: str) -> Response:
    round_ = round_or_404(slug, public=False)
    view = engagement.presentation(round_)
    chart = bar_chart([_("Group %(num)d", num=g + 1) for g, _size in view.groups],
                      [s for _g, s in view.groups])
    return render_page_or_fragment("facilitate/present.html", "facilitate/_present.html",
                                   round=round_, view=view, chart=chart)


# ---------------------------------------------------------------- engagement dashboard

def _dashboard(round_: Round | None) -> Any:
    figures = engagement.dashboard(round_.id if round_ else None)
    if request.args.get("format") == "csv":
        with requested_language():
            name = in_language(f"engagement-{round_.slug if round_ else 'all'}", "csv")
            return csv_attachment(exports.dashboard_csv(figures), name)
    labels = [format_date(d, "medium") for d in figures.days]  # 2026/08/24 in Japanese
    # The time charts cover the span where the activity is; the table keeps every period.
    joined = [sum((series[i] or 0) - ((series[i - 1] or 0) if i else 0)
                  for series in figures.participants_by_kind.values())
              for i in range(len(labels))]
    first, last = active_range([(v or 0) + (p or 0) + j for v, p, j in zip(
        figures.votes_per_day, figures.proposals_per_day, joined, strict=True)])
    span = slice(first, last + 1)
    charts = {
        "participants": line_chart(labels[span], {k: v[span] for k, v in
                                                  figures.participants_by_kind.items()}),
        "votes": bar_chart(labels[span], figures.votes_per_day[span]),
        "proposals": bar_chart(labels[span], figures.proposals_per_day[span]),
        "groups": bar_chart([_("Group %(num)d", num=g + 1) for g, _s in figures.groups],
                            [s for _g, s in figures.groups]),
    }
    return render_template("facilitate/dashboard.html", round=round_, d=figures,
                           charts=charts, labels=labels,
                           trimmed=(labels[first], labels[last]) if len(labels) > last - first + 1
                           else None)


@bp.route("/dashboard")
@facilitator_required
def dashboard_all() -> Any:
    return _dashboard(None)


@bp.route("/rounds/<slug>/dashboard")
@facilitator_required
def dashboard_round(slug: str) -> Any:
    return _dashboard(round_or_404(slug, public=False))
