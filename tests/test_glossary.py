"""Glossary complete: every torch API name a page uses has a glossary entry or a link to its PyTorch documentation.

The rule this test applies
==========================

Pages: every ``docs/**/*.md``, the glossary included.

Where names are read
--------------------
- **Code**: every block the engine runs (``docexec.engine.parse``, snippet includes expanded) and every
  ``python norun`` fence (shown to the reader, found by the same engine parser), read as Python with ``ast``.
  Comments and the contents of strings are not read; a block that is not valid Python is read line by line
  with the prose rule.
- **Prose**: the inline code spans (```like this```) of every line outside a fence and outside an HTML
  comment, headings, tables and admonitions included. String literals inside a span are dropped; every
  identifier or dotted name that is left is read.

How a name becomes a torch API name
-----------------------------------
1. **Qualified names.** A dotted name that starts with ``torch.`` counts, and so does one that starts with a
   name the page binds to a torch object with ``import`` (``from torch import nn``, ``import
   torch.autograd.forward_ad as fwAD``, ``from torch.func import grad``: ``grad(f)`` is ``torch.func.grad``).
   In prose, PyTorch's conventional aliases also apply on every page: ``nn.`` is ``torch.nn.``, ``F.`` is
   ``torch.nn.functional.``, ``Tensor.`` is ``torch.Tensor.``. An import statement uses the names it
   imports. The name is followed while it goes through modules and classes (``torch.float32.itemsize`` uses
   ``torch.float32``); a name that does not exist in torch (``torch.autograd.requires_grad``) is not listed.
2. **Attributes of objects.** In ``<receiver>.<name>`` the receiver's class decides, as the page's code
   leaves its variables (prose reads them the same way):
   - a variable assigned from an expression whose class is known has that class: a call of a torch class
     (``net = nn.Linear(2, 1)``), an attribute chain (``node = z.grad_fn``), an item of ``next_functions``
     (``acc = node.next_functions[0][0]``); the same holds for such an expression used directly
     (``nn.Linear(2, 1).weight``);
   - otherwise a variable named by PyTorch's conventions has the conventional class: ``ctx`` a
     ``torch.autograd.function.FunctionCtx``, ``model``/``module``/``net``/``layer`` a ``torch.nn.Module``,
     ``optimizer``/``opt`` a ``torch.optim.Optimizer``, ``node`` a graph node (``torch.autograd.graph.Node``);
   - anything else (a variable, an index, a call, an arithmetic result) is taken to be a tensor;
   - the literal of a string, number, list, dict, set or tuple, and a name bound to a module that is not
     torch's (``math``, ``np``, ``plt``...) are plain Python: their attributes are not read.
   The name counts when the class has it (``hasattr``), under the public name of the class that defines it:
   ``torch.Tensor.<name>`` for tensors, ``torch.nn.Module.eval`` for ``net.eval()``,
   ``torch.optim.Optimizer.zero_grad`` for ``torch.optim.SGD(...).zero_grad()``. Dunder names never count,
   and neither do the names in ``PLAIN_PYTHON`` on a tensor: plain-Python methods (``set.add``, ``list.index``,
   ``str.split``... would otherwise read as tensor methods) and ``name``, which the course only uses for
   graph nodes. A chain is followed name by name: ``x.grad.zero_()`` uses ``Tensor.grad`` and
   ``Tensor.zero_``; after ``grad_fn`` the receiver is a graph node (``x.grad_fn.name()`` uses
   ``Node.name``); after an attribute that is not a tensor (``shape``, ``dtype``, ``device``...) or that the
   class does not have, the chain stops. A variable therefore counts as a tensor even when it is not one (the
   capstone's ``Value`` has ``.grad`` and ``.backward()``): the names it yields are real tensor API names all
   the same.
3. **Bare names in prose.** A span's lone identifier (``requires_grad``, ``backward()``, ``.grad``) counts as
   a tensor attribute when ``torch.Tensor`` has it, unless it is a Python builtin (``sum``, ``float``,
   ``abs``: write ``.sum()`` for the tensor method) or in ``PLAIN_PYTHON``. The first name of a dotted prose
   name is read the same way (``grad_fn.next_functions``).

What documents a name
---------------------
- **An entry**: the name occurs in a definition-list term (a line followed by a ``:   definition`` line) or in
  a heading of ``docs/glossary.md``, read by the prose rule.
- **A link**: some page links it to ``https://docs.pytorch.org/...``: the link's text (its inline code, by the
  prose rule) names it, or the URL does: its last path segment without ``.html``
  (``generated/torch.Tensor.backward.html``) or its ``#anchor`` (``autograd.html#torch.autograd.Function``).

The test lists every name with neither, each with the first place that uses it: the first page in path order,
at its first line that uses the name, or at the snippet's own line when only a snippet the page includes does.
"""

