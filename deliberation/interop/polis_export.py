"""Open data: a round as an anonymised Pol.is-format export.

Files: summary.csv, comments.csv, votes.csv, participants-votes.csv (group ids from the
latest snapshot) and README.txt. Nothing in it can be joined with what staff see:

- participant ids (voters and authors alike) are a fresh random permutation on every
  export, unrelated to accounts, to Hiroba's participant ids and to earlier downloads;
- timestamps are cut to the start of the day (Asia/Tokyo): the audit log and the staff
  pages keep exact times, and a vote or proposal to the millisecond could be matched with
  an account's registration or another logged action; a day's votes with fewer voters
  than the small-count minimum take the date of a pool of days that has that many
  (``pooled_days``), so a quiet day's one voter is not found by the date; the votes
  cast after the open data was first public (a reopened round) come in stretches with
  that many voters and those after the last full stretch are left out
  (``published_cut``), so two downloads around a reopening do not differ by a few
  people's ballots; within a day each voter's rows come
  together (voters in the random order of their ids), so nobody finds a vote they watched
  between two of their own, and each voter's rows keep their real order, so the latest
  vote of a participant is still the last one;
- group ids of groups under the small-cell minimum are left empty, and the assisted-vote
  flag is only given when at least that many people voted on paper
  (``deliberation.small_counts``);
- an author's proposals cannot lead to the author's votes, since authorship is often known
  (an author tells the neighbours, or the text gives them away): each proposal's
  author-id is one of its own, after the voters' ids (n-comments is therefore 0 for every
  voter). The author's own vote on it stays in the files: left out, it left a hole, and
  the one voter who voted on the proposals written after it but not on it was its author
  (in bg2050's real conversation, for half the statements). That vote, an agree cast
  when the proposal was published, would be its first; so a proposal's votes cast before
  ``minimum`` people had first agreed with it are dated with the day of the
  ``minimum``-th (``dated_from``), and its author is one of at least that many.

Pending proposals are left out; rejected and hidden ones keep their row
(moderated = -1) without their text.

Assisted votes (gathered on paper by facilitators) are flagged without touching the Pol.is
columns: votes.csv has an extra trailing column ``is-assisted`` (1/0), and summary.csv an
extra row ``assisted-voters`` with their count (see README.txt in the zip).
"""

from __future__ import annotations

import io
import secrets
import zipfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from deliberation import csvfile, small_counts
from deliberation.database import db
from deliberation.errors import N_, NotFound
from deliberation.models import (
    TOKYO,
    Participant,
    Proposal,
    Round,
    SnapshotGroup,
    SnapshotMembership,
    Vote,
    VoteEvent,
)
from deliberation.models.snapshot import latest_snapshot
from deliberation.services import visibility

MODERATED = {"published": 1, "rejected": -1, "hidden": -1}
REMOVED_TEXT = "(removed by moderation)"

