"""`flask cluster run SLUG` and `flask agenda export`."""

from __future__ import annotations

from pathlib import Path

import click
import sqlalchemy as sa
from flask import current_app
from flask.cli import AppGroup

from app import private_files
from app.agenda import exports
from deliberation.database import db
from deliberation.errors import DomainError
from deliberation.models import Escalation, Round

cluster = AppGroup("cluster", help="Opinion groups (cluster snapshots).")
agenda = AppGroup("agenda", help="The council's policy agenda.")


@cluster.command("run")
@click.argument("slug")
@click.option("--seed", type=int, default=0, show_default=True)
def run(slug: str, seed: int) -> None:
    """Cluster a round now (synchronously), then run the threshold engine."""
    from deliberation.jobs.runner import refresh_and_escalate

    round_ = db.session.scalar(sa.select(Round).where(Round.slug == slug))
    if round_ is None:
        raise click.ClickException(f"no round with slug {slug!r}")
    before = set(db.session.scalars(
        sa.select(Escalation.proposal_id).where(Escalation.round_id == round_.id)))
    snapshot = refresh_and_escalate(round_.id, seed=seed, threads=None)
    if snapshot is None:
        click.echo("no votes yet: nothing to cluster")
        return
    if snapshot.status != "ok":
        raise click.ClickException(f"clustering failed: {snapshot.error}")
    sizes = ", ".join(f"{g.group_id}:{g.size}" for g in snapshot.groups)
    click.echo(f"snapshot {snapshot.id}: k={snapshot.k} groups [{sizes}] "
               f"participants={snapshot.n_participants} clustered={snapshot.n_clustered} "
               f"votes={snapshot.n_votes} in {snapshot.duration_ms} ms")
    new = db.session.execute(
        sa.select(Escalation).where(Escalation.round_id == round_.id,
                                    Escalation.proposal_id.not_in(before or {-1}))
        .order_by(Escalation.proposal_id)).scalars().all()
    click.echo(f"escalated {len(new)} proposal(s)")
    if not round_.escalation_armed:
        from deliberation.services.facilitation import preview_escalations

        would = preview_escalations(round_, round_.policy)["escalate"]
        click.echo(f"escalation is not armed for this round: {len(would)} proposal(s) would "
                   f"escalate (see `flask agenda arm {slug}`)")
    for esc in new:
        groups = " ".join(
            f"g{g['group_id']}={g['agree']}/{g['agree'] + g['disagree'] + g['passes']}"
            f"(lb {g['lower_bound']:.2f})" for g in esc.evidence.get("groups", []))
        click.echo(f"  #{esc.proposal_id} ext={esc.proposal.external_id or '-'} {groups}")


@agenda.command("arm")
@click.argument("slug")
@click.option("--reason", default=None, help="Note for the audit log.")
@click.option("--yes", is_flag=True, help="Arm without asking.")
def arm(slug: str, reason: str | None, yes: bool) -> None:
    """Show what would escalate on the latest snapshot, then arm the round's escalation."""
    from deliberation.engine.arming import set_armed
    from deliberation.services.facilitation import preview_escalations

    round_ = db.session.scalar(sa.select(Round).where(Round.slug == slug))
    if round_ is None:
        raise click.ClickException(f"no round with slug {slug!r}")
    preview = preview_escalations(round_, round_.policy)
    click.echo(f"{len(preview['escalate'])} proposal(s) would escalate now:")
    for proposal, support, *_details in preview["escalate"]:
        click.echo(f"  #{proposal.id} (support {support:.2f}) {proposal.text[:70]}")
    if not yes:
        click.confirm("Arm escalation for this round?", abort=True)
    try:
        created = set_armed(round_, True, actor=None, reason=reason or "flask agenda arm",
                            seen_snapshot_id=preview["snapshot"].id if preview["snapshot"]
                            else None)
    except DomainError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"armed; escalated {len(created)} proposal(s)")


@agenda.command("export")
@click.option("--round", "round_slug", default=None, help="Only this round (slug).")
@click.option("--format", "fmt", type=click.Choice(["json", "csv"]), default="json",
              show_default=True)
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write to this file (default: standard output).")
def export(round_slug: str | None, fmt: str, output: Path | None) -> None:
    """Export the escalated proposals (CSV is UTF-8 with BOM for Excel)."""
    from deliberation.services import agenda as service

    try:
        rows = service.export_rows(round_slug)
    except DomainError as error:
        raise click.ClickException(str(error)) from None
    with current_app.test_request_context():  # the words in the default language
        from app import town

        text = exports.render(rows, fmt, town=town.localized().as_dict())
    if output is None:
        click.echo(text, nl=False)
    else:
        private_files.write_bytes(output, text.encode("utf-8"))
        click.echo(f"wrote {len(rows)} item(s) to {output}", err=True)


@agenda.command("open-data")
@click.argument("slug")
@click.option("--output", type=click.Path(path_type=Path), required=True,
              help="Directory for the CSV files, or a .zip file.")
def open_data(slug: str, output: Path) -> None:
    """Write a round's anonymised Pol.is-format export (open data)."""
    from deliberation.interop import polis_export

    round_ = db.session.scalar(sa.select(Round).where(Round.slug == slug))
    if round_ is None:
        raise click.ClickException(f"no round with slug {slug!r}")
    if output.suffix == ".zip":
        private_files.write_bytes(output, polis_export.export_zip(round_.id))
    else:
        private_files.make_directory(output)
        for name, text in polis_export.build_files(round_.id).items():
            private_files.write_bytes(output / name, text.encode("utf-8"))
    click.echo(f"wrote {output}")
