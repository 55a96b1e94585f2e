"""Charts that always say something: one day, one group, a long quiet tail."""

from __future__ import annotations

from app.facilitate.charts import WIDTH, active_range, bar_chart, line_chart


def test_a_single_day_draws_a_marked_point_in_the_middle() -> None:
    chart = line_chart(["2026-11-20"], {"resident": [3]})
    [(x, _y)] = chart.markers["resident"]
    assert 0 < x < WIDTH and x > WIDTH / 3  # not squeezed into the left edge
    assert chart.tick_labels == [(x, "2026-11-20")]


def test_one_group_is_labelled_once_under_its_bar() -> None:
    chart = bar_chart(["Group 1"], [12])
    [bar] = chart.bars
    assert bar.height > 0
    assert chart.tick_labels == [(round(bar.x + bar.width / 2, 2), "Group 1")]


def test_the_time_axis_covers_where_the_activity_is() -> None:
    # busy for ten months, then ten quiet years with one late arrival
    weights = [5000, 3000, 800, 100, 50, 40, 30, 20, 10, 5] + [0] * 120 + [1]
    first, last = active_range(weights)
    assert (first, last) == (0, 6)  # 99% of the activity; the last 1% (36 events) left out
    assert active_range([0, 0, 0]) == (0, 2)
    assert active_range([7]) == (0, 0)
