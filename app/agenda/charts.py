"""Server-rendered per-group bar chart data (agree share, Wilson lower bound, threshold)."""

from __future__ import annotations

from typing import Any

from deliberation.services import small_counts

WIDTH = 480
BAR_H = 28
GAP = 14
LEFT = 110
TOP = 36


def group_bars(groups: list[dict[str, Any]], threshold: float) -> dict[str, Any]:
    """Geometry for templates/agenda/_evidence_chart.html (all numbers, no markup).

    Groups under the small-count minimum are left out (``hidden`` says how many)."""
    shown = [g for g in groups if small_counts.shown(g["size"])]
    hidden, groups = len(groups) - len(shown), shown
    inner = WIDTH - LEFT - 20
    bars = []
    for i, g in enumerate(groups):
        seen = g["agree"] + g["disagree"] + g["passes"]
        share = g["agree"] / seen if seen else 0.0
        y = TOP + i * (BAR_H + GAP)
        bars.append({
            **g, "seen": seen, "share": share, "y": y, "text_y": y + BAR_H / 2 + 5,
            "width": round(share * inner, 1), "lb_x": round(LEFT + g["lower_bound"] * inner, 1),
            "passes_threshold": g["lower_bound"] >= threshold,
        })
    height = TOP + len(groups) * (BAR_H + GAP) + 20
    return {"width": WIDTH, "height": height, "left": LEFT, "inner": inner, "bar_h": BAR_H,
            "bars": bars, "threshold_x": round(LEFT + threshold * inner, 1),
            "threshold": threshold, "top": TOP, "hidden": hidden}
