"""Coordinated-voting blocks on planted data (no app)."""

from __future__ import annotations

import numpy as np
import pytest

from clustering.coordination import find_blocks, find_switch_blocks

DAY = 86400.0


def honest_round(rng: np.random.Generator, n: int, m: int, *, start_id: int = 1,
                 spread: float = 14 * DAY) -> tuple[list[int], list[tuple[int, int, int]],
                                                    np.ndarray]:
    """n participants arriving over ``spread`` seconds, each voting on a random half of
    m proposals with random answers."""
    ids = list(range(start_id, start_id + n))
    votes = []
    for pid in ids:
        chosen = rng.choice(m, size=m // 2, replace=False)
        votes += [(pid, int(s), int(rng.integers(-1, 2))) for s in chosen]
    return ids, votes, rng.uniform(0, spread, size=n)


def planted_block(ids_from: int, size: int, m: int, rng: np.random.Generator, *, start: float,
                  span: float, noise: int = 0) -> tuple[list[int], list[tuple[int, int, int]],
                                                        np.ndarray]:
    """``size`` accounts voting agree on the same proposals (``noise`` of them differ)."""
    ids = list(range(ids_from, ids_from + size))
    script = list(range(0, m, 1))[:20]
    votes = []
    for pid in ids:
        flipped = set(rng.choice(script, size=noise, replace=False).tolist()) if noise else set()
        votes += [(pid, s, -1 if s in flipped else 1) for s in script]
    return ids, votes, start + rng.uniform(0, span, size=size)


def run(ids, votes, *times, **options):
    p, s, v = zip(*votes, strict=True)
    return find_blocks(ids, p, s, v, list(times), **options)


def test_planted_burst_block_is_found_exactly() -> None:
    rng = np.random.default_rng(1)
    ids, votes, created = honest_round(rng, 300, 40)
    block_ids, block_votes, block_created = planted_block(1000, 30, 40, rng, start=3 * DAY,
                                                          span=600, noise=1)
    blocks = run(ids + block_ids, votes + block_votes, np.concatenate([created, block_created]))
    assert len(blocks) == 1
    assert blocks[0].participant_ids == block_ids
    assert blocks[0].similarity >= 0.8 and blocks[0].span_seconds <= 600
    assert blocks[0].n_votes == 20


def test_identical_votes_spread_over_days_are_not_a_burst() -> None:
    rng = np.random.default_rng(2)
    block_ids, block_votes, _ = planted_block(1, 30, 40, rng, start=0, span=0)
    spread = np.arange(30) * DAY  # one a day: people who simply agree
    assert run(block_ids, block_votes, spread) == []


def test_a_workshop_of_honest_people_in_ten_minutes_is_not_flagged() -> None:
    rng = np.random.default_rng(3)
    ids, votes, _ = honest_round(rng, 60, 30)
    assert run(ids, votes, rng.uniform(0, 600, size=60)) == []


def test_first_votes_in_a_burst_link_accounts_created_long_ago() -> None:
    rng = np.random.default_rng(4)
    block_ids, block_votes, _ = planted_block(1, 12, 40, rng, start=0, span=0)
    created = np.arange(12) * 30 * DAY  # sleeper accounts
    first_vote = 100 * DAY + rng.uniform(0, 300, size=12)
    assert run(block_ids, block_votes, created) == []
    blocks = run(block_ids, block_votes, created, first_vote)
    assert [b.participant_ids for b in blocks] == [block_ids]


def test_small_blocks_and_unknown_times_are_not_flagged() -> None:
    rng = np.random.default_rng(5)
    block_ids, block_votes, times = planted_block(1, 4, 40, rng, start=0, span=60)
    assert run(block_ids, block_votes, times) == []
    assert run(block_ids, block_votes, times, min_block_size=3) != []
    assert run(block_ids, block_votes, np.full(4, np.nan), min_block_size=3) == []


def test_two_blocks_are_kept_apart() -> None:
    rng = np.random.default_rng(6)
    a_ids, a_votes, a_times = planted_block(1, 8, 40, rng, start=0, span=60)
    b_ids = list(range(100, 110))
    b_votes = [(pid, s, -1) for pid in b_ids for s in range(20)]  # same proposals, disagree
    b_times = rng.uniform(0, 60, size=10)
    blocks = run(a_ids + b_ids, a_votes + b_votes, np.concatenate([a_times, b_times]))
    assert [b.participant_ids for b in blocks] == [b_ids, a_ids]


def test_bad_input_is_refused() -> None:
    with pytest.raises(ValueError):
        find_blocks([1, 2, 3, 4, 5], [1], [1], [2], [np.zeros(5)])
    with pytest.raises(ValueError):
        find_blocks([1, 2, 3, 4, 5], [1], [1], [1], [np.zeros(4)])
    assert find_blocks([], [], [], [], [np.zeros(0)]) == []


def test_a_block_with_one_flipped_vote_in_six_is_still_one_block() -> None:
    """Bots that add noise: each flips one of six votes. Every pair of a flipped and a clean
    bot agrees on 5 of the 6 proposals they both voted on, so they stay linked."""
    ids = list(range(1, 31))
    votes = []
    for pid in ids:
        flipped = pid % 6 if pid % 2 else None  # half the bots flip one vote each
        votes += [(pid, s, -1 if s == flipped else 1) for s in range(6)]
    blocks = run(ids, votes, np.arange(30) * 10.0)
    assert [b.participant_ids for b in blocks] == [ids]
    assert blocks[0].similarity == pytest.approx(5 / 6, abs=1e-4)


def test_two_different_answers_in_six_do_not_link() -> None:
    """4 of 6 alike (0.67) is not near-identical; 5 of 6 (0.83) is."""
    votes = [(1, s, 1) for s in range(6)] + [(2, s, -1 if s < 2 else 1) for s in range(6)]
    assert run([1, 2], votes, np.zeros(2), min_block_size=2) == []
    votes = [(1, s, 1) for s in range(6)] + [(2, s, -1 if s < 1 else 1) for s in range(6)]
    assert [b.participant_ids for b in run([1, 2], votes, np.zeros(2), min_block_size=2)] \
        == [[1, 2]]


def scripted_answers(m: int = 20) -> list[int]:
    """A script's answers on ``m`` proposals: agree on some, disagree on others."""
    return [1 if s % 3 else -1 for s in range(m)]


def test_scripted_accounts_spaced_over_days_are_one_block() -> None:
    """Slow sybils: one account a day, each casting exactly the script's mixed answers on
    the same 20 proposals. No burst links them; voting exactly alike does."""
    rng = np.random.default_rng(7)
    ids, votes, created = honest_round(rng, 300, 40)
    bots = list(range(1000, 1012))
    answers = scripted_answers()
    votes += [(pid, s, answers[s]) for pid in bots for s in range(20)]
    times = np.concatenate([created, 30 * DAY + np.arange(12) * 1.5 * DAY])
    blocks = run(ids + bots, votes, times)
    assert [b.participant_ids for b in blocks] == [bots]
    assert blocks[0].identical and blocks[0].similarity == 1.0
    assert blocks[0].span_seconds == pytest.approx(11 * 1.5 * DAY)
    # The same accounts in a burst are a burst block, not only an identical one.
    burst = run(ids + bots, votes, np.concatenate([created, 30 * DAY + np.arange(12.0)]))
    assert [b.participant_ids for b in burst] == [bots] and not burst[0].identical


def test_spaced_voters_alike_on_few_proposals_or_all_agreeing_are_not_flagged() -> None:
    """Honest look-alikes: people who agree with everything, or match on a short round,
    or differ on one proposal, arriving over days."""
    spread = np.arange(12) * DAY
    ids = list(range(1, 13))
    all_agree = [(pid, s, 1) for pid in ids for s in range(30)]
    assert run(ids, all_agree, spread) == []
    answers = scripted_answers(14)
    short = [(pid, s, answers[s]) for pid in ids for s in range(14)]
    assert run(ids, short, spread) == []
    answers = scripted_answers(30)
    one_differs = [(pid, s, -answers[s] if s == pid else answers[s])
                   for pid in ids for s in range(30)]
    assert run(ids, one_differs, spread) == []
    # ...and exactly alike on 15 mixed answers is the rule's threshold.
    answers = scripted_answers(15)
    at_threshold = [(pid, s, answers[s]) for pid in ids for s in range(15)]
    assert [b.participant_ids for b in run(ids, at_threshold, spread)] == [ids]
    assert run(ids, at_threshold, spread, identical_min_votes=None) == []


@pytest.mark.parametrize("name", ["vtaiwan.uberx", "15-per-hour-seattle",
                                  "scoop-hivemind.biodiversity", "bg2050-volunteers"])
def test_no_real_pol_is_voters_vote_exactly_alike(polis_dir, name: str) -> None:
    """Four real rounds (3,000 people): nobody is flagged for voting exactly alike."""
    from clustering.matrix import VoteData, build_matrix
    from clustering.polis_export import read_vote_columns

    columns = read_vote_columns(polis_dir(name) / "votes.csv")
    current = build_matrix(VoteData.from_arrays(  # a re-vote replaces the earlier one
        columns.voter_id, columns.comment_id, columns.vote, columns.timestamp))
    ids = current.participant_ids
    first = np.full(len(ids), np.inf)  # each voter arrives with their first vote
    np.minimum.at(first, np.searchsorted(ids, columns.voter_id), columns.timestamp)
    blocks = find_blocks(ids, ids[current.rows], current.statement_ids[current.cols],
                         current.vals, [first])
    assert [b for b in blocks if b.identical] == []


MINUTE = 60.0


def switches(*rows: tuple[int, int, int, float]) -> list[list]:
    """(participant, proposal, answer changed to, when) rows as the four parallel arrays."""
    return [list(column) for column in zip(*rows, strict=True)]


def test_accounts_that_flip_one_proposal_together_are_one_block() -> None:
    """Sleeper accounts, made and voting apart and alike in nothing else, change their
    answer on one proposal to agree within four minutes: one block, whatever else changed
    (to another answer, or on another proposal)."""
    flips = [(pid, 7, 1, 1000 * DAY + pid * 20.0) for pid in range(100, 112)]
    others = [(1, 7, -1, 3 * DAY), (2, 8, 1, 9 * DAY), (3, 8, -1, 1000 * DAY)]
    [block] = find_switch_blocks(*switches(*flips, *others))
    assert block.participant_ids == list(range(100, 112))
    assert block.switched_to == (7, 1) and block.n_votes == 12
    assert block.span_seconds == pytest.approx(11 * 20.0)
    assert block.to_dict() == {
        "participant_ids": list(range(100, 112)), "size": 12, "span_seconds": 220.0,
        "n_votes": 12, "switched_proposal_id": 7, "switched_answer": 1}


def test_changes_of_mind_spread_out_or_in_different_directions_are_not_flagged() -> None:
    # four changes of one proposal to the same answer, however spread: under the block size
    trickle = [(pid, 7, 1, pid * 8 * DAY) for pid in range(4)]
    assert find_switch_blocks(*switches(*trickle)) == []
    # eight changes within a minute, but to different answers or on different proposals
    mixed = [(pid, 7 + pid % 2, 1 if pid % 4 < 2 else -1, pid * 5.0) for pid in range(8)]
    assert find_switch_blocks(*switches(*mixed)) == []
    # four together is under the block size; a fifth makes it one, unless its time is unknown
    four = [(pid, 7, -1, pid * MINUTE) for pid in range(4)]
    assert find_switch_blocks(*switches(*four)) == []
    assert len(find_switch_blocks(*switches(*four, (9, 7, -1, 19 * MINUTE)))) == 1
    assert len(find_switch_blocks(*switches(*four, (9, 7, -1, 300 * DAY)))) == 1  # whenever
    assert find_switch_blocks(*switches(*four, (9, 7, -1, float("nan")))) == []
    assert find_switch_blocks([], [], [], []) == []


def test_sleepers_changing_four_at_a_time_are_still_one_block() -> None:
    """Four changes, then four more 21 minutes later, and so on: never five within the
    20 minutes of a burst of arrivals, but 12 within a day."""
    batches = [(pid, 7, 1, (pid // 4) * 21 * MINUTE) for pid in range(12)]
    [block] = find_switch_blocks(*switches(*batches))
    assert block.participant_ids == list(range(12))
    assert block.span_seconds == 42 * MINUTE


def test_sleepers_changing_four_a_month_are_still_one_block() -> None:
    """Four changes, then four more a month later, and four a month after that: never five
    within 30 days, but twelve in one round, where the real rounds have no two alike."""
    batches = [(pid, 7, 1, (pid // 4) * 31 * DAY + pid * MINUTE) for pid in range(12)]
    [block] = find_switch_blocks(*switches(*batches))
    assert block.participant_ids == list(range(12))


def test_bursts_on_one_proposal_months_apart_are_one_block_unless_a_window_is_asked() -> None:
    april = [(pid, 7, 1, pid * MINUTE) for pid in range(6)]
    june = [(pid, 7, 1, 70 * DAY + pid * MINUTE) for pid in range(10, 15)]
    rows = switches(*april, (50, 7, 1, 35 * DAY), *june)
    [block] = find_switch_blocks(*rows)
    assert block.participant_ids == [*range(6), *range(10, 15), 50]
    # within a window of 30 days: two blocks, and the lone change between belongs to neither
    blocks = find_switch_blocks(*rows, window_seconds=30 * DAY)
    assert [b.participant_ids for b in blocks] == [list(range(6)), list(range(10, 15))]


def test_bad_switch_input_is_refused() -> None:
    with pytest.raises(ValueError):
        find_switch_blocks([1, 2], [7], [1], [0.0])
    with pytest.raises(ValueError):
        find_switch_blocks(*switches((1, 7, 2, 0.0)))


@pytest.mark.parametrize("name", ["vtaiwan.uberx", "15-per-hour-seattle",
                                  "scoop-hivemind.biodiversity", "bg2050-volunteers"])
def test_no_real_pol_is_voters_change_an_answer_together(polis_dir, name: str) -> None:
    """Four real rounds: each vote that changes the voter's previous answer on a comment is
    a change. None is flagged by the screen's own rule (five people, the whole round),
    nor with a day as the window and three people as a block."""
    from clustering.polis_export import read_vote_columns

    columns = read_vote_columns(polis_dir(name) / "votes.csv")
    last: dict[tuple[int, int], int] = {}
    changed: dict[tuple[int, int], tuple[int, float]] = {}
    for i in np.argsort(columns.timestamp, kind="stable"):
        key = (int(columns.voter_id[i]), int(columns.comment_id[i]))
        value = int(columns.vote[i])
        if last.get(key, value) != value:
            changed[key] = (value, float(columns.timestamp[i]))
        last[key] = value
    assert changed  # people do change their minds, a few of them
    rows = [(p, c, value, at) for (p, c), (value, at) in changed.items()]
    assert find_switch_blocks(*switches(*rows)) == []
    assert find_switch_blocks(*switches(*rows), window_seconds=DAY, min_block_size=3) == []
