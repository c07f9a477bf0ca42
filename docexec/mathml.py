"""Math rendered at build time: LaTeX in the built HTML becomes MathML, which browsers draw natively.

No JavaScript and no font reaches the reader. Two sources of LaTeX:
- pages: pymdownx.arithmatex (generic mode) leaves `\\(...\\)` and `\\[...\\]` in elements of class
  `arithmatex`;
- notebooks rendered by mkdocs-jupyter: `$...$` and `$$...$$` in the text of markdown cells.
"""

from __future__ import annotations

import functools
import html
import re

from latex2mathml.converter import convert

_ARITHMATEX = re.compile(
    r'<(?P<tag>span|div) class="arithmatex">\s*\\(?P<open>[(\[])(?P<tex>.*?)\\[)\]]\s*</(?P=tag)>', re.DOTALL
)
_CODE = re.compile(r"(<(pre|code|script|style)\b.*?</\2>)", re.DOTALL)
# Pandoc's rule for inline math: no space just inside the dollars, no digit right after the closing one.
_DOLLARS = re.compile(r"\$\$(?P<block>.+?)\$\$|(?<![\\$\w])\$(?P<inline>[^$\s](?:[^$\n]*?[^$\s])?)\$(?![\d$])", re.DOTALL)


@functools.lru_cache(maxsize=None)  # a formula recurs: in its page, other pages, the exercise notebooks
def _mathml(tex: str, display: bool) -> str:
    return convert(html.unescape(tex).strip(), display="block" if display else "inline")


def _wrap(tag: str, math: str, display: bool) -> str:
    # A wide display formula scrolls sideways: tabindex lets a keyboard reach it (axe: scrollable-region-focusable).
    focus = ' tabindex="0"' if display else ""
    return f'<{tag} class="arithmatex"{focus}>{math}</{tag}>'


def arithmatex(page_html: str) -> str:
    """Replace arithmatex's placeholders by MathML (a page of the course)."""

    def replace(match: re.Match) -> str:
        display = match["open"] == "["
        return _wrap(match["tag"], _mathml(match["tex"], display), display)

    return _ARITHMATEX.sub(replace, page_html)


def dollars(page_html: str) -> str:
    """Replace `$...$` and `$$...$$` outside code by MathML (a notebook rendered by mkdocs-jupyter)."""

    def replace(match: re.Match) -> str:
        if match["block"] is not None:
            return _wrap("div", _mathml(match["block"], True), True)
        return _wrap("span", _mathml(match["inline"], False), False)

    parts = _CODE.split(page_html)
    # re.split with two groups yields [text, code, tag, text, code, tag, ...]: convert the text parts only.
    return "".join(_DOLLARS.sub(replace, part) if index % 3 == 0 else part for index, part in enumerate(parts) if index % 3 != 2)
