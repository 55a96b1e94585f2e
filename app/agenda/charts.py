"""Server-rendered evidence of an agenda item: per-group agree shares, the lower confidence
bound and the threshold, and the one support figure shown everywhere (lists, items)."""

from __future__ import annotations

from typing import Any

from deliberation import small_counts
from deliberation.services.agenda import support_share

WIDTH = 360  # about a phone's width, so that the labels are drawn near their real size
ROW_H = 58
BAR_H = 20
LEFT = 8
TOP = 30


def group_bars(groups: list[dict[str, Any]], threshold: float,
               round_minimum: int | None = None) -> dict[str, Any]:
    """Geometry and plain figures for templates/agenda/_chart.html (no markup).

    Groups under the small-count minimum (the round's ``min_group_display``, at least 5) are
    left out: ``hidden`` says how many, ``minimum`` under what size."""
    shown = [g for g in groups if small_counts.shown(g["size"], round_minimum)]
    hidden, groups = len(groups) - len(shown), shown
    inner = WIDTH - 2 * LEFT
    bars = []
    for i, g in enumerate(groups):
        seen = g["agree"] + g["disagree"] + g["passes"]
        share = g["agree"] / seen if seen else 0.0
        y = TOP + i * ROW_H
        bars.append({
            **g, "seen": seen, "share": share, "did_not_vote": max(g["size"] - seen, 0),
            "text_y": y + 16, "y": y + 24,
            "width": round(share * inner, 1), "lb_x": round(LEFT + g["lower_bound"] * inner, 1),
            "passes_threshold": g["lower_bound"] >= threshold,
        })
    height = TOP + len(groups) * ROW_H + 8
    return {"width": WIDTH, "height": height, "left": LEFT, "inner": inner, "bar_h": BAR_H,
            "bars": bars, "threshold_x": round(LEFT + threshold * inner, 1),
            "threshold": threshold, "top": TOP, "hidden": hidden,
            "minimum": small_counts.minimum(round_minimum),
            "support": support_share(groups, round_minimum)}
