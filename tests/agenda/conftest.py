"""A synthetic round with planted opinion groups, built with bulk inserts."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest
import sqlalchemy as sa

from deliberation.database import db
from deliberation.models import Participant, Proposal, Round
from deliberation.text import text_key
from tests.many_votes import insert_votes


@dataclass
class PlantedRound:
    round: Round
    consensus: list[int]  # proposal ids every group agrees with
    side_a: list[int]  # only group A agrees (A is the large group)
    side_b: list[int]  # only group B agrees
    meta: int
    rejected: int


def build_planted_round(slug: str = "planted", n_a: int = 50, n_b: int = 25,
                        seed: int = 1) -> PlantedRound:
    rng = np.random.default_rng(seed)
    round_ = Round(slug=slug, title="Planted groups", phase="voting", escalation_armed=True)
    db.session.add(round_)
    db.session.flush()
    texts = ([f"Everyone agrees {i}" for i in range(4)] + [f"A side {i}" for i in range(4)]
             + [f"B side {i}" for i in range(4)] + ["Meta: what about the process?",
                                                    "Rejected proposal"])
    rows = [{"round_id": round_.id, "text": t, "text_key": text_key(t), "status": "published",
             "is_meta": False, "external_id": str(i)} for i, t in enumerate(texts)]
    rows[12]["is_meta"] = True
    rows[13]["status"] = "rejected"
    db.session.execute(sa.insert(Proposal), rows)
    db.session.execute(sa.insert(Participant), [
        {"round_id": round_.id, "source": "import", "kind": "unknown", "external_id": str(i)}
        for i in range(n_a + n_b)])
    pids = list(db.session.scalars(sa.select(Participant.id).where(
        Participant.round_id == round_.id).order_by(Participant.id)))
    props = list(db.session.scalars(sa.select(Proposal.id).where(
        Proposal.round_id == round_.id).order_by(Proposal.id)))
    votes = []
    for i, pid in enumerate(pids):
        in_a = i < n_a
        for j, prop in enumerate(props):
            if j < 4:
                p_agree = 0.92
            elif j < 8:
                p_agree = 0.9 if in_a else 0.05
            elif j < 12:
                p_agree = 0.05 if in_a else 0.9
            else:
                p_agree = 0.9
            r = rng.random()
            value = 1 if r < p_agree else (0 if r < p_agree + 0.04 else -1)
            votes.append({"round_id": round_.id, "participant_id": pid,
                          "proposal_id": prop, "value": value})
    insert_votes(votes)
    db.session.commit()
    return PlantedRound(round_, props[:4], props[4:8], props[8:12], props[12], props[13])


@pytest.fixture()
def planted(db) -> PlantedRound:
    return build_planted_round()
