"""docexec/figures.py: figures that are the same bytes on every CPU, and compared as a reader sees them."""

import re

import matplotlib
import pytest

from docexec import figures


@pytest.fixture
def pyplot():
    matplotlib.use("Agg")
    from matplotlib import pyplot

    with matplotlib.rc_context(figures.STYLE):
        yield pyplot
    pyplot.close("all")


def drawn(pyplot, values, name="fblock", title="ratio 0.125"):
    pyplot.figure()
    pyplot.plot(values, marker="o")
    pyplot.title(title)
    return figures.collect(name)[0]


VALUES = [1.0, 0.5, 0.3, 0.2, 0.15]


def test_the_last_bits_of_the_plotted_numbers_do_not_reach_the_svg(pyplot):
    exact = drawn(pyplot, VALUES)
    assert drawn(pyplot, [value * (1 + 2**-23) for value in VALUES]) == exact  # a float32 last bit: what another CPU changes
    coordinates = re.findall(r'\sd="([^"]*)"', exact)
    assert coordinates and not re.search(r"\d\.\d{3}", " ".join(coordinates))  # 1/100 pt at most
    assert ">ratio 0.125<" in exact  # the text a figure shows is not rounded


def test_ids_are_named_after_the_block_and_every_reference_resolves(pyplot):
    first, second = drawn(pyplot, VALUES, "fone"), drawn(pyplot, VALUES, "ftwo")
    for svg, name in ((first, "fone"), (second, "ftwo")):
        ids = re.findall(r'\sid="([^"]+)"', svg)
        assert ids and all(id.startswith(f"{name}-1-") for id in ids) and len(ids) == len(set(ids))
        references = re.findall(r'url\(#([^)]+)\)|href="#([^"]+)"', svg)
        assert references and {a or b for a, b in references} <= set(ids)
    assert not set(re.findall(r'\sid="([^"]+)"', first)) & set(re.findall(r'\sid="([^"]+)"', second))


def test_a_difference_below_sight_is_the_same_figure_and_a_visible_one_is_not(pyplot):
    svg = drawn(pyplot, VALUES)
    number = re.search(r'd="M (\d+\.\d\d)', svg)[1]
    tipped = svg.replace(number, f"{float(number) + 0.01:.2f}", 1)
    assert tipped != svg and figures.same_figure(svg, tipped)  # a rounding that tips the other way
    assert not figures.same_figure(svg, drawn(pyplot, [VALUES[0] + 0.02, *VALUES[1:]]))  # a point moved by ~1 pt
    assert not figures.same_figure(svg, drawn(pyplot, VALUES + [0.1]))  # one more point
    assert not figures.same_figure(svg, drawn(pyplot, VALUES, title="ratio 0.25"))  # other text
