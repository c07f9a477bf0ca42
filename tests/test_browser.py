"""The built site in a real browser (Chromium driven by Playwright), served on 127.0.0.1, page by page:
nothing requested from another host, no console error, math and diagrams rendered, every printed output
shown, no serious accessibility violation; search and the dark palette work. Screenshots of every page,
light and dark, go to site-report/, with the weight of each page (site-report/page-weight.json).

The site is served gzip-compressed, as GitHub Pages serves it, so the weights are what a reader downloads.
Needs the built site (`make test` builds it first) and Chromium: /usr/bin/chromium if it is there
(`make test` installs Debian's when it can), else Playwright's own browser.
"""

import json
import os
import re
from pathlib import Path

import pytest

from conftest import ROOT
from docexec import engine
from tools import site_server

playwright_api = pytest.importorskip("playwright.sync_api")

SITE = ROOT / "site"
REPORT = ROOT / "site-report"
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
PAGES = sorted(p.parent.relative_to(SITE).as_posix().strip(".") for p in SITE.rglob("index.html")) if SITE.is_dir() else []
pytestmark = pytest.mark.skipif(not PAGES, reason="no built site: run `make build` first")


@pytest.fixture(scope="module")
def server():
    url, httpd = site_server.serve(SITE)
    yield url
    httpd.shutdown()


@pytest.fixture(scope="module")
def browser():
    with playwright_api.sync_playwright() as playwright:
        options = {"executable_path": CHROMIUM} if Path(CHROMIUM).exists() else {}
        args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"]
        browser = playwright.chromium.launch(args=args, **options)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def weights():
    collected = {}
    yield collected
    REPORT.mkdir(exist_ok=True)
    (REPORT / "page-weight.json").write_text(json.dumps(collected, indent=1, sort_keys=True))


def expected_on(page: str) -> tuple[int, int, int]:
    """(text outputs, diagrams, blocks that draw figures) the page must show, counted by the engine from the
    page's source."""
    source = ROOT / "docs" / f"{page or 'index'}.md"
    if not source.is_file():
        return 0, 0, 0
    blocks, _ = engine.parse(source.read_text(encoding="utf-8"), source.name)
    texts = sum(1 for b in blocks if b.output and b.render_mode == "text")
    diagrams = sum(1 for b in blocks if b.output and b.render_mode == "diagram")
    return texts, diagrams, sum(1 for b in blocks if b.alt)


def switch_to(page, scheme: str) -> None:
    """Click the palette toggle (system -> light -> dark -> system) until the page shows `scheme`."""
    for _ in range(3):
        if page.evaluate("document.body.getAttribute('data-md-color-scheme')") == scheme:
            return
        page.locator("form[data-md-component=palette] label:visible").first.click()
    assert page.evaluate("document.body.getAttribute('data-md-color-scheme')") == scheme


def accessibility_violations(page) -> list[str]:
    """Serious and critical findings of axe-core (from npm, injected from node_modules, not fetched)."""
    if not AXE.is_file():
        pytest.fail(f"{AXE} is missing: run `npm ci`")
    page.add_script_tag(path=str(AXE))
    return page.evaluate(
        "async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
        ".filter(v => ['serious', 'critical'].includes(v.impact))"
        ".map(v => `${v.id}: ${v.help} (${v.nodes.length}) ${v.nodes[0].target}`)"
    )


def open_page(browser, url: str):
    """A new page that records console errors, and every request, aborting those to other hosts."""
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.problems, page.outside, page.requests = [], [], []
    page.on("console", lambda message: message.type == "error" and page.problems.append(message.text))
    page.on("pageerror", lambda error: page.problems.append(str(error)))
    page.on("requestfinished", lambda request: page.requests.append(request))

    def only_local(route):
        if route.request.url.startswith("http://127.0.0.1:"):
            route.continue_()
        else:
            page.outside.append(route.request.url)
            route.abort()

    page.route("**/*", only_local)
    page.goto(url, wait_until="networkidle")
    return page


@pytest.mark.parametrize("name", PAGES, ids=lambda name: name or "home")
def test_page_in_a_real_browser(browser, server, weights, name):
    page = open_page(browser, f"{server}/{name}/" if name else f"{server}/")
    try:
        assert page.outside == [], f"requests to other hosts: {page.outside}"
        assert page.problems == [], f"console errors: {page.problems}"

        unrendered = page.locator(".arithmatex:not(:has(math))").count()
        assert unrendered == 0, f"{unrendered} formulas left unrendered"
        prose = page.locator("article").inner_text()
        raw = re.findall(r"\$\$|\\\(|\\\[|\$[^$\s][^$\n]*\$", prose)
        assert not raw, f"raw math left in the text: {raw[:3]}"

        texts, diagrams, drawing = expected_on(name)
        shown = page.locator(".md-typeset .highlight .filename", has_text="Output").count()
        assert shown == texts, f"{texts} blocks print something, {shown} outputs shown"
        assert page.locator(".autograd-diagram svg").count() == diagrams
        figures = page.locator(".docexec-figure svg[role=img]")
        assert figures.count() >= drawing, f"{drawing} blocks draw a figure, {figures.count()} figures shown"
        assert all(label.strip() for label in figures.evaluate_all("svgs => svgs.map(s => s.getAttribute('aria-label'))"))

        weights[name or "home"] = {
            "requests": len(page.requests),
            "bytes": sum(r.sizes()["responseBodySize"] + r.sizes()["responseHeadersSize"] for r in page.requests),
        }
        REPORT.mkdir(exist_ok=True)
        shot = (name or "home").replace("/", "-")
        for scheme in ("default", "slate"):  # light, then dark through the palette toggle
            switch_to(page, scheme)
            assert accessibility_violations(page) == [], f"in the {scheme} scheme"
            page.screenshot(path=str(REPORT / f"{shot}-{scheme}.png"), full_page=True)
    finally:
        page.close()


def first_search_result(browser, server, query: str) -> tuple[str, str]:
    """(link, text) of the first result Material's search gives for `query` typed on the home page."""
    page = open_page(browser, f"{server}/")
    try:
        page.locator(".md-search__input").click()
        page.keyboard.type(query, delay=5)
        results = page.locator(".md-search-result__item")
        results.first.wait_for(timeout=10_000)
        found = results.first.locator("a").first.get_attribute("href"), results.first.inner_text()
        assert page.problems == [] and page.outside == []
        return found
    finally:
        page.close()


def test_search_finds_no_grad(browser, server):
    _, text = first_search_result(browser, server, "no_grad")
    assert "no_grad" in text.lower().replace("\u200b", "")


def test_search_finds_an_error_message_pasted_whole(browser, server):
    link, _ = first_search_result(browser, server, "element 0 of tensors does not require grad and does not have a grad_fn")
    assert "/errors/" in link


def test_palette_toggle_switches_to_dark_and_back(browser, server):
    page = open_page(browser, f"{server}/gradients/")
    try:
        switch_to(page, "slate")
        background = page.evaluate("getComputedStyle(document.body).backgroundColor")
        switch_to(page, "default")
        assert page.evaluate("getComputedStyle(document.body).backgroundColor") != background
        assert page.problems == [] and page.outside == []
    finally:
        page.close()
