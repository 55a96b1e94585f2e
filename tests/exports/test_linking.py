"""What a facilitator sees (audit log, account list) cannot be joined with the open data
to learn how a known account voted."""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from deliberation.services import accounts
from tests import factories


def _rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text.removeprefix("\ufeff"), newline="")))


@pytest.fixture()
def scene(client, db):
    round_ = factories.make_round(slug="town", phase="collecting", open_data_enabled=True,
                                  moderation_mode="open")
    # Open-data ids are a random permutation of 0..participants-1; accounts created first
    # make the victim's id one that no permutation can hit by chance.
    for _ in range(20):
        factories.make_user("citizen")
    victim = accounts.register(email="hanako@example.org", password="a long password 1",
                               display_name="Hanako Yamada", kind="resident",
                               consent_version="test")
    others = [factories.make_participant(round_, kind="resident") for _ in range(6)]
    seeds = [factories.make_proposal(round_, f"Seed {i}") for i in range(4)]
    factories.log_in(client, victim)
    response = client.post("/rounds/town/propose", data={"text": "More benches in the park"})
    assert response.status_code == 303
    response = client.post(f"/rounds/town/proposals/{seeds[0].id}/report",
                           data={"reason": "Off topic"})
    assert response.status_code == 303
    from deliberation.models import Participant

    mine = db.session.query(Participant).filter_by(user_id=victim.id).one()
    for i, seed in enumerate(seeds):
        factories.add_vote(mine, seed, (1, -1, 1, 0)[i])
        for j, other in enumerate(others):
            factories.add_vote(other, seed, (1, 0, -1)[(i + j) % 3])
    client.get("/auth/logout")
    round_.phase = "reflection"  # the open data is published once voting has ended
    db.session.commit()
    facilitator = factories.make_user("admin", display_name="Staff Sato")
    factories.log_in(client, facilitator)
    audit_all = client.get("/facilitate/audit?format=csv&lang=en").data.decode("utf-8")
    audit_round = client.get("/facilitate/rounds/town/audit?format=csv&lang=en"
                             ).data.decode("utf-8")
    users_page = client.get("/admin/users").data.decode("utf-8")
    for url in ("/facilitate/audit", "/facilitate/rounds/town/audit"):
        page = client.get(url).get_data(as_text=True)
        assert "Hanako Yamada" not in page and "Staff Sato" not in page
        assert "市民" in page  # the role, beside a pseudonym
    archive = zipfile.ZipFile(io.BytesIO(client.get("/agenda/rounds/town/open-data.zip").data))
    open_data = {name: archive.read(name).decode("utf-8") for name in archive.namelist()}
    return victim, [audit_all, audit_round], users_page, open_data


def test_the_audit_log_names_no_account(scene):
    victim, audit_files, users_page, _open_data = scene
    assert "Hanako Yamada" in users_page  # the admin knows who the account is ...
    rows = [row for text in audit_files for row in _rows(text)]
    cells = {value for row in rows for value in row.values()}
    audit_text = "".join(audit_files)
    # ... but the audit log shows neither the name, nor the e-mail, nor the account's id
    assert "Hanako Yamada" not in audit_text and "hanako@example.org" not in audit_text
    assert not [r for r in rows if r["Kind of target"] == "Account" and
                r["Target (number or pseudonym)"] == str(victim.id)]
    assert "Staff Sato" not in cells


def test_the_join_from_account_to_votes_fails(scene):
    victim, audit_files, _users_page, open_data = scene
    rows = _rows(audit_files[0])
    # The attacker finds the victim's registration (the only one) and its pseudonym ...
    registration = [r for r in rows if r["Action"] == "Account created"]
    assert len(registration) == 1
    known = {registration[0]["Person who acted (pseudonym)"],
             registration[0]["Target (number or pseudonym)"]}
    # ... and looks for that pseudonym among the actors of proposals and reports.
    in_round = [r for r in rows if r["Round"] and r["Role of the person who acted"] == "Citizen"]
    assert {r["Action"] for r in in_round} == {"Proposal submitted", "Proposal reported"}
    assert known.isdisjoint({r["Person who acted (pseudonym)"] for r in in_round})
    # The proposal's author in the open data has a per-export random id, the same kind
    # of id as every voter: it leads to "someone's" votes, never to the account.
    comments = _rows(open_data["comments.csv"])
    authors = {c["author-id"] for c in comments if c["comment-body"] == "More benches in the park"}
    assert len(authors) == 1 and authors != {str(victim.id)}


