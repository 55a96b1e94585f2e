"""Demo data for `make run`: accounts for each role, the Japanese demo town
(``deliberation/demo_town.py``) and the vTaiwan import as a second demo.

Idempotent: running it twice changes nothing the second time. ``seed_synthetic_round`` is a
small round with planted opinion groups for tests.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import sqlalchemy as sa

from deliberation.database import db
from deliberation.models import Participant, Proposal, Round, User, Vote, VoteEvent
from deliberation.models._common import utcnow
from deliberation.services import town as town_settings
from deliberation.services.accounts import register
from deliberation.text import text_key

DEMO_PASSWORD = "hiroba-demo"  # noqa: S105 (public demo accounts, printed on the console)
DEMO_ACCOUNTS = (
    ("citizen@example.org", "citizen", "市民デモ"),
    ("facilitator@example.org", "facilitator", "ファシリテーター"),
    ("council@example.org", "council", "議会事務局"),
    ("admin@example.org", "admin", "管理者"),
)


@dataclass
class DemoResult:
    accounts: list[tuple[str, str]]
    rounds: list[tuple[str, bool]]  # slug, created by this run


def seed_accounts(consent_version: str) -> list[tuple[str, str]]:
    for email, role, name in DEMO_ACCOUNTS:
        if db.session.scalar(sa.select(User).where(User.email == email)) is None:
            register(email=email, password=DEMO_PASSWORD, display_name=name, kind="resident",
                     consent_version=consent_version, role=role)
    return [(email, role) for email, role, _ in DEMO_ACCOUNTS]


def seed_demo(consent_version: str, polis_dir: Path | None, *,
              name_town: bool = True) -> DemoResult:
    """The demo accounts, the vTaiwan import as a second demo (when the export is there),
    then the Japanese town, created last so that the home page lists it first.

    ``name_town``: put the demo town's name in the header and footer (``name_the_town``);
    the command passes False when the operator configured a town name."""
    from deliberation.demo_town import seed_town

    accounts = seed_accounts(consent_version)
    rounds = []
    if polis_dir is not None and (polis_dir / "votes.csv").exists():
        rounds.append(seed_polis_round(polis_dir))
    staff = {role: db.session.scalar(sa.select(User).where(User.email == email))
             for email, role in accounts}
    town = seed_town(facilitator=staff["facilitator"], council=staff["council"],
                     admin=staff["admin"], consent_version=consent_version)
    rounds.extend((slug, town.created) for slug in town.slugs)
    if name_town:
        name_the_town(staff["admin"])
    return DemoResult(accounts, rounds)


DEMO_TOWN_SETTINGS = {
    "name": "しおさい町（デモ）",
    "name_en": "Shiosai Town (demo)",
    "operator": "しおさい町 企画政策課（架空の町です）",
    "operator_en": "Shiosai Town planning office (a fictional town)",
}


def name_the_town(admin: User) -> bool:
    """Show the demo town's name and operator, as an administrator would set them on the
    town page; nothing changes once any town setting is stored (someone set their own)."""
    if town_settings.overrides():
        return False
    town_settings.update(DEMO_TOWN_SETTINGS, actor=admin)
    return True


def seed_polis_round(polis_dir: Path) -> tuple[str, bool]:
    from deliberation.interop import polis_import

    slug = "vtaiwan-uberx"
    if db.session.scalar(sa.select(Round).where(Round.slug == slug)) is not None:
        return slug, False
    # Left disarmed, as every import starts: armed, its proposals would reach the demo
    # town's council on the day the demo is started, and the town's policy agenda (newest
    # first) would open on Taiwanese items in Chinese. The facilitator's round page
    # previews what would escalate and arms it with one click.
    round_ = polis_import.import_directory(polis_dir, slug=slug, phase="voting")
    _mark_demographic_statements(round_, polis_dir.name)
    db.session.commit()
    return slug, True


# Statements about the participants rather than policy (Pol.is "demographic" seeds), by
# comment id, in exports whose comments.csv has no is-meta column. They are marked meta so
# that they never reach the council's agenda ("I have a small-vehicle driving licence").
DEMOGRAPHIC_STATEMENTS = {
    "vtaiwan.uberx": ("0", "1", "2", "10", "14", "15", "43"),
}


def _mark_demographic_statements(round_: Round, dataset: str) -> None:
    ids = DEMOGRAPHIC_STATEMENTS.get(dataset, ())
    if ids:
        db.session.execute(sa.update(Proposal).where(
            Proposal.round_id == round_.id, Proposal.external_id.in_(ids)).values(is_meta=True))


SYNTHETIC_PROPOSALS = (
    # (text, support per planted group: probability of agree)
    ("駅前に屋根付きの駐輪場を増やす", (0.9, 0.8, 0.85)),
    ("町営バスの本数を朝夕に増やす", (0.85, 0.8, 0.9)),
    ("図書館の開館時間を夜9時まで延ばす", (0.8, 0.75, 0.7)),
    ("中心部の道路を歩行者専用にする", (0.9, 0.1, 0.5)),
    ("観光客向けの駐車場を新設する", (0.1, 0.9, 0.5)),
    ("ふるさと納税の使い道をオンラインで投票できるようにする", (0.8, 0.7, 0.85)),
    ("空き家をリノベーションして移住者に貸し出す", (0.6, 0.3, 0.9)),
    ("商店街のイベント予算を削減する", (0.2, 0.85, 0.4)),
    ("子ども食堂への補助金を増やす", (0.9, 0.5, 0.8)),
    ("公共施設にフリーWi-Fiを整備する", (0.75, 0.8, 0.8)),
    ("町のごみ収集を週3回に増やす", (0.5, 0.6, 0.3)),
    ("高齢者の買い物支援に移動販売車を走らせる", (0.85, 0.85, 0.9)),
)


def seed_synthetic_round(slug: str, participants_per_group: int = 120, seed: int = 7) -> Round:
    """A round with three planted opinion groups, so clustering has something to find
    (tests use it; the demo is the town)."""
    rng = random.Random(seed)
    now = utcnow()
    round_ = Round(
        slug=slug,
        title="まちの未来を一緒に考える（デモ）",
        summary="駅前、交通、空き家など、10年後のまちについての提案を集めています。",
        description="これは**デモ用**のラウンドです。提案に賛成・反対・パスで答えてください。",
        phase="voting",
        escalation_armed=True,
        opens_at=now - timedelta(days=14),
        closes_at=now + timedelta(days=14),
    )
    db.session.add(round_)
    db.session.flush()
    proposals = []
    for text, _support in SYNTHETIC_PROPOSALS:
        p = Proposal(round_id=round_.id, text=text, text_key=text_key(text), status="published",
                     is_seed=True, created_at=now - timedelta(days=14))
        db.session.add(p)
        proposals.append(p)
    db.session.flush()
    kinds = ("resident", "e_citizen", "visitor")
    for group in range(3):
        for i in range(participants_per_group):
            participant = Participant(round_id=round_.id, source="import",
                                      kind=rng.choice(kinds), external_id=f"demo-{group}-{i}")
            db.session.add(participant)
            db.session.flush()
            for proposal, (_text, support) in zip(proposals, SYNTHETIC_PROPOSALS, strict=True):
                if rng.random() > 0.8:
                    continue
                r = rng.random()
                value = 1 if r < support[group] else (0 if r < support[group] + 0.05 else -1)
                when = now - timedelta(days=rng.randint(0, 13), minutes=rng.randint(0, 1440))
                db.session.add(Vote(round_id=round_.id, participant_id=participant.id,
                                    proposal_id=proposal.id, value=value, created_at=when,
                                    updated_at=when))
                db.session.add(VoteEvent(round_id=round_.id, participant_id=participant.id,
                                         proposal_id=proposal.id, value=value, source="import",
                                         created_at=when))
    db.session.commit()
    return round_
