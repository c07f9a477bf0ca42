"""Draw a small Mermaid-style flowchart as an inline SVG at build time (no JavaScript, no network).

The subset a render="diagram" block may print, one statement a line:

    flowchart TD            direction: TD (top-down) or LR (left-right)
        n0["AddBackward0"]  a box
        n1(["x"])           a rounded box (tensors)
        n0 --> n1           an edge

Layout: nodes are ranked by their longest path from a source and centred rank by rank; edges are
straight arrows. Enough for autograd graphs of a dozen nodes, which is what the course draws.
"""

from __future__ import annotations

import hashlib
import html
import re

_HEADER = re.compile(r"^(?:flowchart|graph)\s+(TD|TB|LR)$")
_NODE = re.compile(r'^(\w+)(\["|\(\[")([^"]*)("\]|"\]\))$')
_EDGE = re.compile(r"^(\w+)\s*-->\s*(\w+)$")
CHAR_WIDTH, NODE_HEIGHT, RANK_GAP, NODE_GAP, PAD = 7.6, 34, 46, 22, 8


class DiagramError(ValueError):
    pass


def parse(text: str) -> tuple[str, dict[str, tuple[str, bool]], list[tuple[str, str]]]:
    """(direction, {id: (label, rounded)}, edges) from the flowchart text."""
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    header = _HEADER.match(lines[0]) if lines else None
    if not header:
        raise DiagramError("a diagram starts with `flowchart TD` or `flowchart LR`")
    nodes, edges = {}, []
    for line in lines[1:]:
        if node := _NODE.match(line):
            nodes[node[1]] = (node[3], node[2] == '(["')
        elif edge := _EDGE.match(line):
            edges.append((edge[1], edge[2]))
        else:
            raise DiagramError(f"not a node or an edge: {line!r}")
    for a, b in edges:
        for name in (a, b):
            nodes.setdefault(name, (name, False))
    return ("LR" if header[1] == "LR" else "TD"), nodes, edges


def _ranks(nodes: dict, edges: list[tuple[str, str]]) -> list[list[str]]:
    rank = {name: 0 for name in nodes}
    for _ in range(len(nodes)):  # longest path from a source; a cycle simply stops changing after n rounds
        changed = False
        for a, b in edges:
            if rank[b] < rank[a] + 1 <= len(nodes):
                rank[b], changed = rank[a] + 1, True
        if not changed:
            break
    layers: list[list[str]] = [[] for _ in range(max(rank.values(), default=0) + 1)]
    for name in nodes:  # declaration order within a rank
        layers[rank[name]].append(name)
    return layers


def to_svg(text: str) -> str:
    """One line of SVG (Markdown treats it as a raw HTML block), coloured by the theme's CSS variables."""
    direction, nodes, edges = parse(text)
    layers = _ranks(nodes, edges)
    size = {name: (max(48.0, len(label) * CHAR_WIDTH + 20), NODE_HEIGHT) for name, (label, _) in nodes.items()}
    if direction == "LR":
        size = {name: (h, w) for name, (w, h) in size.items()}  # lay out transposed, swap back when drawing
    spans = [sum(size[n][0] for n in layer) + NODE_GAP * (len(layer) - 1) for layer in layers]
    width = max(spans) + 2 * PAD
    centre, y = {}, PAD
    for layer, span in zip(layers, spans):
        x = (width - span) / 2
        depth = max(size[n][1] for n in layer)
        for name in layer:
            centre[name] = (x + size[name][0] / 2, y + depth / 2)
            x += size[name][0] + NODE_GAP
        y += depth + RANK_GAP
    height = y - RANK_GAP + PAD

    def point(x: float, y: float) -> tuple[float, float]:
        return (y, x) if direction == "LR" else (x, y)

    def box(name: str) -> tuple[float, float, float, float]:
        (cx, cy), (w, h) = centre[name], size[name]
        (px, py), (pw, ph) = point(cx, cy), point(w, h)
        return px - pw / 2, py - ph / 2, pw, ph

    arrow = "arrow-" + hashlib.sha1(text.encode()).hexdigest()[:10]  # ids must be unique within a page
    parts = []
    for a, b in edges:
        (ax, ay), (bx, by) = centre[a], centre[b]
        x1, y1 = point(ax, ay + size[a][1] / 2)
        x2, y2 = point(bx, by - size[b][1] / 2)
        parts.append(f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" marker-end="url(#{arrow})"/>')
    for name, (label, rounded) in nodes.items():
        x, y, w, h = box(name)
        radius = h / 2 if rounded else 4
        kind = "tensor" if rounded else "function"
        parts.append(
            f'<g class="{kind}"><rect x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" height="{h:.1f}" rx="{radius:.1f}"/>'
            f'<text x="{x + w / 2:.1f}" y="{y + h / 2:.1f}">{html.escape(label)}</text></g>'
        )
    svg_w, svg_h = point(width, height)
    summary = html.escape("Graph: " + ", ".join(f"{nodes[a][0]} to {nodes[b][0]}" for a, b in edges))
    return (
        f'<figure class="autograd-diagram"><svg xmlns="http://www.w3.org/2000/svg" role="img" '
        f'viewBox="0 0 {svg_w:.1f} {svg_h:.1f}" width="{svg_w:.0f}" aria-label="{summary}">'
        f'<defs><marker id="{arrow}" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" '
        'orient="auto-start-reverse"><path d="M0,0L10,5L0,10z" fill="currentColor"/></marker></defs>'
        + "".join(parts)
        + "</svg></figure>"
    )