def test_open_data_times_are_days_and_cannot_be_matched_to_the_log(scene):
    _victim, audit_files, _users_page, open_data = scene
    rows = _rows(audit_files[0])
    # The log says the minute (Japan time); the open data only the day, at midnight.
    logged = {datetime.strptime(r["When (Japan time)"], "%Y-%m-%d %H:%M") for r in rows}
    assert logged
    tokyo = ZoneInfo("Asia/Tokyo")
    for name in ("comments.csv", "votes.csv"):
        for row in _rows(open_data[name]):
            when = datetime.fromtimestamp(int(row["timestamp"]) / 1000, UTC)
            local = when.astimezone(tokyo)
            assert (local.hour, local.minute, local.second, local.microsecond) == (0, 0, 0, 0)


def test_knowing_who_wrote_a_proposal_leads_to_none_of_their_votes(scene):
    """Whoever knows the author of a proposal (the author told the neighbours, or the text
    gives them away) finds neither the author's votes through the author's id, nor through
    the author's own vote on it, which would be the first vote on it in time order."""
    _victim, _audit_files, _users_page, open_data = scene
    comments = _rows(open_data["comments.csv"])
    votes = _rows(open_data["votes.csv"])
    mine = next(c for c in comments if c["comment-body"] == "More benches in the park")
    assert mine["author-id"] not in {v["voter-id"] for v in votes}
    # nobody else agreed with it: its one vote, the author's, takes the last date
    own = [v for v in votes if v["comment-id"] == mine["comment-id"]]
    assert len(own) == 1 and own[0]["vote"] == "1"
    assert own[0]["timestamp"] == max(v["timestamp"] for v in votes)
    assert mine["agrees"] == "1"  # the counts agree with the votes published
    pv = _rows(open_data["participants-votes.csv"])
    assert {r["n-comments"] for r in pv} == {"0"}
    summary = dict(csv.reader(io.StringIO(open_data["summary.csv"].removeprefix("\ufeff"))))
    assert summary["commenters"] == "1"


