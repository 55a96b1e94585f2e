"""The small-cell rule, in one place: no count of people under ``MIN_COUNT``, broken down
by participant kind, opinion group or their crossing, on any page, export or API.

A round may raise the minimum (``Round.min_group_display``) but never lower it. Counts
under the minimum are withheld (``None``; pages show "fewer than 5"). In a table whose row
and column totals are shown, one withheld cell could be worked out by subtraction, so the
next smallest cell of that row or column is withheld too (complementary suppression).
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping

MIN_COUNT = 5


def minimum(round_minimum: int | None = None) -> int:
    """The smallest count that may be shown (a round's own minimum, at least 5)."""
    return max(MIN_COUNT, int(round_minimum or 0))


def shown(count: int, round_minimum: int | None = None) -> bool:
    return count >= minimum(round_minimum)


def cell(count: int, round_minimum: int | None = None) -> int | None:
    """``count``, or ``None`` when it is under the minimum."""
    return count if shown(count, round_minimum) else None


def table(counts: Mapping[Hashable, Mapping[Hashable, int]], columns: list[Hashable],
          round_minimum: int | None = None) -> dict[Hashable, dict[Hashable, int | None]]:
    """A crossing table (row -> column -> count) with small cells withheld, also those
    that the row and column totals would give away."""
    out: dict[Hashable, dict[Hashable, int | None]] = {
        row: {col: values.get(col, 0) for col in columns} for row, values in counts.items()}
    hidden = {(row, col) for row, values in out.items() for col, n in values.items()
              if not shown(n, round_minimum)}
    lines = [[(row, col) for col in columns] for row in out]
    lines += [[(row, col) for row in out] for col in columns]
    changed = True
    while changed:
        changed = False
        for line in lines:
            withheld = [key for key in line if key in hidden]
            visible = [key for key in line if key not in hidden]
            if len(withheld) == 1 and visible:
                smallest = min(visible, key=lambda key: out[key[0]][key[1]])
                hidden.add(smallest)
                changed = True
    for row, col in hidden:
        out[row][col] = None
    return out
