"""The matplotlib figures a block leaves open, as inline SVG that is the same bytes on every build and
readable in light and dark schemes (text and axes are drawn in the page's own text color)."""

from __future__ import annotations

import html
import io
import re
import sys

INK = "#010203"  # drawn by matplotlib, replaced by `currentColor` in the page
STYLE = {
    "svg.hashsalt": "docexec",  # element ids from content, not from random numbers
    "svg.fonttype": "none",  # text stays text: smaller, searchable, in the site's own font
    "figure.figsize": (6, 3.5),
    "font.size": 10,
    "font.family": "sans-serif",
    "text.color": INK,
    "axes.edgecolor": INK,
    "axes.labelcolor": INK,
    "xtick.color": INK,
    "ytick.color": INK,
    "axes.facecolor": "none",
    "figure.facecolor": "none",
    "savefig.facecolor": "none",
    "legend.facecolor": "none",
    "legend.edgecolor": INK,
    "grid.color": "#8888884d",
}
_DROPPED = re.compile(r"<\?xml.*?\?>|<!DOCTYPE.*?>|<!--.*?-->|<metadata>.*?</metadata>|<style.*?</style>", re.DOTALL)


def setup() -> None:
    """The style every page starts with; the Agg backend draws without a screen."""
    import matplotlib

    matplotlib.use("Agg")
    matplotlib.rcParams.update(STYLE)


def collect() -> list[str]:
    """SVG of every figure still open, oldest first; the figures are then closed."""
    pyplot = sys.modules.get("matplotlib.pyplot")
    if pyplot is None:
        return []
    drawn = []
    for number in pyplot.get_fignums():
        buffer = io.StringIO()
        pyplot.figure(number).savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None})
        drawn.append(_clean(buffer.getvalue()))
    pyplot.close("all")
    return drawn


def _clean(svg: str) -> str:
    """One line of inline SVG: no prolog, metadata or global <style>, the ink in the page's text color."""
    svg = _DROPPED.sub("", svg).replace(INK, "currentColor").strip()
    svg = svg.replace("<svg ", '<svg style="stroke-linejoin: round; stroke-linecap: butt" ', 1)
    return " ".join(line.strip() for line in svg.splitlines() if line.strip())


def html_for(svg: str, alt: str) -> str:
    """The figure as the page shows it: an image with its text for screen readers."""
    label = html.escape(alt, quote=True)
    svg = svg.replace("<svg ", f'<svg role="img" aria-label="{label}" ', 1)
    svg = svg.replace(">", f"><title>{html.escape(alt)}</title>", 1)  # the first ">" closes the <svg> tag
    return f'<div class="docexec-figure">{svg}</div>'