def test_an_author_is_not_found_by_the_vote_missing_on_their_proposal(db):
    """Whoever knows who wrote a proposal looks for the voter who voted on the proposals
    written after it but not on it: with the author's own vote left out, that was its
    author (in bg2050's real conversation, for half the statements). The own vote stays,
    and the first date of votes on the proposal holds at least five people who agreed with
    it, so that its first vote, the author's, does not give them away either."""
    from deliberation.interop import polis_export
    from deliberation.models import Vote, VoteEvent

    round_ = factories.make_round(slug="town", phase="reflection", open_data_enabled=True)
    author = factories.make_participant(round_, kind="resident")
    crowd = [factories.make_participant(round_, kind="resident") for _ in range(9)]
    first = datetime(2026, 6, 1, 1, 0, tzinfo=UTC)  # 10:00 in Japan
    seeds = [factories.make_proposal(round_, f"Seed {i}", created_at=first) for i in range(3)]
    theirs = factories.make_proposal(round_, "A crossing by the school", author_id=author.id,
                                     created_at=first + timedelta(days=1))
    later = [factories.make_proposal(round_, f"Later {i}", created_at=first + timedelta(days=2))
             for i in range(3)]
    cast = [(p, s, (1, -1, 0)[(i + j) % 3], 0) for i, p in enumerate([author, *crowd])
            for j, s in enumerate(seeds)]
    cast.append((author, theirs, 1, 1))  # agreed at publication
    # the others come to it one a day, the first two disagreeing; everyone votes on the rest
    cast += [(p, theirs, -1 if day < 2 else 1, 1 + day) for day, p in enumerate(crowd)]
    cast += [(p, s, (1, -1, 0)[(i + j) % 3], 10) for i, p in enumerate([author, *crowd])
             for j, s in enumerate(later)]
    standing: dict[tuple[int, int], int] = {}
    for n, (who, proposal, value, day) in enumerate(cast):
        standing[(who.id, proposal.id)] = value
        db.session.add(VoteEvent(round_id=round_.id, participant_id=who.id,
                                 proposal_id=proposal.id, value=value, source="web",
                                 created_at=first + timedelta(days=day, minutes=n)))
    for (who_id, proposal_id), value in standing.items():
        db.session.add(Vote(round_id=round_.id, participant_id=who_id,
                            proposal_id=proposal_id, value=value))
    db.session.commit()

    files = polis_export.build_files(round_.id)
    comment = next(c for c in _rows(files["comments.csv"])
                   if c["comment-body"] == "A crossing by the school")
    cid = comment["comment-id"]
    assert (comment["agrees"], comment["disagrees"]) == ("8", "2")
    ballots = _rows(files["participants-votes.csv"])
    assert len(ballots) == 10 and all(b[cid] != "" for b in ballots)  # no hole to find
    votes = [v for v in _rows(files["votes.csv"]) if v["comment-id"] == cid]
    assert comment["author-id"] not in {v["voter-id"] for v in votes}
    earliest = min(v["timestamp"] for v in votes)
    firsts: dict[str, str] = {}
    for v in votes:
        firsts.setdefault(v["voter-id"], v["vote"])
    agreed_first = {v["voter-id"] for v in votes
                    if v["timestamp"] == earliest and firsts[v["voter-id"]] == "1"}
    assert len(agreed_first) >= 5
    last = {(v["voter-id"], v["comment-id"]): int(v["vote"]) for v in _rows(files["votes.csv"])}
    assert sorted(last.values()) == sorted(standing.values())


def test_a_vote_cast_between_two_of_ones_own_is_not_found_by_its_place(db):
    """Someone who saw a neighbour vote at a workshop votes just before and just after
    with an account of their own: in a file in time order, the rows between their two
    votes would be the neighbour's, and that row's voter id leads to all the neighbour's
    votes. Within a day each voter's rows come together (voters in a random order), so
    nothing lies between two of one's own votes; each voter's own order is kept, so the
    last row of a voter and proposal is still the standing vote."""
    from deliberation.interop import polis_export
    from deliberation.models import Vote, VoteEvent

    round_ = factories.make_round(slug="town", phase="voting", open_data_enabled=True)
    proposals = [factories.make_proposal(round_, f"Proposal {i}") for i in range(4)]
    spy, neighbour = (factories.make_participant(round_, kind="resident") for _ in range(2))
    crowd = [factories.make_participant(round_, kind="resident") for _ in range(8)]
    morning = datetime(2026, 6, 1, 1, 0, tzinfo=UTC)  # 10:00 in Japan, one day throughout
    sequence = [(spy, 0, 1), (neighbour, 1, -1), (neighbour, 2, 1), (neighbour, 1, 1),
                (spy, 3, -1), *[(p, i % 4, (-1, 0, 1)[i % 3]) for i, p in enumerate(crowd)]]
    standing: dict[tuple[int, int], int] = {}
    for minute, (who, index, value) in enumerate(sequence):
        proposal = proposals[index]
        standing[(who.id, proposal.id)] = value
        db.session.add(VoteEvent(round_id=round_.id, participant_id=who.id,
                                 proposal_id=proposal.id, value=value, source="web",
                                 created_at=morning.replace(minute=minute)))
    for (who_id, proposal_id), value in standing.items():
        db.session.add(Vote(round_id=round_.id, participant_id=who_id,
                            proposal_id=proposal_id, value=value))
    db.session.commit()
    cid = {p.id: i for i, p in enumerate(proposals)}

    for _ in range(5):  # a fresh permutation each time
        votes = _rows(polis_export.build_files(round_.id)["votes.csv"])
        spy_ids = {v["voter-id"] for v in votes if (v["comment-id"], v["vote"]) in
                   {(str(cid[proposals[0].id]), "1"), (str(cid[proposals[3].id]), "-1")}
                   and sum(w["voter-id"] == v["voter-id"] for w in votes) == 2}
        assert len(spy_ids) == 1
        places = [i for i, v in enumerate(votes) if v["voter-id"] in spy_ids]
        assert places == list(range(places[0], places[0] + 2))  # nobody in between
        voters = [v["voter-id"] for v in votes]
        runs = [voter for i, voter in enumerate(voters) if i == 0 or voters[i - 1] != voter]
        assert len(runs) == len(set(voters)) == 10
        last = {(v["voter-id"], v["comment-id"]): int(v["vote"]) for v in votes}
        assert sorted(last.values()) == sorted(standing.values())
        neighbour_rows = [v for v in votes if v["comment-id"] == str(cid[proposals[1].id])
                          and v["vote"] == "-1"]
        assert last[(neighbour_rows[0]["voter-id"], str(cid[proposals[1].id]))] == 1


