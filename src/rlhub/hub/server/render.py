"""Untrusted text to safe HTML: READMEs through markdown-it, then nh3 (an allow-list sanitiser);
and the leaderboard chart as inline SVG built from numbers only."""

from __future__ import annotations

from html import escape

import nh3
from markdown_it import MarkdownIt

from rlhub.hub.schema import LeaderboardEntry

_md = MarkdownIt("commonmark", {"html": True, "linkify": False}).enable("table")


def readme_html(text: str, content_type: str = "text/markdown") -> str:
    html = _md.render(text) if content_type.startswith("text/markdown") else f"<pre>{escape(text)}</pre>"
    return nh3.clean(html, url_schemes={"http", "https", "mailto"}, link_rel="nofollow noopener noreferrer")


def score_chart(entries: tuple[LeaderboardEntry, ...], width: int = 560, bar: int = 22) -> str:
    """Horizontal bars (score with a stderr whisker), one per leaderboard entry, best first."""
    shown = entries[:15]
    if not shown:
        return ""
    label_w, pad = 180, 8
    plot_w = width - label_w - 60
    height = len(shown) * (bar + pad) + pad
    parts = [
        f'<svg class="chart" role="img" aria-label="scores" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" xmlns="http://www.w3.org/2000/svg">'
    ]
    for i, entry in enumerate(shown):
        r = entry.result
        y = pad + i * (bar + pad)
        value = max(0.0, min(1.0, r.score))
        w = value * plot_w
        err = min(1.0, r.stderr) * plot_w
        label = escape(r.model if len(r.model) <= 24 else r.model[:23] + "…")
        parts.append(f'<text x="0" y="{y + bar * 0.7:.1f}" font-size="12">{label}</text>')
        parts.append(f'<rect x="{label_w}" y="{y}" width="{w:.1f}" height="{bar}" fill="#4f7cac" />')
        if err > 0:
            x1, x2, mid = label_w + max(0, w - err), label_w + min(plot_w, w + err), y + bar / 2
            parts.append(f'<line x1="{x1:.1f}" x2="{x2:.1f}" y1="{mid}" y2="{mid}" stroke="#222" stroke-width="1.5" />')
        parts.append(f'<text x="{label_w + plot_w + 6}" y="{y + bar * 0.7:.1f}" font-size="12">{r.score:.3f}</text>')
    parts.append("</svg>")
    return "".join(parts)


__all__ = ["readme_html", "score_chart"]
