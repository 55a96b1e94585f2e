"""`flask cluster run SLUG` and `flask agenda export`."""

from __future__ import annotations

from pathlib import Path

import click
import sqlalchemy as sa
from flask import current_app
from flask_babel import force_locale, format_number, gettext
from flask_babel import lazy_gettext as _l

from app import private_files
from app.agenda import exports
from app.i18n import ngettext
from app.terminal import Refused, TerminalGroup, in_terminal_language, language
from deliberation.database import db
from deliberation.errors import DomainError
from deliberation.models import Escalation, Round, utcnow

cluster = TerminalGroup("cluster", help=_l("Opinion groups (cluster snapshots)."))
agenda = TerminalGroup("agenda", help=_l("The council's policy agenda."))


def round_or_refuse(slug: str) -> Round:
    round_ = db.session.scalar(sa.select(Round).where(Round.slug == slug))
    if round_ is None:
        raise Refused(gettext("There is no round with the address “%(slug)s”.", slug=slug))
    return round_


@cluster.command("run", help=_l(
    "Cluster a round now (synchronously), then run the threshold engine."))
@click.argument("slug")
@click.option("--seed", type=int, default=0, show_default=True,
              help=_l("Accepted for older scripts and recorded in the snapshot: the groups "
                      "never depend on it."))
@in_terminal_language
def run(slug: str, seed: int) -> None:
    from deliberation.jobs.runner import refresh_and_escalate, settle_requests

    round_ = round_or_refuse(slug)
    before = set(db.session.scalars(
        sa.select(Escalation.proposal_id).where(Escalation.round_id == round_.id)))
    started = utcnow()
    snapshot = refresh_and_escalate(round_.id, seed=seed, threads=None)
    if snapshot is None:
        click.echo(gettext("No votes yet: there is nothing to group."))
        return
    if snapshot.status == "ok":
        settle_requests(round_.id, made_before=started)
    if snapshot.status != "ok":
        # the error is the clustering's own diagnosis, for whoever maintains the server
        raise Refused(gettext("The grouping failed: %(error)s", error=snapshot.error))
    # groups numbered from 1, as the pages and exports number them; counts written as the
    # pages write them (1,234)
    sizes = ", ".join(f"{g.group_id + 1}: {format_number(g.size)}" for g in snapshot.groups)
    click.echo(ngettext(
        "Snapshot %(id)d: %(num)d opinion group (members %(sizes)s); participants: "
        "%(participants)s, grouped: %(clustered)s; votes: %(votes)s; %(ms)s ms.",
        "Snapshot %(id)d: %(num)d opinion groups (members %(sizes)s); participants: "
        "%(participants)s, grouped: %(clustered)s; votes: %(votes)s; %(ms)s ms.",
        snapshot.k, id=snapshot.id, sizes=sizes,
        participants=format_number(snapshot.n_participants),
        clustered=format_number(snapshot.n_clustered), votes=format_number(snapshot.n_votes),
        ms=format_number(snapshot.duration_ms)))
    new = db.session.execute(
        sa.select(Escalation).where(Escalation.round_id == round_.id,
                                    Escalation.proposal_id.not_in(before or {-1}))
        .order_by(Escalation.proposal_id)).scalars().all()
    click.echo(ngettext("Escalated %(num)d proposal.", "Escalated %(num)d proposals.",
                        len(new)))
    if not round_.escalation_armed:
        from deliberation.services.facilitation import preview_escalations

        would = preview_escalations(round_, round_.policy)["escalate"]
        click.echo(ngettext(
            "Escalation is not armed for this round: %(num)d proposal would escalate "
            "(see “flask agenda arm %(slug)s”).",
            "Escalation is not armed for this round: %(num)d proposals would escalate "
            "(see “flask agenda arm %(slug)s”).", len(would), slug=slug))
    for esc in new:
        groups = "; ".join(gettext(
            "group %(n)d: %(agree)s of %(seen)s agree (cautious estimate %(lb).2f)",
            n=g["group_id"] + 1, agree=format_number(g["agree"]),
            seen=format_number(g["agree"] + g["disagree"] + g["passes"]),
            lb=g["lower_bound"]) for g in esc.evidence.get("groups", []))
        click.echo("  " + gettext("#%(id)d (imported as %(ext)s): %(groups)s",
                                  id=esc.proposal_id, ext=esc.proposal.external_id or "–",
                                  groups=groups))