# Japanese first: the town's residents read the open data they download; the English
# part below is for Pol.is users and researchers elsewhere.
README = """Hiroba（ひろば）のラウンドのオープンデータ（Pol.is 形式）

参加者の番号は無作為で、ダウンロードのたびに変わります。アカウントと結び付けることは
できません。提案（comment）の投稿者の番号（author-id）は提案ごとに別の番号で、投票者の
番号（voter-id）とは一致しません。投稿者は提案が公開されたときに自分の提案に賛成します。
その票が最初の票だとわからないように、提案への票のうち、最初の票で賛成した人が{minimum}人に
なるまでの票は、{minimum}人目が賛成した日の日付にしています（{minimum}人に届かない提案は、この
ファイルで最後の票の日付）。誰が提案を書いたかがわかっても、その人の投票はわかりません。Hiroba のグループは
participants-votes.csv の group-id にあり、Hiroba が使った数字は、議題のそれぞれのページの
根拠にあります。
日時は、投票と提案それぞれの日の始まり（日本時間）です。投票した人が{minimum}人未満の日の票は、
{minimum}人以上になるまで次の日以降の票とまとめ、まとめた最初の日の日付にしています（最後に
足りない分は前の日付に入れます）。静かな日に誰かが投票したと知っている人が、その日の行から
その人の票を見つけられないようにするためです。
オープンデータを初めて公開したあとの票（投票を再開したとき）は、投票された順に{minimum}人が投票する
ごとに区切り、最後の区切りのあとの票（まだ{minimum}人に満たない人たちの票）は、{minimum}人以上に
なるまで載せません。再開の前と後にダウンロードしたファイルの違いから、一人ひとりの票が
分からないようにするためです。
votes.csv では、同じ日の票は投票者
ごとにまとめ、投票者の順は無作為にしています（ある人の前後に投票した人が、自分の票の間から
その人の行を見つけられないように）。一人の票は実際の順のままなので、投票者と提案ごとの最後の
行が最終的な票です。
投票（vote）は 1 が賛成、-1 が反対、0 がパスです。participants-votes.csv の group-id は
最新の集計での意見グループです（空欄：グループに入っていないか、{minimum}人未満のグループ）。
代理入力（紙の用紙からファシリテーターが入力した票）は votes.csv の is-assisted が 1 です
（Pol.is の列のあとに加えた列）。summary.csv の assisted-voters はその投票者の数です。
紙で投票した人が{minimum}人未満のときは、どちらも空欄です。モデレーションで非公開になった提案は
moderated が -1 で、本文はありません。summary.csv には views（ページを見た人の数）の行が
ありません。Hiroba では数えていません。
= + - @（全角の ＝ ＋ － ＠ も）、タブまたは改行で始まる文字の欄には、表計算ソフトが
数式として実行しないよう、先頭に ' を付けています。

----

Pol.is-format export of a Hiroba round (open data).

Participant ids are random and differ between downloads; they cannot be linked to
accounts. Each comment's author-id is its own and is never a voter-id, so that knowing who wrote a
comment does not tell how they voted. An author agrees with their comment when it is
published; so that this vote cannot be told as the first one, a comment's votes cast
before {minimum} people had agreed with it in their first vote on it are dated with the
day on which the {minimum}th did (the day of the file's last vote for a comment that
never reached {minimum}). Hiroba's groups are the group-id column of participants-votes.csv; the figures Hiroba used
are in the evidence on each agenda item's page. Times are the start of the day (Asia/Tokyo) of each
vote and comment. The votes of a day on which fewer than {minimum} people voted are dated with
the days after it, until {minimum} or more people voted on those days (a last day still
short goes with the date before), by the first of those days: whoever knows that someone
voted on a quiet day cannot find that person's rows as the only ones of that date.
The votes cast after the open data was first published (when the round is reopened) are
cut, in the order cast, into stretches in each of which {minimum} people voted; those after
the last full stretch (of fewer than {minimum} people so far) are left out until {minimum} or
more have voted, so that two downloads, before and after a reopening, never differ by the
votes of fewer than {minimum} people. In votes.csv, the rows of one day are grouped by voter, the voters in
a random order (so that whoever voted just before and after someone cannot find that
person's row between their own); each voter's rows keep their real order, so the last
row of a voter and comment is the standing vote. Votes: 1 agree, -1 disagree, 0 pass.
group-id in participants-votes.csv is the opinion group of the latest cluster snapshot (empty: not
clustered, or a group of fewer than {minimum} people).
Assisted votes (entered by facilitators from paper forms) have is-assisted = 1 in
votes.csv (an extra column after the Pol.is columns); summary.csv gives their number of
voters in the row assisted-voters. When fewer than {minimum} people voted on paper, both are left
empty. Comments removed by moderation have moderated = -1 and no text. summary.csv
has no views row (people who opened the conversation): Hiroba does not count them.
A text cell that starts with = + - @ (or the full-width ＝ ＋ － ＠), a tab or a line break
has a ' in front, so that spreadsheets do not run it as a formula.
"""


def _day(value: datetime) -> datetime:
    local = value.astimezone(TOKYO)
    return datetime(local.year, local.month, local.day, tzinfo=TOKYO)


def _ms(value: datetime) -> int:
    return int(_day(value).timestamp() * 1000)


