"""Inline SVG bar charts: no script, no network, every label escaped.

Colors are fixed per name (known categories and outcomes have their own; others get a
palette color from a hash of the name) so a category keeps its color across runs.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from html import escape

from tracejury.clip import clip

CATEGORY_COLORS = {
    "infrastructure": "#6366f1",
    "resource_limit": "#f59e0b",
    "model_logic": "#e11d74",
    "tool_issue": "#0ea5e9",
    "capability_gap": "#8b5cf6",
    "none": "#94a3b8",
}
PALETTE = (
    "#14b8a6",
    "#a855f7",
    "#f43f5e",
    "#84cc16",
    "#eab308",
    "#3b82f6",
    "#d946ef",
    "#10b981",
    "#fb923c",
    "#64748b",
)
OUTCOME_COLORS = {
    "passed": "#16a34a",
    "failed": "#dc2626",
    "error": "#ea580c",
    "unknown": "#a1a1aa",
}
COMPLETENESS_COLORS = {"analyzed": "#4ade80", "errors": "#fdba74", "missing": "#fda4af"}
RUN_COST_COLOR = "#0f766e"
ANALYSIS_COST_COLOR = "#b45309"
TINT = 0.45  # subcategory bars: the parent category's color mixed with this much white


def category_color(name: str) -> str:
    key = name.split("/", 1)[0].strip().lower()
    if key in CATEGORY_COLORS:
        return CATEGORY_COLORS[key]
    return PALETTE[int(hashlib.sha256(key.encode()).hexdigest(), 16) % len(PALETTE)]


def _rgb(color: str) -> tuple[int, ...]:
    return tuple(int(color[i : i + 2], 16) for i in (1, 3, 5))


def tint(color: str, amount: float = TINT) -> str:
    return "#" + "".join(f"{round(c + (255 - c) * amount):02x}" for c in _rgb(color))


def shade(color: str, amount: float = 0.18) -> str:
    """Darker, for category pills: text stays readable and chart bars keep unique colors."""
    return "#" + "".join(f"{round(c * (1 - amount)):02x}" for c in _rgb(color))


def subcategory_color(name: str) -> str:
    return tint(category_color(name))


def esc(text: object) -> str:
    return escape(str(text), quote=True)


def _fit(label_width: int) -> int:
    """Characters of a 12px label that fit left of the bars (at most about 8 px a character, digits and capitals included)."""
    return max(8, int((label_width - 12) / 8.2))


_ROW, _TOP = 24, 8  # row height and top/bottom margin, px


def _frame(rows: int, width: int, title: str) -> list[str]:
    """The opening of a chart of `rows` rows; with no rows, a labelled empty frame."""
    height = _TOP * 2 + max(1, rows) * _ROW
    out = [
        f'<svg class="chart" role="img" aria-label="{esc(title)}" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" xmlns="http://www.w3.org/2000/svg">'
    ]
    if not rows:
        out.append(
            f'<text x="{width / 2}" y="{height / 2 + 4}" text-anchor="middle" class="empty">no data</text>'
        )
    return out


def _label(text: str, y: int, label_width: int) -> str:
    return f'<text x="{label_width - 8}" y="{y + 16}" text-anchor="end" class="lbl">{esc(clip(text, _fit(label_width)))}</text>'


@dataclass
class Bar:
    label: str
    value: float
    color: str
    note: str = ""  # tooltip


def hbar_chart(
    bars: list[Bar],
    *,
    width: int = 560,
    label_width: int = 190,
    fmt: Callable[[float], str] = lambda v: f"{v:,.0f}",
    title: str = "",
) -> str:
    """Horizontal bars, largest first as given; empty input draws a labelled empty frame."""
    vmax = max((b.value for b in bars), default=0) or 1
    span = width - label_width - 70
    out = _frame(len(bars), width, title)
    for i, b in enumerate(bars):
        y = _TOP + i * _ROW
        w = max(2.0, span * b.value / vmax) if b.value > 0 else 0.0
        tip = esc(b.note or f"{b.label}: {fmt(b.value)}")
        out.append(
            f"<g><title>{tip}</title>"
            + _label(b.label, y, label_width)
            + f'<rect x="{label_width}" y="{y + 3}" width="{w:.1f}" height="{_ROW - 7}" rx="3" fill="{b.color}"/>'
            f'<text x="{label_width + w + 6:.1f}" y="{y + 16}" class="val">{esc(fmt(b.value))}</text></g>'
        )
    out.append("</svg>")
    return "".join(out)


@dataclass
class Stack:
    label: str
    parts: list[tuple[str, float, str]]  # (name, value, color)


def stacked_chart(
    stacks: list[Stack], *, width: int = 560, label_width: int = 190, title: str = ""
) -> str:
    """One bar per row split into colored parts; totals at the end."""
    vmax = max((sum(p[1] for p in s.parts) for s in stacks), default=0) or 1
    span = width - label_width - 50
    out = _frame(len(stacks), width, title)
    for i, s in enumerate(stacks):
        y = _TOP + i * _ROW
        x = float(label_width)
        total = sum(p[1] for p in s.parts)
        out.append(_label(s.label, y, label_width))
        for name, value, color in s.parts:
            if value <= 0:
                continue
            w = span * value / vmax
            out.append(
                f'<rect x="{x:.1f}" y="{y + 3}" width="{w:.1f}" height="{_ROW - 7}" fill="{color}">'
                f"<title>{esc(f'{s.label}: {value:,.0f} {name}')}</title></rect>"
            )
            x += w
        out.append(f'<text x="{x + 6:.1f}" y="{y + 16}" class="val">{total:,.0f}</text>')
    out.append("</svg>")
    return "".join(out)


def legend(items: list[tuple[str, str]]) -> str:
    return (
        '<div class="legend">'
        + "".join(f'<span><i style="background:{c}"></i>{esc(n)}</span>' for n, c in items)
        + "</div>"
    )