from __future__ import annotations

import ast
import builtins
import importlib
import re
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch.autograd.function import FunctionCtx
from torch.autograd.graph import Node

from conftest import ROOT
from docexec import engine

GLOSSARY = "docs/glossary.md"
DOCS_URL = "https://docs.pytorch.org/"

# Names torch.Tensor has that are not read as tensor methods: methods of list, dict, set, str and complex
# (`seen.add(v)`, `line.split()`), and `name`, an undocumented slot of Tensor: `name()` in the course is always
# a graph node's (`grad_fn.name()`, `node.name()`).
PLAIN_PYTHON = frozenset({"add", "index", "sort", "split", "values", "real", "imag", "name"})
# Tensor attributes whose value is not a tensor: a chain stops after them (grad_fn is handled on its own).
NOT_TENSORS = frozenset({"shape", "dtype", "device", "layout", "names", "ndim", "is_leaf", "requires_grad",
                         "grad_fn", "_version", "is_cuda", "itemsize", "nbytes"})
CONVENTIONS = {
    "ctx": FunctionCtx,
    "model": torch.nn.Module,
    "module": torch.nn.Module,
    "net": torch.nn.Module,
    "layer": torch.nn.Module,
    "optimizer": torch.optim.Optimizer,
    "opt": torch.optim.Optimizer,
    "node": Node,
}
PROSE_ALIASES = {"torch": "torch", "Tensor": "torch.Tensor", "nn": "torch.nn", "F": "torch.nn.functional"}
BUILTINS = frozenset(dir(builtins))
PLAIN_LITERALS = (ast.Constant, ast.JoinedStr, ast.List, ast.Dict, ast.Set, ast.Tuple,
                  ast.ListComp, ast.DictComp, ast.SetComp)

_SPAN = re.compile(r"(`+)(?!`)(.+?)(?<!`)\1(?!`)", re.S)
_STRING = re.compile(r""""[^"]*"|'[^']*'""")
_NAME = re.compile(r"(?<![\w.])\.?[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*")
_LINK = re.compile(r"\[((?:[^\[\]]|\[[^\]]*\])*)\]\((\S+?)(?:\s+\"[^\"]*\")?\)", re.S)
_COMMENT = re.compile(r"<!--.*?-->", re.S)
_TERM = re.compile(r"^\s*:\s{1,4}\S")
_HEADING = re.compile(r"^#{1,6}\s")


# ------------------------------------------------------------------------------------------- torch lookups


def resolve(qualified: str):
    """The torch object a dotted name names, importing submodules as needed; None if there is none."""
    parts = qualified.split(".")
    if parts[0] != "torch":
        return None
    obj, path = torch, "torch"
    for part in parts[1:]:
        path = f"{path}.{part}"
        if hasattr(obj, part):
            obj = getattr(obj, part)
            continue
        if not isinstance(obj, type(torch)):
            return None
        try:
            obj = importlib.import_module(path)
        except ImportError:
            return None
    return obj


def qualify(qualified: str) -> str | None:
    """The part of a dotted torch name that is an API name: followed through modules and classes only.
    None when the name does not exist or is `torch` itself."""
    parts = qualified.split(".")
    if parts[0] != "torch" or len(parts) < 2 or any(part.startswith("__") for part in parts):
        return None
    kept = ["torch"]
    for part in parts[1:]:
        parent = resolve(".".join(kept))
        if not isinstance(parent, (type(torch), type)):
            break
        if resolve(".".join([*kept, part])) is None:
            return None
        kept.append(part)
    return ".".join(kept)


