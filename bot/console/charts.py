"""Charts drawn on the server as inline SVG: no chart library, no network, escaped labels."""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence

from markupsafe import Markup, escape

_ids = itertools.count(1)

COLORS = {
    "green": "#0b6e4f",
    "light": "#7fbf9f",
    "amber": "#c98a00",
    "red": "#b3261e",
    "grey": "#8a948f",
    "blue": "#2a5db0",
}


def _nice_max(value: float) -> float:
    """A round axis maximum at or above ``value`` (1, 2, 5 x 10^n)."""
    if value <= 0:
        return 1
    exponent = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 5, 10):
        if value <= step * exponent:
            return step * exponent
    return 10 * exponent  # pragma: no cover


def _fmt(value: float) -> str:
    return f"{int(value):,}".replace(",", ".")


def bar_chart(
    title: str, labels: Sequence[str], series: Sequence[tuple[str, Sequence[float], str]], *, height: int = 220
) -> Markup:
    """Stacked columns, one per label; ``series`` = (name, values, colour name)."""
    chart_id = f"chart{next(_ids)}"
    width = 520
    left, right, top, bottom = 44, 8, 18, 56
    plot_w, plot_h = width - left - right, height - top - bottom
    totals = [sum(s[1][i] for s in series) for i in range(len(labels))]
    step = max(1, _nice_max(max(totals, default=0) / 4))  # whole numbers on the axis
    vmax = 4 * step
    n = max(len(labels), 1)
    slot = plot_w / n
    bar_w = min(56.0, slot * 0.6)
    out = [
        f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" aria-labelledby="{chart_id}-t"'
        f' xmlns="http://www.w3.org/2000/svg" font-family="system-ui, sans-serif" font-size="13">',
        f'<title id="{chart_id}-t">{escape(title)}</title>',
    ]
    for k in range(5):  # grid lines and the value axis
        value = vmax * k / 4
        y = top + plot_h - plot_h * k / 4
        out.append(f'<line x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}" stroke="#e3e7e5"/>')
        out.append(f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" fill="#555">{_fmt(value)}</text>')
    for i, label in enumerate(labels):
        x = left + slot * i + (slot - bar_w) / 2
        y = top + plot_h
        for name, values, colour in series:
            v = values[i]
            if v <= 0:
                continue
            h = plot_h * v / vmax
            y -= h
            out.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar_w:.1f}" height="{h:.1f}" fill="{COLORS[colour]}">'
                f"<title>{escape(label)} – {escape(name)}: {_fmt(v)}</title></rect>"
            )
        if totals[i]:
            out.append(f'<text x="{x + bar_w / 2:.1f}" y="{y - 4:.1f}" text-anchor="middle" fill="#1b1b1b">{_fmt(totals[i])}</text>')
        day, _, rest = str(label).partition(" ")
        out.append(f'<text x="{x + bar_w / 2:.1f}" y="{top + plot_h + 16}" text-anchor="middle" fill="#333">{escape(day)}</text>')
        if rest:
            out.append(f'<text x="{x + bar_w / 2:.1f}" y="{top + plot_h + 30}" text-anchor="middle" fill="#666">{escape(rest)}</text>')
    lx = left
    for name, _, colour in series:  # legend
        out.append(f'<rect x="{lx}" y="{height - 14}" width="12" height="12" fill="{COLORS[colour]}"/>')
        out.append(f'<text x="{lx + 16}" y="{height - 4}" fill="#333">{escape(name)}</text>')
        lx += 26 + 7 * len(name)
    out.append("</svg>")
    return Markup("".join(out))


def share_bar(title: str, parts: Sequence[tuple[str, float, str]]) -> Markup:
    """One horizontal bar split into shares (e.g. answered / suggested / not answered), with an HTML legend."""
    chart_id = f"chart{next(_ids)}"
    width, height = 1000, 28
    total = sum(p[1] for p in parts)
    out = [
        f'<figure class="share" aria-labelledby="{chart_id}-t"><figcaption id="{chart_id}-t" class="sr">{escape(title)}</figcaption>',
        f'<svg class="share-bar" viewBox="0 0 {width} {height}" preserveAspectRatio="none" aria-hidden="true"'
        ' xmlns="http://www.w3.org/2000/svg">',
    ]
    if not total:
        out.append(f'<rect x="0" y="0" width="{width}" height="{height}" fill="#e3e7e5"/>')
    x = 0.0
    for name, value, colour in parts:
        w = width * value / total if total else 0
        if w > 0:
            out.append(f'<rect x="{x:.1f}" y="0" width="{w:.1f}" height="{height}" fill="{COLORS[colour]}"/>')
        x += w
    out.append('</svg><ul class="legend">')
    for name, value, colour in parts:
        share = f"{100 * value / total:.0f}%" if total else "—"
        out.append(
            f'<li><svg width="12" height="12" aria-hidden="true"><rect width="12" height="12" fill="{COLORS[colour]}"/></svg>'
            f" {escape(name)}: <strong>{share}</strong> ({_fmt(value)})</li>"
        )
    if not total:
        out.append('<li class="muted">Chưa có câu hỏi nào.</li>')
    out.append("</ul></figure>")
    return Markup("".join(out))
