"""Geometry for small server-rendered SVG charts (the template draws them).

Every chart says something whatever the data: a single day or group still draws a bar or
a marked point, each bar is labelled when there are few, and time axes cover the span
where the activity is (see ``active_range``)."""

from __future__ import annotations

from dataclasses import dataclass

WIDTH, HEIGHT, PAD_LEFT, PAD_BOTTOM, PAD_TOP = 640, 220, 48, 24, 12
LABEL_EACH_BAR = 12  # up to this many bars, each gets its own label
MAX_BAR_WIDTH = 80


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
    markers: dict[str, list[tuple[float, float]]] | None = None  # points of each line
    tick_labels: list[tuple[float, str]] | None = None  # x, label under each bar


def active_range(weights: list[int], share: float = 0.99) -> tuple[int, int]:
    """First and last index of the span holding ``share`` of the total weight, trimming
    equal tails: an imported conversation active in 2015 with one late participant in
    2026 is drawn over 2015, not squeezed into the left edge of an eleven-year axis."""
    total = sum(weights)
    if total <= 0:
        return 0, max(len(weights) - 1, 0)
    tail = total * (1 - share) / 2
    first, seen = 0, 0
    while first < len(weights) - 1 and seen + weights[first] <= tail:
        seen += weights[first]
        first += 1
    last, seen = len(weights) - 1, 0
    while last > first and seen + weights[last] <= tail:
        seen += weights[last]
        last -= 1
    return first, last


def bar_chart(labels: list[str], values: list[int]) -> Chart:
    top = max(values, default=0) or 1
    plot_w, plot_h = WIDTH - PAD_LEFT - 8, HEIGHT - PAD_BOTTOM - PAD_TOP
    step = plot_w / max(len(values), 1)
    width = min(max(step * 0.8, 1), MAX_BAR_WIDTH)
    bars = []
    for i, (label, value) in enumerate(zip(labels, values, strict=True)):
        h = plot_h * value / top
        x = PAD_LEFT + i * step + (step - width) / 2
        bars.append(Bar(round(x, 2), round(PAD_TOP + plot_h - h, 2), round(width, 2),
                        round(h, 2), label, value))
    ticks = None
    if len(bars) <= LABEL_EACH_BAR:
        ticks = [(round(b.x + b.width / 2, 2), b.label) for b in bars]
    return Chart(WIDTH, HEIGHT, bars, {}, top, PAD_TOP + plot_h,
                 labels[0] if labels else "", labels[-1] if labels else "", tick_labels=ticks)


def line_chart(labels: list[str], series: dict[str, list[int | None]]) -> Chart:
    """Lines of the series; ``None`` (a count withheld as too small) is drawn at zero."""
    series = {name: [v or 0 for v in values] for name, values in series.items()}
    top = max((max(v, default=0) for v in series.values()), default=0) or 1
    plot_w, plot_h = WIDTH - PAD_LEFT - 8, HEIGHT - PAD_BOTTOM - PAD_TOP
    n = len(labels) - 1

    def x(i: int) -> float:  # a single day sits in the middle
        return PAD_LEFT + (plot_w * i / n if n > 0 else plot_w / 2)

    lines, markers = {}, {}
    for name, values in series.items():
        points = [(round(x(i), 1), round(PAD_TOP + plot_h - plot_h * v / top, 1))
                  for i, v in enumerate(values)]
        lines[name] = " ".join(f"{px:.1f},{py:.1f}" for px, py in points)
        markers[name] = points if len(points) <= 31 else []
    ticks = [(round(x(0), 1), labels[0])] if len(labels) == 1 else None
    return Chart(WIDTH, HEIGHT, [], lines, top, PAD_TOP + plot_h,
                 labels[0] if labels else "", labels[-1] if labels else "", markers=markers,
                 tick_labels=ticks)