def public_name(klass: type) -> str:
    """`torch.nn.Module` rather than `torch.nn.modules.module.Module`: the shortest public path to a class."""
    if klass is torch.Tensor or klass is torch._C.TensorBase:
        return "torch.Tensor"
    parts = klass.__module__.split(".")
    for end in range(1, len(parts) + 1):
        candidate = ".".join([*parts[:end], klass.__name__])
        if resolve(candidate) is klass:
            return candidate
    return f"{klass.__module__}.{klass.__qualname__}"


def member(klass: type, attr: str) -> tuple[str | None, type | None]:
    """The API name of `<instance of klass>.<attr>`, and the class of what it gives (None ends a chain)."""
    if attr.startswith("__") or not hasattr(klass, attr):
        return None, None
    if klass is torch.Tensor:
        if attr in PLAIN_PYTHON:
            return None, None
        following = Node if attr == "grad_fn" else None if attr in NOT_TENSORS else torch.Tensor
        return f"torch.Tensor.{attr}", following
    owner = next((k for k in klass.__mro__ if attr in vars(k)), klass)
    return f"{public_name(owner)}.{attr}", None


# ------------------------------------------------------------------------------------------- collecting


@dataclass
class Uses:
    """API name -> first place (file, line) that uses it, in the order places are seen."""

    first: dict[str, tuple[str, int]] = field(default_factory=dict)

    def add(self, name: str | None, place: tuple[str, int]) -> None:
        if name and name not in self.first:
            self.first[name] = place


@dataclass
class Scope:
    """What the names of one page are bound to, as its blocks run in order in one namespace."""

    torch_names: dict[str, str] = field(default_factory=lambda: {"torch": "torch"})  # name -> qualified
    other_modules: set[str] = field(default_factory=set)  # math, np, plt...
    instances: dict[str, type | str | None] = field(default_factory=dict)  # name -> class, "skip", None: unknown

    def receiver(self, name: str) -> type | str:
        """The class of a bare name used as a receiver, or 'skip' for plain Python."""
        if name in self.other_modules:
            return "skip"
        return self.instances.get(name) or CONVENTIONS.get(name) or torch.Tensor


