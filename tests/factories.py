"""Model factories for tests: small functions with sensible defaults."""

from __future__ import annotations

import itertools
from types import SimpleNamespace
from typing import Any

import sqlalchemy as sa
from flask.testing import FlaskClient
from flask_login import FlaskLoginClient

from deliberation.database import db
from deliberation.models import (
    ClusterSnapshot,
    Participant,
    Proposal,
    Round,
    SnapshotProposalStat,
    User,
    Vote,
    VoteEvent,
    utcnow,
)
from deliberation.services.accounts import password_hash_method
from deliberation.text import text_key

PASSWORD = "correct horse battery"
_seq = itertools.count(1)


def make_user(role: str = "citizen", **kwargs: Any) -> User:
    n = next(_seq)
    password = kwargs.pop("password", PASSWORD)
    user = User(
        email=kwargs.pop("email", f"user{n}@example.org"),
        display_name=kwargs.pop("display_name", f"User {n}"),
        role=role,
        kind=kwargs.pop("kind", "resident"),
        consent_version="test",
        consented_at=utcnow(),
        **kwargs,
    )
    user.set_password(password, method=password_hash_method())
    db.session.add(user)
    db.session.commit()
    return user


def session_cookie_id(user: User) -> str:
    """Start a server-side session for ``user``; the id Flask-Login keeps in the cookie."""
    user.add_session()
    db.session.commit()
    return user.get_id()


def log_in(client: FlaskClient, user: User | str) -> FlaskClient:
    """Log ``client`` in as ``user`` in a new server-side session, or with the session id
    ``user`` when it is a string (a forged or stale one), without the login form.

    Flask-Login's own test client writes the login into a session; it is copied into
    ``client``'s session, whose other values stay. How Flask-Login lays out its session
    is its own business (its keys are private), so it is never written here by name."""
    session_id = session_cookie_id(user) if isinstance(user, User) else user
    account = SimpleNamespace(get_id=lambda: session_id)
    app = client.application
    with FlaskLoginClient(app, app.response_class, user=account).session_transaction() as login:
        logged_in = dict(login)
    with client.session_transaction() as session:
        session.update(logged_in)
    return client


def make_round(**kwargs: Any) -> Round:
    n = next(_seq)
    round_ = Round(
        slug=kwargs.pop("slug", f"round-{n}"),
        title=kwargs.pop("title", f"Round {n}"),
        phase=kwargs.pop("phase", "collecting"),
        escalation_armed=kwargs.pop("escalation_armed", True),
        **kwargs,
    )
    db.session.add(round_)
    db.session.commit()
    return round_


def make_participant(round_: Round, user: User | None = None, **kwargs: Any) -> Participant:
    participant = Participant(
        round_id=round_.id,
        user_id=user.id if user else None,
        source=kwargs.pop("source", "account" if user else "import"),
        kind=kwargs.pop("kind", user.kind if user else "unknown"),
        **kwargs,
    )
    db.session.add(participant)
    db.session.commit()
    return participant


def make_proposal(round_: Round, text: str | None = None, **kwargs: Any) -> Proposal:
    text = text or f"Proposal {next(_seq)}"
    proposal = Proposal(round_id=round_.id, text=text, text_key=text_key(text),
                        status=kwargs.pop("status", "published"), **kwargs)
    db.session.add(proposal)
    db.session.commit()
    return proposal


def add_vote(participant: Participant, proposal: Proposal, value: int) -> Vote:
    vote = Vote(round_id=proposal.round_id, participant_id=participant.id,
                proposal_id=proposal.id, value=value)
    db.session.add(vote)
    db.session.add(VoteEvent(round_id=proposal.round_id, participant_id=participant.id,
                             proposal_id=proposal.id, value=value, source="web"))
    db.session.commit()
    return vote


def snapshot_of_votes(round_: Round) -> ClusterSnapshot:
    """An "ok" snapshot of the round's current votes, with the counts over everyone per
    proposal only (no groups): what the public counts are read from."""
    rows = db.session.execute(
        sa.select(Vote.proposal_id, Vote.value, sa.func.count())
        .where(Vote.round_id == round_.id).group_by(Vote.proposal_id, Vote.value)).all()
    snapshot = ClusterSnapshot(round_id=round_.id, status="ok", method="pca", k=0,
                               n_votes=sum(n for _p, _v, n in rows))
    db.session.add(snapshot)
    db.session.flush()
    stats: dict[int, SnapshotProposalStat] = {}
    for proposal_id, value, n in rows:
        stat = stats.setdefault(proposal_id, SnapshotProposalStat(
            snapshot_id=snapshot.id, proposal_id=proposal_id, group_id=None,
            agree=0, disagree=0, passes=0))
        field = {1: "agree", -1: "disagree", 0: "passes"}[value]
        setattr(stat, field, getattr(stat, field) + n)
    db.session.add_all(stats.values())
    db.session.commit()
    return snapshot
