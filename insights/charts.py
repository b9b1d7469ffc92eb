"""Geometry of the dashboard's inline SVG line charts: plain values in, coordinates and labels out.

Every point carries its value as text and its own marker, so a chart reads without colour.
"""

from dataclasses import dataclass

WIDTH, HEIGHT, PAD = 640, 180, 32


@dataclass(frozen=True)
class Point:
    x: float
    y: float
    label: str
    value: str


@dataclass(frozen=True)
class LineChart:
    title: str
    points: list[Point]
    low: float
    high: float

    @property
    def path(self) -> str:
        """SVG path through the points that have a value; a week without answers breaks the line."""
        commands, pen_down = [], False
        for point in self.points:
            if point.value == "–":
                pen_down = False
                continue
            commands.append(f"{'L' if pen_down else 'M'}{point.x:.1f},{point.y:.1f}")
            pen_down = True
        return " ".join(commands)

    @property
    def baseline_y(self) -> float:
        return HEIGHT - PAD


def line_chart(title: str, series: list[tuple[str, float | None]], low: float, high: float) -> LineChart:
    """Place (label, value) pairs on a `low`..`high` vertical scale across the chart's width."""
    span = (high - low) or 1
    step = (WIDTH - 2 * PAD) / max(len(series) - 1, 1)
    points = []
    for i, (label, value) in enumerate(series):
        clamped = low if value is None else min(max(value, low), high)
        y = HEIGHT - PAD - (clamped - low) / span * (HEIGHT - 2 * PAD)
        points.append(Point(x=PAD + i * step, y=y, label=label, value="–" if value is None else f"{value:g}"))
    return LineChart(title=title, points=points, low=low, high=high)
