"""The matplotlib figures a block leaves open, as inline SVG that is the same bytes on every build and every
CPU, and readable in light and dark schemes (text and axes are drawn in the page's own text color).

The numbers a figure plots carry the last bits of the CPU's math library (MKL, vectorized kernels), which differ
between machines; matplotlib writes coordinates to 1e-6 pt. So coordinates are written to `PRECISION` decimals
(1/100 pt, far below what a reader can see), element ids are named after the block, not hashed from the
coordinates, and `same_figure` compares two figures up to `TOLERANCE` pt, so that a rounding that tips the other
way on another machine is not a difference while any visible change is."""

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
PRECISION = 2  # decimals of a coordinate, in pt
TOLERANCE = 0.1  # pt: two figures whose numbers all lie this close look the same (1 pt is 1/72 inch)
_DROPPED = re.compile(r"<\?xml.*?\?>|<!DOCTYPE.*?>|<!--.*?-->|<metadata>.*?</metadata>|<style.*?</style>", re.DOTALL)


def setup() -> None:
    """The style every page starts with; the Agg backend draws without a screen."""
    import matplotlib

    matplotlib.use("Agg")
    matplotlib.rcParams.update(STYLE)


def collect(name: str = "figure") -> list[str]:
    """SVG of every figure still open, oldest first; the figures are then closed. `name` prefixes the ids of
    their elements (unique on a page: the runner passes a digest of the block's code)."""
    pyplot = sys.modules.get("matplotlib.pyplot")
    if pyplot is None:
        return []
    drawn = []
    for number in pyplot.get_fignums():
        buffer = io.StringIO()
        pyplot.figure(number).savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None})
        drawn.append(_renamed(_coarse(_clean(buffer.getvalue())), f"{name}-{len(drawn) + 1}"))
    pyplot.close("all")
    return drawn


def _clean(svg: str) -> str:
    """One line of inline SVG: no prolog, metadata or global <style>, the ink in the page's text color."""
    svg = _DROPPED.sub("", svg).replace(INK, "currentColor").strip()
    svg = svg.replace("<svg ", '<svg style="stroke-linejoin: round; stroke-linecap: butt" ', 1)
    return " ".join(line.strip() for line in svg.splitlines() if line.strip())


_ATTRIBUTE = re.compile(r'(?<=\s)([\w:-]+)="([^"]*)"')
_DECIMAL = re.compile(r"-?\d+\.\d+")
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:e[-+]?\d+)?")
_ID = re.compile(r'\sid="([^"]+)"')


def _rounded(match: re.Match) -> str:
    text = f"{float(match[0]):.{PRECISION}f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def _coarse(svg: str) -> str:
    """Every decimal number in the attributes (path data, transforms, positions) to PRECISION decimals; the text
    a figure shows (tick labels, titles) is left as it is."""
    return _ATTRIBUTE.sub(lambda match: f'{match[1]}="{_DECIMAL.sub(_rounded, match[2])}"', svg)


def _renamed(svg: str, name: str) -> str:
    """Ids numbered in order under `name` (matplotlib hashes clip paths and markers from their coordinates,
    and repeats `figure_1`, `axes_1`... in every figure of a page); references follow."""
    ids = {old: f"{name}-{index}" for index, old in enumerate(dict.fromkeys(_ID.findall(svg)), 1)}
    if not ids:
        return svg
    pattern = re.compile(r'(\sid="|#)(' + "|".join(map(re.escape, sorted(ids, key=len, reverse=True))) + r')(?=[")])')
    return pattern.sub(lambda match: match[1] + ids[match[2]], svg)


def same_figure(kept: str, made: str) -> bool:
    """Whether two SVG figures look the same: equal once their numbers are masked, and every number within
    TOLERANCE of its counterpart."""
    kept_numbers, made_numbers = _NUMBER.findall(kept), _NUMBER.findall(made)
    return (
        _NUMBER.sub("#", kept) == _NUMBER.sub("#", made)
        and len(kept_numbers) == len(made_numbers)
        and all(abs(float(a) - float(b)) <= TOLERANCE for a, b in zip(kept_numbers, made_numbers))
    )


def html_for(svg: str, alt: str) -> str:
    """The figure as the page shows it: an image with its text for screen readers."""
    label = html.escape(alt, quote=True)
    svg = svg.replace("<svg ", f'<svg role="img" aria-label="{label}" ', 1)
    svg = svg.replace(">", f"><title>{html.escape(alt)}</title>", 1)  # the first ">" closes the <svg> tag
    return f'<div class="docexec-figure">{svg}</div>'
