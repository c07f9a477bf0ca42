"""The site hook's notebook cache: a notebook whose bytes and renderer did not change is not rendered again."""

import importlib.metadata
import json
from pathlib import Path

from mkdocs.commands.build import build
from mkdocs.config import load_config

HOOK = Path(__file__).resolve().parent.parent / "docexec" / "site_hook.py"
CONFIG = f"""site_name: t
hooks: [{HOOK}]
plugins:
  - mkdocs-jupyter:
      include: ["*.ipynb"]
"""


def _notebook(text: str) -> str:
    cell = {"cell_type": "markdown", "id": "text", "metadata": {}, "source": [text]}
    return json.dumps({"cells": [cell], "metadata": {}, "nbformat": 4, "nbformat_minor": 5})


def _build(site: Path) -> str:
    build(load_config(str(site / "mkdocs.yml")))
    return (site / "site" / "nb" / "index.html").read_text(encoding="utf-8")


def test_a_notebook_is_rendered_again_only_when_its_bytes_or_its_renderer_change(tmp_path, monkeypatch):
    site, elsewhere = tmp_path / "site-src", tmp_path / "elsewhere"
    (site / "docs").mkdir(parents=True)
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)  # the cache sits in the project's .cache/, not where mkdocs is run from
    (site / "mkdocs.yml").write_text(CONFIG)
    notebook = site / "docs" / "nb.ipynb"
    notebook.write_text(_notebook("First text"))
    renderer = f"mkdocs-jupyter-{importlib.metadata.version('mkdocs-jupyter')}-nbconvert-{importlib.metadata.version('nbconvert')}"
    assert "First text" in _build(site)
    (entry,) = (site / ".cache" / "mkdocs-jupyter" / renderer).glob("*.json")

    cached = json.loads(entry.read_text())
    entry.write_text(json.dumps({**cached, "content": "<p>served from the cache</p>"}))
    assert "served from the cache" in _build(site)  # unchanged: not rendered again

    notebook.write_text(_notebook("Second text"))
    html = _build(site)
    assert "Second text" in html and "served from the cache" not in html

    (entry,) = (site / ".cache" / "mkdocs-jupyter" / renderer).glob("*.json")
    entry.write_text(json.dumps({**json.loads(entry.read_text()), "content": "<p>served from the cache</p>"}))
    real_version = importlib.metadata.version
    monkeypatch.setattr(importlib.metadata, "version", lambda name: "99.0" if name == "nbconvert" else real_version(name))
    html = _build(site)  # another nbconvert: rendered again, into a folder of its own
    assert "Second text" in html and "served from the cache" not in html
    assert list((site / ".cache" / "mkdocs-jupyter").glob("mkdocs-jupyter-*-nbconvert-99.0/*.json"))