class CodeReader(ast.NodeVisitor):
    def __init__(self, scope: Scope, uses: Uses, origins: list[tuple[str, int]]):
        self.scope, self.uses, self.origins = scope, uses, origins

    def place(self, node: ast.AST) -> tuple[str, int]:
        return self.origins[min(node.lineno, len(self.origins)) - 1]

    # imports bind names
    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            bound = alias.asname or alias.name.split(".")[0]
            if alias.name.split(".")[0] == "torch":
                self.uses.add(qualify(alias.name), self.place(node))
                self.scope.torch_names[bound] = alias.name if alias.asname else "torch"
                self.scope.other_modules.discard(bound)
            else:
                self.scope.other_modules.add(bound)
                self.scope.torch_names.pop(bound, None)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        for alias in node.names:
            bound = alias.asname or alias.name
            if (node.module or "").split(".")[0] == "torch":
                qualified = qualify(f"{node.module}.{alias.name}")
                self.uses.add(qualified, self.place(node))
                if qualified:
                    self.scope.torch_names[bound] = qualified
            else:
                self.scope.other_modules.add(bound)
                self.scope.torch_names.pop(bound, None)

    # assignments rebind names
    def visit_Assign(self, node: ast.Assign) -> None:
        self.visit(node.value)
        made = self.kind_of(node.value)
        for target in node.targets:
            self.bind(target, made)

    def visit_AnnAssign(self, node: ast.AnnAssign) -> None:
        if node.value is not None:
            self.visit(node.value)
        self.bind(node.target, self.kind_of(node.value) if node.value is not None else None)

    def bind(self, target: ast.AST, made: type | None) -> None:
        if isinstance(target, ast.Name):
            self.scope.torch_names.pop(target.id, None)
            self.scope.other_modules.discard(target.id)
            self.scope.instances[target.id] = made
        elif isinstance(target, (ast.Tuple, ast.List)):
            for element in target.elts:
                self.bind(element, None)
        else:
            self.visit(target)

    def kind_of(self, node: ast.AST):
        """The class of what an expression gives: the torch class it calls, a graph node for an item of
        `next_functions`, the class an attribute chain leads to, "skip" for plain Python, None if unknown."""
        if isinstance(node, ast.Call):
            qualified = self.torch_chain(node.func)
            obj = resolve(qualified) if qualified else None
            return obj if isinstance(obj, type) else None
        if isinstance(node, ast.Subscript):
            inner = node
            while isinstance(inner, ast.Subscript):
                inner = inner.value
            return Node if isinstance(inner, ast.Attribute) and inner.attr == "next_functions" else None
        if isinstance(node, ast.Attribute):
            if self.torch_chain(node):
                return None
            kind = self.kind_of(node.value) or torch.Tensor
            return member(kind, node.attr)[1] if isinstance(kind, type) else kind
        if isinstance(node, ast.Name):
            return self.scope.receiver(node.id)
        if isinstance(node, PLAIN_LITERALS):
            return "skip"
        return None

    def torch_chain(self, node: ast.AST) -> str | None:
        """The dotted torch name an expression spells, through the page's imports, or None."""
        attrs = []
        while isinstance(node, ast.Attribute):
            attrs.insert(0, node.attr)
            node = node.value
        if isinstance(node, ast.Name) and node.id in self.scope.torch_names:
            return ".".join([self.scope.torch_names[node.id], *attrs])
        return None

    # uses
    def visit_Name(self, node: ast.Name) -> None:
        if isinstance(node.ctx, ast.Load) and node.id in self.scope.torch_names:
            self.uses.add(qualify(self.scope.torch_names[node.id]), self.place(node))

    def visit_Attribute(self, node: ast.Attribute) -> None:
        attrs, root = [], node
        while isinstance(root, ast.Attribute):
            attrs.insert(0, root.attr)
            root = root.value
        place = self.place(node)
        if isinstance(root, ast.Name) and root.id in self.scope.torch_names:
            self.uses.add(qualify(".".join([self.scope.torch_names[root.id], *attrs])), place)
            return
        if not isinstance(root, ast.Name):
            self.visit(root)
        kind = self.kind_of(root) or torch.Tensor
        if kind != "skip":
            follow_chain(kind, attrs, self.uses, place)


def follow_chain(kind: type | None, attrs: list[str], uses: Uses, place: tuple[str, int]) -> None:
    for attr in attrs:
        if kind is None:
            return
        name, kind = member(kind, attr)
        uses.add(name, place)


def read_code(source: str, scope: Scope, uses: Uses, origins: list[tuple[str, int]]) -> None:
    try:
        tree = ast.parse(source)
    except SyntaxError:  # shown on purpose, or an error the engine reports: read its lines like prose
        for origin, line in zip(origins, source.splitlines()):
            for name in prose_names(line, scope):
                uses.add(name, origin)
        return
    CodeReader(scope, uses, origins).visit(tree)


def prose_text(text: str) -> str:
    """The page with every fence line and HTML comment blanked: what is left is prose, on its own lines."""
    text = _COMMENT.sub(lambda m: re.sub(r"[^\n]", " ", m.group()), text)
    lines = text.splitlines()
    for fence in engine.fences(text.splitlines(keepends=True)):
        for number in range(fence.start, fence.end + 1):
            lines[number] = ""
    return "\n".join(lines) + "\n"


def line_of(text: str, offset: int) -> int:
    return text.count("\n", 0, offset) + 1


def spans(text: str) -> list[tuple[int, str]]:
    """(offset, content) of the inline code spans of a text; a span may wrap lines but not cross a paragraph."""
    return [(match.start(), " ".join(match.group(2).split())) for match in _SPAN.finditer(text)
            if not re.search(r"\n\s*\n", match.group(2))]


