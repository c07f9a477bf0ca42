"""Build-time work on the rendered HTML that runs no example: math to MathML, accessible code blocks, and
notebook pages freed of JupyterLab's stylesheet. A second hook under `hooks:` in mkdocs.yml, beside the engine's.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # MkDocs loads hooks by path, not as a package
from docexec import mathml  # noqa: E402

# mkdocs-jupyter 0.26 inlines JupyterLab's whole stylesheet (570 KB) into every notebook page; the few rules
# those pages need are in docs/stylesheets/extra.css instead.
_JUPYTERLAB_CSS = re.compile(r'<style type="text/css">\s*@charset "UTF-8";\.jupyter-wrapper\{--md-red-50.*?</style>', re.DOTALL)


def on_page_content(html, page, config, files):
    """LaTeX to MathML: arithmatex's placeholders on pages, dollars in the notebooks mkdocs-jupyter renders.
    Code blocks are made keyboard-focusable here, since `content.lazy` leaves Material to do it only once a
    block has scrolled into view (a long line scrolls sideways, and a keyboard must reach it)."""
    if page.file.src_uri.endswith(".ipynb"):
        return mathml.dollars(_JUPYTERLAB_CSS.sub("", html, count=1))
    return mathml.arithmatex(html.replace("<pre><span></span><code>", '<pre><span></span><code tabindex="0">'))