def test_a_quiet_day_does_not_give_away_its_one_voter(db):
    """Someone who knows that a neighbour voted on a quiet day ("I voted on Sunday") would
    find the neighbour's rows as the only ones of that day, and through their voter id the
    whole ballot. Days with fewer voters than the small-count minimum are dated with the
    days after them (the last short one with the days before), so every date of votes.csv
    holds at least that many voters, and each voter's last row is still the standing
    vote."""
    from deliberation.interop import polis_export
    from deliberation.models import Vote, VoteEvent

    round_ = factories.make_round(slug="town", phase="reflection", open_data_enabled=True)
    proposals = [factories.make_proposal(round_, f"Proposal {i}") for i in range(3)]
    crowd = [factories.make_participant(round_, kind="resident") for _ in range(6)]
    neighbour, late = (factories.make_participant(round_, kind="resident") for _ in range(2))
    first = datetime(2026, 6, 1, 1, 0, tzinfo=UTC)  # 10:00 in Japan
    cast = [*[(p, i % 3, (1, -1, 0)[i % 3], 0) for i, p in enumerate(crowd)],
            (neighbour, 0, -1, 2), (neighbour, 1, 1, 2),  # alone on the third day
            *[(p, 1, 1, 4) for p in crowd[:5]],
            (late, 2, -1, 9), (crowd[0], 0, -1, 9)]  # two voters on the last day
    standing: dict[tuple[int, int], int] = {}
    for n, (who, index, value, day) in enumerate(cast):
        standing[(who.id, proposals[index].id)] = value
        db.session.add(VoteEvent(round_id=round_.id, participant_id=who.id,
                                 proposal_id=proposals[index].id, value=value, source="web",
                                 created_at=first + timedelta(days=day, minutes=n)))
    for (who_id, proposal_id), value in standing.items():
        db.session.add(Vote(round_id=round_.id, participant_id=who_id,
                            proposal_id=proposal_id, value=value))
    db.session.commit()

    votes = _rows(polis_export.build_files(round_.id)["votes.csv"])
    voters_by_date: dict[str, set[str]] = {}
    for row in votes:
        voters_by_date.setdefault(row["timestamp"], set()).add(row["voter-id"])
    assert min(len(voters) for voters in voters_by_date.values()) >= 5
    assert len(voters_by_date) == 2  # the first day; the third, fifth and tenth together
    last = {(v["voter-id"], v["comment-id"]): int(v["vote"]) for v in votes}
    assert sorted(last.values()) == sorted(standing.values())
    assert [int(v["timestamp"]) for v in votes] == sorted(int(v["timestamp"]) for v in votes)


def _download(client, slug: str):
    response = client.get(f"/agenda/rounds/{slug}/open-data.zip", headers={"Accept-Language": "ja"})
    if response.status_code != 200:
        return response, None
    archive = zipfile.ZipFile(io.BytesIO(response.data))
    rows = _rows(archive.read("participants-votes.csv").decode("utf-8"))
    # what stays put from one download to the next: everything but the random id
    return response, sorted(tuple(v for k, v in row.items() if k != "participant") for row in rows)