def prose_names(span: str, scope: Scope) -> list[str]:
    """The torch API names an inline code span names, by the prose rule."""
    found = []
    code = _STRING.sub(" ", span)
    for match in _NAME.finditer(code):
        token = match.group()
        depth = sum(code.count(o, 0, match.start()) - code.count(c, 0, match.start()) for o, c in ("()", "[]", "{}"))
        leading_dot = token.startswith(".")
        parts = token.lstrip(".").split(".")
        root, attrs = parts[0], parts[1:]
        if leading_dot:
            kind, attrs = torch.Tensor, parts
        elif root in scope.torch_names or root in PROSE_ALIASES:
            qualified = scope.torch_names.get(root) or PROSE_ALIASES[root]
            found.append(qualify(".".join([qualified, *attrs])))
            continue
        elif root in scope.other_modules:
            continue
        elif attrs and len(root) > 1 and root not in BUILTINS and member(torch.Tensor, root)[0]:
            kind, attrs = torch.Tensor, parts  # grad_fn.next_functions
        elif attrs:
            kind = scope.receiver(root)
            if kind == "skip":
                continue
        elif depth == 0 and len(root) > 1 and root not in BUILTINS:
            kind, attrs = torch.Tensor, parts
        else:
            continue
        uses = Uses()
        follow_chain(kind, attrs, uses, ("", 0))
        found.extend(uses.first)
    return [name for name in found if name]


# ------------------------------------------------------------------------------------------- pages


@dataclass
class Page:
    path: str
    text: str
    scope: Scope = field(default_factory=Scope)
    uses: Uses = field(default_factory=Uses)


def read_page(path: str, text: str, snippets_dir: Path = ROOT / "snippets") -> Page:
    """Read a page's code (in order, one namespace), then its prose with the page's imports."""
    page = Page(path, text)
    blocks, _problems = engine.parse(text, path, snippets_dir=snippets_dir)
    code = [(block.code.start, block.source, block.origins) for block in blocks]
    ran = {block.code.start for block in blocks}
    for fence in engine.fences(text.splitlines(keepends=True)):
        python_like = fence.lang.strip("{.}").lower() in engine.PYTHON_LOOKALIKES
        if python_like and "norun" in fence.options and fence.start not in ran and not fence.in_comment:
            origins = [(path, fence.start + 2 + number) for number in range(len(fence.body))]
            code.append((fence.start, "\n".join(fence.body) + "\n", origins))
    code_uses = Uses()
    for _start, source, origins in sorted(code, key=lambda item: item[0]):
        read_code(source, page.scope, code_uses, origins)
    prose_uses = Uses()
    prose = prose_text(text)
    for offset, span in spans(prose):
        for name in prose_names(span, page.scope):
            prose_uses.add(name, (path, line_of(prose, offset)))
    # the first place on the page, whether prose or code; a snippet's line only when the page has no other
    merged = {**code_uses.first}
    for name, place in prose_uses.first.items():
        if name not in merged or merged[name][0] != path or place[1] < merged[name][1]:
            merged[name] = place
    page.uses.first = merged
    return page


def link_names(page: Page) -> set[str]:
    """The names a page links to the PyTorch documentation, by link text or by URL."""
    names = set()
    for match in _LINK.finditer(prose_text(page.text)):
        text, url = match.group(1), match.group(2)
        if not url.startswith(DOCS_URL):
            continue
        for _offset, span in spans(text):
            names.update(prose_names(span, page.scope))
        address, _, anchor = url.partition("#")
        last = address.rstrip("/").rsplit("/", 1)[-1].removesuffix(".html")
        names.update(name for name in (last, anchor) if qualify(name) == name)
    return names


def entry_names(glossary: Page) -> set[str]:
    """The names of the glossary's definition-list terms and headings."""
    lines = prose_text(glossary.text).splitlines()
    names = set()
    for line, following in zip(lines, [*lines[1:], ""]):
        is_term = line.strip() and not _TERM.match(line) and _TERM.match(following)
        if is_term or _HEADING.match(line):
            for _offset, span in spans(line):
                names.update(prose_names(span, glossary.scope))
    return names