def _human(value: datetime) -> str:
    return _day(value).astimezone(UTC).strftime("%a %b %d %H:%M:%S UTC %Y")


def _csv(header: list[str], rows: list[list]) -> str:
    return csvfile.write(rows, header=header, lineterminator="\n")


def pooled_days(voters_by_day: dict[datetime, set[int]], minimum: int
                ) -> dict[datetime, datetime]:
    """The date each day's votes are given: a day on which fewer than ``minimum`` people
    voted is pooled with the days after it until the pool holds that many voters (a last
    pool still short joins the one before), and a pool is dated by its first day. Whoever
    knows that someone voted on a quiet day would otherwise find that person's rows as the
    only ones of that date."""
    pools: list[list[datetime]] = []
    days: list[datetime] = []
    voters: set[int] = set()
    for day in sorted(voters_by_day):
        days.append(day)
        voters |= voters_by_day[day]
        if len(voters) >= minimum:
            pools.append(days)
            days, voters = [], set()
    if days:
        if pools:
            pools[-1].extend(days)
        else:
            pools.append(days)
    return {day: pool[0] for pool in pools for day in pool}


def _published_until(round_: Round) -> int | None:
    """The newest vote event when the round's open data was first public
    (``Round.open_data_until``), marked by the first export once it is public; None
    while it is not public and was never marked."""
    if round_.open_data_until is None and round_.open_data_published:
        newest = db.session.scalar(sa.select(sa.func.max(VoteEvent.id))
                                   .where(VoteEvent.round_id == round_.id)) or 0
        # Only the first export marks it, however many build the file at once.
        db.session.execute(sa.update(Round).where(Round.id == round_.id,
                                                  Round.open_data_until.is_(None))
                           .values(open_data_until=newest),
                           execution_options={"synchronize_session": False})
        db.session.commit()
        db.session.refresh(round_)
    return round_.open_data_until


def first_agreed(events: list[Any], proposal_ids: set[int], minimum: int
                 ) -> dict[int, datetime]:
    """For each of ``proposal_ids`` (those with an author) with votes among ``events`` (in
    time order), the time from which its votes keep their own date: when the ``minimum``-th
    person whose first vote on it was agree cast that vote, else the last event's time.
    Its author's agree, cast at publication, is its first vote; a proposal's earlier votes
    are dated with that time, so its author is one of at least ``minimum`` people whose
    first vote on it was agree on its first date."""
    if not events:
        return {}
    last = max(e.created_at for e in events)
    seen: set[tuple[int, int]] = set()
    agreed: dict[int, int] = {}
    reached: dict[int, datetime] = {}
    for e in events:
        key = (e.participant_id, e.proposal_id)
        if e.proposal_id not in proposal_ids or key in seen:
            continue
        seen.add(key)
        if e.value == 1:
            agreed[e.proposal_id] = agreed.get(e.proposal_id, 0) + 1
            if agreed[e.proposal_id] == minimum:
                reached[e.proposal_id] = e.created_at
    return {pid: reached.get(pid, last) for pid in {pid for _, pid in seen}}


def published_cut(voters: list[int], minimum: int) -> int:
    """How many of the vote events cast after the open data was first public (their
    voters, in the order cast) the export gives: they are cut into stretches in each of
    which ``minimum`` people voted, and those after the last full stretch are left out.
    The stretches depend on the events alone, so two downloads (before and after a round
    is reopened) differ by whole stretches, never by the votes of fewer people than
    ``minimum``."""
    cut = 0
    stretch: set[int] = set()
    for n, voter in enumerate(voters, start=1):
        stretch.add(voter)
        if len(stretch) >= minimum:
            cut, stretch = n, set()
    return cut


def _comment_ids(proposals: list[Proposal]) -> dict[int, int]:
    """Pol.is comment ids: the original ones for imported rounds, else 0, 1, 2, ..."""
    try:
        ext = [int(p.external_id) for p in proposals]
        if len(set(ext)) == len(ext) and all(x >= 0 for x in ext):
            return {p.id: x for p, x in zip(proposals, ext, strict=True)}
    except (TypeError, ValueError):
        pass
    return {p.id: i for i, p in enumerate(proposals)}