def test_two_downloads_around_a_vote_do_not_give_the_voters_ballot(client, db):
    """Someone who downloads the open data just before and just after a neighbour votes
    (a workshop, a shared screen) would find the one row that changed: the neighbour's
    whole ballot, whatever the random ids. The export is published once the round takes
    no more votes, so it is one file that does not change under anyone's vote."""
    round_ = factories.make_round(slug="town", phase="voting", open_data_enabled=True)
    proposals = [factories.make_proposal(round_, f"Proposal {i}") for i in range(5)]
    crowd = [factories.make_participant(round_, kind="resident") for _ in range(8)]
    for i, participant in enumerate(crowd):
        for j, proposal in enumerate(proposals):
            factories.add_vote(participant, proposal, (1, -1, 0)[(i + j) % 3])
    neighbour = factories.make_participant(round_, kind="resident")

    before, files = _download(client, "town")
    assert before.status_code == 404 and files is None
    page = client.get("/rounds/town", headers={"Accept-Language": "ja"}).get_data(as_text=True)
    assert "投票が終わってから公開します" in page
    assert "/agenda/rounds/town/open-data.zip" not in page
    for j, proposal in enumerate(proposals):
        factories.add_vote(neighbour, proposal, (1, 1, -1, 0, 1)[j])
    assert _download(client, "town")[1] is None

    round_.phase = "reflection"  # voting has ended: the one file everyone gets
    db.session.commit()
    response, first = _download(client, "town")
    assert response.status_code == 200 and len(first) == 9
    page = client.get("/rounds/town", headers={"Accept-Language": "ja"}).get_data(as_text=True)
    assert "/agenda/rounds/town/open-data.zip" in page
    assert _download(client, "town")[1] == first


def test_open_data_waits_for_the_closing_time_too(client, db):
    round_ = factories.make_round(slug="late", phase="voting", open_data_enabled=True,
                                  closes_at=datetime(2030, 1, 1, tzinfo=UTC))
    assert _download(client, "late")[0].status_code == 404
    round_.closes_at = datetime(2020, 1, 1, tzinfo=UTC)  # past: no vote is taken any more
    db.session.commit()
    assert _download(client, "late")[0].status_code == 200
    listing = client.get("/agenda/", headers={"Accept-Language": "ja"}).get_data(as_text=True)
    assert "/agenda/rounds/late/open-data.zip" in listing


def test_a_reopening_does_not_give_away_its_few_voters(client, db):
    """Two downloads, before and after a round is reopened and two people vote, would
    differ by exactly those two ballots. The export gives the votes in stretches of at
    least the small-count minimum of voters, and leaves out the votes after the last one."""
    from deliberation.services import facilitation

    round_ = factories.make_round(slug="town", phase="closed", open_data_enabled=True)
    proposals = [factories.make_proposal(round_, f"Proposal {i}") for i in range(2)]
    first = [factories.make_participant(round_) for _ in range(5)]
    for i, person in enumerate(first):
        factories.add_vote(person, proposals[i % 2], 1)

    def download() -> dict[str, list[dict[str, str]]]:
        archive = zipfile.ZipFile(io.BytesIO(client.get("/agenda/rounds/town/open-data.zip").data))
        return {name: _rows(archive.read(name).decode("utf-8"))
                for name in ("votes.csv", "participants-votes.csv", "comments.csv")}

    def ballots(files) -> list[tuple[str, ...]]:
        return sorted(tuple(v for k, v in row.items() if k != "participant")
                      for row in files["participants-votes.csv"])

    before = download()
    assert len(before["votes.csv"]) == 5
    facilitation.transition(round_, "reopen", actor=None)
    for person in [factories.make_participant(round_) for _ in range(2)]:
        factories.add_vote(person, proposals[0], -1)
    factories.add_vote(first[0], proposals[1], -1)
    facilitation.transition(round_, "close", actor=None)
    after = download()
    assert ballots(after) == ballots(before)
    assert [c["disagrees"] for c in after["comments.csv"]] == ["0", "0"]
    for person in [factories.make_participant(round_) for _ in range(2)]:
        factories.add_vote(person, proposals[1], 0)  # five new voters in all
    later = download()
    assert len(later["participants-votes.csv"]) == 9
    assert [c["disagrees"] for c in later["comments.csv"]] == ["2", "1"]