def undocumented(pages: dict[str, str]) -> list[str]:
    """`page:line: name` for every torch API name the pages use that has no glossary entry and no link."""
    read = {path: read_page(path, text) for path, text in sorted(pages.items())}
    documented = entry_names(read[GLOSSARY]) if GLOSSARY in read else set()
    for page in read.values():
        documented |= link_names(page)
    first: dict[str, tuple[str, int]] = {}
    for page in read.values():
        for name, place in page.uses.first.items():
            first.setdefault(name, place)
    return [f"{file}:{line}: {name}" for name, (file, line) in sorted(first.items(), key=lambda item: (item[1], item[0]))
            if name not in documented]


def course_pages() -> dict[str, str]:
    return {path.relative_to(ROOT).as_posix(): path.read_text(encoding="utf-8") for path in sorted((ROOT / "docs").rglob("*.md"))}


# ------------------------------------------------------------------------------------------- tests


def test_every_torch_name_has_an_entry_or_a_link():
    missing = undocumented(course_pages())
    assert not missing, (
        f"{len(missing)} torch API name(s) used by the pages have no entry in {GLOSSARY} and no link to "
        f"{DOCS_URL}: add an entry or a line to its API index\n" + "\n".join(missing)
    )


SYNTHETIC = """\
# A page nothing documents

```python
import torch
print(torch.special.erfcx(torch.tensor([1.0])))
```

The scaled complementary error function is `torch.special.erfcx`.
"""


def test_a_name_nothing_documents_is_reported_at_its_first_use():
    pages = course_pages()
    before = set(undocumented(pages))
    pages["docs/synthetic.md"] = SYNTHETIC
    assert [line for line in undocumented(pages) if line not in before] == ["docs/synthetic.md:5: torch.special.erfcx"]

    link = "\nSee [its documentation](https://docs.pytorch.org/docs/stable/special.html#torch.special.erfcx).\n"
    pages["docs/synthetic.md"] = SYNTHETIC + link
    assert set(undocumented(pages)) == before

    pages["docs/synthetic.md"] = SYNTHETIC
    pages[GLOSSARY] += "\n`torch.special.erfcx`\n:   The scaled complementary error function.\n"
    assert set(undocumented(pages)) == before


RULE_PAGE = """\
```python
import math
import torch
from torch import nn
from torch.func import grad

net = nn.Linear(2, 1)
w = torch.ones(2, requires_grad=True)
(w * 2).sum().backward()
print(w.grad.zero_(), math.exp(1.0), "x.detach()".split(), [3, 1].index(1))
print(net.weight.shape, net.eval(), w.grad_fn, grad(torch.sin)(torch.tensor(0.0)))
```

Prose: `model.train()`, `ctx.save_for_backward(x)`, `requires_grad=True`, `F.relu`, `.item()`, `sum()`,
`x.grad_fn.next_functions`, `store_as(name)`, `torch.autograd.requires_grad`.
"""


def test_the_rule_reads_code_and_prose_as_documented():
    page = read_page("docs/rule.md", RULE_PAGE)
    assert sorted(page.uses.first) == [
        "torch.Tensor.backward",
        "torch.Tensor.grad",
        "torch.Tensor.grad_fn",
        "torch.Tensor.item",
        "torch.Tensor.requires_grad",
        "torch.Tensor.sum",
        "torch.Tensor.zero_",
        "torch.autograd.function.FunctionCtx.save_for_backward",
        "torch.autograd.graph.Node.next_functions",
        "torch.func.grad",
        "torch.nn",
        "torch.nn.Linear",
        "torch.nn.Module.eval",
        "torch.nn.Module.train",
        "torch.nn.functional.relu",
        "torch.ones",
        "torch.sin",
        "torch.tensor",
    ]
    assert page.uses.first["torch.Tensor.grad"] == ("docs/rule.md", 10)
    assert page.uses.first["torch.nn.Module.train"] == ("docs/rule.md", 14)

    broken = read_page("docs/broken.md", "```python raises\nimport torch\nprint(torch.special.erfcx(\n```\n")
    assert broken.uses.first == {"torch.special.erfcx": ("docs/broken.md", 3)}
