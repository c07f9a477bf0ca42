"""Build-time math: LaTeX becomes MathML in pages and notebooks, and nothing else is touched."""

from docexec import mathml


def test_arithmatex_placeholders_become_mathml():
    page = '<p>so <span class="arithmatex">\\(x^2 &lt; 3\\)</span>.</p><div class="arithmatex">\\[\ny = 2\n\\]</div>'
    out = mathml.arithmatex(page)
    assert out.count("<math") == 2 and "\\(" not in out and "\\[" not in out
    assert 'display="inline"><mrow><msup><mi>x</mi><mn>2</mn></msup><mo>&#x0003C;</mo>' in out  # &lt; unescaped
    assert '<div class="arithmatex" tabindex="0"><math xmlns="http://www.w3.org/1998/Math/MathML" display="block">' in out


def test_dollars_in_notebook_text_become_mathml_but_not_in_code():
    page = "<p>For $f(w)$ and $$a+b$$</p><pre>cost = $x$</pre><code>$y$</code>"
    out = mathml.dollars(page)
    assert out.count("<math") == 2
    assert out.endswith("<pre>cost = $x$</pre><code>$y$</code>")


def test_dollar_amounts_are_not_math():
    assert mathml.dollars("<p>it costs $5, or $10 with tax</p>") == "<p>it costs $5, or $10 with tax</p>"
