"""Geometry for small server-rendered SVG charts (the template draws them)."""

from __future__ import annotations

from dataclasses import dataclass

WIDTH, HEIGHT, PAD_LEFT, PAD_BOTTOM, PAD_TOP = 640, 220, 48, 24, 12


@dataclass
class Bar:
    x: float
    y: float
    width: float
    height: float
    label: str
    value: int


@dataclass
class Chart:
    width: int
    height: int
    bars: list[Bar]
    lines: dict[str, str]  # series name -> SVG points
    max_value: int
    baseline: float
    first_label: str = ""
    last_label: str = ""


def bar_chart(labels: list[str], values: list[int]) -> Chart:
    top = max(values, default=0) or 1
    plot_w, plot_h = WIDTH - PAD_LEFT - 8, HEIGHT - PAD_BOTTOM - PAD_TOP
    step = plot_w / max(len(values), 1)
    bars = []
    for i, (label, value) in enumerate(zip(labels, values, strict=True)):
        h = plot_h * value / top
        bars.append(Bar(round(PAD_LEFT + i * step, 2), round(PAD_TOP + plot_h - h, 2),
                        round(max(step * 0.8, 1), 2), round(h, 2), label, value))
    return Chart(WIDTH, HEIGHT, bars, {}, top, PAD_TOP + plot_h,
                 labels[0] if labels else "", labels[-1] if labels else "")


def line_chart(labels: list[str], series: dict[str, list[int | None]]) -> Chart:
    """Lines of the series; ``None`` (a count withheld as too small) is drawn at zero."""
    series = {name: [v or 0 for v in values] for name, values in series.items()}
    top = max((max(v, default=0) for v in series.values()), default=0) or 1
    plot_w, plot_h = WIDTH - PAD_LEFT - 8, HEIGHT - PAD_BOTTOM - PAD_TOP
    n = max(len(labels) - 1, 1)
    lines = {}
    for name, values in series.items():
        points = [f"{PAD_LEFT + plot_w * i / n:.1f},{PAD_TOP + plot_h - plot_h * v / top:.1f}"
                  for i, v in enumerate(values)]
        lines[name] = " ".join(points)
    return Chart(WIDTH, HEIGHT, [], lines, top, PAD_TOP + plot_h,
                 labels[0] if labels else "", labels[-1] if labels else "")
