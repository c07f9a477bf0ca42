"""Build-time work on the rendered HTML that runs no example: math to MathML, accessible code blocks, and
notebook pages freed of JupyterLab's stylesheet (and rendered once, through mkdocs-jupyter's cache). A second
hook under `hooks:` in mkdocs.yml, beside the engine's.
"""

from __future__ import annotations

import importlib.metadata
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # MkDocs loads hooks by path, not as a package
from docexec import mathml  # noqa: E402

# mkdocs-jupyter 0.26 inlines JupyterLab's whole stylesheet (570 KB) into every notebook page; the few rules
# those pages need are in docs/stylesheets/extra.css instead.
_JUPYTERLAB_CSS = re.compile(r'<style type="text/css">\s*@charset "UTF-8";\.jupyter-wrapper\{--md-red-50.*?</style>', re.DOTALL)


def on_config(config):
    """mkdocs-jupyter keeps each notebook's rendered HTML in its cache, keyed on the notebook's bytes and the
    plugin's options; the folder is named after the versions of mkdocs-jupyter and nbconvert, so another
    renderer renders again. Under the project's .cache/, wherever mkdocs is run from."""
    jupyter = config.plugins.get("mkdocs-jupyter")
    if jupyter:
        renderer = "-".join(f"{name}-{importlib.metadata.version(name)}" for name in ("mkdocs-jupyter", "nbconvert"))
        jupyter.config["cache_dir"] = str(Path(config.config_file_path).parent / ".cache" / "mkdocs-jupyter" / renderer)


def on_page_content(html, page, config, files):
    """LaTeX to MathML: arithmatex's placeholders on pages, dollars in the notebooks mkdocs-jupyter renders.
    Code blocks are made keyboard-focusable here, since `content.lazy` leaves Material to do it only once a
    block has scrolled into view (a long line scrolls sideways, and a keyboard must reach it)."""
    if page.file.src_uri.endswith(".ipynb"):
        return mathml.dollars(_JUPYTERLAB_CSS.sub("", html, count=1))
    return mathml.arithmatex(html.replace("<pre><span></span><code>", '<pre><span></span><code tabindex="0">'))