def build_files(round_id: int) -> dict[str, str]:
    """The export's files as text, by file name."""
    round_ = db.session.get(Round, round_id)
    if round_ is None:
        raise NotFound(N_("No such round."))
    proposals = list(db.session.scalars(
        sa.select(Proposal).where(Proposal.round_id == round_id,
                                  Proposal.status.in_(tuple(MODERATED)))
        .order_by(Proposal.id)))
    cids = _comment_ids(proposals)
    participants = db.session.execute(
        sa.select(Participant.id, Participant.source).where(Participant.round_id == round_id)
    ).all()
    order = [p.id for p in participants]
    secrets.SystemRandom().shuffle(order)
    pids = {pk: i for i, pk in enumerate(order)}
    assisted_participants = {p.id for p in participants if p.source == "assisted"}
    assisted_voters = set(db.session.scalars(
        sa.select(VoteEvent.participant_id).where(
            VoteEvent.round_id == round_id,
            sa.or_(VoteEvent.source == "assisted",
                   VoteEvent.participant_id.in_(assisted_participants or {-1})))
        .distinct()))

    minimum = small_counts.minimum(round_.min_group_display)
    events = list(db.session.execute(
        sa.select(VoteEvent.id, VoteEvent.participant_id, VoteEvent.proposal_id,
                  VoteEvent.value, VoteEvent.source, VoteEvent.created_at)
        .where(VoteEvent.round_id == round_id, VoteEvent.proposal_id.in_(cids))
        .order_by(VoteEvent.id)))
    until = _published_until(round_)
    if until is None:  # not public yet (an export from the command line): every vote
        left_out = []
    else:
        later = [e for e in events if e.id > until]
        events = [e for e in events if e.id <= until]
        cut = published_cut([e.participant_id for e in later], minimum)
        events += later[:cut]
        left_out = later[cut:]
    events.sort(key=lambda e: (e.created_at, e.id))
    assisted_voters &= {e.participant_id for e in events}
    flag_assisted = small_counts.shown(len(assisted_voters), round_.min_group_display)
    authored = {p.id for p in proposals if p.author_id is not None}
    dated_from = first_agreed(events, authored, minimum)
    events = [(_day(max(e.created_at, dated_from.get(e.proposal_id, e.created_at))), e)
              for e in events]
    voters_by_day: dict[datetime, set[int]] = {}
    for day, e in events:
        voters_by_day.setdefault(day, set()).add(e.participant_id)
    pooled = pooled_days(voters_by_day, minimum)
    dated = {day: (_ms(first), _human(first)) for day, first in pooled.items()}
    vote_rows = [[*dated[day], cids[e.proposal_id], pids[e.participant_id], e.value,
                  int(e.source == "assisted" or e.participant_id in assisted_participants)
                  if flag_assisted else ""]
                 for day, e in events]
    # Within a day, each voter's rows together and the voters in the random order of their
    # ids: in time order, whoever voted just before and after someone they watched (at a
    # workshop, on a shared screen) would find that person's row, and so their voter id
    # and every vote, between their own two. A voter's own rows keep their order (sort is
    # stable), so the last row of a voter and proposal is still the standing vote.
    vote_rows.sort(key=lambda row: (row[0], row[3]))

    # The standing votes as of the cut: those of the people with votes left out are
    # their last ones before it.
    late = {e.participant_id for e in left_out}
    current = [row for row in db.session.execute(
        sa.select(Vote.participant_id, Vote.proposal_id, Vote.value)
        .where(Vote.round_id == round_id, Vote.proposal_id.in_(cids))).tuples()
        if row[0] not in late]
    stood: dict[tuple[int, int], int] = {}
    for _day_of, e in events:
        if e.participant_id in late:
            stood[(e.participant_id, e.proposal_id)] = e.value
    current += [(pk, prop, value) for (pk, prop), value in stood.items()]
    by_participant: dict[int, dict[int, int]] = {}
    agrees: dict[int, int] = {}
    disagrees: dict[int, int] = {}
    for pk, prop, value in current:
        by_participant.setdefault(pk, {})[prop] = value
        if value == 1:
            agrees[prop] = agrees.get(prop, 0) + 1
        elif value == -1:
            disagrees[prop] = disagrees.get(prop, 0) + 1

    comment_rows = []
    authors = {p.author_id for p in proposals if p.author_id is not None}
    # One id per proposal after the voters' ids, in a fresh order: it names no voter, and
    # two proposals of one author do not share it.
    author_ids = list(range(len(order), len(order) + len(proposals)))
    secrets.SystemRandom().shuffle(author_ids)
    for p, own_id in zip(proposals, author_ids, strict=True):
        author = own_id if p.author_id is not None else -1
        text = visibility.public_text(p) or REMOVED_TEXT
        comment_rows.append([_ms(p.created_at), _human(p.created_at), cids[p.id], author,
                             agrees.get(p.id, 0), disagrees.get(p.id, 0), MODERATED[p.status],
                             text, int(p.is_seed), int(p.is_meta)])

    snapshot = latest_snapshot(round_id)
    groups: dict[int, int | None] = {}
    if snapshot is not None:
        large = set(db.session.scalars(sa.select(SnapshotGroup.group_id).where(
            SnapshotGroup.snapshot_id == snapshot.id,
            SnapshotGroup.size >= small_counts.minimum(round_.min_group_display))))
        groups = {pk: gid for pk, gid in db.session.execute(
            sa.select(SnapshotMembership.participant_id, SnapshotMembership.group_id)
            .where(SnapshotMembership.snapshot_id == snapshot.id)).tuples()
            if gid in large}
    columns = sorted((p.id for p in proposals), key=cids.__getitem__)
    pv_rows = []
    for pk in sorted(by_participant, key=lambda pk: pids[pk]):
        votes = by_participant[pk]
        gid = groups.get(pk)
        pv_rows.append([pids[pk], "" if gid is None else gid, 0, len(votes),
                        sum(1 for v in votes.values() if v == 1),
                        sum(1 for v in votes.values() if v == -1),
                        *[votes.get(c, "") for c in columns]])

    voters = set(by_participant)
    summary = [
        # No views (people who opened the conversation): Hiroba does not count them, and
        # Pol.is's own export now leaves the row out too; an empty cell would stop readers
        # that take views for a number
        ["topic", round_.title], ["url", ""],
        ["voters", len(voters)], ["voters-in-conv", snapshot.n_clustered if snapshot else 0],
        ["commenters", len(authors)], ["comments", len(proposals)],
        ["groups", snapshot.k if snapshot else 0],
        # Pol.is's description is the whole text under the topic, as the round's is (the
        # summary is only its first line for an imported round)
        ["conversation-description", round_.description or round_.summary],
        ["assisted-voters", len(assisted_voters) if flag_assisted else ""],
    ]
    return {
        "summary.csv": csvfile.write(summary, lineterminator="\n"),
        "comments.csv": _csv(["timestamp", "datetime", "comment-id", "author-id", "agrees",
                              "disagrees", "moderated", "comment-body", "is-seed", "is-meta"],
                             comment_rows),
        "votes.csv": _csv(["timestamp", "datetime", "comment-id", "voter-id", "vote",
                           "is-assisted"], vote_rows),
        "participants-votes.csv": _csv(
            ["participant", "group-id", "n-comments", "n-votes", "n-agree", "n-disagree",
             *[str(cids[c]) for c in columns]], pv_rows),
        "README.txt": README.format(minimum=small_counts.minimum(round_.min_group_display)),
    }


def write_directory(round_id: int, directory: str | Path) -> Path:
    path = Path(directory)
    path.mkdir(parents=True, exist_ok=True)
    for name, text in build_files(round_id).items():
        (path / name).write_text(text, encoding="utf-8", newline="")
    return path


def export_zip(round_id: int) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in build_files(round_id).items():
            archive.writestr(name, text.encode("utf-8"))
    return buffer.getvalue()
