"""What the coordination screen (``clustering.coordination.find_blocks``) costs on a big
round, with and without the rule for exactly alike voters, measured in the same run.

    .venv/bin/python bench/coordination_screen.py [DIR]   # default /work/big/20k

DIR holds a Pol.is votes.csv; every voter is screened as an account, with its first vote
as its arrival time. Prints CPU seconds (process time, the median of three runs) per
variant, their ratio, and the blocks found.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from clustering.coordination import find_blocks
from clustering.matrix import VoteData, build_matrix
from clustering.polis_export import read_vote_columns


def current_votes(directory: Path):
    """Every voter, their current votes (a re-vote replaces the earlier one), and the time
    of their first vote as their arrival."""
    columns = read_vote_columns(directory / "votes.csv")
    current = build_matrix(VoteData.from_arrays(
        columns.voter_id, columns.comment_id, columns.vote, columns.timestamp))
    ids = current.participant_ids
    first = np.full(len(ids), np.inf)
    np.minimum.at(first, np.searchsorted(ids, columns.voter_id), columns.timestamp)
    return (ids, ids[current.rows], current.statement_ids[current.cols], current.vals,
            first)


def cpu(run) -> tuple[float, list]:
    spent, result = [], None
    for _ in range(3):
        start = time.process_time()
        result = run()
        spent.append(time.process_time() - start)
    return statistics.median(spent), result


def main() -> None:
    directory = Path(sys.argv[1] if len(sys.argv) > 1 else "/work/big/20k")
    ids, vp, vs, vv, first = current_votes(directory)
    print(f"{len(ids):,} participants, {len(vp):,} votes; load average "
          f"{' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    base, blocks = cpu(lambda: find_blocks(ids, vp, vs, vv, [first], identical_min_votes=None))
    print(f"burst rule only:            {base:6.2f} s CPU, {len(blocks)} blocks")
    both, blocks = cpu(lambda: find_blocks(ids, vp, vs, vv, [first]))
    print(f"with exactly alike voters:  {both:6.2f} s CPU, {len(blocks)} blocks "
          f"({sum(b.identical for b in blocks)} identical); ratio {both / base:.2f}")


if __name__ == "__main__":
    main()
