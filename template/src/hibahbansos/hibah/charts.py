"""Charts drawn on the server as SVG: no JavaScript, no CDN, readable offline and by screen readers.

Each chart is a horizontal bar chart with its own <title> and <desc>; the page shows the same
figures in a table next to it, so nothing is only in the picture.
"""

from __future__ import annotations

from collections.abc import Callable

from markupsafe import Markup, escape

BAR_HEIGHT = 22
GAP = 8
LABEL_WIDTH = 210
BAR_WIDTH = 330
VALUE_WIDTH = 150


def _short(text: str, limit: int = 30) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def bar_chart(
    items: list[tuple[str, float]],
    title: str,
    fmt: Callable[[float], str] = lambda v: f"{v:,.0f}",
    limit: int = 12,
) -> Markup:
    """An SVG bar chart of (label, value) pairs, largest first, at most `limit` bars."""
    items = sorted(items, key=lambda kv: kv[1], reverse=True)[:limit]
    top = max((v for _, v in items), default=0) or 1
    height = max(len(items), 1) * (BAR_HEIGHT + GAP) + GAP
    width = LABEL_WIDTH + BAR_WIDTH + VALUE_WIDTH
    parts = [
        (
            f'<svg class="chart" role="img" viewBox="0 0 {width} {height}" width="100%" '
            f'preserveAspectRatio="xMinYMin meet" xmlns="http://www.w3.org/2000/svg">'
        ),
        f"<title>{escape(title)}</title>",
        "<desc>" + escape("; ".join(f"{label}: {fmt(v)}" for label, v in items)) + "</desc>",
    ]
    for i, (label, value) in enumerate(items):
        y = GAP + i * (BAR_HEIGHT + GAP)
        w = max(int(BAR_WIDTH * value / top), 1 if value else 0)
        parts.append(
            f'<text x="{LABEL_WIDTH - 8}" y="{y + BAR_HEIGHT * 0.72:.1f}" text-anchor="end" class="chart-label">'
            f"{escape(_short(str(label)))}</text>"
            f'<rect x="{LABEL_WIDTH}" y="{y}" width="{w}" height="{BAR_HEIGHT}" rx="3" class="chart-bar"/>'
            f'<text x="{LABEL_WIDTH + w + 6}" y="{y + BAR_HEIGHT * 0.72:.1f}" class="chart-value">{escape(fmt(value))}</text>'
        )
    if not items:
        parts.append(f'<text x="{LABEL_WIDTH}" y="{BAR_HEIGHT}" class="chart-label">–</text>')
    parts.append("</svg>")
    return Markup("".join(parts))