@agenda.command("arm", help=_l(
    "Show what would escalate on the latest snapshot, then arm the round's escalation."))
@click.argument("slug")
@click.option("--reason", default=None, help=_l("Note for the audit log."))
@click.option("--yes", is_flag=True, help=_l("Arm without asking."))
@in_terminal_language
def arm(slug: str, reason: str | None, yes: bool) -> None:
    from deliberation.engine.arming import set_armed
    from deliberation.services.facilitation import preview_escalations

    round_ = round_or_refuse(slug)
    preview = preview_escalations(round_, round_.policy)
    click.echo(ngettext("%(num)d proposal would escalate now:",
                        "%(num)d proposals would escalate now:", len(preview["escalate"])))
    for proposal, support, *_details in preview["escalate"]:
        click.echo("  " + gettext("#%(id)d (support %(support).2f) %(text)s", id=proposal.id,
                                  support=support, text=proposal.text[:70]))
    if not yes and not click.confirm(gettext("Arm escalation for this round?")):
        raise Refused(gettext("Escalation was not armed."))
    try:
        created = set_armed(round_, True, actor=None, reason=reason,
                            seen_snapshot_id=preview["snapshot"].id if preview["snapshot"]
                            else None)
    except DomainError as error:
        raise Refused.because(error) from None
    click.echo(ngettext("Armed; escalated %(num)d proposal.",
                        "Armed; escalated %(num)d proposals.", len(created)))


@agenda.command("export", help=_l(
    "Export the escalated proposals (CSV is UTF-8 with BOM for Excel)."))
@click.option("--round", "round_slug", default=None, help=_l("Only this round (slug)."))
@click.option("--format", "fmt", type=click.Choice(["json", "csv"]), default="json",
              show_default=True, help=_l("The file format."))
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help=_l("Write to this file (default: standard output)."))
def export(round_slug: str | None, fmt: str, output: Path | None) -> None:
    from deliberation.services import agenda as service

    try:
        rows = service.export_rows(round_slug)
    except DomainError as error:
        with force_locale(language()):
            raise Refused.because(error) from None
    # The file's words in the site's default language, whoever's terminal writes it (the
    # messages around it follow the terminal).
    with current_app.test_request_context():
        from app import town

        text = exports.render(rows, fmt, town=town.localized().as_dict())
    if output is None:
        click.echo(text, nl=False)
        return
    private_files.write_bytes(output, text.encode("utf-8"))
    with force_locale(language()):
        click.echo(ngettext("Wrote %(num)d item to %(path)s.", "Wrote %(num)d items to %(path)s.",
                            len(rows), path=str(output)), err=True)


@agenda.command("open-data", help=_l(
    "Write a round's anonymised Pol.is-format export (open data)."))
@click.argument("slug")
@click.option("--output", type=click.Path(path_type=Path), required=True,
              help=_l("Directory for the CSV files, or a .zip file."))
@in_terminal_language
def open_data(slug: str, output: Path) -> None:
    from deliberation.interop import polis_export

    round_ = round_or_refuse(slug)
    if output.suffix == ".zip":
        private_files.write_bytes(output, polis_export.export_zip(round_.id))
    else:
        private_files.make_directory(output)
        for name, text in polis_export.build_files(round_.id).items():
            private_files.write_bytes(output / name, text.encode("utf-8"))
    click.echo(gettext("Wrote %(path)s.", path=str(output)))
